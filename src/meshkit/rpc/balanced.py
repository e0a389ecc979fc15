"""The attempt loop shared by internal gRPC and REST calls.

Each attempt goes to an instance the balancer picks (preferring ones this call has not
tried yet), the attempt itself records the outcome in that instance's breaker, and a
transport-specific *judge* decides what a failure means: the error to raise if this was
the last attempt, and whether another attempt is allowed at all (idempotency is the
judge's business). Backoff never sleeps past the deadline.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import NamedTuple, TypeVar

from meshkit.discovery import Balancer, Instance
from meshkit.observability import RpcMetrics
from meshkit.resilience import CircuitBreaker, Deadline, RetryPolicy

T = TypeVar("T")
log = logging.getLogger("meshkit.rpc.client")


@dataclass(frozen=True)
class CallPolicy:
    """How every call of a client stack behaves (``MESHKIT_RPC_*``, the API key)."""

    retry: RetryPolicy
    timeout: float
    attempt_timeout: float
    api_key: str
    metrics: RpcMetrics | None = None


class BalancedClient:
    """Base of the gRPC and REST channels: one target service, its balancer, a policy."""

    def __init__(self, target: str, balancer: Balancer, policy: CallPolicy) -> None:
        self.target = target
        self.balancer = balancer
        self.policy = policy
        self.retry = policy.retry
        self.timeout = policy.timeout
        self.attempt_timeout = policy.attempt_timeout
        self._api_key = policy.api_key
        self._metrics = policy.metrics


class Verdict(NamedTuple):
    """What a failed attempt means."""

    error: Exception
    """Raised if no further attempt is made."""
    retry: bool
    """Whether a further attempt is allowed."""


async def balanced_call(
    balancer: Balancer,
    policy: RetryPolicy,
    deadline: Deadline,
    attempt: Callable[[Instance, CircuitBreaker], Awaitable[T]],
    judge: Callable[[Exception, Instance], Verdict],
    *,
    label: str,
) -> T:
    """Run ``attempt`` on balanced instances until it succeeds or the judge says stop."""
    tried: set[Instance] = set()
    number = 0
    while True:
        number += 1
        instance, breaker = await balancer.pick(exclude=frozenset(tried))
        tried.add(instance)
        try:
            return await attempt(instance, breaker)
        except Exception as exc:
            verdict = judge(exc, instance)
            failure = exc
        pause = policy.backoff(number)
        if not verdict.retry or number >= policy.max_attempts or pause >= deadline.remaining():
            if verdict.error is failure:
                raise failure
            raise verdict.error from failure
        log.info(
            "retrying %s after attempt %d failed: %s",
            label,
            number,
            verdict.error,
            extra={"call": label, "attempt": number},
        )
        await asyncio.sleep(pause)
