"""Circuit breaker states, retry policy and fallbacks, with a controlled clock."""

import asyncio
import random

import pytest

from meshkit.resilience import (
    BreakerPolicy,
    BreakerRegistry,
    CircuitBreaker,
    CircuitOpen,
    CircuitState,
    Deadline,
    DeadlineExceeded,
    RetryPolicy,
    retry,
    with_fallback,
)


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


@pytest.fixture
def clock():
    return Clock()


def breaker(clock, threshold=3, cooldown=10.0, trials=1):
    policy = BreakerPolicy(failure_threshold=threshold, cooldown=cooldown, half_open_calls=trials)
    return CircuitBreaker("grpc://127.0.0.1:5001", policy, clock=clock)


def test_consecutive_failures_open_the_circuit(clock):
    circuit = breaker(clock)
    for _ in range(2):
        assert circuit.acquire()
        circuit.record_failure()
    assert circuit.state is CircuitState.CLOSED
    assert circuit.acquire()
    circuit.record_success()
    for _ in range(2):
        circuit.acquire()
        circuit.record_failure()
    assert circuit.state is CircuitState.CLOSED, "a success resets the count"
    circuit.acquire()
    circuit.record_failure()
    assert circuit.state is CircuitState.OPEN
    assert not circuit.acquire()
    assert circuit.retry_after == pytest.approx(10.0)


def test_a_passing_health_probe_ends_the_cooldown_of_an_open_circuit(clock):
    circuit = breaker(clock, threshold=1)
    circuit.probe_passed()
    assert circuit.state is CircuitState.CLOSED, "a closed circuit stays closed"
    circuit.acquire()
    circuit.record_failure()
    assert circuit.state is CircuitState.OPEN
    clock.now += 1.0  # 9 s of cooldown left
    circuit.probe_passed()
    assert circuit.state is CircuitState.HALF_OPEN
    assert circuit.acquire()
    circuit.record_success()
    assert circuit.state is CircuitState.CLOSED


def test_half_open_lets_limited_trials_through_then_closes(clock):
    circuit = breaker(clock, threshold=1, trials=2)
    circuit.acquire()
    circuit.record_failure()
    clock.now += 9.9
    assert circuit.state is CircuitState.OPEN
    clock.now += 0.1
    assert circuit.state is CircuitState.HALF_OPEN
    assert circuit.acquire()
    assert circuit.acquire()
    assert not circuit.acquire(), "only two trial calls at once"
    circuit.record_success()
    assert circuit.state is CircuitState.HALF_OPEN
    circuit.record_success()
    assert circuit.state is CircuitState.CLOSED


def test_a_failed_trial_reopens_for_a_full_cooldown(clock):
    circuit = breaker(clock, threshold=1)
    circuit.acquire()
    circuit.record_failure()
    clock.now += 10
    assert circuit.acquire()
    circuit.record_failure()
    assert circuit.state is CircuitState.OPEN
    clock.now += 9
    assert circuit.state is CircuitState.OPEN
    clock.now += 1
    assert circuit.state is CircuitState.HALF_OPEN


def test_a_released_trial_gives_its_slot_back(clock):
    circuit = breaker(clock, threshold=1)
    circuit.acquire()
    circuit.record_failure()
    clock.now += 10
    assert circuit.acquire()
    assert not circuit.acquire()
    circuit.release()
    assert circuit.acquire()


def test_state_changes_reach_listeners(clock):
    registry = BreakerRegistry(BreakerPolicy(failure_threshold=1, cooldown=1), clock=clock)
    seen = []
    registry.listeners.append(lambda b, state: seen.append((b.name, state)))
    circuit = registry.get("a")
    assert registry.get("a") is circuit
    circuit.acquire()
    circuit.record_failure()
    clock.now += 1
    circuit.acquire()
    circuit.record_success()
    assert seen == [
        ("a", CircuitState.OPEN),
        ("a", CircuitState.HALF_OPEN),
        ("a", CircuitState.CLOSED),
    ]


def test_backoff_is_jittered_and_capped():
    policy = RetryPolicy(max_attempts=10, base=0.1, cap=0.5)
    rng = random.Random(7)
    for attempt in range(1, 10):
        ceiling = min(0.5, 0.1 * 2 ** (attempt - 1))
        samples = [policy.backoff(attempt, rng=rng) for _ in range(200)]
        assert all(0 <= s <= ceiling for s in samples)
        assert max(samples) > ceiling * 0.8, "full jitter uses the whole range"
        assert len(set(samples)) > 150


async def test_retry_stops_on_non_retryable_and_at_max_attempts():
    calls = []

    async def flaky():
        calls.append(1)
        raise ConnectionError("down")

    policy = RetryPolicy(max_attempts=4, base=0.001, cap=0.002)
    with pytest.raises(ConnectionError):
        await retry(flaky, policy, retryable=lambda e: isinstance(e, ConnectionError))
    assert len(calls) == 4

    calls.clear()
    with pytest.raises(ConnectionError):
        await retry(flaky, policy, retryable=lambda e: False)
    assert len(calls) == 1


async def test_retry_does_not_sleep_past_the_deadline():
    calls = []

    async def down():
        calls.append(1)
        raise ConnectionError

    policy = RetryPolicy(max_attempts=100, base=10, cap=10)
    with pytest.raises(ConnectionError):
        await asyncio.wait_for(
            retry(down, policy, retryable=lambda e: True, deadline=Deadline(0.01)), 1
        )
    assert len(calls) <= 2


async def test_retry_returns_the_first_success():
    outcomes = iter([ConnectionError(), ConnectionError(), "ok"])

    async def call():
        item = next(outcomes)
        if isinstance(item, Exception):
            raise item
        return item

    policy = RetryPolicy(max_attempts=5, base=0.001, cap=0.001)
    assert await retry(call, policy, retryable=lambda e: True) == "ok"


async def test_fallback_covers_unhealthy_upstreams_only():
    async def open_circuit():
        raise CircuitOpen("all open")

    async def timed_out():
        raise DeadlineExceeded("slow")

    async def bug():
        raise KeyError("x")

    assert await with_fallback(open_circuit(), "cached") == "cached"
    assert await with_fallback(timed_out(), lambda exc: type(exc).__name__) == "DeadlineExceeded"
    with pytest.raises(KeyError):
        await with_fallback(bug(), "cached")


def test_deadline_counts_down(clock):
    deadline = Deadline(2.0, clock=clock)
    clock.now += 1.5
    assert deadline.remaining() == pytest.approx(0.5)
    clock.now += 1
    assert deadline.remaining() == 0
    assert deadline.expired
