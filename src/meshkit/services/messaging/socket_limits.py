"""How much one user (or address) may do over messaging's Socket.IO: emit rate limits
and caps on concurrent connections, both kept in Redis so every messaging instance
counts alike.

*Emits.* An emit that writes spends from the same GCRA bucket as the REST call it
stands for (:data:`EQUIVALENT` names it as ``METHOD path``): the framework's
:mod:`meshkit.ratelimit`, with the policies and route classes of
``MESHKIT_GATEWAY_RATE_LIMITS`` / ``MESHKIT_GATEWAY_RATE_LIMIT_ROUTES`` and the
gateway's key (``user:<id>``). So a user's posts through the gateway and their
``message.send`` emits share one budget. A refusal is the gateway's 429
``rate-limited`` problem, with ``retry_after`` seconds. When Redis cannot be asked,
``MESHKIT_GATEWAY_RATE_LIMIT_FAIL_OPEN`` decides, as at the gateway.

*Connections.* The framework's :mod:`meshkit.sockets.caps` (per user and per client
address, across instances), counted under :data:`CONNECTIONS` with the caps of
``MESHKIT_MESSAGING_MAX_CONNECTIONS_PER_USER`` / ``..._PER_IP``.
"""

from __future__ import annotations

from meshkit.ratelimit import RateLimiter, RateLimitRules, user_key
from meshkit.sockets.caps import connections_key as sockets_connections_key

CONNECTIONS = "meshkit:messaging:connections:"
"""Prefix of messaging's connection-count sets (what instances of every release share)."""
EQUIVALENT = {
    "message.send": ("POST", "/v1/channels/{channel_id}/messages"),
    "typing": ("POST", "/v1/channels/{channel_id}/typing"),
}
"""The REST request each limited emit is counted as (``typing`` has no REST twin; a
route class may still name its path)."""


def connections_key(kind: str, value: str) -> str:
    """The sorted set of messaging's ``kind`` (``user``, ``address``) ``value``'s
    connections."""
    return sockets_connections_key(CONNECTIONS, kind, value)


class EmitLimits:
    """Spends from the user's REST budget for emits that write (module docstring)."""

    def __init__(self, limiter: RateLimiter | None, rules: RateLimitRules) -> None:
        self.limiter = limiter
        self.rules = rules

    async def charge(self, event: str, user_id: str, **params: str) -> None:
        """Take one unit for ``event`` by ``user_id`` from the policy its REST twin
        (``params`` fill the path) spends from; raise the 429 (or 503) that refuses it."""
        method, template = EQUIVALENT[event]
        policy = self.rules.policy_for(method, template.format(**params))
        if self.limiter is None or policy is None:
            return
        decision = await self.limiter.check(policy, user_key(user_id))
        decision.raise_if_limited()
