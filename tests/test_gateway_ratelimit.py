"""The gateway's rate limiter against a real redis-server: GCRA, headers, failure modes."""

import asyncio
import logging

import pytest
from prometheus_client import CollectorRegistry
from redis.asyncio import Redis

from meshkit.config import ConfigError
from meshkit.errors import ServiceUnavailable, TooManyRequests
from meshkit.redis import EmbeddedRedis
from meshkit.services.gateway.ratelimit import (
    Decision,
    RateLimited,
    RateLimiter,
    RateLimiterUnavailable,
    RateLimitPolicy,
    parse_policies,
)

UNAVAILABLE = "meshkit_gateway_ratelimit_unavailable_total"
DECISIONS = "meshkit_gateway_ratelimit_decisions_total"


def limiter(redis: Redis, **options) -> RateLimiter:
    """A limiter that fails closed: a Redis problem in a test must not pass as 'allowed'."""
    options.setdefault("fail_open", False)
    options.setdefault("timeout", 5.0)
    return RateLimiter(redis, **options)


def metric(registry: CollectorRegistry, name: str, **labels: str) -> float:
    return registry.get_sample_value(name, labels) or 0.0


async def test_a_burst_passes_exactly_up_to_the_limit_then_429_with_headers(meshkit_redis):
    registry = CollectorRegistry()
    limits = limiter(meshkit_redis, registry=registry)
    policy = RateLimitPolicy("default", limit=3, window=60)  # one unit every 20 s

    passed = [await limits.check(policy, "10.0.0.1") for _ in range(3)]
    refused = await limits.check(policy, "10.0.0.1")

    assert [d.allowed for d in passed] == [True, True, True]
    assert [d.remaining for d in passed] == [2, 1, 0]
    assert passed[0].headers() == {
        "RateLimit-Policy": '"default";q=3;w=60',
        "RateLimit": '"default";r=2;t=20',
    }
    assert passed[2].headers()["RateLimit"] == '"default";r=0;t=60'
    assert not refused.allowed
    assert refused.remaining == 0
    assert 19 < refused.retry_after <= 20
    assert 59 < refused.reset_after <= 60
    assert refused.headers() == {
        "RateLimit-Policy": '"default";q=3;w=60',
        "RateLimit": '"default";r=0;t=20',
        "Retry-After": "20",
    }
    assert metric(registry, DECISIONS, policy="default", outcome="allowed") == 3
    assert metric(registry, DECISIONS, policy="default", outcome="limited") == 1

    passed[2].raise_if_limited()  # allowed: nothing happens
    with pytest.raises(RateLimited) as caught:
        refused.raise_if_limited()
    problem = caught.value
    assert isinstance(problem, TooManyRequests)
    assert problem.status == 429
    assert problem.headers["Retry-After"] == "20"
    assert problem.headers["RateLimit"] == '"default";r=0;t=20'
    body = problem.to_dict("/v1/things")
    assert body["type"] == "urn:meshkit:problem:rate-limited"
    assert body["retry_after"] == 20
    assert body["policy"] == "default"
    assert "'default'" in body["detail"]
    assert "20 s" in body["detail"]

    other = await limits.check(policy, "10.0.0.2")
    assert other.allowed, "each key has its own bucket"


async def test_units_come_back_one_emission_interval_at_a_time(meshkit_redis):
    limits = limiter(meshkit_redis)
    policy = RateLimitPolicy("fast", limit=5, window=1)  # one unit every 0.2 s

    assert all([(await limits.check(policy, "k")).allowed for _ in range(5)])
    refused = await limits.check(policy, "k")
    assert not refused.allowed
    assert 0 < refused.retry_after <= 0.2
    assert refused.headers()["Retry-After"] == "1", "Retry-After is whole seconds, at least 1"

    await asyncio.sleep(refused.retry_after + 0.05)
    again = await limits.check(policy, "k")
    assert again.allowed
    assert again.remaining == 0
    assert not (await limits.check(policy, "k")).allowed

    await asyncio.sleep(1.05)  # a full window later the whole burst is back
    full = await limits.check(policy, "k", cost=0)
    assert full.allowed
    assert full.remaining == 5
    assert await meshkit_redis.exists(limits.redis_key(policy, "k")) == 0, "idle keys expire"


async def test_cost_takes_several_units_and_a_refusal_takes_none(meshkit_redis):
    limits = limiter(meshkit_redis)
    policy = RateLimitPolicy("bulk", limit=10, window=60)

    assert (await limits.check(policy, "k", cost=7)).remaining == 3
    refused = await limits.check(policy, "k", cost=4)
    assert not refused.allowed
    assert refused.remaining == 3
    assert (await limits.check(policy, "k", cost=3)).allowed
    with pytest.raises(ValueError, match="cost"):
        await limits.check(policy, "k", cost=11)


async def test_two_gateways_share_one_limit(meshkit_redis, meshkit_redis_url):
    policy = RateLimitPolicy("auth", limit=4, window=60)
    other_client = Redis.from_url(meshkit_redis_url)
    try:
        first, second = limiter(meshkit_redis), limiter(other_client)
        outcomes = []
        for _ in range(4):
            outcomes.append((await first.check(policy, "user-1")).allowed)
            outcomes.append((await second.check(policy, "user-1")).allowed)
    finally:
        await other_client.aclose()
    assert outcomes.count(True) == 4
    assert outcomes[4:] == [False] * 4


async def test_concurrent_checks_never_exceed_the_limit(meshkit_redis):
    limits = limiter(meshkit_redis)
    policy = RateLimitPolicy("default", limit=10, window=60)

    decisions = await asyncio.gather(*(limits.check(policy, "hot") for _ in range(100)))

    assert sum(d.allowed for d in decisions) == 10
    assert sorted(d.remaining for d in decisions if d.allowed) == list(range(10))


async def test_script_flushed_from_redis_is_loaded_again(meshkit_redis):
    limits = limiter(meshkit_redis)
    policy = RateLimitPolicy("default", limit=5, window=60)
    assert (await limits.check(policy, "k")).remaining == 4

    await meshkit_redis.script_flush()

    assert (await limits.check(policy, "k")).remaining == 3


async def test_a_gigantic_key_makes_a_short_redis_key(meshkit_redis):
    limits = limiter(meshkit_redis)
    policy = RateLimitPolicy("default", limit=2, window=60)
    huge = "x" * 1_000_000 + "\udcff"  # lone surrogates come from undecodable headers

    assert (await limits.check(policy, huge)).allowed
    assert (await limits.check(policy, huge)).allowed
    assert not (await limits.check(policy, huge)).allowed
    assert (await limits.check(policy, huge[:-1])).allowed, "a different key"

    keys = [key async for key in meshkit_redis.scan_iter("meshkit:ratelimit:*")]
    assert len(keys) == 2
    assert all(len(key) < 100 for key in keys)


async def test_stopped_redis_fails_open_or_closed_and_is_counted(tmp_path, caplog):
    caplog.set_level(logging.WARNING, logger="meshkit.services.gateway.ratelimit")
    policy = RateLimitPolicy("default", limit=5, window=60)
    registry = CollectorRegistry()
    server = EmbeddedRedis(tmp_path)
    await server.start()
    client = Redis.from_url(server.url)
    try:
        open_ = RateLimiter(client, fail_open=True, registry=registry)
        closed = RateLimiter(client, fail_open=False, registry=registry)
        assert (await open_.check(policy, "k")).remaining == 4
        await server.stop()

        first = await open_.check(policy, "k")
        second = await open_.check(policy, "k")
        assert first.allowed
        assert first.degraded
        assert first.headers() == {}
        assert second.allowed
        assert metric(registry, UNAVAILABLE, mode="open") == 2
        warnings = [r for r in caplog.records if "cannot use Redis" in r.getMessage()]
        assert len(warnings) == 1, "at most one warning per interval"
        assert "failing open" in warnings[0].getMessage()

        with pytest.raises(RateLimiterUnavailable) as caught:
            await closed.check(policy, "k")
        problem = caught.value
        assert isinstance(problem, ServiceUnavailable)
        assert problem.status == 503
        assert problem.to_dict()["type"] == "urn:meshkit:problem:rate-limiter-unavailable"
        assert metric(registry, UNAVAILABLE, mode="closed") == 1
        assert metric(registry, DECISIONS, policy="default", outcome="allowed") == 1

        await server.start()  # back (a new process: its script cache is empty)
        assert (await closed.check(policy, "k")).allowed
    finally:
        await client.aclose()
        await server.stop()


async def test_a_hung_redis_costs_at_most_the_timeout(meshkit_redis):
    policy = RateLimitPolicy("default", limit=5, window=60)
    limits = RateLimiter(meshkit_redis, fail_open=True, timeout=0.05)
    await meshkit_redis.execute_command("CLIENT", "PAUSE", "2000", "WRITE")  # blocks scripts
    try:
        decision = await asyncio.wait_for(limits.check(policy, "k"), 1.5)
    finally:
        await meshkit_redis.execute_command("CLIENT", "UNPAUSE")
    assert decision.degraded
    assert metric(limits.registry, UNAVAILABLE, mode="open") == 1


def test_parse_policies_reads_the_setting():
    policies = parse_policies(" default=600/60s, auth=10/1m ,reset=5/1h,plain=7/30")

    assert policies == {
        "default": RateLimitPolicy("default", 600, 60),
        "auth": RateLimitPolicy("auth", 10, 60),
        "reset": RateLimitPolicy("reset", 5, 3600),
        "plain": RateLimitPolicy("plain", 7, 30),
    }
    assert policies["default"].capacity == 600
    assert parse_policies("") == {}
    with pytest.raises(ConfigError, match=r"^MESHKIT_GATEWAY_RATE_LIMITS: "):
        parse_policies("default=1/1d")
    assert parse_policies("   ") == {}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("default", "expected name=limit/window"),
        ("default=600", "expected name=limit/window"),
        ("default=ten/60s", "expected name=limit/window"),
        ("default=600/60ms", "unknown window unit 'ms'"),
        ("default=600/-60s", "expected name=limit/window"),
        ("default=0/60s", "limit must be at least 1"),
        ("default=600/0s", "window must be at least 1"),
        ("=600/60s", "policy name ''"),
        ("bad name=600/60s", "policy name 'bad name'"),
        ('"quoted"=1/1s', "policy name"),
        ("default=600/60s,,auth=1/1s", "empty item"),
        ("default=600/60s,", "empty item"),
        ("auth=1/1s,auth=2/1s", "'auth' is defined twice"),
    ],
)
def test_parse_policies_rejects_bad_input(text, message):
    with pytest.raises(ConfigError, match=r"^MESHKIT_X: ") as caught:
        parse_policies(text, setting="MESHKIT_X")
    assert message in str(caught.value)


def test_burst_can_differ_from_the_limit():
    policy = RateLimitPolicy("bursty", limit=60, window=60, burst=5)
    assert policy.capacity == 5
    assert policy.interval_us == 1_000_000
    decision = Decision(policy, allowed=True, remaining=4, reset_after=0.3)
    assert decision.headers()["RateLimit"] == '"bursty";r=4;t=1'
    assert decision.limit == 60
    with pytest.raises(ValueError, match="burst"):
        RateLimitPolicy("bursty", limit=60, window=60, burst=0)


async def test_flag_keys_are_counted_in_the_same_round_trip(meshkit_redis):
    limits = limiter(meshkit_redis)
    policy = RateLimitPolicy("default", 1, 60)
    await meshkit_redis.set("test:denied", "1")
    first = await limits.check(policy, "user:1", flags=["test:denied", "test:absent"])
    assert first.allowed
    assert first.flagged == 1
    refused = await limits.check(policy, "user:1", flags=["test:absent"])
    assert not refused.allowed
    assert refused.flagged == 0
    plain = await limits.check(policy, "user:2")
    assert plain.flagged == 0
