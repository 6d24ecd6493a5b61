"""RedisBus on a real Redis: two buses stand for two app processes (each its own connections).

What a tab notices: every update published by any process reaches it once, in order; a tab
that comes back resumes where it was; if it cannot be given what it missed, it is told (lagged)
and rebuilds from the store; a Redis outage is reported, and what Redis took is not lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from cvi_app.live.bus import EventBus, LiveBus
from cvi_app.live.bus_factory import configured_redis_url, make_bus
from cvi_app.live.redis_bus import RedisBus, RedisSubscription
from cvi_app.live.update_codec import decode_update, encode_update
from cvi_app.live.updates import EventReceived, LiveUpdate
from cvi_app.protocol import parse_event
from tests.support.redis_server import RedisServer
from tests.support.servers import WAIT, free_port, wait_for

MakeBus = Callable[..., RedisBus[LiveUpdate]]


def said(n: int) -> EventReceived:
    """The replica's n-th utterance, numbered n (the session's update id)."""
    event = parse_event(
        {
            "message_type": "conversation",
            "event_type": "conversation.utterance",
            "conversation_id": "c1",
            "seq": n,
            "properties": {"role": "replica", "speech": f"line {n}"},
        }
    )
    return EventReceived(event=event, raw=event.to_json(), update_id=n)


def numbers(updates: list[LiveUpdate]) -> list[int]:
    return [u.update_id for u in updates]


async def take(subscription: RedisSubscription[LiveUpdate], count: int) -> list[LiveUpdate]:
    """The next `count` updates, failing the test if they do not come in time."""
    got: list[LiveUpdate] = []

    async def run() -> None:
        while len(got) < count:
            got.append(await subscription.get())

    try:
        await asyncio.wait_for(run(), WAIT)
    except TimeoutError:
        raise AssertionError(f"got {numbers(got)}, expected {count} updates") from None
    return got


async def nothing_more(*subscriptions: RedisSubscription[LiveUpdate]) -> None:
    await asyncio.sleep(0.3)
    for subscription in subscriptions:
        assert subscription.drain() == [], "an update came twice"


@pytest.fixture
def topic() -> str:
    return f"c-{uuid.uuid4().hex[:12]}"


@pytest.fixture
async def buses(redis_server: RedisServer) -> AsyncIterator[MakeBus]:
    made: list[RedisBus[LiveUpdate]] = []

    def make(url: str | None = None, **options: Any) -> RedisBus[LiveUpdate]:
        bus = RedisBus(
            url or redis_server.url, encode=encode_update, decode=decode_update, **options
        )
        made.append(bus)
        return bus

    try:
        yield make
    finally:
        redis_server.start()  # a test that failed while it was down leaves it up for the next
        for bus in made:
            await bus.aclose(flush_timeout=1.0)


def stream_entries(server: RedisServer, topic: str) -> list[tuple[bytes, dict[bytes, bytes]]]:
    with server.client() as client:
        return list(client.xrange(f"cvi:updates:{{{topic}}}"))


# ---- across processes --------------------------------------------------------------------------


async def test_updates_from_either_process_reach_subscribers_on_both_once_in_order(
    buses: MakeBus, topic: str
) -> None:
    one, two = buses(), buses()
    on_one, on_two = one.subscribe(topic), two.subscribe(topic)
    await on_one.ready()
    await on_two.ready()
    for n in range(1, 21):
        (one if n % 2 else two).publish(topic, said(n))
        await (one if n % 2 else two).flush()
    assert numbers(await take(on_one, 20)) == list(range(1, 21))
    assert numbers(await take(on_two, 20)) == list(range(1, 21))
    await nothing_more(on_one, on_two)
    assert not on_one.lagged and not on_two.lagged


async def test_concurrent_publishers_keep_their_own_order_and_every_tab_sees_the_same_order(
    buses: MakeBus, topic: str
) -> None:
    one, two = buses(), buses()
    on_one, on_two = one.subscribe(topic), two.subscribe(topic)
    await on_one.ready()
    await on_two.ready()
    for n in range(1, 201):
        one.publish(topic, said(n))
        two.publish(topic, said(1000 + n))
    seen_one, seen_two = numbers(await take(on_one, 400)), numbers(await take(on_two, 400))
    assert seen_one == seen_two
    assert [n for n in seen_one if n < 1000] == list(range(1, 201))
    assert [n for n in seen_one if n > 1000] == list(range(1001, 1201))
    await nothing_more(on_one, on_two)


async def test_a_subscription_started_in_the_same_step_as_a_publish_misses_nothing_after_it(
    buses: MakeBus, topic: str
) -> None:
    bus = buses()
    for n in range(1, 6):
        bus.publish(topic, said(n))
    subscription = bus.subscribe(topic)  # no await: what the session publishes next is seen
    for n in range(6, 11):
        bus.publish(topic, said(n))
    assert numbers(await take(subscription, 5)) == list(range(6, 11))
    await nothing_more(subscription)


async def test_publish_counts_only_this_process_subscribers(buses: MakeBus, topic: str) -> None:
    one, two = buses(), buses()
    here = one.subscribe(topic)
    two.subscribe(topic)
    assert one.publish(topic, said(1)) == 1
    assert one.subscriber_count(topic) == 1
    here.close()
    assert one.subscriber_count(topic) == 0
    assert two.subscriber_count(topic) == 1


# ---- resuming ----------------------------------------------------------------------------------


async def test_a_tab_resuming_after_the_last_id_it_saw_gets_what_followed_once(
    buses: MakeBus, topic: str
) -> None:
    one, two = buses(), buses()
    first = one.subscribe(topic)
    for n in range(1, 11):
        one.publish(topic, said(n))
    assert numbers(await take(first, 4)) == [1, 2, 3, 4]
    last_id = first.last_id
    assert last_id is not None
    first.close()

    resumed = two.subscribe(topic, after=last_id)  # on the other process
    assert numbers(await take(resumed, 6)) == list(range(5, 11))
    one.publish(topic, said(11))
    assert numbers(await take(resumed, 1)) == [11]
    await nothing_more(resumed)
    assert not resumed.lagged


async def test_resuming_from_the_start_of_the_stream_gets_everything(
    buses: MakeBus, topic: str
) -> None:
    bus = buses()
    for n in range(1, 4):
        bus.publish(topic, said(n))
    await bus.flush()
    everything = bus.subscribe(topic, after="0-0")
    assert numbers(await take(everything, 3)) == [1, 2, 3]
    assert not everything.lagged


async def test_an_id_that_is_not_a_stream_id_is_refused(buses: MakeBus, topic: str) -> None:
    with pytest.raises(ValueError):
        buses().subscribe(topic, after="$")


# ---- bounded streams and lag -------------------------------------------------------------------


NODE = 100  # Redis trims whole stream nodes (stream-node-max-entries), so MAXLEN ~ is about


async def test_a_conversation_stream_stays_bounded(
    buses: MakeBus, topic: str, redis_server: RedisServer
) -> None:
    bus = buses(maxlen=200)
    for n in range(1, 2001):
        bus.publish(topic, said(n))
    await asyncio.wait_for(bus.flush(), WAIT)
    entries = stream_entries(redis_server, topic)
    assert 200 <= len(entries) <= 200 + NODE
    assert decode_update(entries[-1][1][b"u"]).update_id == 2000


async def test_a_tab_resuming_after_an_id_trimmed_away_is_told_to_rebuild(
    buses: MakeBus, topic: str
) -> None:
    bus = buses(maxlen=50)
    early = bus.subscribe(topic)
    bus.publish(topic, said(1))
    await take(early, 1)
    early_id = early.last_id
    assert early_id is not None
    early.close()
    for n in range(2, 1001):
        bus.publish(topic, said(n))
    await bus.flush()

    resumed = bus.subscribe(topic, after=early_id)
    batches = resumed.batches()
    await asyncio.wait_for(anext(batches), WAIT)  # it wakes up at once, even with nothing new
    assert resumed.lagged


async def test_a_slow_tab_the_stream_was_trimmed_past_is_lagged_and_a_fast_one_is_not(
    buses: MakeBus, topic: str
) -> None:
    bus = buses(maxlen=200, queue_size=10)
    slow, fast = bus.subscribe(topic), bus.subscribe(topic)
    await slow.ready()
    got_fast: list[LiveUpdate] = []

    async def keep_up() -> None:
        while len(got_fast) < 3000:
            got_fast.append(await fast.get())

    follower = asyncio.create_task(keep_up())
    for n in range(1, 3001):
        bus.publish(topic, said(n))
        if n % 50 == 0:  # a burst at a time, as a conversation goes, not 3,000 at once
            await bus.flush()
            await wait_for(lambda n=n: len(got_fast) == n, what="the fast tab to keep up")
    await asyncio.wait_for(follower, WAIT)
    assert numbers(got_fast) == list(range(1, 3001)) and not fast.lagged

    got_slow: list[LiveUpdate] = []
    await wait_for(lambda: got_slow.extend(slow.drain()) or slow.lagged, what="slow to lag")
    seen = numbers(got_slow)
    assert seen == sorted(set(seen)), "what it did get is in order, each once"
    assert len(seen) < 3000


async def test_a_bad_entry_in_the_stream_is_skipped_and_the_next_one_arrives(
    buses: MakeBus, topic: str, redis_server: RedisServer
) -> None:
    bus = buses()
    subscription = bus.subscribe(topic)
    bus.publish(topic, said(1))
    await take(subscription, 1)
    with redis_server.client() as client:  # numbered in sequence, so only its content is bad
        n = client.hincrby(f"cvi:updates:{{{topic}}}:meta", "#n", 1)
        client.xadd(f"cvi:updates:{{{topic}}}", {"n": n, "u": b'{"kind": "gossip"}'})
    bus.publish(topic, said(2))
    assert numbers(await take(subscription, 1)) == [2]
    assert not subscription.lagged


# ---- Redis outages -----------------------------------------------------------------------------


async def test_a_redis_restart_is_reported_and_nothing_acknowledged_is_lost_or_doubled(
    buses: MakeBus, topic: str, redis_server: RedisServer
) -> None:
    """Acknowledged: written to Redis (its write answered). Redis keeps its data over the restart."""
    one, two = buses(), buses()
    on_one, on_two = one.subscribe(topic), two.subscribe(topic)
    await on_one.ready()
    await on_two.ready()
    for n in range(1, 11):
        one.publish(topic, said(n))
    await one.flush()  # 1..10 are acknowledged
    assert one.outage is None

    redis_server.stop(keep_data=True)
    started = time.monotonic()
    for n in range(11, 21):
        (one if n % 2 else two).publish(topic, said(n))
    assert time.monotonic() - started < 0.05, "publishing does not wait for Redis"
    await wait_for(lambda: one.outage is not None and two.outage is not None, what="outage")
    outage = one.outage
    assert outage is not None and outage.pending == 5 and outage.dropped == 0
    assert outage.reason

    redis_server.start()
    await asyncio.wait_for(asyncio.gather(one.flush(), two.flush()), WAIT)
    await wait_for(lambda: one.outage is None and two.outage is None, what="recovery")

    for subscription in (on_one, on_two):
        seen = numbers(await take(subscription, 20))
        assert seen[:10] == list(range(1, 11))
        assert sorted(seen) == list(range(1, 21))
        assert [n for n in seen[10:] if n % 2] == list(range(11, 21, 2))  # each bus's order
        assert [n for n in seen[10:] if not n % 2] == list(range(12, 21, 2))
        assert not subscription.lagged
    await nothing_more(on_one, on_two)
    assert len(stream_entries(redis_server, topic)) == 20


async def test_a_write_whose_answer_was_lost_is_retried_and_stored_once(
    buses: MakeBus, topic: str, redis_server: RedisServer
) -> None:
    async with reply_cutter(redis_server.port) as proxy:
        writer, reader = buses(proxy.url), buses()
        subscription = reader.subscribe(topic)
        await subscription.ready()
        proxy.cut_the_next_write_answer()
        for n in range(1, 51):
            writer.publish(topic, said(n))
        await asyncio.wait_for(writer.flush(), WAIT)
        assert proxy.cut == 1, "Redis ran the write and its answer never came back"
        assert numbers(await take(subscription, 50)) == list(range(1, 51))
        await nothing_more(subscription)
        assert len(stream_entries(redis_server, topic)) == 50


async def test_updates_over_the_bound_while_redis_is_down_are_dropped_oldest_first_and_tabs_told(
    buses: MakeBus, topic: str, redis_server: RedisServer
) -> None:
    one, two = buses(pending_limit=5), buses()
    here, there = one.subscribe(topic), two.subscribe(topic)
    await here.ready()
    await there.ready()
    redis_server.stop(keep_data=True)
    for n in range(1, 21):
        one.publish(topic, said(n))
    await wait_for(lambda: one.outage is not None, what="outage")
    outage = one.outage
    assert outage is not None and outage.dropped >= 14 and outage.pending <= 6
    assert here.lagged, "a tab here learns at once that it will not get everything"

    redis_server.start()
    await asyncio.wait_for(one.flush(), WAIT)
    kept = numbers(await take(there, outage.pending))
    assert kept == list(range(21 - len(kept), 21)), "the latest are kept"
    assert there.lagged, "a tab on another process learns it too"


async def test_a_redis_that_lost_its_data_makes_tabs_rebuild_and_updates_flow_again(
    buses: MakeBus, topic: str, redis_server: RedisServer
) -> None:
    bus = buses()
    subscription = bus.subscribe(topic)
    bus.publish(topic, said(1))
    await take(subscription, 1)

    redis_server.stop(keep_data=False)  # a crash of a Redis without persistence
    redis_server.start()
    bus.publish(topic, said(2))
    assert numbers(await take(subscription, 1)) == [2]
    assert subscription.lagged, "entries may have been lost: the tab rebuilds from the store"
    fresh = bus.subscribe(topic)
    await fresh.ready()
    bus.publish(topic, said(3))
    assert numbers(await take(fresh, 1)) == [3]
    assert not fresh.lagged


# ---- lifecycle ---------------------------------------------------------------------------------


def _readers() -> set[asyncio.Task[Any]]:
    return {t for t in asyncio.all_tasks() if t.get_name() == "redis-bus-reader"}


async def test_one_reader_follows_every_subscription_and_stops_after_the_last(
    buses: MakeBus, topic: str
) -> None:
    bus = buses()
    other = f"{topic}-other"
    first, second = bus.subscribe(topic), bus.subscribe(other)
    await asyncio.gather(first.ready(), second.ready())
    assert len(_readers()) == 1
    bus.publish(topic, said(1))
    bus.publish(other, said(2))
    assert numbers(await take(first, 1)) == [1]
    assert numbers(await take(second, 1)) == [2]
    first.close()
    bus.publish(other, said(3))
    assert numbers(await take(second, 1)) == [3]
    second.close()
    second.close()
    await wait_for(lambda: not _readers(), what="the reader to stop")
    bus.publish(topic, said(4))
    await nothing_more(first)


async def test_closing_the_bus_stops_every_task_it_started(buses: MakeBus, topic: str) -> None:
    before = asyncio.all_tasks()
    bus = buses()
    bus.subscribe(topic)
    bus.subscribe(topic, after="0-0")
    bus.publish(topic, said(1))
    await bus.flush()
    await bus.subscribe(topic).ready()
    ours = {t for t in asyncio.all_tasks() - before if t.get_name().startswith("redis-bus-")}
    assert {t.get_name() for t in ours} == {"redis-bus-reader", "redis-bus-writer"}
    await bus.aclose()
    assert all(task.done() for task in ours)
    await wait_for(lambda: asyncio.all_tasks() == before, what="every task to end")
    assert bus.subscriber_count(topic) == 0


# ---- choosing the bus --------------------------------------------------------------------------


async def test_the_bus_is_in_process_without_a_redis_url_and_redis_with_one(
    redis_server: RedisServer,
) -> None:
    assert configured_redis_url({}) is None
    assert configured_redis_url({"REFLEX_REDIS_URL": " "}) is None
    assert configured_redis_url({"REFLEX_REDIS_URL": redis_server.url}) == redis_server.url
    embedded: LiveBus[LiveUpdate] = make_bus(None)
    assert isinstance(embedded, EventBus)
    cluster = make_bus(redis_server.url)
    try:
        assert isinstance(cluster, RedisBus)
    finally:
        await cluster.aclose()


# ---- a proxy that loses Redis's answer ---------------------------------------------------------


class ReplyCutter:
    """A TCP proxy in front of Redis that can swallow the answer to a write and hang up."""

    def __init__(self, port: int) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.cut = 0
        self._target = port
        self._armed = False
        self._server: asyncio.Server | None = None
        self._links: set[asyncio.Task[None]] = set()

    def cut_the_next_write_answer(self) -> None:
        self._armed = True

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._link, "127.0.0.1", self.port)

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for link in self._links:
            link.cancel()
        await asyncio.gather(*self._links, return_exceptions=True)

    async def _link(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._links.add(task)
        server_r, server_w = await asyncio.open_connection("127.0.0.1", self._target)
        cutting = asyncio.Event()

        async def up() -> None:
            while data := await client_r.read(65536):
                if self._armed and b"EVALSHA" in data:
                    self._armed = False
                    cutting.set()
                server_w.write(data)
                await server_w.drain()

        async def down() -> None:
            while data := await server_r.read(65536):
                if cutting.is_set():  # Redis answered, so it ran the write: the client never hears
                    self.cut += 1
                    return
                client_w.write(data)
                await client_w.drain()

        directions = [asyncio.create_task(up()), asyncio.create_task(down())]
        try:
            await asyncio.wait(directions, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for direction in directions:
                direction.cancel()
            await asyncio.gather(*directions, return_exceptions=True)
            for writer in (client_w, server_w):
                writer.close()
            self._links.discard(task)


@contextlib.asynccontextmanager
async def reply_cutter(port: int) -> AsyncIterator[ReplyCutter]:
    proxy = ReplyCutter(port)
    await proxy.start()
    try:
        yield proxy
    finally:
        await proxy.close()
