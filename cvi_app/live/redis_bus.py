"""Live updates across processes: one Redis stream per conversation (the cluster shape).

`RedisBus` has the in-process `EventBus`'s interface (`LiveBus`), so the session publishes and
the tabs subscribe the same way in both shapes; any process's subscribers see what any process
publishes, each update once, in the order Redis took them.

Publishing never waits for Redis. `publish` encodes the update and queues it for one background
writer task, which writes queued updates in order (pipelined, a batch at a time). If Redis cannot
be reached, the writer logs it once, keeps retrying, and `outage` says so; meanwhile at most
`pending_limit` updates are kept (the oldest are dropped first, and whoever follows their
conversation is marked lagged).

An update is *acknowledged* once Redis has answered its write (it is in the stream). The bus
never loses an acknowledged update without telling: every subscriber either gets it once, in
order, or is marked `lagged` and rebuilds from the store. (Whether a Redis restart keeps the
stream is Redis's persistence setting; without it, a crash loses the stream, and subscribers see
that as lag.) A write retried after a lost answer is not written twice: each stream remembers,
per publishing bus, the last update it took.

Stream entries (`XADD ... MAXLEN ~ maxlen`, so each conversation's stream is bounded):
- `n`: the entry's number in its stream, 1, 2, 3... (a Lua script adds the entry and numbers it
  in one step). A reader that sees a number out of sequence knows entries were trimmed away
  before it read them, or lost, and marks itself lagged.
- `u`: the encoded update; or `g`: a gap marker, written where updates were dropped.

One reader task per bus follows every subscribed stream with a single `XREAD BLOCK` over all
their keys (one round trip brings what arrived on any of them), each subscription from the last
entry id it saw; an entry is decoded once however many subscriptions take it. `subscribe(topic)`
starts after the entry that is last in the stream once every update this bus published before
the call has been written, so with a local session's replay taken in the same step (see
`cvi_app.live.history.restore`) nothing falls in between; `subscribe(topic, after=entry_id)`
resumes after an id a subscriber saw (its `last_id`), with no gap and no repeat (or `lagged`,
when that id is no longer in the stream). A slow subscriber slows nobody: it is read ahead up to
`queue_size` updates, then left out of the reads until it takes some; it is lagged only if the
stream was trimmed past it meanwhile.
"""

from __future__ import annotations

import asyncio
import logging
import re
import uuid
from collections import defaultdict, deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Generic, TypeVar

from redis.asyncio import Redis
from redis.asyncio.client import Pipeline
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError
from redis.typing import KeyT, StreamIdT

from cvi_app.live.bus import DEFAULT_QUEUE_SIZE, BusOutage

__all__ = [
    "DEFAULT_KEY_PREFIX",
    "DEFAULT_MAXLEN",
    "DEFAULT_PENDING_LIMIT",
    "RedisBus",
    "RedisSubscription",
]

logger = logging.getLogger(__name__)

T = TypeVar("T")

DEFAULT_KEY_PREFIX = "cvi:updates:"
DEFAULT_MAXLEN = 10_000
"""Entries kept per conversation's stream (about: Redis trims whole nodes of ~100 entries)."""
DEFAULT_PENDING_LIMIT = 10_000
"""Updates kept in this process while Redis cannot be reached."""
DEFAULT_TTL_S = 24 * 3600
"""Seconds a conversation's stream is kept after its last update."""

_BATCH = 500  # entries per pipelined write and per read
_BLOCK_MS = 100
"""How long the reader's XREAD waits for new entries: also how soon a new subscription, or one
that had fallen behind and caught up, is included in the reads."""
_GATHER_S = 0.005
"""Seconds the reader waits after a read that brought entries, before it reads again."""
_SOCKET_TIMEOUT_S = 15.0  # longer than one blocking read
_RETRY_FIRST_S = 0.05
_RETRY_MAX_S = 2.0
_START = "0-0"
_ENTRY_ID = re.compile(r"^(0|[0-9]{1,20}-[0-9]{1,20})$")

# Append one entry, numbered in its stream; with a publisher sequence, only if that publisher's
# update is not in the stream already (a retried write).
# KEYS: the stream, its meta hash. ARGV: publisher id, publisher seq ('' for a gap marker),
# maxlen, ttl seconds (0: none), the entry's field ('u' or 'g'), the payload.
_APPEND_LUA = """
if ARGV[2] ~= '' then
  local last = tonumber(redis.call('HGET', KEYS[2], ARGV[1]) or '0')
  if tonumber(ARGV[2]) <= last then
    return false
  end
  redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
end
local n = redis.call('HINCRBY', KEYS[2], '#n', 1)
local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[3], '*', 'n', n, ARGV[5], ARGV[6])
local ttl = tonumber(ARGV[4])
if ttl > 0 then
  redis.call('EXPIRE', KEYS[1], ttl)
  redis.call('EXPIRE', KEYS[2], ttl)
end
return id
"""


@dataclass(frozen=True)
class _Pending:
    seq: int  # this bus's number for the update, increasing across topics
    topic: str
    data: bytes


@dataclass(frozen=True)
class _Mark:
    """A subscription waiting to learn where its stream ends, after `after_seq` is written."""

    after_seq: int
    topic: str
    found: asyncio.Future[tuple[str, int | None]]


@dataclass(frozen=True)
class _Delivery(Generic[T]):
    entry_id: str
    update: T


class _Health:
    """Whether reads and writes get through; logs an outage once when it starts and ends."""

    def __init__(self) -> None:
        self.since: datetime | None = None
        self.reason = ""
        self.dropped = 0
        self._failing: set[str] = set()

    def failed(self, side: str, exc: BaseException) -> None:
        self.reason = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        self._failing.add(side)
        if self.since is None:
            self.since = datetime.now(UTC)
            logger.warning("live updates: Redis is failing (%s); retrying", self.reason)

    def worked(self, side: str) -> None:
        self._failing.discard(side)
        if self.since is not None and not self._failing:
            seconds = (datetime.now(UTC) - self.since).total_seconds()
            lost = f"; {self.dropped} updates were dropped" if self.dropped else ""
            logger.warning("live updates: Redis is back after %.1f s%s", seconds, lost)
            self.since, self.reason, self.dropped = None, "", 0


class RedisSubscription(Generic[T]):
    """One subscriber's view of a conversation's stream, fed by its bus's reader."""

    def __init__(self, bus: RedisBus[T], topic: str, queue_size: int) -> None:
        self._bus = bus
        self.topic = topic
        self.lagged = False
        self.closed = False
        self._last_id: str | None = None
        # None wakes a waiting `batches()` (lagged, closed) without an update.
        self._queue: asyncio.Queue[_Delivery[T] | None] = asyncio.Queue(maxsize=queue_size)
        self._task: asyncio.Task[None] | None = None  # finds where in the stream it starts
        self._located = asyncio.Event()
        self._position: tuple[str, int | None] = (_START, None)  # the last entry read, its number
        self._full = False

    @property
    def last_id(self) -> str | None:
        """The stream id of the last update taken (get, drain, batches): where to resume."""
        return self._last_id

    async def ready(self) -> None:
        """Wait until the subscription knows where in its stream it starts.

        From then on, whatever any process publishes on the topic reaches it. (What this bus
        publishes after `subscribe` returns does in any case.)
        """
        await self._located.wait()

    async def get(self) -> T:
        """Wait for the next update."""
        while True:
            item = await self._queue.get()
            self._taken()
            if item is not None:
                self._last_id = item.entry_id
                return item.update

    def drain(self) -> list[T]:
        """Take every update already waiting, without waiting (for coalescing bursts)."""
        items: list[T] = []
        while True:
            try:
                item = self._queue.get_nowait()
            except asyncio.QueueEmpty:
                self._taken()
                return items
            if item is not None:
                self._last_id = item.entry_id
                items.append(item.update)

    async def batches(self) -> AsyncIterator[list[T]]:
        """Yield updates in batches: everything that arrived while the last batch was handled.

        A batch may be empty when the subscription has just become lagged, so that the caller
        sees `lagged` without waiting for another update.
        """
        while not self.closed:
            first = await self._queue.get()
            if first is not None:
                self._last_id = first.entry_id
            batch = ([first.update] if first is not None else []) + self.drain()
            if batch or self.lagged:
                yield batch

    def close(self) -> None:
        """Stop receiving updates (safe to call twice)."""
        if self.closed:
            return
        self.closed = True
        self._bus._remove(self)
        if self._task is not None:
            _stop(self._task)
        self._wake()

    def _start(self, position: asyncio.Future[tuple[str, int | None]] | str) -> None:
        self._task = asyncio.get_running_loop().create_task(
            self._locate(position), name=f"redis-bus-locate:{self.topic}"
        )

    def _mark_lagged(self, why: str) -> None:
        if not self.lagged:
            logger.info("live updates of %s: a subscriber lost updates (%s)", self.topic, why)
        self.lagged = True
        self._wake()

    def _wake(self) -> None:
        try:
            self._queue.put_nowait(None)
        except asyncio.QueueFull:
            pass  # it has updates waiting: it wakes anyway

    def _taken(self) -> None:
        """The subscriber took updates: if it had been left out of the reads, read for it again."""
        if self._full and not self._queue.full():
            self._full = False
            self._bus._reader_wanted()

    @property
    def _reading(self) -> bool:
        """Whether the reader reads for it now: located, open, and with room for updates."""
        return self._located.is_set() and not self.closed and not self._full

    async def _locate(self, position: asyncio.Future[tuple[str, int | None]] | str) -> None:
        try:
            if isinstance(position, str):
                self._position = await self._bus._locate(self, position)
            else:
                self._position = await position
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("live updates of %s: finding where to start failed", self.topic)
            self._mark_lagged("finding where to start failed")
            return
        self._located.set()
        self._bus._reader_wanted()

    def _take(self, entries: list[_Entry[T]]) -> None:
        """Take the entries read past its position, as many as it has room for."""
        after = _id_key(self._position[0])
        for entry in entries:
            if entry.key <= after:
                continue
            if self._queue.full():
                self._full = True  # the rest is read again once it takes some
                return
            self._position = (entry.entry_id, self._check_number(entry, self._position[1]))
            if entry.gap:
                self._mark_lagged("updates were dropped before they reached Redis")
            elif entry.update is not None:
                self._queue.put_nowait(_Delivery(entry.entry_id, entry.update))

    def _check_number(self, entry: _Entry[T], last_n: int | None) -> int | None:
        n = entry.number
        if n is None:
            logger.warning("live updates of %s: entry %s has no number", self.topic, entry.entry_id)
        elif last_n is not None and n != last_n + 1:
            self._mark_lagged(f"entry {n} came after {last_n}: the stream was trimmed or lost")
        return n


@dataclass(frozen=True)
class _Entry(Generic[T]):
    """One stream entry as read: decoded once for every subscription that takes it."""

    entry_id: str
    key: tuple[int, int]
    number: int | None
    gap: bool
    update: T | None


def _id_key(entry_id: str) -> tuple[int, int]:
    """A stream entry id (`<ms>-<seq>`) as something that sorts like Redis sorts ids."""
    ms, _, seq = entry_id.partition("-")
    return int(ms), int(seq or 0)


class RedisBus(Generic[T]):
    """Topic-based publish/subscribe across processes, over one Redis stream per topic.

    Args:
        url: The Redis server (`REFLEX_REDIS_URL`).
        encode: An update as bytes (`cvi_app.live.update_codec.encode_update`); may raise
            ValueError for an update that cannot be sent (it is then dropped and logged).
        decode: Bytes back into an update (`decode_update`); raises ValueError for bytes that
            are not one (the entry is logged and skipped).
        key_prefix: Stream keys are `<prefix>{<topic>}` (a hash tag: a stream and its meta hash
            share a Redis Cluster slot).
        maxlen: Entries kept per stream, about (`MAXLEN ~`).
        pending_limit: Updates kept in this process while Redis cannot be reached.
        ttl_s: Seconds a stream is kept after its last update (0: forever).
        queue_size: Updates read ahead per subscriber; a subscriber that takes longer reads
            on later, and is marked lagged only if its stream was trimmed past it meanwhile.
        block_ms: How long one blocking read waits for new entries.
    """

    def __init__(
        self,
        url: str,
        *,
        encode: Callable[[T], bytes],
        decode: Callable[[bytes], T],
        key_prefix: str = DEFAULT_KEY_PREFIX,
        maxlen: int = DEFAULT_MAXLEN,
        pending_limit: int = DEFAULT_PENDING_LIMIT,
        ttl_s: int = DEFAULT_TTL_S,
        queue_size: int = DEFAULT_QUEUE_SIZE,
        block_ms: int = _BLOCK_MS,
    ) -> None:
        if maxlen < 1 or pending_limit < 1 or queue_size < 1 or ttl_s < 0 or block_ms < 1:
            raise ValueError("sizes and block_ms must be positive, and ttl_s not negative")
        self._encode = encode
        self._decode = decode
        self._prefix = key_prefix
        self._maxlen = maxlen
        self._pending_limit = pending_limit
        self._ttl_s = ttl_s
        self._queue_size = queue_size
        self._block_ms = block_ms
        # Failures are retried here, with the outage reported; not inside the client.
        self._redis: Redis = Redis.from_url(
            url,
            retry=Retry(NoBackoff(), 0),
            socket_timeout=max(_SOCKET_TIMEOUT_S, block_ms / 1000 + 5),
            socket_connect_timeout=5.0,
        )
        self._append = self._redis.register_script(_APPEND_LUA)
        self._publisher = uuid.uuid4().hex
        self._subscribers: dict[str, set[RedisSubscription[T]]] = defaultdict(set)
        self._seq = 0
        self._pending: deque[_Pending] = deque()
        self._inflight: list[_Pending] = []
        self._marks: deque[_Mark] = deque()
        self._gaps: set[str] = set()  # topics whose dropped updates still need a gap marker
        self._wake = asyncio.Event()
        self._flushes: list[tuple[int, asyncio.Future[None]]] = []
        self._writer: asyncio.Task[None] | None = None
        self._health = _Health()
        self._closed = False
        self._reader: asyncio.Task[None] | None = None
        self._read_wanted = asyncio.Event()

    # ---- the LiveBus interface ------------------------------------------------------------

    def subscribe(self, topic: str, after: str | None = None) -> RedisSubscription[T]:
        """Start receiving the updates published on `topic` from now on, or after an entry.

        Args:
            topic: The topic (a conversation id).
            after: A stream entry id a subscriber saw (`last_id`): resume right after it. None:
                from the end of the stream once everything this bus published so far is in it.

        Raises:
            ValueError: `after` is not a stream entry id.
            RuntimeError: The bus is closed.
        """
        if self._closed:
            raise RuntimeError("the bus is closed")
        if after is not None and not _ENTRY_ID.match(after):
            raise ValueError(f"not a stream entry id: {after[:40]!r}")
        subscription = RedisSubscription(self, topic, self._queue_size)
        self._subscribers[topic].add(subscription)
        if after is not None:
            subscription._start(after)
        else:
            found: asyncio.Future[tuple[str, int | None]] = (
                asyncio.get_running_loop().create_future()
            )
            self._marks.append(_Mark(self._seq, topic, found))
            self._start_writer()
            self._wake.set()
            subscription._start(found)
        return subscription

    def publish(self, topic: str, update: T) -> int:
        """Queue `update` for the topic's stream; return how many subscribers this process has.

        Never waits: the background writer sends it. Subscribers in other processes are not
        counted.
        """
        if self._closed:
            logger.warning("live updates of %s: published on a closed bus, dropped", topic)
            return self.subscriber_count(topic)
        try:
            data = self._encode(update)
        except ValueError as exc:
            logger.error("live updates of %s: an update cannot be sent (%s)", topic, exc)
            self._lose(topic)
            self._start_writer()
            self._wake.set()  # to write the gap marker
            return self.subscriber_count(topic)
        self._seq += 1
        self._pending.append(_Pending(self._seq, topic, data))
        if len(self._pending) > self._pending_limit:
            oldest = self._pending.popleft()
            if not self._health.dropped:
                logger.warning(
                    "live updates: %d updates wait for Redis; dropping the oldest",
                    self._pending_limit,
                )
            self._health.dropped += 1
            self._lose(oldest.topic)
            self._settle()
        self._start_writer()
        self._wake.set()
        return self.subscriber_count(topic)

    def subscriber_count(self, topic: str) -> int:
        """How many subscribers `topic` has in this process now."""
        return len(self._subscribers.get(topic, ()))

    @property
    def outage(self) -> BusOutage | None:
        """Why updates cannot get through Redis right now, or None when they can."""
        health = self._health
        if health.since is None:
            return None
        return BusOutage(
            since=health.since,
            reason=health.reason,
            pending=len(self._pending) + len(self._inflight),
            dropped=health.dropped,
        )

    async def flush(self) -> None:
        """Wait until every update published before the call is written to Redis (or dropped)."""
        target = self._seq
        if self._settled(target):
            return
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._flushes.append((target, done))
        await done

    async def aclose(self, *, flush_timeout: float = 2.0) -> None:
        """Write what is queued (waiting at most `flush_timeout`), then stop every task.

        Closes every subscription and the bus's Redis connections.
        """
        if self._closed:
            return
        try:
            await asyncio.wait_for(self.flush(), flush_timeout)
        except TimeoutError:
            logger.warning(
                "live updates: %d updates not written to Redis at close",
                len(self._pending) + len(self._inflight),
            )
        self._closed = True
        tasks: list[asyncio.Task[None]] = []
        for subscriptions in list(self._subscribers.values()):
            for subscription in list(subscriptions):
                if subscription._task is not None:
                    tasks.append(subscription._task)
                subscription.close()
        for task in (self._writer, self._reader):
            if task is not None:
                _stop(task)
                tasks.append(task)
        await asyncio.gather(*tasks, return_exceptions=True)
        for mark in self._marks:
            mark.found.cancel()
        for _target, done in self._flushes:
            done.cancel()
        await self._redis.aclose()

    async def recent(self, topic: str, limit: int) -> tuple[list[T], str]:
        """The last `limit` updates in the topic's stream, oldest first, and where they end.

        `subscribe(topic, after=<the id returned>)` then goes on from exactly there, so the two
        together hold every update once (whichever process published them). The id is "0-0"
        for an empty stream. What this bus has queued and not written yet is not included.

        Raises:
            RedisError: Redis could not be read.
        """
        entries = await self._redis.xrevrange(self._stream_key(topic), "+", "-", count=limit)
        updates: list[T] = []
        for raw_id, fields in reversed(entries):
            update = self._decode_entry(topic, raw_id.decode(), fields.get(b"u"))
            if update is not None:
                updates.append(update)
        end = entries[0][0].decode() if entries else _START
        return updates, end

    # ---- writing ----------------------------------------------------------------------------

    def _stream_key(self, topic: str) -> str:
        return f"{self._prefix}{{{topic}}}"

    def _meta_key(self, topic: str) -> str:
        return f"{self._prefix}{{{topic}}}:meta"

    def _start_writer(self) -> None:
        if self._writer is None or self._writer.done():
            self._writer = asyncio.get_running_loop().create_task(
                self._write_loop(), name="redis-bus-writer"
            )

    async def _write_loop(self) -> None:
        retry = _Backoff()
        while True:
            if not self._inflight:
                count = min(_BATCH, len(self._pending))
                self._inflight = [self._pending.popleft() for _ in range(count)]
            self._marks = deque(mark for mark in self._marks if not mark.found.done())
            if not self._inflight and not self._marks and not self._gaps:
                self._wake.clear()
                await self._wake.wait()
                continue
            try:
                await self._write(self._inflight)
            except RedisError as exc:
                self._health.failed("write", exc)
                await retry.wait()
                continue
            except Exception:
                logger.exception("live updates: a write to Redis failed; its updates are lost")
                for lost in self._inflight:
                    self._lose(lost.topic)
            else:
                self._health.worked("write")
                retry.reset()
            self._inflight = []
            self._settle()

    async def _write(self, batch: list[_Pending]) -> None:
        """Write a batch in order, gap markers first; resolve the marks it passes on the way."""
        waiting = deque(self._marks)
        gaps = sorted(self._gaps)
        # What each queued command is for: an append (None), or the mark whose end it reads.
        slots: list[_Mark | None] = []
        async with self._redis.pipeline(transaction=False) as pipe:
            for topic in gaps:
                await self._append_entry(pipe, topic, "", "g", b"1")
                slots.append(None)
            slots += self._read_ends(pipe, waiting, batch[0].seq - 1 if batch else self._seq)
            for item in batch:
                await self._append_entry(pipe, item.topic, str(item.seq), "u", item.data)
                slots.append(None)
                slots += self._read_ends(pipe, waiting, item.seq)
            results = await pipe.execute()
        self._gaps.difference_update(gaps)
        for mark, reply in zip(slots, results, strict=True):
            if mark is not None:
                self._marks.remove(mark)
                if not mark.found.done():
                    mark.found.set_result(_end_of(reply))

    async def _append_entry(
        self, pipe: Pipeline, topic: str, seq: str, field: str, payload: bytes
    ) -> None:
        await self._append(
            keys=[self._stream_key(topic), self._meta_key(topic)],
            args=[self._publisher, seq, self._maxlen, self._ttl_s, field, payload],
            client=pipe,
        )

    def _read_ends(self, pipe: Pipeline, waiting: deque[_Mark], upto: int) -> list[_Mark]:
        """Read the stream's end for each waiting mark placed after update `upto` or before."""
        taken: list[_Mark] = []
        while waiting and waiting[0].after_seq <= upto:
            mark = waiting.popleft()
            pipe.xrevrange(self._stream_key(mark.topic), "+", "-", count=1)
            taken.append(mark)
        return taken

    def _lose(self, topic: str) -> None:
        """Updates of `topic` will never be in its stream: tell whoever follows it."""
        self._gaps.add(topic)
        for subscription in self._subscribers.get(topic, ()):
            subscription._mark_lagged("updates were dropped before they reached Redis")

    def _settled(self, target: int) -> bool:
        if self._inflight and self._inflight[0].seq <= target:
            return False
        return not self._pending or self._pending[0].seq > target

    def _settle(self) -> None:
        still: list[tuple[int, asyncio.Future[None]]] = []
        for target, done in self._flushes:
            if done.done():
                continue
            if self._settled(target):
                done.set_result(None)
            else:
                still.append((target, done))
        self._flushes = still

    # ---- reading ----------------------------------------------------------------------------

    def _reader_wanted(self) -> None:
        """A subscription wants reading (new, or caught up): make sure the reader runs."""
        self._read_wanted.set()
        if not self._closed and (self._reader is None or self._reader.done()):
            self._reader = asyncio.get_running_loop().create_task(
                self._read_loop(), name="redis-bus-reader"
            )

    async def _read_loop(self) -> None:
        """Follow every subscribed stream with one blocking read; end when nobody subscribes."""
        retry = _Backoff()
        while self._subscribers:
            self._read_wanted.clear()
            reading: dict[str, list[RedisSubscription[T]]] = defaultdict(list)
            for topic, subscriptions in self._subscribers.items():
                reading[topic] = [s for s in subscriptions if s._reading]
                if not reading[topic]:
                    del reading[topic]
            if not reading:
                await self._read_wanted.wait()
                continue
            streams: dict[KeyT, StreamIdT] = {
                self._stream_key(topic): min((s._position[0] for s in subs), key=_id_key)
                for topic, subs in reading.items()
            }
            try:
                reply = await self._redis.xread(streams, count=_BATCH, block=self._block_ms)
            except RedisError as exc:
                self._health.failed("read", exc)
                await retry.wait()
                continue
            self._health.worked("read")
            retry.reset()
            topics = {self._stream_key(topic): topic for topic in reading}
            for raw_key, raw_entries in reply or []:
                topic = topics[raw_key.decode()]
                entries = [self._entry(topic, raw_id, fields) for raw_id, fields in raw_entries]
                for subscription in reading[topic]:
                    subscription._take(entries)
            if reply:
                # Let entries gather before the next read: under load one read brings many,
                # and the reads a second stay few however many streams are followed.
                await asyncio.sleep(_GATHER_S)

    def _entry(self, topic: str, raw_id: bytes, fields: dict[bytes, bytes]) -> _Entry[T]:
        entry_id = raw_id.decode()
        gap = b"g" in fields
        return _Entry(
            entry_id=entry_id,
            key=_id_key(entry_id),
            number=_entry_number(fields),
            gap=gap,
            update=None if gap else self._decode_entry(topic, entry_id, fields.get(b"u")),
        )

    async def _locate(
        self, subscription: RedisSubscription[T], after: str
    ) -> tuple[str, int | None]:
        """Where a resumed subscription starts: `after` and that entry's number."""
        if after in ("0", _START):
            return _START, 0
        retry = _Backoff()
        while True:
            try:
                entries = await self._redis.xrange(
                    self._stream_key(subscription.topic), after, after, count=1
                )
            except RedisError as exc:
                self._health.failed("read", exc)
                await retry.wait()
                continue
            self._health.worked("read")
            break
        n = _entry_number(entries[0][1]) if entries else None
        if n is None:
            subscription._mark_lagged(f"entry {after} is no longer in the stream")
        return after, n

    def _decode_entry(self, topic: str, entry_id: str, data: bytes | None) -> T | None:
        if data is None:
            logger.warning("live updates of %s: entry %s holds no update", topic, entry_id)
            return None
        try:
            return self._decode(data)
        except ValueError as exc:
            logger.warning("live updates of %s: entry %s skipped: %s", topic, entry_id, exc)
            return None

    def _remove(self, subscription: RedisSubscription[T]) -> None:
        subscribers = self._subscribers.get(subscription.topic)
        if subscribers is not None:
            subscribers.discard(subscription)
            if not subscribers:
                del self._subscribers[subscription.topic]
        self._read_wanted.set()  # the reader reads for one fewer, or ends


def _end_of(reply: object) -> tuple[str, int | None]:
    if isinstance(reply, list) and reply:
        entry_id, fields = reply[0]
        return entry_id.decode(), _entry_number(fields)
    return _START, 0


def _entry_number(fields: dict[bytes, bytes]) -> int | None:
    try:
        return int(fields[b"n"])
    except (KeyError, ValueError):
        return None


_RECANCEL_S = 0.05


def _stop(task: asyncio.Task[None]) -> None:
    """Cancel `task`, and again until it ends.

    redis-py sends each command under `asyncio.wait_for`, which on Python 3.11 loses a cancel
    that arrives as the send completes; the task would then go on to its next blocking read.
    """
    if not task.done():
        task.cancel()
        asyncio.get_running_loop().call_later(_RECANCEL_S, _stop, task)


class _Backoff:
    """Waits between retries: short at first, doubling up to a few seconds."""

    def __init__(self) -> None:
        self._next = _RETRY_FIRST_S

    async def wait(self) -> None:
        await asyncio.sleep(self._next)
        self._next = min(self._next * 2, _RETRY_MAX_S)

    def reset(self) -> None:
        self._next = _RETRY_FIRST_S
