"""Caps on concurrent Socket.IO connections per user and per client address, kept in
Redis so every instance of a service counts alike.

*Connections.* Each live connection is a member (its sid) of a sorted set per user and
per client address, scored by when it expires (Redis ``TIME``, milliseconds). Admission
drops expired members, counts, and adds, in one Lua script, so instances racing for the
last place never both get it. Each instance refreshes its connections' scores every
third of ``ttl`` (:class:`~meshkit.sockets.SocketServer` does it for the caps it runs);
a crashed instance stops refreshing and its connections stop counting after ``ttl``. A
cap of 0 turns that cap off. Each service counts under its own key ``prefix``: a user's
chat connections do not use up their voice ones.

*Addresses.* The client address is the peer of the Socket.IO request, or the
``X-Forwarded-For`` the gateway set — believed only when the request carries a service
API key this process accepts (the gateway's), as auth does for its lockout: anyone else
could name any address and dodge the cap.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

from meshkit.errors import ServiceUnavailable, TooManyRequests
from meshkit.security import API_KEY_HEADER, KeyRing

log = logging.getLogger("meshkit.sockets")
API_KEY_ENVIRON = "HTTP_" + API_KEY_HEADER.upper().replace("-", "_")
MAX_ADDRESS = 64

# KEYS: the user's set, the address's set. ARGV: member, ttl (ms), user cap, address cap.
# Returns {0} when admitted, else {1 (user) or 2 (address), connections counted}.
ADMIT = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local ttl = tonumber(ARGV[2])
for i = 1, 2 do
  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', now)
  local cap = tonumber(ARGV[2 + i])
  if cap > 0 then
    local count = redis.call('ZCARD', KEYS[i])
    if count >= cap and not redis.call('ZSCORE', KEYS[i], ARGV[1]) then
      return {i, count}
    end
  end
end
for i = 1, 2 do
  redis.call('ZADD', KEYS[i], now + ttl, ARGV[1])
  redis.call('PEXPIRE', KEYS[i], ttl)
end
return {0, 0}
"""

# KEYS: pairs of sets; ARGV: ttl (ms), then one member per pair. Moves each member's
# expiry (only if it is still there) and the sets' own.
REFRESH = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local ttl = tonumber(ARGV[1])
for i = 1, #KEYS do
  local member = ARGV[1 + math.ceil(i / 2)]
  redis.call('ZADD', KEYS[i], 'XX', now + ttl, member)
  redis.call('PEXPIRE', KEYS[i], ttl)
end
return #KEYS
"""


class TooManyConnections(TooManyRequests):
    """A user or an address already holds as many Socket.IO connections as allowed."""

    slug = "too-many-connections"
    title = "Too many connections"


def connections_key(prefix: str, kind: str, value: str) -> str:
    """The sorted set, under ``prefix``, of ``kind`` (``user``, ``address``)
    ``value``'s connections (``value`` digested: keys stay short whatever it is)."""
    digest = hashlib.blake2b(value.encode("utf-8", "surrogatepass"), digest_size=16)
    return f"{prefix}{kind}:{digest.hexdigest()}"


def client_address(environ: dict[str, Any], keyring: KeyRing) -> str:
    """The address a connection counts against (see the module docstring)."""
    forwarded = environ.get("HTTP_X_FORWARDED_FOR", "")
    if forwarded and keyring.identify(environ.get(API_KEY_ENVIRON)) is not None:
        last = forwarded.rsplit(",", 1)[-1].strip()  # what the gateway itself saw
        if last:
            return str(last)[:MAX_ADDRESS]
    request = environ.get("aiohttp.request")
    remote = getattr(request, "remote", None)
    return str(remote)[:MAX_ADDRESS] if remote else "unknown"


@dataclass(frozen=True)
class Connection:
    """Whose a live connection is, as the caps count it."""

    sid: str
    user_id: str
    address: str


class ConnectionCaps:
    """The per-user and per-address caps on concurrent connections (module docstring)."""

    def __init__(
        self,
        redis: Redis,
        *,
        prefix: str,
        per_user: int,
        per_address: int,
        ttl: float,
        fail_open: bool,
    ) -> None:
        self.redis = redis
        self.prefix = prefix
        """Where the sets live (``meshkit:<service>:connections:``): one count per service."""
        self.ttl = ttl
        self.per_user = per_user
        self.per_address = per_address
        self.ttl_ms = max(1000, round(ttl * 1000))
        self.fail_open = fail_open
        self._admit = redis.register_script(ADMIT)
        self._refresh = redis.register_script(REFRESH)

    def key(self, kind: str, value: str) -> str:
        """The sorted set of ``kind`` (``user``, ``address``) ``value``'s connections."""
        return connections_key(self.prefix, kind, value)

    async def admit(self, connection: Connection) -> None:
        """Count ``connection`` in, or raise :class:`TooManyConnections` (429). Redis
        unavailable: let in (fail open, logged) or :class:`ServiceUnavailable`."""
        if not self.per_user and not self.per_address:
            return
        keys = [
            self.key("user", connection.user_id),
            self.key("address", connection.address),
        ]
        args: list[str | int] = [connection.sid, self.ttl_ms, self.per_user, self.per_address]
        try:
            refused, count = (int(v) for v in await self._admit(keys=keys, args=args))
        except (RedisError, OSError) as exc:
            if self.fail_open:
                log.warning("connection caps cannot use Redis (%r); admitting", exc)
                return
            raise ServiceUnavailable("cannot count connections now; retry") from exc
        if refused == 1:
            raise TooManyConnections(
                f"this user already has {count} connections (at most {self.per_user});"
                " close one first",
                extensions={"limit": self.per_user, "scope": "user"},
            )
        if refused == 2:
            raise TooManyConnections(
                f"this address already has {count} connections (at most"
                f" {self.per_address}); close one first",
                extensions={"limit": self.per_address, "scope": "address"},
            )

    async def release(self, connection: Connection) -> None:
        """Count ``connection`` out (best effort: its entries expire anyway)."""
        try:
            async with self.redis.pipeline(transaction=False) as pipe:
                pipe.zrem(self.key("user", connection.user_id), connection.sid)
                pipe.zrem(self.key("address", connection.address), connection.sid)
                await pipe.execute()
        except (RedisError, OSError) as exc:
            log.debug("releasing connection %s: %r", connection.sid, exc)

    async def refresh(self, connections: Iterable[Connection]) -> None:
        """Keep ``connections`` (this instance's live ones) counted for another ttl."""
        keys: list[str] = []
        members: list[str] = []
        for connection in connections:
            keys += [
                self.key("user", connection.user_id),
                self.key("address", connection.address),
            ]
            members.append(connection.sid)
        for start in range(0, len(members), 500):  # bounded script calls
            await self._refresh(
                keys=keys[2 * start : 2 * (start + 500)],
                args=[self.ttl_ms, *members[start : start + 500]],
            )
