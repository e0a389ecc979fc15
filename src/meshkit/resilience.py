"""Circuit breaker, retry with jittered backoff, deadlines and fallbacks.

These are transport-agnostic: the gRPC client stack (:mod:`meshkit.rpc.channel`) and
the internal HTTP client use them per target instance, and service code may use them
around anything else that can fail (an SSH host, the Docker daemon).

Breaker states: *closed* counts consecutive failures and opens at the threshold;
*open* fails fast with :class:`CircuitOpen` until the cooldown has passed; then
*half-open* lets a bounded number of trial calls through: that many successes close
the circuit, one failure opens it again for another cooldown.
"""

from __future__ import annotations

import asyncio
import enum
import random
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import TypeVar

from meshkit.config import Settings
from meshkit.errors import Problem, ServiceUnavailable

T = TypeVar("T")
Clock = Callable[[], float]


class CircuitState(enum.Enum):
    """Where a breaker stands."""

    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class CircuitOpen(ServiceUnavailable):
    """Every instance of the target has an open circuit: the call failed fast, unsent."""

    slug = "circuit-open"
    title = "Upstream circuit open"


class NoInstances(ServiceUnavailable):
    """Discovery knows no instance of the target service."""

    slug = "no-instances"
    title = "No instance of the upstream service"


class DeadlineExceeded(Problem):
    """The call's deadline passed before an answer came (retries included)."""

    status = 504
    slug = "deadline-exceeded"
    title = "Upstream deadline exceeded"


@dataclass(frozen=True)
class BreakerPolicy:
    """Thresholds of a circuit breaker (``MESHKIT_BREAKER_*``)."""

    failure_threshold: int = 5
    cooldown: float = 10.0
    half_open_calls: int = 1

    @classmethod
    def from_settings(cls, settings: Settings) -> BreakerPolicy:
        """The policy configured for this process."""
        return cls(
            failure_threshold=settings.breaker_failure_threshold,
            cooldown=settings.breaker_cooldown,
            half_open_calls=settings.breaker_half_open_calls,
        )


class CircuitBreaker:
    """One target's breaker. Not thread-safe; one event loop owns it.

    Call :meth:`acquire` before a call (``False`` means fail fast), then exactly one of
    :meth:`record_success`, :meth:`record_failure` or :meth:`release` (the call ended
    without telling anything about the target, e.g. it was cancelled).
    """

    def __init__(self, name: str, policy: BreakerPolicy, *, clock: Clock = time.monotonic) -> None:
        self.name = name
        self.policy = policy
        self._clock = clock
        self._state = CircuitState.CLOSED
        self._failures = 0
        self._opened_at = 0.0
        self._trials = 0
        self._trial_successes = 0
        self.listeners: list[Callable[[CircuitBreaker, CircuitState], None]] = []

    @property
    def state(self) -> CircuitState:
        """The current state (an open circuit turns half-open once its cooldown passed)."""
        if (
            self._state is CircuitState.OPEN
            and self._clock() - self._opened_at >= self.policy.cooldown
        ):
            self._move(CircuitState.HALF_OPEN)
        return self._state

    @property
    def retry_after(self) -> float:
        """Seconds until an open circuit lets a trial call through (0 otherwise)."""
        if self.state is not CircuitState.OPEN:
            return 0.0
        return max(0.0, self.policy.cooldown - (self._clock() - self._opened_at))

    def available(self) -> bool:
        """Whether :meth:`acquire` would succeed now (without taking a trial slot)."""
        state = self.state
        if state is CircuitState.OPEN:
            return False
        return state is CircuitState.CLOSED or self._trials < self.policy.half_open_calls

    def acquire(self) -> bool:
        """Permission for one call; in half-open state this takes a trial slot."""
        if not self.available():
            return False
        if self._state is CircuitState.HALF_OPEN:
            self._trials += 1
        return True

    def record_success(self) -> None:
        """The call succeeded (or failed for a reason that is not the target's health)."""
        if self._state is CircuitState.HALF_OPEN:
            self._trials = max(0, self._trials - 1)
            self._trial_successes += 1
            if self._trial_successes >= self.policy.half_open_calls:
                self._move(CircuitState.CLOSED)
        else:
            self._failures = 0

    def record_failure(self) -> None:
        """The target failed: connection refused, unavailable, timed out, internal error."""
        if self._state is CircuitState.HALF_OPEN:
            self._open()
            return
        self._failures += 1
        if self._state is CircuitState.CLOSED and self._failures >= self.policy.failure_threshold:
            self._open()

    def probe_passed(self) -> None:
        """An out-of-band health check of the target passed: an open circuit stops
        waiting out its cooldown and turns half-open, so trial calls find out now
        (a target back after an outage serves again within one health interval)."""
        if self._state is CircuitState.OPEN:
            self._move(CircuitState.HALF_OPEN)

    def release(self) -> None:
        """The call ended with no verdict on the target; give its trial slot back."""
        if self._state is CircuitState.HALF_OPEN:
            self._trials = max(0, self._trials - 1)

    def _open(self) -> None:
        self._opened_at = self._clock()
        self._move(CircuitState.OPEN)

    def _move(self, state: CircuitState) -> None:
        if state is self._state:
            return
        self._state = state
        self._failures = 0
        self._trials = 0
        self._trial_successes = 0
        for listener in self.listeners:
            listener(self, state)

    def __repr__(self) -> str:
        return f"<CircuitBreaker {self.name} {self.state.value}>"


class BreakerRegistry:
    """One breaker per target instance, shared by every client in a process."""

    def __init__(self, policy: BreakerPolicy, *, clock: Clock = time.monotonic) -> None:
        self.policy = policy
        self._clock = clock
        self._breakers: dict[str, CircuitBreaker] = {}
        self.listeners: list[Callable[[CircuitBreaker, CircuitState], None]] = []

    def get(self, name: str) -> CircuitBreaker:
        """The breaker of ``name`` (e.g. ``grpc://10.0.0.7:5001``), created closed."""
        breaker = self._breakers.get(name)
        if breaker is None:
            breaker = CircuitBreaker(name, self.policy, clock=self._clock)
            breaker.listeners.extend(self.listeners)
            self._breakers[name] = breaker
        return breaker

    def forget(self, name: str) -> None:
        """Drop the breaker of an instance that discovery no longer lists."""
        self._breakers.pop(name, None)

    def __iter__(self) -> Iterator[CircuitBreaker]:
        return iter(list(self._breakers.values()))


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently to retry (``MESHKIT_RPC_*``).

    Backoff is "full jitter": attempt *n* waits a uniform random time in
    ``[0, min(cap, base * 2**n)]``, which spreads retries of many clients apart.
    """

    max_attempts: int = 3
    base: float = 0.05
    cap: float = 1.0

    @classmethod
    def from_settings(cls, settings: Settings) -> RetryPolicy:
        """The policy configured for this process."""
        return cls(
            max_attempts=settings.rpc_max_attempts,
            base=settings.rpc_backoff_base,
            cap=settings.rpc_backoff_max,
        )

    def backoff(self, attempt: int, *, rng: random.Random | None = None) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based)."""
        ceiling = min(self.cap, self.base * (2 ** (attempt - 1)))
        return (rng or random).uniform(0, ceiling)


class Deadline:
    """An absolute point in time that a call and all its retries must finish by."""

    def __init__(self, timeout: float, *, clock: Clock = time.monotonic) -> None:
        self._clock = clock
        self.timeout = timeout
        self.at = clock() + timeout

    def remaining(self) -> float:
        """Seconds left (never negative)."""
        return max(0.0, self.at - self._clock())

    @property
    def expired(self) -> bool:
        """Whether no time is left."""
        return self.remaining() <= 0


async def retry(
    call: Callable[[], Awaitable[T]],
    policy: RetryPolicy,
    *,
    retryable: Callable[[BaseException], bool],
    deadline: Deadline | None = None,
) -> T:
    """Run ``call`` until it succeeds, fails for good, or attempts/deadline run out.

    Only use this for idempotent operations. An exception for which ``retryable`` is
    false propagates at once; the last retryable one propagates when attempts or time
    run out (a backoff that would pass the deadline is not slept).
    """
    attempt = 1
    while True:
        try:
            return await call()
        except Exception as exc:
            if not retryable(exc) or attempt >= policy.max_attempts:
                raise
            pause = policy.backoff(attempt)
            if deadline is not None and pause >= deadline.remaining():
                raise
            await asyncio.sleep(pause)
            attempt += 1


async def with_fallback(
    call: Awaitable[T],
    fallback: Callable[[Exception], T] | T,
    *,
    on: tuple[type[Exception], ...] = (ServiceUnavailable, DeadlineExceeded),
) -> T:
    """``await call``; if it fails with one of ``on``, answer ``fallback`` instead.

    ``fallback`` is a value, or a callable given the exception. The default ``on``
    covers an open circuit, no instances, an unavailable upstream and a passed deadline
    (the errors the client stack raises for an unhealthy target), not application errors.
    """
    try:
        return await call
    except on as exc:
        if callable(fallback):
            return fallback(exc)
        return fallback
