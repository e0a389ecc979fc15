"""Events/s through meshkit's bus vs plain redis-py doing the same stream work.

Both sides publish N events one XADD at a time (MAXLEN ~, same fields) while a consumer
in the same event loop reads them with XREADGROUP (COUNT 16, the consumer's batch) and
acknowledges each one; the clock runs from the first publish to the last ack. The client
process is pinned to one core (where the OS allows it); redis-server runs beside it.
meshkit adds per event: pydantic encode/decode, the dedupe check (EXISTS, pipelined per
batch) and a MULTI/SET/XACK/EXEC instead of a bare XACK, plus metrics and logging hooks.

    python bench/events.py [--events 5000] [--rounds 3]

Uses MESHKIT_REDIS_URL when set (only the bench's own keys are touched), otherwise a
private embedded redis-server in a temporary directory, as the tests do.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path

from prometheus_client import CollectorRegistry
from redis.asyncio import Redis

from meshkit.events import Consumer, Envelope, Event, EventBus, stream_key
from meshkit.events.consumer import BATCH
from meshkit.redis import EmbeddedRedis
from meshkit.testing import make_settings

RAW_STREAM = "bench:events:raw"


class Measured(Event):
    topic = "bench.events"
    type = "meshkit.bench.measured.v1"

    user_id: str
    name: str
    n: int


@contextlib.asynccontextmanager
async def redis_url(data_dir: Path) -> AsyncIterator[str]:
    external = os.environ.get("MESHKIT_REDIS_URL")
    if external:
        yield external
        return
    async with EmbeddedRedis(data_dir) as server:
        yield server.url


async def cleanup(redis: Redis, group: str) -> None:
    await redis.delete(RAW_STREAM, stream_key(Measured.topic))
    async for key in redis.scan_iter(match=f"meshkit:events:done:{group}:*", count=1000):
        await redis.unlink(key)


async def raw_round(redis: Redis, fields: dict[bytes, bytes], events: int, maxlen: int) -> float:
    """Plain redis-py: XADD each event; XREADGROUP COUNT 16, XACK each entry."""
    await redis.xgroup_create(RAW_STREAM, "g", id="0", mkstream=True)

    async def publish() -> None:
        for _ in range(events):
            await redis.xadd(RAW_STREAM, fields, maxlen=maxlen, approximate=True)  # type: ignore[arg-type]

    async def consume() -> None:
        acked = 0
        while acked < events:
            reply = await redis.xreadgroup("g", "c", {RAW_STREAM: ">"}, count=BATCH, block=1000)
            for _, entries in reply:
                for entry_id, _fields in entries:
                    await redis.xack(RAW_STREAM, "g", entry_id)
                    acked += 1

    started = time.perf_counter()
    await asyncio.gather(publish(), consume())
    return events / (time.perf_counter() - started)


async def meshkit_round(bus: EventBus, group: str, events: int) -> float:
    """meshkit: EventBus.publish each event; a Consumer handles and acknowledges each."""
    done = asyncio.Event()
    handled = 0

    async def handle(event: Measured, envelope: Envelope) -> None:
        nonlocal handled
        handled += 1
        if handled == events:
            done.set()

    async with Consumer(bus, group=group, handlers={Measured: handle}):
        started = time.perf_counter()
        for n in range(events):
            await bus.publish(Measured(user_id="01HZX3K8W6R8V2T1N4J5Q7S9AB", name="ada", n=n))
        await done.wait()
        return events / (time.perf_counter() - started)


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        async with redis_url(Path(tmp)) as url:
            if hasattr(os, "sched_setaffinity"):  # after redis-server started: it is not pinned
                os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
            settings = make_settings(Path(tmp), MESHKIT_REDIS_URL=url)
            redis = Redis.from_url(url)
            bus = EventBus(redis, source="bench", settings=settings, registry=CollectorRegistry())
            sample = Measured(user_id="01HZX3K8W6R8V2T1N4J5Q7S9AB", name="ada", n=0)
            fields = Envelope.wrap(sample, source="bench").to_fields()
            try:
                raw_rates, meshkit_rates = [], []
                for index in range(args.rounds):  # alternate, so drift hits both alike
                    group = f"bench-{index}"
                    await cleanup(redis, group)
                    raw_rates.append(
                        await raw_round(redis, fields, args.events, settings.events_maxlen)
                    )
                    meshkit_rates.append(await meshkit_round(bus, group, args.events))
                    await cleanup(redis, group)
            finally:
                await redis.aclose()
    best_raw, best_meshkit = max(raw_rates), max(meshkit_rates)
    print(
        f"publish + consume + ack, {args.events} events per round, best of {args.rounds}, "
        f"client on one core, XREADGROUP COUNT {BATCH}"
    )
    print(f"{'raw redis-py events/s':>24} {'meshkit events/s':>17} {'ratio':>6}")
    print(
        f"{best_raw:>24.0f} {best_meshkit:>17.0f} {best_meshkit / best_raw:>6.2f}"
        f"   (medians {statistics.median(raw_rates):.0f} / {statistics.median(meshkit_rates):.0f})"
    )


if __name__ == "__main__":
    asyncio.run(main())
