"""Work on a schedule, done once per period across every instance of the service.

Monitoring samples and health checks run in the background of each servers instance;
with several instances each slot must still be done once. :func:`claim` decides that in
Redis (``SET NX`` on the slot's key, expiring with the slot), so whichever instance asks
first does it and an instance that dies simply stops claiming. :class:`Periodic` is the
loop that asks: it survives its own errors (logged) and stops cleanly.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import Awaitable, Callable

from redis.asyncio import Redis

log = logging.getLogger("meshkit.servers")

PREFIX = "meshkit:servers:slot:"


async def claim(redis: Redis, key: str, interval: float, *, now: float | None = None) -> bool:
    """Whether this caller does ``key``'s work for the current slot of ``interval`` seconds.

    Slots are aligned to the epoch, so instances agree on them without talking; the first
    caller in a slot gets ``True``, every other one ``False`` until the next slot.
    """
    moment = time.time() if now is None else now
    slot = math.floor(moment / interval)
    ttl_ms = max(1, math.ceil(interval * 1000))
    won = await redis.set(f"{PREFIX}{key}:{slot}", b"1", nx=True, px=ttl_ms)
    return bool(won)


class Periodic:
    """Call ``tick`` every ``every`` seconds in a background task until :meth:`stop`.

    A tick that raises is logged and the loop goes on; a tick that takes longer than
    ``every`` delays the next one (ticks never overlap).
    """

    def __init__(self, name: str, every: float, tick: Callable[[], Awaitable[None]]) -> None:
        self.name, self.every, self.tick = name, every, tick
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start the loop (the first tick runs at once)."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=f"servers:{self.name}")

    async def stop(self) -> None:
        """Stop the loop, cancelling a tick in progress."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            started = loop.time()
            try:
                await self.tick()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("servers: %s tick failed", self.name)
            await asyncio.sleep(max(0.0, self.every - (loop.time() - started)))
