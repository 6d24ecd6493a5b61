"""The cluster shape: two app processes on one Redis, beside one process in the embedded shape.

Everything is real and started here: Redis, PostgreSQL (migrated; a database for each shape),
the sandbox service (`python -m cvi_app.sandbox`, up to 300 conversations) and the app
processes, each a `SessionManager` in `python -m benchmarks.cluster_node` (see that module).

1. Relay. One embedded process (in-process bus) starts 100 conversations (`--quick`: 10); then
   two cluster processes (`REFLEX_REDIS_URL` set) start 50 each. Every conversation has a
   `RoomDriver` in its room (a participant that is not the replica, so also the person the
   session stays for), making the replica speak three-word echoes: 5 events/s for 30 s (8 s),
   the schedules spread over one period. Every process holds a subscriber for every
   conversation, made as a room tab makes it (`restore` after `find_session`: in the cluster,
   half of them follow a session the other process holds). Relay is the replica's `timestamp`
   on an event -> the subscriber's `time.time()` when it takes it (one machine, one clock).
   Lost: an event the room carried (the driver heard it) that a subscriber never got;
   duplicated: one it got twice.
2. Failover, five times (`--quick`: twice): SIGKILL the process holding the most conversations
   (with the drivers still in every room); for each conversation it held, the time until the
   other process holds its lease and a subscriber here has seen the takeover notice
   (`TAKEN_OVER`) on its stream. The killed process is started again before the next kill, so
   after the first kill one process holds them all and each kill moves every conversation.
3. Memory: each process's RSS before and after starting its conversations, divided by the count.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
from redis.asyncio import Redis

from benchmarks.cluster_node import EMBEDDED
from benchmarks.harness import BenchContext, RoomDriver, echo_events
from benchmarks.profiling import profile_while
from benchmarks.report import Row, verdict
from benchmarks.stats import Summary
from cvi_app.live.bus_factory import make_bus
from cvi_app.live.cluster.leases import LeaseTable
from cvi_app.live.redis_bus import RedisSubscription
from cvi_app.live.session import TAKEN_OVER
from cvi_app.live.updates import Notice
from cvi_app.store.migrate import upgrade_to_head
from cvi_app.tavus import TavusClient
from cvi_app.transport import LocalTransport, TransportParams
from tests.support.postgres import PostgresServer, running_postgres
from tests.support.redis_server import running_redis
from tests.support.sandbox_service import SandboxService, run_sandbox_service

logger = logging.getLogger(__name__)

SECTION = "cluster"
ROOT = Path(__file__).resolve().parents[1]
RATE = 5.0
ECHO_WORDS = 3
WORDS_PER_SECOND = 60.0  # the pace harness.echo_seconds assumes
P99_TARGET_MS = 250.0
TAKEOVER_TARGET_S = 10.0
MAX_CONCURRENT = 300
NODE_READY_S = 90.0
TAKEOVER_WAIT_S = 40.0
SETTLE_S = 3.0
CATCH_UP_S = 20.0
MB = 2**20


# ---- the processes -----------------------------------------------------------------------


class NodeProcess:
    """An app process of `benchmarks.cluster_node`, asked one command at a time."""

    def __init__(
        self, name: str, process: asyncio.subprocess.Process, ready: dict[str, Any], log: Path
    ) -> None:
        self.name = name
        self.process = process
        self.node_id = str(ready["node_id"])
        self.pid = int(ready["pid"])
        self.rss_at_start = int(ready["rss"])
        self.log = log

    @classmethod
    async def spawn(cls, name: str, env: dict[str, str], log: Path) -> NodeProcess:
        """Start the process and wait until its manager runs."""
        with log.open("ab") as errors:
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "benchmarks.cluster_node",
                cwd=ROOT,
                env=env,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=errors,
                limit=64 * MB,  # `take` answers with every arrival on one line
            )
        try:
            ready = await asyncio.wait_for(_read_line(process, name, log), NODE_READY_S)
        except BaseException:
            if process.returncode is None:
                process.kill()
            await process.wait()
            raise
        logger.info("node %s up: %s", name, ready["node_id"])
        return cls(name, process, ready, log)

    async def _read(self) -> dict[str, Any]:
        return await _read_line(self.process, self.name, self.log)

    async def ask(
        self,
        op: str,
        *,
        within: float = 300.0,
        on_started: Callable[[dict[str, Any]], Awaitable[None]] | None = None,
        **fields: Any,
    ) -> dict[str, Any]:
        """Send a command; return its answer (`started` lines go to `on_started` meanwhile)."""
        assert self.process.stdin is not None
        self.process.stdin.write((json.dumps({"op": op, **fields}) + "\n").encode())
        await self.process.stdin.drain()
        deadline = time.monotonic() + within
        while True:
            said = await asyncio.wait_for(self._read(), max(deadline - time.monotonic(), 0.1))
            if said["kind"] == "started" and on_started is not None:
                await on_started(said)
            elif said["kind"] == "error":
                raise RuntimeError(f"node {self.name}: {op} failed: {said['message']}")
            elif said["kind"] == "done" and said.get("op") == op:
                return said

    @property
    def alive(self) -> bool:
        return self.process.returncode is None

    def kill(self) -> None:
        """SIGKILL: the process dies at once, with whatever it had not written."""
        if self.process.returncode is None:
            self.process.kill()

    async def stop(self) -> None:
        """Ask the process to close its manager and exit; kill it if it does not in time."""
        if not self.alive:
            return
        try:
            await self.ask("stop", within=30)
            await asyncio.wait_for(self.process.wait(), 10)
        except (TimeoutError, RuntimeError, OSError) as exc:
            logger.warning("node %s did not stop (%s); killing it", self.name, exc)
            self.kill()
            await self.process.wait()


async def _read_line(process: asyncio.subprocess.Process, name: str, log: Path) -> dict[str, Any]:
    """The next line a node process said, read as JSON."""
    assert process.stdout is not None
    line = await process.stdout.readline()
    if not line:
        raise RuntimeError(f"node {name} exited; its log ends:\n{_log_tail(log)}")
    return dict(json.loads(line))


def _log_tail(log: Path) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-20:])


def _node_env(db_url: str, sandbox: SandboxService, redis_url: str | None) -> dict[str, str]:
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("TAVUS_", "CVI_")) and k not in ("REFLEX_REDIS_URL", "REFLEX_DB_URL")
    }
    env = {
        **clean,
        "REFLEX_DB_URL": db_url,
        "CVI_SANDBOX_URL": sandbox.url,
        "CVI_SANDBOX_API_KEY": sandbox.api_key,
        "PYTHONUNBUFFERED": "1",
    }
    if redis_url is not None:
        env["REFLEX_REDIS_URL"] = redis_url
    return env


class ServiceRoomDriver(RoomDriver):
    """`RoomDriver` in a room whose URL and token the starting process said (no app to ask)."""

    def __init__(self, conversation_id: str, room_url: str, meeting_token: str | None) -> None:
        # Only RoomDriver.__aenter__ uses the app, and it is replaced here.
        super().__init__(None, conversation_id)  # type: ignore[arg-type]
        self._params = TransportParams(
            room_url=room_url, meeting_token=meeting_token, user_name="bench-driver"
        )

    async def __aenter__(self) -> ServiceRoomDriver:
        self._transport = LocalTransport(self._params)
        self._transport.on_app_message(self._on_app_message)
        await self._transport.join()
        return self


@dataclass
class Started:
    """Conversations one process started, with a driver in each room, and its RSS around it."""

    owners: dict[str, str] = field(default_factory=dict)
    rss_before: int = 0
    rss_first: int = 0
    rss_after: int = 0

    def per_conversation_mb(self) -> float:
        """(RSS after - before) / conversations started."""
        return (self.rss_after - self.rss_before) / max(len(self.owners), 1) / MB

    def warm_per_conversation_mb(self) -> float | None:
        """The same without the first conversation (which loads what is lazily imported)."""
        if len(self.owners) < 2:
            return None
        return (self.rss_after - self.rss_first) / (len(self.owners) - 1) / MB


async def start_conversations(
    node: NodeProcess, count: int, drivers: dict[str, ServiceRoomDriver]
) -> Started:
    """Have `node` start `count` conversations; a driver joins each as soon as it is live."""
    started = Started(rss_before=int((await node.ask("rss"))["rss"]))

    async def join(said: dict[str, Any]) -> None:
        cid = str(said["conversation_id"])
        if not started.owners:
            started.rss_first = int(said["rss"])
        started.owners[cid] = str(said["owner"])
        driver = ServiceRoomDriver(cid, str(said["room_url"]), said.get("meeting_token"))
        drivers[cid] = await driver.__aenter__()

    done = await node.ask("start", count=count, prefix=node.name, on_started=join, within=600)
    started.rss_after = int(done["rss"])
    return started


# ---- relay -------------------------------------------------------------------------------


@dataclass
class RelayRun:
    """One measured stream: what each process's subscribers got, and the room hop beside it."""

    relays: dict[str, Relay]
    room_hop: list[float]
    """Replica -> the driver (a participant in this process): the room's own part of the relay."""
    cpu: dict[str, float]
    sent: int

    @property
    def room_hop_text(self) -> str:
        if not self.room_hop:
            return ""
        return (
            "the room hop alone (replica -> a participant in the benchmark process) "
            f"{Summary.of(self.room_hop).short()}"
        )


@dataclass
class Relay:
    """What one process's subscribers got in the measured window."""

    latencies: list[float]
    held_here: list[float]
    held_elsewhere: list[float]
    expected: int
    lost: int
    duplicated: int
    lagged: int

    @property
    def summary(self) -> Summary | None:
        return Summary.of(self.latencies) if self.latencies else None


class CpuShare:
    """CPU used over an interval by named groups of processes, and by the whole machine.

    Shares are of one core (the machine has `psutil.cpu_count()`); `steal` is time the
    hypervisor gave other machines while this one wanted to run.
    """

    def __init__(self, groups: dict[str, list[psutil.Process]]) -> None:
        self.groups = groups
        self._start: tuple[float, dict[str, float], Any] = (0.0, {}, None)

    def _sample(self) -> dict[str, float]:
        used: dict[str, float] = {}
        for name, processes in self.groups.items():
            for proc in processes:
                with contextlib.suppress(psutil.Error):
                    times = proc.cpu_times()
                    used[name] = used.get(name, 0.0) + times.user + times.system
        return used

    def start(self) -> None:
        self._start = (time.monotonic(), self._sample(), psutil.cpu_times())

    def stop(self) -> dict[str, float]:
        """Each group's share, then the machine's `busy` and `steal` (in cores)."""
        began, used, machine = self._start
        wall = max(time.monotonic() - began, 1e-9)
        end = self._sample()
        shares = {name: (end[name] - used[name]) / wall for name in end if name in used}
        now = psutil.cpu_times()
        total = max(sum(now) - sum(machine), 1e-9)
        cores = psutil.cpu_count() or 1
        idle = (now.idle - machine.idle) + (now.iowait - machine.iowait)
        steal = now.steal - machine.steal
        shares["machine busy"] = (total - idle - steal) / total * cores
        shares["machine steal"] = steal / total * cores
        return shares

    @staticmethod
    def text(shares: dict[str, float]) -> str:
        parts = ", ".join(f"{name} {share:.0%}" for name, share in shares.items())
        cores = psutil.cpu_count() or 1
        return f"CPU during the stream (share of one core; {cores} cores in all): {parts}"


def postgres_processes(server: PostgresServer) -> list[psutil.Process]:
    """The server's postmaster and the backends it runs now (the nodes' pooled connections)."""
    with contextlib.suppress(OSError, ValueError, psutil.Error):
        pid = int((server.data_dir / "postmaster.pid").read_text().splitlines()[0])
        postmaster = psutil.Process(pid)
        return [postmaster, *postmaster.children(recursive=True)]
    return []


async def _stream(driver: RoomDriver, *, delay: float, events: int) -> int:
    await asyncio.sleep(delay)
    return await driver.stream(events=events, rate=RATE, words=ECHO_WORDS)


def _stream_all(drivers: list[ServiceRoomDriver], seconds: float) -> Awaitable[list[int]]:
    period = echo_events(ECHO_WORDS) / RATE
    return asyncio.gather(
        *(
            _stream(d, delay=i * period / len(drivers), events=int(RATE * seconds))
            for i, d in enumerate(drivers)
        )
    )


async def measure_relay(
    drivers: dict[str, ServiceRoomDriver],
    nodes: list[NodeProcess],
    seconds: float,
    cpu: CpuShare,
) -> RelayRun:
    """Stream into every conversation; what each process's subscribers got."""
    await asyncio.sleep(SETTLE_S)  # the greetings are over
    base = {cid: d.last_seq for cid, d in drivers.items()}
    cpu.start()
    sent = await _stream_all(list(drivers.values()), seconds)
    shares = cpu.stop()

    def carried(cid: str) -> list[int]:
        return sorted(seq for seq in drivers[cid].arrivals if seq > base[cid])

    deadline = time.monotonic() + CATCH_UP_S
    while time.monotonic() < deadline:
        if all(len(carried(cid)) >= n for cid, n in zip(drivers, sent, strict=True)):
            break
        await asyncio.sleep(0.1)
    injected = {cid: carried(cid) for cid in drivers}
    total = sum(len(seqs) for seqs in injected.values())
    relays: dict[str, Relay] = {}
    for node in nodes:
        deadline = time.monotonic() + CATCH_UP_S
        while time.monotonic() < deadline:
            if int((await node.ask("count", after=base))["received"]) >= total:
                break
            await asyncio.sleep(0.2)
        taken = await node.ask("take", after=base)
        relays[node.name] = _relay(taken, injected)
    hop = [
        d.arrivals[seq] - d.stamps[seq] * 1000
        for cid, d in drivers.items()
        for seq in injected[cid]
        if seq in d.stamps
    ]
    return RelayRun(relays=relays, room_hop=hop, cpu=shares, sent=sum(sent))


def _relay(taken: dict[str, Any], injected: dict[str, list[int]]) -> Relay:
    held = set(taken["held"])
    latencies: list[float] = []
    here: list[float] = []
    elsewhere: list[float] = []
    lost = duplicated = 0
    for cid, seqs in injected.items():
        first: dict[int, float] = {}
        for seq, arrived, stamped in taken["arrivals"].get(cid, []):
            if seq in first:
                duplicated += 1
                continue
            first[seq] = arrived - stamped
        lost += len(set(seqs) - set(first))
        values = list(first.values())
        latencies += values
        (here if cid in held else elsewhere).extend(values)
    return Relay(
        latencies=latencies,
        held_here=here,
        held_elsewhere=elsewhere,
        expected=sum(len(s) for s in injected.values()),
        lost=lost,
        duplicated=duplicated,
        lagged=len(taken["lagged"]),
    )


# ---- failover ----------------------------------------------------------------------------


@dataclass
class Kill:
    """One SIGKILL: the conversations the killed process held and when each was back."""

    victim: str
    moved: int
    seconds: list[float]
    """kill -> the other process holds the lease and its takeover notice was seen, per
    conversation that made it within the wait."""
    lease_seconds: list[float]
    missing: int


class NoticeWatch:
    """A subscriber here for each conversation, noting when its takeover notice arrives."""

    def __init__(self, redis_url: str) -> None:
        self.bus = make_bus(redis_url)
        self.seen: dict[str, list[float]] = {}
        self._tasks: list[asyncio.Task[None]] = []

    async def watch(self, conversation_ids: list[str]) -> None:
        for cid in conversation_ids:
            subscription = self.bus.subscribe(cid)
            if isinstance(subscription, RedisSubscription):
                await subscription.ready()
            self.seen[cid] = []
            self._tasks.append(asyncio.create_task(self._take(cid, subscription)))

    async def _take(self, cid: str, subscription: Any) -> None:
        async for batch in subscription.batches():
            for update in batch:
                if isinstance(update, Notice) and update.text == TAKEN_OVER and update.active:
                    self.seen[cid].append(time.monotonic())

    def first_after(self, cid: str, moment: float) -> float | None:
        return next((t for t in self.seen[cid] if t > moment), None)

    async def aclose(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.bus.aclose()


async def measure_failover(
    nodes: dict[str, NodeProcess],
    conversation_ids: list[str],
    redis_url: str,
    kills: int,
    respawn: Callable[[str], Awaitable[NodeProcess]],
) -> list[Kill]:
    """SIGKILL the busiest process `kills` times, timing each conversation's takeover."""
    watch = NoticeWatch(redis_url)
    redis = Redis.from_url(redis_url)
    leases = LeaseTable(redis, "benchmark")
    results: list[Kill] = []
    try:
        await watch.watch(conversation_ids)
        for _ in range(kills):
            holders = await leases.holders(conversation_ids)
            counts = Counter(holders.values())
            victim = max(nodes.values(), key=lambda n: counts[n.node_id])
            survivor = next(n for n in nodes.values() if n is not victim)
            moved = [cid for cid, holder in holders.items() if holder == victim.node_id]
            killed = time.monotonic()
            victim.kill()
            lease_at: dict[str, float] = {}
            back_at: dict[str, float] = {}
            while time.monotonic() - killed < TAKEOVER_WAIT_S and len(back_at) < len(moved):
                now_holders = await leases.holders(moved)
                now = time.monotonic()
                for cid in moved:
                    if cid not in lease_at and now_holders[cid] == survivor.node_id:
                        lease_at[cid] = now - killed
                    noticed = watch.first_after(cid, killed)
                    if cid in lease_at and cid not in back_at and noticed is not None:
                        back_at[cid] = max(lease_at[cid], noticed - killed)
                await asyncio.sleep(0.05)
            await victim.process.wait()
            results.append(
                Kill(
                    victim=victim.name,
                    moved=len(moved),
                    seconds=sorted(back_at.values()),
                    lease_seconds=sorted(lease_at.values()),
                    missing=len(moved) - len(back_at),
                )
            )
            logger.info(
                "kill of node %s: %d of %d conversations back, the last after %.1f s",
                victim.name,
                len(back_at),
                len(moved),
                max(back_at.values(), default=float("nan")),
            )
            nodes[victim.name] = await respawn(victim.name)
    finally:
        await watch.aclose()
        await redis.aclose()
    return results


# ---- the section -------------------------------------------------------------------------


async def _end_all(sandbox: SandboxService, conversation_ids: list[str]) -> None:
    """End conversations at the API (their rooms close; the sessions follow)."""
    async with TavusClient(api_key=sandbox.api_key, base_url=f"{sandbox.url}/v2") as client:
        for cid in conversation_ids:
            with contextlib.suppress(Exception):
                await client.end_conversation(cid)


async def _leave_all(drivers: dict[str, ServiceRoomDriver]) -> None:
    await asyncio.gather(
        *(d.__aexit__(None, None, None) for d in drivers.values()), return_exceptions=True
    )
    drivers.clear()


def _database(server: PostgresServer, template: str) -> str:
    return server.create_database(template=template)


def _migrated_template(server: PostgresServer) -> str:
    name = "cluster_bench_template"
    upgrade_to_head(server.create_database(name))
    return name


async def _profile_note(node: NodeProcess, drivers: list[ServiceRoomDriver]) -> str:
    profile = await profile_while(node.pid, 8, _stream_all(drivers, 8))
    if profile is None:
        return ""
    return profile.note(f"py-spy on node {node.name} during 8 s more of the same load")


async def run(ctx: BenchContext) -> list[Row]:
    """Relay, failover and memory of two cluster processes, beside one embedded process."""
    count = 10 if ctx.quick else 100
    seconds = 8.0 if ctx.quick else 30.0
    kills = 2 if ctx.quick else 5
    workdir = ctx.workdir / "cluster"
    workdir.mkdir(exist_ok=True)
    processes: list[NodeProcess] = []
    drivers: dict[str, ServiceRoomDriver] = {}
    with contextlib.ExitStack() as stack:
        redis_server = await asyncio.to_thread(stack.enter_context, running_redis())
        postgres = await asyncio.to_thread(stack.enter_context, running_postgres())
        sandbox = await asyncio.to_thread(
            stack.enter_context,
            run_sandbox_service(
                workdir,
                "--max-concurrent",
                str(MAX_CONCURRENT),
                "--no-twins",
                words_per_second=WORDS_PER_SECOND,
            ),
        )
        template = await asyncio.to_thread(_migrated_template, postgres)
        embedded_db = await asyncio.to_thread(_database, postgres, template)
        cluster_db = await asyncio.to_thread(_database, postgres, template)
        bench = psutil.Process()
        redis_proc = next((p for p in bench.children(recursive=True) if "redis" in p.name()), None)

        async def spawn(name: str, db_url: str, redis_url: str | None) -> NodeProcess:
            node = await NodeProcess.spawn(
                name, _node_env(db_url, sandbox, redis_url), workdir / f"node-{name}.log"
            )
            processes.append(node)
            return node

        def meter(nodes: list[NodeProcess]) -> CpuShare:
            groups = {f"node {n.name}": [psutil.Process(n.pid)] for n in nodes}
            groups["sandbox"] = [psutil.Process(sandbox.process.pid)]
            groups["postgres"] = postgres_processes(postgres)
            if redis_proc is not None:
                groups["redis"] = [redis_proc]
            groups["drivers (this process)"] = [bench]
            return CpuShare(groups)

        try:
            # 1. The embedded shape: one process, in-process bus.
            embedded = await spawn("embedded", embedded_db, None)
            assert embedded.node_id == EMBEDDED
            embedded_started = await start_conversations(embedded, count, drivers)
            await embedded.ask("follow", conversations=embedded_started.owners)
            embedded_run = await measure_relay(drivers, [embedded], seconds, meter([embedded]))
            await _end_all(sandbox, list(embedded_started.owners))
            await _leave_all(drivers)
            await embedded.stop()

            # 2. The cluster shape: two processes on one Redis.
            node_a, node_b = await asyncio.gather(
                spawn("a", cluster_db, redis_server.url), spawn("b", cluster_db, redis_server.url)
            )
            nodes = {"a": node_a, "b": node_b}
            started_a, started_b = await asyncio.gather(
                start_conversations(node_a, count // 2, drivers),
                start_conversations(node_b, count - count // 2, drivers),
            )
            owners = {**started_a.owners, **started_b.owners}
            await asyncio.gather(
                node_a.ask("follow", conversations=owners),
                node_b.ask("follow", conversations=owners),
            )
            cluster_run = await measure_relay(
                drivers, [node_a, node_b], seconds, meter([node_a, node_b])
            )
            worst = max(nodes.values(), key=lambda n: _p99(cluster_run.relays[n.name]))
            profile_note = ""
            if _p99(cluster_run.relays[worst.name]) >= P99_TARGET_MS:
                profile_note = await _profile_note(worst, list(drivers.values()))
            rss_after_stream = {n.name: int((await n.ask("rss"))["rss"]) for n in nodes.values()}

            # 3. Failover.
            async def respawn(name: str) -> NodeProcess:
                return await spawn(name, cluster_db, redis_server.url)

            killed = await measure_failover(nodes, list(owners), redis_server.url, kills, respawn)
            await _end_all(sandbox, list(owners))
            await _leave_all(drivers)
            await asyncio.gather(*(n.stop() for n in nodes.values()))
        finally:
            await _leave_all(drivers)
            for node in processes:
                node.kill()
            await asyncio.gather(*(n.process.wait() for n in processes), return_exceptions=True)

    return _rows(
        count=count,
        seconds=seconds,
        embedded_run=embedded_run,
        embedded_started=embedded_started,
        cluster_run=cluster_run,
        started={"a": started_a, "b": started_b},
        rss_after_stream=rss_after_stream,
        killed=killed,
        profile_note=profile_note,
    )


def _p99(relay: Relay) -> float:
    summary = relay.summary
    return summary.p99 if summary is not None else float("inf")


def _rows(
    *,
    count: int,
    seconds: float,
    embedded_run: RelayRun,
    embedded_started: Started,
    cluster_run: RelayRun,
    started: dict[str, Started],
    rss_after_stream: dict[str, int],
    killed: list[Kill],
    profile_note: str,
) -> list[Row]:
    load = f"{count} conversations x {RATE:.0f} events/s for {seconds:.0f} s"
    embedded = next(iter(embedded_run.relays.values()))
    relays = cluster_run.relays
    base = embedded.summary
    if base is None:
        raise RuntimeError("no event reached the embedded process's subscribers")
    rows = [
        Row(
            SECTION,
            f"embedded: relay p50 ({count} conversations, one process)",
            base.p50,
            "ms",
            comparison=f"{base.short()} over {base.count} events; {load}; in-process bus",
            note=embedded_run.room_hop_text,
            details={
                "relay_ms": vars(base),
                "room_hop_ms": vars(Summary.of(embedded_run.room_hop))
                if embedded_run.room_hop
                else None,
                "events_sent": embedded_run.sent,
            },
        ),
        Row(
            SECTION,
            "embedded: relay p99",
            base.p99,
            "ms",
            target=f"< {P99_TARGET_MS:.0f} ms",
            comparison=f"lost {embedded.lost}, duplicated {embedded.duplicated} of "
            f"{embedded.expected} events the rooms carried",
            status=verdict(base.p99 < P99_TARGET_MS and embedded.lost == 0),
            note=CpuShare.text(embedded_run.cpu),
            details={"cpu_cores": embedded_run.cpu, "lagged_subscribers": embedded.lagged},
        ),
    ]
    for name, relay in relays.items():
        summary = relay.summary
        if summary is None:
            rows.append(
                Row(SECTION, f"node {name}: relay", None, "ms", status="missed", note="no events")
            )
            continue
        split = "; ".join(
            f"{what} {Summary.of(values).short()}"
            for what, values in (
                ("sessions held here", relay.held_here),
                ("sessions held by the other process", relay.held_elsewhere),
            )
            if values
        )
        rows += [
            Row(
                SECTION,
                f"node {name}: relay p50 ({len(started[name].owners)} of {count} held here)",
                summary.p50,
                "ms",
                comparison=f"embedded p50 {base.p50:.1f} ms; ratio {summary.p50 / base.p50:.2f}x",
                note=split,
                details={
                    "relay_ms": vars(summary),
                    "held_here_ms": vars(Summary.of(relay.held_here)) if relay.held_here else None,
                    "held_elsewhere_ms": vars(Summary.of(relay.held_elsewhere))
                    if relay.held_elsewhere
                    else None,
                    "events_expected": relay.expected,
                    "lost": relay.lost,
                    "duplicated": relay.duplicated,
                    "lagged_subscribers": relay.lagged,
                },
            ),
            Row(
                SECTION,
                f"node {name}: relay p99",
                summary.p99,
                "ms",
                target=f"< {P99_TARGET_MS:.0f} ms",
                comparison=f"embedded p99 {base.p99:.1f} ms; ratio {summary.p99 / base.p99:.2f}x",
                status=verdict(summary.p99 < P99_TARGET_MS and relay.lost == 0),
            ),
        ]
    lost = sum(r.lost for r in relays.values())
    duplicated = sum(r.duplicated for r in relays.values())
    expected = sum(r.expected for r in relays.values())
    per_node = ", ".join(
        f"node {n}: {r.lost} lost, {r.duplicated} duplicated, {r.lagged} subscribers lagged"
        for n, r in relays.items()
    )
    rows += [
        Row(
            SECTION,
            "cluster: events lost (both processes)",
            lost,
            "events",
            target="0",
            comparison=f"of {expected} (events the rooms carried x 2 subscribers); "
            f"embedded: {embedded.lost} of {embedded.expected}",
            status=verdict(lost == 0),
            note="; ".join(
                filter(
                    None,
                    [
                        per_node,
                        cluster_run.room_hop_text,
                        CpuShare.text(cluster_run.cpu),
                        profile_note,
                    ],
                )
            ),
            details={
                "cpu_cores": cluster_run.cpu,
                "events_sent": cluster_run.sent,
                "room_hop_ms": vars(Summary.of(cluster_run.room_hop))
                if cluster_run.room_hop
                else None,
            },
        ),
        Row(
            SECTION,
            "cluster: events duplicated",
            duplicated,
            "events",
            target="0",
            comparison=f"embedded: {embedded.duplicated}",
            status=verdict(duplicated == 0),
        ),
    ]
    rows += _failover_rows(killed)
    rows += _memory_rows(started, embedded_started, rss_after_stream)
    return rows


def _failover_rows(killed: list[Kill]) -> list[Row]:
    seconds = [s for k in killed for s in k.seconds]
    missing = sum(k.missing for k in killed)
    moved = sum(k.moved for k in killed)
    per_kill = "; ".join(
        f"kill {i} (node {k.victim}, {k.moved} held): "
        + (
            f"first back after {k.seconds[0]:.1f} s, last {k.seconds[-1]:.1f} s"
            if k.seconds
            else "none back"
        )
        + (f", {k.missing} not back within {TAKEOVER_WAIT_S:.0f} s" if k.missing else "")
        for i, k in enumerate(killed, 1)
    )
    leases = [s for k in killed for s in k.lease_seconds]
    lease_text = f"lease taken: {Summary.of(leases).short('s')}" if leases else "no lease was taken"
    details = {
        "kills": [vars(k) for k in killed],
        "takeover_s": vars(Summary.of(seconds)) if seconds else None,
    }
    if not seconds:
        return [
            Row(
                SECTION,
                "failover",
                None,
                "s",
                target=f"max < {TAKEOVER_TARGET_S:.0f} s",
                status="missed",
                note=per_kill,
                details=details,
            )
        ]
    summary = Summary.of(seconds)
    return [
        Row(
            SECTION,
            f"failover p50 ({len(killed)} SIGKILLs, {moved} moved)",
            summary.p50,
            "s",
            comparison=lease_text,
            note=per_kill,
            details=details,
        ),
        Row(
            SECTION,
            "failover max (lease moved, notice seen)",
            summary.maximum,
            "s",
            target=f"< {TAKEOVER_TARGET_S:.0f} s",
            comparison=(f"{missing} of {moved} not back" if missing else f"all {moved} back")
            + "; the first back after each kill: "
            + ", ".join(f"{k.seconds[0]:.1f} s" for k in killed if k.seconds),
            status=verdict(summary.maximum < TAKEOVER_TARGET_S and missing == 0),
        ),
    ]


def _memory_rows(
    started: dict[str, Started], embedded: Started, rss_after_stream: dict[str, int]
) -> list[Row]:
    def warm_text(started: Started) -> str:
        warm = started.warm_per_conversation_mb()
        return "n/a" if warm is None else f"{warm:.2f} MB"

    rows = []
    for name, s in started.items():
        rows.append(
            Row(
                SECTION,
                f"node {name}: memory per conversation ({len(s.owners)} started)",
                s.per_conversation_mb(),
                "MB",
                comparison=(
                    f"embedded process {embedded.per_conversation_mb():.2f} MB; without the "
                    f"first conversation (lazy imports): {warm_text(s)} here, "
                    f"{warm_text(embedded)} embedded"
                ),
                note=(
                    f"RSS {s.rss_before / MB:.0f} MB before, {s.rss_after / MB:.0f} MB after "
                    f"starting; {rss_after_stream[name] / MB:.0f} MB after following all "
                    f"{sum(len(x.owners) for x in started.values())} and streaming"
                ),
                details={
                    "rss_before_mb": s.rss_before / MB,
                    "rss_after_first_mb": s.rss_first / MB,
                    "rss_after_mb": s.rss_after / MB,
                    "rss_after_stream_mb": rss_after_stream[name] / MB,
                },
            )
        )
    rows.append(
        Row(
            SECTION,
            f"embedded: memory per conversation ({len(embedded.owners)} started)",
            embedded.per_conversation_mb(),
            "MB",
            comparison=f"RSS {embedded.rss_before / MB:.0f} MB before, "
            f"{embedded.rss_after / MB:.0f} MB after",
            details={
                "rss_before_mb": embedded.rss_before / MB,
                "rss_after_first_mb": embedded.rss_first / MB,
                "rss_after_mb": embedded.rss_after / MB,
            },
        )
    )
    return rows
