"""One lock per configuration across every instance of the service, so that two pushes
(or rollbacks) of one configuration never write its targets at the same time.

Contract of :meth:`PushLocks.hold`:

- It takes the lock at once or raises :class:`~meshkit.services.servers.errors.ConfigBusy`
  (409 ``config-busy``): a second push while one runs is refused, not queued, since a
  push to a deployment waits for a whole rolling update and no client should hang on
  that. The caller retries.
- The lock is the Redis key ``<prefix><config id>`` set with ``SET key token NX PX ttl``
  (the token is random, one per hold). While held it is renewed every third of ``ttl``,
  only while it still holds this token; if the instance dies, the key expires after
  ``ttl`` and the configuration can be pushed again.
- At the end it is released by its owner only (a compare-and-delete script): a lock
  that expired meanwhile and was taken by another push is left alone.
- A lock lost while held (it expired: Redis was unreachable longer than ``ttl``) is
  logged; the push goes on, since stopping it halfway would leave its targets split
  between two versions.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import AsyncIterator

from redis.asyncio import Redis

from meshkit.services.servers.errors import ConfigBusy

log = logging.getLogger("meshkit.servers.configs")

PREFIX = "meshkit:servers:configs:push-lock:"
TTL = 30.0
"""Seconds a lock outlives an instance that died holding it."""

RENEW = """
if redis.call('get', KEYS[1]) == ARGV[1] then
    return redis.call('pexpire', KEYS[1], ARGV[2])
end
return 0
"""
RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then
    return redis.call('del', KEYS[1])
end
return 0
"""


class PushLocks:
    """The push locks of configurations, in one Redis shared by every instance."""

    def __init__(self, redis: Redis, *, ttl: float = TTL, prefix: str = PREFIX) -> None:
        self.redis = redis
        self.ttl = ttl
        self.prefix = prefix

    @contextlib.asynccontextmanager
    async def hold(self, config_id: str) -> AsyncIterator[None]:
        """Hold the lock of ``config_id`` for the block (see the module's contract)."""
        key, token = self.prefix + config_id, secrets.token_hex(16)
        ttl_ms = max(1, int(self.ttl * 1000))
        if not await self.redis.set(key, token, nx=True, px=ttl_ms):
            raise ConfigBusy(
                "another push of this configuration is under way; try again when it has ended",
                extensions={"config_id": config_id},
            )
        renewing = asyncio.create_task(self._renew(key, token, ttl_ms))
        try:
            yield
        finally:
            # the renewer stops; a renewal racing the release finds no key (it compares
            # tokens), and a cancellation of this task still releases (shielded) and goes on
            renewing.cancel()
            try:
                await asyncio.shield(self.redis.eval(RELEASE, 1, key, token))
            except Exception as exc:  # it expires by itself after ttl
                log.warning("could not release the push lock of %s: %r", config_id, exc)

    async def _renew(self, key: str, token: str, ttl_ms: int) -> None:
        while True:
            await asyncio.sleep(self.ttl / 3)
            try:
                kept = await self.redis.eval(RENEW, 1, key, token, ttl_ms)
            except Exception as exc:  # Redis away for a moment: try again next time
                log.warning("could not renew the push lock %s: %r", key, exc)
                continue
            if not kept:
                log.error("the push lock %s expired while held; the push goes on", key)
                return
