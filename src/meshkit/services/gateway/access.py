"""Who may pass the gateway, and how often: access-token checks and rate limits.

Tokens are verified locally with the framework's :class:`~meshkit.tokens.TokenVerifier`
(JWKS cached from auth, denylist in Redis): no call to auth on the hot path. A route
listed in ``MESHKIT_GATEWAY_PUBLIC_ROUTES`` needs no token (and a bad one is left for
the upstream to judge); any other routed request needs a valid, unrevoked one.

The verified request is forwarded with its original ``Authorization`` header, and the
upstream verifies the token again. That costs one signature check per hop but means no
new trust boundary: an upstream reached without the gateway (inside the network, or by
another service) is exactly as protected, and no header can smuggle an identity in.

When Redis cannot be read, the denylist cannot be checked.
``MESHKIT_GATEWAY_REVOCATION_FAIL_OPEN`` decides: ``false`` (the default) refuses the
token with 503 ``revocation-unavailable`` (a revoked token is never let through);
``true`` accepts a token whose signature and claims check out. Either way the verifier
logs it (at most one line per interval) and ``meshkit_gateway_revocation_unavailable_total``
counts it. Public routes pass either way.

Rate limits are counted per user when a valid token came, else per client address;
every request first spends from its route class's policy (``MESHKIT_GATEWAY_RATE_LIMIT_ROUTES``,
``default`` otherwise). Requests over the limit get 429 before any token error, so a
flood of bad tokens is throttled too.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from aiohttp import web
from prometheus_client import CollectorRegistry, Counter

from meshkit.errors import Problem
from meshkit.http.patterns import RoutePattern
from meshkit.services.gateway.ratelimit import RateLimiter, RateLimitPolicy
from meshkit.tokens import (
    KeysUnavailable,
    Principal,
    RevocationUnavailable,
    TokenInvalid,
    TokenMissing,
    TokenVerifier,
    bearer_token,
)

DEFAULT_POLICY = "default"


@dataclass
class AccessControl:
    """Admits or refuses one request; returns the rate-limit headers to send back."""

    verifier: TokenVerifier
    public: list[RoutePattern]
    classes: list[tuple[RoutePattern, str]]
    policies: Mapping[str, RateLimitPolicy]
    limiter: RateLimiter | None
    revocation_fail_open: bool = False
    """Accept a valid token when the denylist cannot be read (see the module docs)."""
    registry: CollectorRegistry | None = None
    """Where the revocation-unavailable counter goes (a private registry when None)."""
    _unavailable: Counter = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._unavailable = Counter(
            "meshkit_gateway_revocation_unavailable_total",
            "Token checks that could not read the denylist (Redis unavailable), by mode.",
            ["mode"],
            registry=self.registry if self.registry is not None else CollectorRegistry(),
        )

    def is_public(self, method: str, path: str) -> bool:
        """Whether ``method path`` needs no token."""
        return any(p.matches(method, path) for p in self.public)

    def policy_for(self, method: str, path: str) -> RateLimitPolicy | None:
        """The policy a request spends from (``None``: rate limiting is off)."""
        for pattern, name in self.classes:
            if pattern.matches(method, path):
                return self.policies.get(name)
        return self.policies.get(DEFAULT_POLICY)

    async def admit(self, request: web.Request, client: str) -> dict[str, str]:
        """Check the token and the rate limit; raise the problem that refuses the request.

        The denylist lookup rides on the rate limiter's Redis round trip; when the
        limiter could not ask Redis, the verifier asks it directly.
        """
        method, path = request.method, request.path
        public = self.is_public(method, path)
        principal: Principal | None = None
        refusal: Problem | None = None
        authorization = request.headers.get("Authorization")
        if authorization is None and not public:
            refusal = TokenMissing("this route needs an access token (Authorization: Bearer …)")
        elif authorization is not None:
            try:
                principal = await self.verifier.authenticate(bearer_token(authorization))
            except (TokenMissing, TokenInvalid, KeysUnavailable) as exc:
                if not public:  # 401, or 503 when the token could not be judged
                    refusal = exc
        headers: dict[str, str] = {}
        policy = self.policy_for(method, path)
        revocation_checked = False
        if self.limiter is not None and policy is not None:
            key = f"user:{principal.subject}" if principal else f"ip:{client}"
            flags = self._flags(principal)
            decision = await self.limiter.check(policy, key, flags=flags)
            headers = decision.headers()
            decision.raise_if_limited()
            if flags and not decision.degraded:
                revocation_checked = True
                if decision.flagged:
                    principal = None
                    if not public:
                        refusal = TokenInvalid("token revoked")
        if principal is not None and not revocation_checked:
            try:
                await self.verifier.check_not_revoked(principal)
            except TokenInvalid as exc:
                if not public:
                    refusal = exc
            except RevocationUnavailable as exc:
                self._unavailable.labels("open" if self.revocation_fail_open else "closed").inc()
                if not public and not self.revocation_fail_open:
                    refusal = exc
        if refusal is not None:
            refusal.headers.update(headers)
            raise refusal
        return headers

    def _flags(self, principal: Principal | None) -> list[str]:
        if principal is None or self.verifier.redis is None:
            return []
        return self.verifier.revocation_keys(principal)
