"""Brute-force protection: failure counters and exponential lockouts in Redis.

Failures are counted per account (the identifier the client typed, whether or not an
account has it, so a lockout answer reveals nothing) and per client address. Past a
threshold each further failure locks for twice as long, up to a cap; a count is
forgotten ``lockout_window`` seconds after its last failure. Identifiers are hashed into
key names, so no email address ever appears in Redis.
"""

from __future__ import annotations

import hashlib
import math

from redis.asyncio import Redis

from meshkit.errors import TooManyRequests
from meshkit.services.auth.settings import AuthSettings

PREFIX = "meshkit:auth:lockout:"
LOCKED = "too many failed logins; try again later"

# KEYS: counter, lock. ARGV: threshold, base ms, max ms, window s.
# Count one failure; past the threshold, (re)lock for base * 2^(n - threshold) ms.
FAIL = """
local n = redis.call('INCR', KEYS[1])
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[4]))
local threshold = tonumber(ARGV[1])
if n >= threshold then
  local ms = math.min(tonumber(ARGV[3]), tonumber(ARGV[2]) * 2 ^ (n - threshold))
  redis.call('SET', KEYS[2], n, 'PX', math.floor(ms))
end
return n
"""


def _key(kind: str, identifier: str) -> str:
    digest = hashlib.sha256(identifier.encode()).hexdigest()[:32]
    return f"{PREFIX}{kind}:{digest}"


class LoginThrottle:
    """Checks and records login failures for accounts and client addresses."""

    def __init__(self, redis: Redis, settings: AuthSettings) -> None:
        self.redis = redis
        self.settings = settings
        self._fail = redis.register_script(FAIL)

    async def check(self, account: str | None, ip: str | None) -> None:
        """Raise 429 with ``Retry-After`` while the account or the address is locked."""
        waits = []
        for kind, identifier in (("account", account), ("ip", ip)):
            if identifier:
                ttl = await self.redis.pttl(_key(kind, identifier) + ":lock")
                if ttl > 0:
                    waits.append(ttl)
        if waits:
            seconds = max(1, math.ceil(max(waits) / 1000))
            raise TooManyRequests(
                LOCKED, extensions={"retry_after": seconds}, headers={"Retry-After": str(seconds)}
            )

    async def failure(self, account: str | None, ip: str | None) -> None:
        """Count one failed login."""
        config = self.settings
        window = str(config.lockout_window)
        base, cap = str(config.lockout_base * 1000), str(config.lockout_max * 1000)
        if account:
            key = _key("account", account)
            await self._fail(
                keys=[key, key + ":lock"], args=[config.lockout_threshold, base, cap, window]
            )
        if ip:
            key = _key("ip", ip)
            await self._fail(
                keys=[key, key + ":lock"], args=[config.lockout_ip_threshold, base, cap, window]
            )

    async def success(self, account: str) -> None:
        """A correct login: the account's count and lock are cleared (the address's stay)."""
        key = _key("account", account)
        await self.redis.delete(key, key + ":lock")
