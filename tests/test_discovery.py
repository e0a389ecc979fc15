"""Instances from settings and DNS, periodic re-resolution, balancing around open circuits."""

import asyncio

import pytest

from meshkit.config import ConfigError
from meshkit.discovery import Balancer, Directory, Instance, ServiceInstances, Target
from meshkit.resilience import BreakerPolicy, BreakerRegistry, CircuitOpen, NoInstances
from meshkit.testing import make_settings


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


class Dns:
    """A resolver whose answers the test changes (DNS servers cannot run here)."""

    def __init__(self, records):
        self.records = records
        self.asked = 0

    async def __call__(self, host, port):
        self.asked += 1
        answer = self.records.get(host, [host] if host[0].isdigit() else None)
        if isinstance(answer, OSError):
            raise answer
        if answer is None:
            raise OSError(f"{host}: no such host")
        return list(answer)


def test_targets_come_from_urls_with_grpc_at_the_offset(tmp_path):
    settings = make_settings(
        tmp_path, MESHKIT_AUTH_URLS="http://10.0.0.5:3001, http://auth.internal:3001"
    )
    directory = Directory(settings, {"auth": 3001})
    assert directory.targets("auth", "http") == [
        Target("10.0.0.5", 3001, "http"),
        Target("auth.internal", 3001, "http"),
    ]
    assert directory.targets("auth", "grpc") == [
        Target("10.0.0.5", 5001, "grpc"),
        Target("auth.internal", 5001, "grpc"),
    ]


def test_explicit_grpc_urls_and_defaults(tmp_path):
    settings = make_settings(
        tmp_path, MESHKIT_AUTH_GRPC_URLS="10.0.0.9:7000", MESHKIT_MESSAGING_PORT="4002"
    )
    directory = Directory(settings, {"auth": 3001, "messaging": 3002})
    assert directory.targets("auth", "grpc") == [Target("10.0.0.9", 7000, "grpc")]
    assert directory.targets("messaging", "grpc") == [Target("127.0.0.1", 6002, "grpc")]
    assert directory.targets("unknown", "grpc") == []
    directory.register_local("messaging", "grpc", "127.0.0.1", 45678)
    assert directory.targets("messaging", "grpc") == [Target("127.0.0.1", 45678, "grpc")]


@pytest.mark.parametrize("value", ["http://nohost", "not a url:xx", "http://h:99999"])
def test_bad_urls_name_the_variable(tmp_path, value):
    directory = Directory(make_settings(tmp_path, MESHKIT_AUTH_URLS=value))
    with pytest.raises(ConfigError, match="MESHKIT_AUTH_URLS"):
        directory.targets("auth", "http")


async def test_a_name_resolving_to_several_addresses_is_several_instances(tmp_path):
    dns = Dns({"auth.internal": ["10.0.0.2", "10.0.0.1"]})
    settings = make_settings(tmp_path, MESHKIT_AUTH_GRPC_URLS="auth.internal:5001")
    instances = Directory(settings, resolver=dns).instances("auth", "grpc")
    assert await instances.current() == [
        Instance("10.0.0.1", 5001, "grpc"),
        Instance("10.0.0.2", 5001, "grpc"),
    ]


async def settle(instances):
    """Let a background re-resolution finish."""
    for _ in range(10):
        await asyncio.sleep(0)
    if instances._refreshing is not None:
        await instances._refreshing


async def test_lists_are_re_resolved_in_the_background_and_survive_dns_failure():
    dns = Dns({"auth.internal": ["10.0.0.1"]})
    clock = Clock()
    instances = ServiceInstances(
        "auth", [Target("auth.internal", 5001, "grpc")], interval=30, resolver=dns, clock=clock
    )
    assert [i.host for i in await instances.current()] == ["10.0.0.1"]
    generation = instances.generation
    dns.records["auth.internal"] = ["10.0.0.1", "10.0.0.3"]
    clock.now = 29
    assert [i.host for i in await instances.current()] == ["10.0.0.1"]
    assert dns.asked == 1
    clock.now = 30
    assert [i.host for i in await instances.current()] == ["10.0.0.1"], "no waiting on DNS"
    await settle(instances)
    assert [i.host for i in await instances.current()] == ["10.0.0.1", "10.0.0.3"]
    assert instances.generation == generation + 1
    dns.records["auth.internal"] = OSError("SERVFAIL")
    clock.now = 60
    await instances.current()
    await settle(instances)
    assert [i.host for i in await instances.current()] == ["10.0.0.1", "10.0.0.3"]
    assert dns.asked == 3


async def test_a_hanging_dns_server_does_not_hang_the_first_lookup(monkeypatch):
    from meshkit import discovery

    monkeypatch.setattr(discovery, "RESOLVE_TIMEOUT", 0.05)

    async def hangs(host, port):
        await asyncio.sleep(60)

    instances = ServiceInstances(
        "auth", [Target("auth.internal", 5001, "grpc")], interval=30, resolver=hangs
    )
    assert await asyncio.wait_for(instances.current(), 2) == []


async def test_real_resolution_of_localhost_and_ip_literals():
    from meshkit.discovery import resolve_addresses

    assert "127.0.0.1" in await resolve_addresses("localhost", 5001)
    assert await resolve_addresses("127.0.0.1", 5001) == ["127.0.0.1"]


def directory_of(tmp_path, urls):
    settings = make_settings(tmp_path, MESHKIT_AUTH_GRPC_URLS=urls)
    return Directory(settings, resolver=Dns({}))


async def test_balancer_skips_open_circuits_and_fails_fast_when_all_are_open(tmp_path):
    directory = directory_of(tmp_path, "10.0.0.1:1,10.0.0.2:1")
    breakers = BreakerRegistry(BreakerPolicy(failure_threshold=1, cooldown=60))
    balancer = Balancer(directory, "auth", "grpc", breakers)
    picked = []
    for _ in range(4):
        instance, breaker = await balancer.pick()
        picked.append(instance.host)
        breaker.record_success()
    assert sorted(picked) == ["10.0.0.1", "10.0.0.1", "10.0.0.2", "10.0.0.2"]

    breakers.get("grpc://10.0.0.1:1").record_failure()
    for _ in range(3):
        instance, breaker = await balancer.pick()
        assert instance.host == "10.0.0.2"
        breaker.record_success()

    breakers.get("grpc://10.0.0.2:1").record_failure()
    with pytest.raises(CircuitOpen) as caught:
        await balancer.pick()
    assert caught.value.headers["Retry-After"] == "60"


async def test_balancer_prefers_instances_not_yet_tried(tmp_path):
    directory = directory_of(tmp_path, "10.0.0.1:1,10.0.0.2:1")
    balancer = Balancer(directory, "auth", "grpc", BreakerRegistry(BreakerPolicy()))
    first, _ = await balancer.pick()
    again, _ = await balancer.pick(exclude=frozenset({first}))
    assert again != first
    only, _ = await balancer.pick(exclude=frozenset({first, again}))
    assert only in {first, again}


async def test_balancer_sees_a_service_registered_after_it_was_made(tmp_path):
    directory = Directory(make_settings(tmp_path), {"auth": 3001})
    balancer = Balancer(directory, "auth", "grpc", BreakerRegistry(BreakerPolicy()))
    assert (await balancer.pick())[0].port == 5001
    directory.register_local("auth", "grpc", "127.0.0.1", 40123)
    assert (await balancer.pick())[0].port == 40123


async def test_no_instances_is_a_typed_error(tmp_path):
    balancer = Balancer(
        Directory(make_settings(tmp_path)), "auth", "grpc", BreakerRegistry(BreakerPolicy())
    )
    with pytest.raises(NoInstances, match="MESHKIT_AUTH_URLS"):
        await balancer.pick()


def test_callers_follow_a_grpc_port_override(tmp_path):
    settings = make_settings(tmp_path, MESHKIT_AUTH_GRPC_PORT="7777")
    assert Directory(settings, {"auth": 3001}).targets("auth", "grpc") == [
        Target("127.0.0.1", 7777, "grpc")
    ]
    with pytest.raises(ConfigError, match="65535"):
        make_settings(tmp_path, MESHKIT_GRPC_PORT_OFFSET="64000").grpc_port_for("auth", 3001)
