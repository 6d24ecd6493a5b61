"""`EventWriter`: batches event writes off the per-event path.

The live session hands each event to `submit` (or `await add`), which only appends to a buffer.
A background task writes the buffer in batches (every `max_delay` seconds, or as soon as
`max_batch` events are waiting), one transaction per batch, in a worker thread so the event loop
never blocks on the database.

Guarantees:
- `await flush()` returns once every event submitted before the call is committed (or was
  refused by the database as invalid, which is logged and counted in `stats.rejected`). That is
  what "acknowledged" means: an acknowledged event survives the process being killed.
- A batch leaves the buffer only after its transaction committed. A failed write (database
  locked, connection lost, tables missing) is logged and retried with backoff, never dropped.
- A batch the database refuses as invalid (a foreign key or a value it cannot store) is retried
  one event at a time, so one bad event cannot hold back the others; the bad one is logged.
- Retried writes never store an event twice: each event's `dedupe_key` is fixed up front.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from types import TracebackType

from sqlalchemy import Engine
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, StatementError

from cvi_app.store.db import session_scope
from cvi_app.store.events import insert_events
from cvi_app.store.models import NewEvent

__all__ = ["EventWriter", "WriterClosedError", "WriterFailedError", "WriterStats"]

logger = logging.getLogger(__name__)


class WriterClosedError(RuntimeError):
    """An event was submitted after `aclose()`."""


class WriterFailedError(RuntimeError):
    """The writer's background task stopped unexpectedly; the cause is chained."""


@dataclass
class WriterStats:
    """Counters since the writer started."""

    written: int = 0
    """Events committed as new rows."""
    duplicates: int = 0
    """Events skipped because they were already stored."""
    rejected: int = 0
    """Events the database refused as invalid (each one logged)."""
    failed_attempts: int = 0
    """Batch writes that failed and were retried."""
    batches: int = 0
    """Transactions committed."""


@dataclass
class _Outcome:
    written: int = 0
    duplicates: int = 0
    rejected: int = 0
    batches: int = 0


def _is_invalid_data(exc: BaseException) -> bool:
    """True when retrying the same rows cannot help (as opposed to a database hiccup)."""
    if isinstance(exc, IntegrityError | DataError):
        return True
    # A value SQLAlchemy could not bind, before the database saw it.
    return isinstance(exc, StatementError) and not isinstance(exc, DBAPIError)


def _log_crash(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and (exc := task.exception()) is not None:
        logger.error("event writer stopped: events are no longer written", exc_info=exc)


class EventWriter:
    """Batches `NewEvent` writes in a background task; see the module docstring.

    Use from one event loop. `async with EventWriter(engine) as writer:` closes it on exit.
    """

    def __init__(
        self,
        engine: Engine,
        *,
        max_batch: int = 500,
        max_delay: float = 0.05,
        max_pending: int = 50_000,
        retry_initial: float = 0.05,
        retry_max: float = 5.0,
    ) -> None:
        """Create a writer; its task starts with the first submitted event.

        Args:
            engine: Where to write (migrated to head).
            max_batch: Most events per transaction.
            max_delay: Longest an event waits in the buffer before a write starts, in seconds.
            max_pending: Buffer size beyond which `add` waits for writes to catch up.
            retry_initial: First delay before retrying a failed write, in seconds.
            retry_max: Longest delay between retries, in seconds.
        """
        if max_batch < 1 or max_pending < max_batch:
            raise ValueError("need 1 <= max_batch <= max_pending")
        self._engine = engine
        self._max_batch = max_batch
        self._max_delay = max_delay
        self._max_pending = max_pending
        self._retry_initial = retry_initial
        self._retry_max = retry_max
        self.stats = WriterStats()
        self._buffer: list[NewEvent] = []
        self._submitted = 0
        self._done = 0
        self._waiters: list[tuple[int, asyncio.Future[None]]] = []
        self._has_work = asyncio.Event()
        self._urgent = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self._closed = asyncio.Event()
        self._warned_backlog = False

    async def __aenter__(self) -> EventWriter:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    @property
    def pending(self) -> int:
        """Events submitted but not yet written."""
        return self._submitted - self._done

    def submit(self, event: NewEvent) -> None:
        """Queue one event without waiting (call from the event loop's thread).

        Raises:
            WriterClosedError: The writer is closed or closing.
        """
        self.submit_many((event,))

    def submit_many(self, events: Iterable[NewEvent]) -> None:
        """Queue several events without waiting, in order.

        Raises:
            WriterClosedError: The writer is closed or closing.
        """
        if self._closing:
            raise WriterClosedError("the event writer is closed")
        before = len(self._buffer)
        self._buffer.extend(events)
        added = len(self._buffer) - before
        if not added:
            return
        self._submitted += added
        self._start()
        self._has_work.set()
        if len(self._buffer) >= self._max_batch:
            self._urgent.set()
        if len(self._buffer) > self._max_pending and not self._warned_backlog:
            self._warned_backlog = True
            logger.warning(
                "event writer backlog: %d events waiting for the database", len(self._buffer)
            )

    async def add(self, event: NewEvent) -> None:
        """Queue one event, first waiting while more than `max_pending` are waiting.

        Raises:
            WriterClosedError: The writer is closed or closing.
        """
        while len(self._buffer) >= self._max_pending and not self._closing:
            await self._wait_until_done(self._done + 1, urgent=True)
        self.submit(event)

    async def flush(self) -> None:
        """Return once every event submitted so far is committed (or rejected and logged).

        Raises:
            WriterFailedError: The background task died (a bug); its exception is chained.
        """
        await self._wait_until_done(self._submitted, urgent=True)

    async def aclose(self) -> None:
        """Write everything submitted, then stop. Safe to call more than once.

        To bound the wait while the database may be down, wrap the call in `asyncio.timeout`;
        events not written by then are logged as lost.
        """
        if self._closing:
            await self._closed.wait()
            return
        self._closing = True
        try:
            await self.flush()
        finally:
            await self._stop_task()
            if self.pending:
                logger.error("event writer closed with %d events not written", self.pending)
            self._closed.set()

    # --- background task ----------------------------------------------------------------------

    def _start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(
                self._run(), name="cvi-store-event-writer"
            )
            self._task.add_done_callback(_log_crash)

    async def _stop_task(self) -> None:
        task, self._task = self._task, None
        if task is None:
            return
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    async def _wait_until_done(self, target: int, *, urgent: bool) -> None:
        if self._done >= target:
            return
        task = self._task
        if task is None:
            raise WriterFailedError("the event writer is not running")
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append((target, future))
        if urgent:
            self._urgent.set()
        await asyncio.wait({future, task}, return_when=asyncio.FIRST_COMPLETED)
        if future.done():
            return
        future.cancel()
        cause = None if task.cancelled() else task.exception()
        raise WriterFailedError("the event writer stopped before the write finished") from cause

    def _wake_waiters(self) -> None:
        still_waiting = []
        for target, future in self._waiters:
            if future.done():
                continue
            if self._done >= target:
                future.set_result(None)
            else:
                still_waiting.append((target, future))
        self._waiters = still_waiting

    async def _run(self) -> None:
        while True:
            await self._has_work.wait()
            if not self._urgent.is_set():
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self._max_delay):
                        await self._urgent.wait()
            batch = self._buffer[: self._max_batch]
            if batch:
                await self._write_until_committed(batch)
                del self._buffer[: len(batch)]
                self._done += len(batch)
                self._wake_waiters()
            if not self._buffer:
                self._has_work.clear()
            if len(self._buffer) < self._max_batch and not self._waiters:
                self._urgent.clear()
            if len(self._buffer) <= self._max_pending:
                self._warned_backlog = False

    async def _write_until_committed(self, batch: list[NewEvent]) -> None:
        delay = self._retry_initial
        attempt = 1
        while True:
            try:
                try:
                    outcome = await asyncio.to_thread(self._write_batch, batch)
                except Exception as exc:
                    if not _is_invalid_data(exc):
                        raise
                    outcome = await asyncio.to_thread(self._write_one_by_one, batch)
            except Exception as exc:
                self.stats.failed_attempts += 1
                logger.warning(
                    "writing %d events failed (attempt %d), retrying in %.2fs: %s",
                    len(batch),
                    attempt,
                    delay,
                    exc,
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, self._retry_max)
                attempt += 1
                continue
            self.stats.written += outcome.written
            self.stats.duplicates += outcome.duplicates
            self.stats.rejected += outcome.rejected
            self.stats.batches += outcome.batches
            return

    # --- worker thread ------------------------------------------------------------------------

    def _write_batch(self, batch: list[NewEvent]) -> _Outcome:
        with session_scope(self._engine) as session:
            written = insert_events(session, events=batch)
        return _Outcome(written=written, duplicates=len(batch) - written, batches=1)

    def _write_one_by_one(self, batch: list[NewEvent]) -> _Outcome:
        outcome = _Outcome()
        for event in batch:
            try:
                with session_scope(self._engine) as session:
                    written = insert_events(session, events=[event])
            except Exception as exc:
                if not _is_invalid_data(exc):
                    raise
                outcome.rejected += 1
                logger.error(
                    "the database refused event %s (%s, conversation %s); not stored: %s",
                    event.dedupe_key,
                    event.event_type,
                    event.conversation_id,
                    exc,
                )
                continue
            outcome.batches += 1
            outcome.written += written
            outcome.duplicates += 1 - written
        return outcome
