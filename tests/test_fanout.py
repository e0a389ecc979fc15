"""meshkit.fanout on a real redis-server: what a listener reads, and when it says "gap"."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from meshkit.events.tasks import cancel_and_wait
from meshkit.fanout import StreamFanout

STREAM = "test:fanout"


class Listener:
    """A StreamFanout's reading side, driven without a Socket.IO server."""

    def __init__(self, client: Redis) -> None:
        self.gaps: list[str] = []
        self.messages: list[dict[str, Any]] = []
        self.fanout = StreamFanout(lambda: client, STREAM, on_gap=self._on_gap)
        self.task: asyncio.Task[None] | None = None

    async def _on_gap(self, reason: str) -> None:
        self.gaps.append(reason)

    async def _read(self) -> None:
        async for message in self.fanout._listen():
            self.messages.append(message)

    async def start(self) -> None:
        self.task = asyncio.create_task(self._read())
        await eventually(lambda: self.fanout._last_id is not None)  # it has a starting point

    async def stop(self) -> None:
        if self.task is not None:
            assert await cancel_and_wait(self.task, 5.0)


async def eventually(check: Any, within: float = 5.0) -> None:
    for _ in range(int(within / 0.02)):
        if check():
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"not true within {within} s")


@pytest.fixture
async def listener(meshkit_redis: Redis, meshkit_redis_url: str) -> AsyncIterator[Listener]:
    client: Redis = Redis.from_url(meshkit_redis_url)
    found = Listener(client)
    await found.start()
    try:
        yield found
    finally:
        await found.stop()
        await client.aclose()


def emit(number: int) -> dict[str, Any]:
    return {"method": "emit", "event": "n", "data": [number], "namespace": "/", "room": None}


async def test_another_instance_s_emits_arrive_in_order(
    listener: Listener, meshkit_redis: Redis
) -> None:
    writer = StreamFanout(lambda: meshkit_redis, STREAM)
    for number in range(50):
        await writer._publish({**emit(number), "host_id": writer.host_id})
    await eventually(lambda: len(listener.messages) == 50)
    assert [m["data"] for m in listener.messages] == [[n] for n in range(50)]
    assert listener.gaps == []


async def test_an_emit_that_could_not_be_appended_makes_every_instance_resync(
    listener: Listener, meshkit_redis: Redis
) -> None:
    # nothing listens on port 1 of loopback: every append fails at once
    down = Redis(host="127.0.0.1", port=1, retry=Retry(NoBackoff(), 0))
    client = down
    writer = StreamFanout(lambda: client, STREAM)
    await writer._publish({**emit(1), "host_id": writer.host_id})  # lost: Redis "down"
    await asyncio.sleep(0.2)
    assert listener.messages == []
    assert listener.gaps == []
    client = meshkit_redis  # Redis "is back"
    await writer._publish({**emit(2), "host_id": writer.host_id})
    await eventually(lambda: len(listener.messages) == 1)
    assert listener.gaps == ["an instance could not fan out"]
    assert listener.messages[0]["data"] == [2]
    await down.aclose()


async def test_a_reconnecting_listener_that_lost_unread_entries_resyncs(
    listener: Listener, meshkit_redis: Redis
) -> None:
    writer = StreamFanout(lambda: meshkit_redis, STREAM)
    await writer._publish({**emit(1), "host_id": writer.host_id})
    await eventually(lambda: len(listener.messages) == 1)
    # Redis "restarts" empty: the stream is gone and the listener's connection drops
    await meshkit_redis.delete(STREAM)
    await meshkit_redis.client_kill_filter(_type="normal", skipme=True)
    await writer._publish({**emit(2), "host_id": writer.host_id})
    await eventually(lambda: len(listener.messages) == 2)
    assert listener.gaps == ["the fan-out stream lost entries this instance never read"]
    assert listener.messages[1]["data"] == [2]


async def test_a_reconnect_without_loss_reads_on_without_a_resync(
    listener: Listener, meshkit_redis: Redis
) -> None:
    writer = StreamFanout(lambda: meshkit_redis, STREAM)
    await writer._publish({**emit(1), "host_id": writer.host_id})
    await eventually(lambda: len(listener.messages) == 1)
    await meshkit_redis.client_kill_filter(_type="normal", skipme=True)
    for number in (2, 3):  # appended while the listener reconnects
        await writer._publish({**emit(number), "host_id": writer.host_id})
    await eventually(lambda: len(listener.messages) == 3)
    assert [m["data"] for m in listener.messages] == [[1], [2], [3]]
    assert listener.gaps == []
