"""A consumer in a process of its own, for tests/test_events.py to SIGKILL mid-handler.

    python -m tests.event_worker <redis url> <data dir> <group> <hang at> <claim idle>

It handles :class:`Job` events by pushing their ids onto the :data:`COMPLETED` list, and
on its ``<hang at>``-th event prints ``hanging <event id>`` and never finishes, so the
test knows exactly which event the process dies holding.
"""

from __future__ import annotations

import asyncio
import sys

from redis.asyncio import Redis

from meshkit.config import Settings
from meshkit.events import Consumer, Envelope, Event, EventBus

COMPLETED = "test:jobs:completed"


class Job(Event):
    topic = "test.jobs"
    type = "meshkit.test.job.v1"

    n: int


async def main(url: str, data_dir: str, group: str, hang_at: int, claim_idle: str) -> None:
    settings = Settings.from_env(
        {
            "MESHKIT_DATA_DIR": data_dir,
            "MESHKIT_REDIS_URL": url,
            "MESHKIT_EVENTS_CLAIM_IDLE": claim_idle,
        }
    )
    redis = Redis.from_url(url)
    bus = EventBus(redis, source="worker", settings=settings)
    handled = 0

    async def handle(job: Job, envelope: Envelope) -> None:
        nonlocal handled
        handled += 1
        if handled == hang_at:
            print(f"hanging {envelope.id}", flush=True)
            await asyncio.Event().wait()
        await redis.rpush(COMPLETED, envelope.id)

    async with Consumer(bus, group=group, handlers={Job: handle}, name="worker"):
        print("ready", flush=True)
        await asyncio.Event().wait()


if __name__ == "__main__":
    url, data_dir, group, hang_at, claim_idle = sys.argv[1:]
    asyncio.run(main(url, data_dir, group, int(hang_at), claim_idle))
