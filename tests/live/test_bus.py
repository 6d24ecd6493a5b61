"""EventBus: every subscriber of a topic gets its updates; a slow one is marked, never waited for."""

from __future__ import annotations

import asyncio

from cvi_app.live.bus import EventBus


async def test_every_subscriber_of_a_topic_gets_each_update_in_order() -> None:
    bus: EventBus[int] = EventBus()
    first, second = bus.subscribe("c1"), bus.subscribe("c1")
    other = bus.subscribe("c2")
    assert bus.publish("c1", 1) == 2
    assert bus.publish("c1", 2) == 2
    assert [await first.get(), await first.get()] == [1, 2]
    assert second.drain() == [1, 2]
    assert other.drain() == []


async def test_publishing_to_a_topic_nobody_follows_is_harmless() -> None:
    bus: EventBus[str] = EventBus()
    assert bus.publish("nobody", "hello") == 0
    assert bus.subscriber_count("nobody") == 0


async def test_a_subscriber_that_falls_behind_is_marked_lagging_and_others_go_on() -> None:
    bus: EventBus[int] = EventBus(queue_size=3)
    slow, fast = bus.subscribe("c1"), bus.subscribe("c1")
    for n in range(5):
        bus.publish("c1", n)
        assert await fast.get() == n
    assert slow.lagged and not fast.lagged
    assert slow.drain() == [0, 1, 2], "what fitted is kept; the tab reloads the rest"


async def test_batches_hold_everything_that_arrived_since_the_last_batch() -> None:
    bus: EventBus[int] = EventBus()
    subscription = bus.subscribe("c1")
    for n in range(3):
        bus.publish("c1", n)
    batches = subscription.batches()
    assert await anext(batches) == [0, 1, 2]
    waiting = asyncio.ensure_future(anext(batches))
    await asyncio.sleep(0)
    assert not waiting.done()
    bus.publish("c1", 3)
    assert await asyncio.wait_for(waiting, 5) == [3]


async def test_a_closed_subscription_gets_nothing_more_and_closing_twice_is_harmless() -> None:
    bus: EventBus[int] = EventBus()
    subscription = bus.subscribe("c1")
    subscription.close()
    subscription.close()
    assert bus.publish("c1", 1) == 0
    assert subscription.drain() == []
    assert bus.subscriber_count("c1") == 0
