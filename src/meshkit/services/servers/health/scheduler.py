"""Running every enabled check once per its interval, across every instance.

Each tick (``MESHKIT_SERVERS_HEALTH_TICK_INTERVAL``) reads the enabled checks and, for each
one, asks :func:`~meshkit.services.servers.schedule.claim` for the current slot of its
interval: the instance that wins runs it, in the background, at most ``concurrency`` at
once on this instance. A check whose previous run is still going here is not started
again. Stopping cancels the runs in progress (their results are not recorded).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from redis.asyncio import Redis

from meshkit.services.servers.health.checks import Checks
from meshkit.services.servers.health.models import CheckDefinition
from meshkit.services.servers.schedule import Periodic, claim

log = logging.getLogger("meshkit.servers")


class HealthScheduler:
    """Runs due checks (module docstring)."""

    def __init__(self, checks: Checks, redis: Redis, *, every: float, concurrency: int) -> None:
        self.checks = checks
        self.redis = redis
        self.slots = asyncio.Semaphore(concurrency)
        self.running: dict[str, asyncio.Task[None]] = {}
        self.loop = Periodic("health", every, self.tick)

    def start(self) -> None:
        """Start ticking."""
        self.loop.start()

    async def stop(self) -> None:
        """Stop ticking and cancel the runs in progress."""
        await self.loop.stop()
        tasks = list(self.running.values())
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self.running.clear()

    async def tick(self) -> None:
        """Start the runs of the checks due now that this instance claims."""
        async for check in self.checks.store.scan(CheckDefinition, {"enabled": True}):
            if check.id in self.running:
                continue
            if await claim(self.redis, f"health:{check.id}", check.interval):
                task = asyncio.create_task(self._run(check), name=f"servers:health:{check.id}")
                self.running[check.id] = task

    async def _run(self, check: CheckDefinition) -> None:
        try:
            async with self.slots:
                await self.checks.run_check(check)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("servers: health check %s failed to run", check.id)
        finally:
            self.running.pop(check.id, None)
