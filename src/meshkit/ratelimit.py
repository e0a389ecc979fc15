"""Per-client rate limits: GCRA in one Redis Lua script, shared by every process.

The gateway spends from these buckets for each HTTP request, and the messaging service
for each Socket.IO emit that writes: both use this module, the same Redis keys and the
same policies (:class:`RateLimitSettings`, read from the ``MESHKIT_GATEWAY_RATE_LIMIT*``
variables), so a user's REST posts and Socket.IO sends draw from one budget.
:class:`RateLimitRules` says which policy a request (``METHOD path``) spends from.

*Algorithm.* GCRA (the generic cell rate algorithm, a leaky bucket that stores one
number): a policy of ``limit`` requests per ``window`` seconds emits one unit every
``window / limit`` seconds, and a client may be up to ``burst`` units (default:
``limit``) ahead. Per key Redis holds only the *theoretical arrival time* (TAT): when
the client's bucket is empty again. A request of ``cost`` units is allowed if pushing
the TAT by ``cost`` emission intervals keeps it within ``burst`` intervals of now. Unlike
a fixed window, there is no boundary at which a client can spend two windows' worth at
once, and unlike a sliding log, the state is one short string whatever the limit.

*Atomic and clock-safe.* The read, the decision and the write are one Lua script, so
concurrent requests from many gateway processes never both take the last unit. The
script reads the time with ``TIME`` on the Redis server instead of trusting the caller's
clock, so gateways with skewed clocks still share one consistent limit. The key expires
when the bucket would be full again, so idle clients leave nothing behind. The script is
run with ``EVALSHA`` through redis-py's ``register_script``, which loads it again when
Redis answers ``NOSCRIPT`` (after a restart, a failover or ``SCRIPT FLUSH``).

*Headers.* :meth:`Decision.headers` renders ``RateLimit-Policy`` and ``RateLimit`` as in
draft-ietf-httpapi-ratelimit-headers-11 (Structured Field Lists of Items whose value is
the policy name as an sf-string)::

    RateLimit-Policy: "default";q=600;w=60
    RateLimit: "default";r=599;t=1

``t`` is the whole seconds until the bucket is full again; on a refusal it is the
seconds until the request could pass, equal to ``Retry-After``, so ``Retry-After`` never
points before the end of the effective window (draft §6).

*Failure.* A Redis that is down, erroring or slower than ``timeout`` must neither hang
nor crash the caller: with ``fail_open`` the request is let through (a
:class:`Decision` with ``degraded=True`` and no RateLimit headers), otherwise
:class:`RateLimiterUnavailable` (503) is raised. Both count in
``<metric_prefix>_unavailable_total{mode}`` and log a warning, at most one per
``WARN_INTERVAL`` seconds so an outage does not flood the logs.

*Keys.* The client-supplied key (an address, a user id, an API key) appears in Redis
only as a 128-bit BLAKE2b digest: key length is bounded whatever the client sends, and
no address or credential ends up in Redis dumps or ``MONITOR`` output.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import math
import re
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from prometheus_client import CollectorRegistry, Counter
from pydantic import Field
from pydantic_settings import SettingsConfigDict
from redis.asyncio import Redis
from redis.exceptions import RedisError

from meshkit.config import ConfigError, PluginSettings
from meshkit.errors import ServiceUnavailable, TooManyRequests
from meshkit.http.patterns import RoutePattern, parse_classes
from meshkit.observability import ThrottledLog

__all__ = [
    "DEFAULT_POLICY",
    "DEFAULT_RATE_LIMITS",
    "DEFAULT_RATE_LIMIT_ROUTES",
    "DEFAULT_TIMEOUT",
    "PREFIX",
    "WARN_INTERVAL",
    "Decision",
    "RateLimitPolicy",
    "RateLimitRules",
    "RateLimitSettings",
    "RateLimited",
    "RateLimiter",
    "RateLimiterUnavailable",
    "parse_policies",
    "user_key",
]

log = logging.getLogger(__name__)

PREFIX = "meshkit:ratelimit:"
METRIC_PREFIX = "meshkit_ratelimit"
DEFAULT_POLICY = "default"
"""The policy of every request that no route class names."""
DEFAULT_RATE_LIMITS = "default=1200/60s,auth=20/60s,reset=5/3600s"
DEFAULT_RATE_LIMIT_ROUTES = ",".join(
    [
        "POST /v1/auth/login=auth",
        "POST /v1/auth/register=auth",
        "POST /v1/auth/refresh=auth",
        "POST /v1/auth/password-reset=reset",
        "POST /v1/auth/password-reset/confirm=reset",
    ]
)
DEFAULT_TIMEOUT = 0.25  # seconds for the one Redis round trip of a check
WARN_INTERVAL = 10.0  # seconds between two "Redis unavailable" warnings of one limiter
MICROS = 1_000_000
POLICY_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,62}")
UNITS = {"": 1, "s": 1, "m": 60, "h": 3600}
POLICY_ITEM = re.compile(
    r"(?P<name>[^=]*)=\s*(?P<limit>\d+)\s*/\s*(?P<window>\d+)(?P<unit>[A-Za-z]*)"
)

# KEYS[1]: the bucket; KEYS[2..]: flag keys whose existence is counted (the token
# denylist, so the gateway needs one round trip per request, not two).
# ARGV: emission interval (µs, integer), burst (units), cost (units).
# Returns {allowed (0|1), remaining units, µs until full again, µs until it could pass,
# how many flag keys exist}.
# Every time is an integer number of microseconds, so doubles compute them exactly.
GCRA = """
local flagged = 0
if #KEYS > 1 then flagged = redis.call('EXISTS', unpack(KEYS, 2)) end
local interval = tonumber(ARGV[1])
local tolerance = interval * tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now) or now
if tat < now then tat = now end
local new_tat = tat + interval * cost
local allow_at = new_tat - tolerance
if allow_at > now then
  local remaining = math.max(0, math.floor((tolerance - (tat - now)) / interval))
  return {0, remaining, tat - now, allow_at - now, flagged}
end
if new_tat > now then
  redis.call('SET', KEYS[1], string.format('%.0f', new_tat),
             'PX', math.ceil((new_tat - now) / 1000))
else
  redis.call('DEL', KEYS[1])
end
local remaining = math.max(0, math.floor((tolerance - (new_tat - now)) / interval))
return {1, remaining, new_tat - now, 0, flagged}
"""


@dataclass(frozen=True)
class RateLimitPolicy:
    """``limit`` requests per ``window`` seconds, allowing bursts of ``burst`` (default
    ``limit``) requests; ``name`` identifies it in headers, metrics and Redis keys.

    ``window`` is whole seconds because the draft's ``w`` parameter is (no sub-second
    precision). Raises :class:`ValueError` for a name that is not a short token or a
    non-positive number.
    """

    name: str
    limit: int
    window: int
    burst: int | None = None

    def __post_init__(self) -> None:
        if not POLICY_NAME.fullmatch(self.name):
            raise ValueError(
                f"policy name {self.name!r} must be 1-63 letters, digits, '_', '.' or '-',"
                " starting with a letter or digit"
            )
        for label, value in (("limit", self.limit), ("window", self.window)):
            if value < 1:
                raise ValueError(f"policy {self.name!r}: {label} must be at least 1, got {value}")
        if self.burst is not None and self.burst < 1:
            raise ValueError(f"policy {self.name!r}: burst must be at least 1, got {self.burst}")

    @property
    def capacity(self) -> int:
        """Units a full bucket holds: ``burst``, or ``limit`` when no burst is set."""
        return self.limit if self.burst is None else self.burst

    @property
    def interval_us(self) -> int:
        """Microseconds between two units, rounded so Redis computes in exact integers.

        At least 1: a policy above a million requests per second is capped there.
        """
        return max(1, round(self.window * MICROS / self.limit))


def user_key(user_id: str) -> str:
    """The bucket key of an authenticated user (anonymous callers: ``ip:<address>``)."""
    return f"user:{user_id}"


class RateLimitSettings(PluginSettings):
    """The rate-limit policies and route classes, shared by every service that limits.

    The variables keep the gateway's names (it was the first to limit); the messaging
    service reads the same ones, so an emit and the equivalent REST call spend from the
    same policy. The gateway's settings section lists them in the docs' table.
    """

    model_config = SettingsConfigDict(env_prefix="MESHKIT_GATEWAY_", extra="ignore", frozen=True)

    rate_limits: str = Field(
        default=DEFAULT_RATE_LIMITS,
        description="Rate-limit policies, `name=limit/window` comma-separated (window in "
        "`s`, `m` or `h`). `default` applies to every route without a class.",
    )
    rate_limit_routes: str = Field(
        default=DEFAULT_RATE_LIMIT_ROUTES,
        description="Route classes: `METHOD path=policy` comma-separated (same patterns as "
        "public routes).",
    )
    rate_limit_fail_open: bool = Field(
        default=True,
        description="When Redis is unreachable: `true` lets requests through unlimited, "
        "`false` answers 503. Either way it is logged and counted.",
    )


@dataclass(frozen=True)
class RateLimitRules:
    """Which policy a request spends from: the first route class it matches, else
    ``default``; ``None`` when that policy is not defined (no limit)."""

    policies: dict[str, RateLimitPolicy]
    classes: tuple[tuple[RoutePattern, str], ...] = ()

    @classmethod
    def from_settings(cls, settings: RateLimitSettings) -> RateLimitRules:
        """Parse both variables; :class:`ConfigError` names the one that is malformed."""
        return cls(
            parse_policies(settings.rate_limits),
            tuple(
                parse_classes(
                    settings.rate_limit_routes, setting="MESHKIT_GATEWAY_RATE_LIMIT_ROUTES"
                )
            ),
        )

    def policy_for(self, method: str, path: str) -> RateLimitPolicy | None:
        """The policy ``method path`` spends from (``None``: not limited)."""
        for pattern, name in self.classes:
            if pattern.matches(method, path):
                return self.policies.get(name)
        return self.policies.get(DEFAULT_POLICY)


def parse_policies(
    text: str, *, setting: str = "MESHKIT_GATEWAY_RATE_LIMITS"
) -> dict[str, RateLimitPolicy]:
    """Parse ``default=600/60s,auth=10/60s,reset=5/1h`` into policies by name.

    Each item is ``name=limit/window`` where the window is a whole number with an
    optional ``s`` (default), ``m`` or ``h`` suffix. Blank text means no policies.
    Raises :class:`~meshkit.config.ConfigError` naming ``setting`` (the environment
    variable the text came from) and the offending item, so a typo fails at start, not at the
    first request.
    """
    policies: dict[str, RateLimitPolicy] = {}
    if not text.strip():
        return policies
    for raw in text.split(","):
        item = raw.strip()
        if not item:
            raise ConfigError(f"{setting}: empty item in {text!r} (stray comma?)")
        match = POLICY_ITEM.fullmatch(item)
        if match is None:
            raise ConfigError(
                f"{setting}: cannot parse {item!r}; expected name=limit/window"
                " such as default=600/60s (window suffix s, m or h)"
            )
        name, unit = match["name"].strip(), match["unit"]
        if unit not in UNITS:
            raise ConfigError(f"{setting}: {item!r} has unknown window unit {unit!r} (s, m or h)")
        if name in policies:
            raise ConfigError(f"{setting}: policy {name!r} is defined twice")
        try:
            policy = RateLimitPolicy(name, int(match["limit"]), int(match["window"]) * UNITS[unit])
        except ValueError as exc:
            raise ConfigError(f"{setting}: {exc}") from None
        policies[name] = policy
    return policies


def _sf_string(value: str) -> str:
    """``value`` as a Structured Field String (RFC 9651 §3.3.3): quoted, ``\\`` and ``"``
    escaped. Policy names are tokens already; escaping keeps the header valid anyway."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


@dataclass(frozen=True)
class Decision:
    """The verdict of one check, with what the client is told about it.

    ``remaining``: whole units available after this request. ``reset_after``: seconds
    until the bucket is full again. ``retry_after``: seconds until a refused request of
    the same cost could pass (0 when allowed). ``degraded``: Redis was unavailable and
    the request was let through without being counted (fail-open); such a decision
    carries no headers, because the server knows nothing true to advertise.
    """

    policy: RateLimitPolicy
    allowed: bool
    remaining: int
    reset_after: float
    retry_after: float = 0.0
    degraded: bool = False
    flagged: int = 0
    """How many of the ``flags`` keys passed to :meth:`RateLimiter.check` exist."""

    @property
    def limit(self) -> int:
        """The policy's quota per window (the draft's ``q``)."""
        return self.policy.limit

    @property
    def retry_after_seconds(self) -> int:
        """``Retry-After`` in whole seconds: rounded up, at least 1."""
        return max(1, math.ceil(self.retry_after))

    def raise_if_limited(self) -> None:
        """Raise :class:`RateLimited` (429 with the headers) if the request was refused."""
        if not self.allowed:
            raise RateLimited(self)

    def headers(self) -> dict[str, str]:
        """``RateLimit-Policy`` and ``RateLimit`` (draft-ietf-httpapi-ratelimit-headers-11),
        plus ``Retry-After`` when refused; empty for a degraded decision.

        ``t`` is rounded up to whole seconds; on a refusal it equals ``Retry-After``.
        """
        if self.degraded:
            return {}
        name = _sf_string(self.policy.name)
        effective = self.retry_after_seconds if not self.allowed else math.ceil(self.reset_after)
        headers = {
            "RateLimit-Policy": f"{name};q={self.policy.limit};w={self.policy.window}",
            "RateLimit": f"{name};r={self.remaining};t={effective}",
        }
        if not self.allowed:
            headers["Retry-After"] = str(self.retry_after_seconds)
        return headers


class RateLimited(TooManyRequests):
    """A rate limit policy refused the request; ``Retry-After`` and the RateLimit headers
    say when to come back. Still a :class:`~meshkit.errors.TooManyRequests`, so handlers
    of any 429 catch it; its own ``type`` lets clients tell it from a login lockout."""

    slug = "rate-limited"
    title = "Rate limit exceeded"

    def __init__(self, decision: Decision) -> None:
        seconds = decision.retry_after_seconds
        super().__init__(
            f"rate limit {decision.policy.name!r} exceeded; retry in {seconds} s",
            extensions={"policy": decision.policy.name, "retry_after": seconds},
            headers=decision.headers(),
        )
        self.decision = decision


class RateLimiterUnavailable(ServiceUnavailable):
    """Redis could not be asked and the limiter fails closed: nothing is let through."""

    slug = "rate-limiter-unavailable"
    title = "Rate limiter unavailable"


class _Metrics:
    """The limiter's collectors, created once per registry and name prefix so limiters
    can share them."""

    _by_registry: ClassVar[weakref.WeakKeyDictionary[CollectorRegistry, dict[str, _Metrics]]] = (
        weakref.WeakKeyDictionary()
    )

    def __init__(self, registry: CollectorRegistry, prefix: str) -> None:
        self.decisions = Counter(
            f"{prefix}_decisions",
            "Rate limit checks answered by Redis, by policy and outcome (allowed, limited).",
            ["policy", "outcome"],
            registry=registry,
        )
        self.unavailable = Counter(
            f"{prefix}_unavailable",
            "Checks Redis could not answer, by mode: open (let through) or closed (503).",
            ["mode"],
            registry=registry,
        )

    @classmethod
    def of(cls, registry: CollectorRegistry, prefix: str) -> _Metrics:
        known = cls._by_registry.setdefault(registry, {})
        found = known.get(prefix)
        if found is None:
            found = known[prefix] = cls(registry, prefix)
        return found


@dataclass
class RateLimiter:
    """Checks requests against :class:`RateLimitPolicy` buckets kept in Redis.

    Any number of limiters (in one process or many, in any service) that use the same
    Redis and ``prefix`` share their buckets. ``timeout`` bounds the Redis round trip of a
    check; ``registry`` receives the metrics (a private one when ``None``), named
    ``<metric_prefix>_decisions_total`` and ``<metric_prefix>_unavailable_total``;
    warnings go to ``logger`` (this module's by default).
    """

    def __init__(
        self,
        redis: Redis,
        *,
        fail_open: bool,
        prefix: str = PREFIX,
        registry: CollectorRegistry | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        warn_interval: float = WARN_INTERVAL,
        metric_prefix: str = METRIC_PREFIX,
        logger: logging.Logger | None = None,
    ) -> None:
        self.redis = redis
        self.fail_open = fail_open
        self.prefix = prefix
        self.timeout = timeout
        self.registry = registry if registry is not None else CollectorRegistry()
        self._metrics = _Metrics.of(self.registry, metric_prefix)
        self._script = redis.register_script(GCRA)
        self._warnings = ThrottledLog(logger or log, warn_interval)

    def redis_key(self, policy: RateLimitPolicy, key: str) -> str:
        """The Redis key of ``key``'s bucket under ``policy``: bounded length, no raw value."""
        digest = hashlib.blake2b(key.encode("utf-8", "surrogatepass"), digest_size=16)
        return f"{self.prefix}{policy.name}:{digest.hexdigest()}"

    async def check(
        self, policy: RateLimitPolicy, key: str, cost: int = 1, *, flags: Sequence[str] = ()
    ) -> Decision:
        """Take ``cost`` units from ``key``'s bucket under ``policy`` if it has them.

        In the same round trip, count how many of the Redis keys ``flags`` exist
        (:attr:`Decision.flagged`; the gateway passes a token's denylist keys). A
        degraded decision says nothing about them.

        A refused request takes nothing. ``cost`` 0 only reads the bucket. Returns the
        :class:`Decision` (raise :class:`RateLimited` with it to refuse the request).
        When Redis fails or exceeds ``timeout``: a degraded allowed decision if
        ``fail_open``, else :class:`RateLimiterUnavailable`. Raises :class:`ValueError`
        for a cost that is negative or larger than the bucket (it could never pass).
        """
        if not 0 <= cost <= policy.capacity:
            raise ValueError(f"cost must be between 0 and {policy.capacity}, got {cost}")
        try:
            async with asyncio.timeout(self.timeout):  # no extra task, unlike wait_for
                reply = await self._script(
                    keys=[self.redis_key(policy, key), *flags],
                    args=[policy.interval_us, policy.capacity, cost],
                )
            allowed, remaining, full_us, retry_us, flagged = (int(value) for value in reply)
        except (RedisError, OSError, TimeoutError) as exc:
            return self._unavailable(policy, exc)
        outcome = "allowed" if allowed else "limited"
        self._metrics.decisions.labels(policy.name, outcome).inc()
        return Decision(
            policy=policy,
            allowed=bool(allowed),
            remaining=remaining,
            reset_after=full_us / MICROS,
            retry_after=retry_us / MICROS,
            flagged=flagged,
        )

    def _unavailable(self, policy: RateLimitPolicy, exc: BaseException) -> Decision:
        """Count and (rate-limited) log a failed check, then fail open or closed."""
        mode = "open" if self.fail_open else "closed"
        self._metrics.unavailable.labels(mode).inc()
        self._warnings.log(
            logging.WARNING,
            "rate limiter cannot use Redis (%s: %s); failing %s",
            type(exc).__name__,
            str(exc) or type(exc).__name__,
            mode,
        )
        if self.fail_open:
            return Decision(
                policy=policy,
                allowed=True,
                remaining=policy.capacity,
                reset_after=0.0,
                degraded=True,
            )
        raise RateLimiterUnavailable(
            "rate limiting is unavailable, so the request was not accepted; try again later"
        ) from exc
