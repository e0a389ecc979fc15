"""The gateway's rate limiter: the framework's (:mod:`meshkit.ratelimit`) under the
gateway's metric names and logger.

The GCRA, its Redis keys and the policies live in the framework because the messaging
service spends from the same buckets for Socket.IO emits (services never import each
other). This module keeps the names the gateway has always exported.
"""

from __future__ import annotations

import logging

from prometheus_client import CollectorRegistry
from redis.asyncio import Redis

from meshkit import ratelimit
from meshkit.ratelimit import (
    DEFAULT_TIMEOUT,
    PREFIX,
    WARN_INTERVAL,
    Decision,
    RateLimited,
    RateLimiterUnavailable,
    RateLimitPolicy,
    parse_policies,
)

__all__ = [
    "DEFAULT_TIMEOUT",
    "PREFIX",
    "WARN_INTERVAL",
    "Decision",
    "RateLimitPolicy",
    "RateLimited",
    "RateLimiter",
    "RateLimiterUnavailable",
    "parse_policies",
]

log = logging.getLogger(__name__)
METRIC_PREFIX = "meshkit_gateway_ratelimit"


class RateLimiter(ratelimit.RateLimiter):
    """:class:`meshkit.ratelimit.RateLimiter` counting in
    ``meshkit_gateway_ratelimit_*`` and warning on this module's logger."""

    def __init__(
        self,
        redis: Redis,
        *,
        fail_open: bool,
        prefix: str = PREFIX,
        registry: CollectorRegistry | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        warn_interval: float = WARN_INTERVAL,
    ) -> None:
        super().__init__(
            redis,
            fail_open=fail_open,
            prefix=prefix,
            registry=registry,
            timeout=timeout,
            warn_interval=warn_interval,
            metric_prefix=METRIC_PREFIX,
            logger=log,
        )
