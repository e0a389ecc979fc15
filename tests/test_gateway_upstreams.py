"""Instance selection of the gateway: health checks, breakers, balancing, affinity, and
the route table — against real HTTP servers on 127.0.0.1."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from prometheus_client import CollectorRegistry

from meshkit.config import ConfigError
from meshkit.discovery import Directory
from meshkit.http.patterns import parse_classes, parse_patterns
from meshkit.resilience import BreakerPolicy, BreakerRegistry, CircuitOpen
from meshkit.services.gateway.docs import ApiDocs
from meshkit.services.gateway.metrics import UpstreamMetrics
from meshkit.services.gateway.routes import RouteTable, literal_head
from meshkit.services.gateway.upstreams import FORGET_AFTER, Upstreams
from meshkit.testing import free_ports, make_settings


async def serve(ready: int | list[int], port: int = 0) -> tuple[web.AppRunner, int]:
    """A server whose /readyz answers ``ready`` (a one-item list can be changed later)."""
    status = ready if isinstance(ready, list) else [ready]

    async def readyz(request: web.Request) -> web.Response:
        return web.Response(status=status[0])

    app = web.Application()
    app.router.add_get("/readyz", readyz)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    return runner, runner.addresses[0][1]


@pytest.fixture
async def two_instances(tmp_path: Path) -> AsyncIterator[tuple[Upstreams, int, int]]:
    """Two instances that have been up; the "sick" one now fails its /readyz."""
    healthy, healthy_port = await serve(200)
    sick_status = [200]
    sick, sick_port = await serve(sick_status)
    settings = make_settings(
        tmp_path,
        MESHKIT_ECHO_URLS=f"http://127.0.0.1:{healthy_port},http://127.0.0.1:{sick_port}",
    )
    upstreams = Upstreams(
        Directory(settings),
        BreakerRegistry(BreakerPolicy(failure_threshold=2, cooldown=60)),
        strategy="round_robin",
        health_interval=60,
        health_timeout=1,
        unhealthy_threshold=2,
    )
    async with aiohttp.ClientSession() as session:
        await upstreams.check_all(session, ["echo"])
    sick_status[0] = 503
    yield upstreams, healthy_port, sick_port
    await healthy.cleanup()
    await sick.cleanup()


async def test_failing_readiness_takes_an_instance_out_and_back(two_instances):
    upstreams, healthy_port, sick_port = two_instances
    pool = upstreams.pool("echo")
    async with aiohttp.ClientSession() as session:
        await upstreams.check_all(session, ["echo"])
        assert not pool.unhealthy  # one failure is not enough
        await upstreams.check_all(session, ["echo"])
    assert {i.port for i in pool.unhealthy} == {sick_port}
    picked = set()
    for _ in range(6):
        lease = await pool.acquire()
        picked.add(lease.instance.port)
        lease.success()
    assert picked == {healthy_port}


async def test_when_every_instance_is_out_unhealthy_ones_are_still_tried(two_instances):
    upstreams, _, _ = two_instances
    pool = upstreams.pool("echo")
    instances = await pool.instances()
    pool.unhealthy.update(instances)
    lease = await pool.acquire()
    assert lease.instance in instances
    lease.release()


async def test_open_breakers_eject_instances_then_fail_fast(two_instances):
    upstreams, _, _ = two_instances
    pool = upstreams.pool("echo")
    for _ in range(4):
        lease = await pool.acquire()
        lease.failure()
    with pytest.raises(CircuitOpen) as caught:
        await pool.acquire()
    assert caught.value.status == 503
    assert int(caught.value.headers["Retry-After"]) >= 1


async def test_least_outstanding_prefers_the_idle_instance(two_instances):
    upstreams, _, _ = two_instances
    pool = upstreams.pool("echo")
    pool.strategy = "least_outstanding"
    busy = await pool.acquire()
    others = [await pool.acquire() for _ in range(3)]
    # busy holds one request; the next picks go where fewer are in flight.
    ports = [lease.instance.port for lease in others]
    assert ports.count(busy.instance.port) == 1
    for lease in [busy, *others]:
        lease.success()
    assert set(pool.outstanding.values()) == {0}


async def test_affinity_keeps_a_key_on_one_instance(two_instances):
    upstreams, _, _ = two_instances
    pool = upstreams.pool("echo")
    chosen = set()
    for _ in range(5):
        lease = await pool.acquire(affinity="client-1")
        chosen.add(lease.instance)
        lease.success()
    assert len(chosen) == 1
    spread = set()
    for n in range(20):
        lease = await pool.acquire(affinity=f"client-{n}")
        spread.add(lease.instance)
        lease.success()
    assert len(spread) == 2


def test_a_lease_reports_once():
    from meshkit.discovery import Instance
    from meshkit.resilience import CircuitBreaker
    from meshkit.services.gateway.upstreams import Lease, ServicePool

    pool = ServicePool("x", None, None, "round_robin")  # type: ignore[arg-type]
    instance = Instance("127.0.0.1", 1)
    pool.outstanding[instance] = 1
    lease = Lease(pool, instance, CircuitBreaker("x", BreakerPolicy()))
    lease.success()
    with pytest.raises(RuntimeError):
        lease.failure()


DOCUMENTS = {
    "auth": {
        "paths": {
            "/v1/auth/login": {"post": {}},
            "/v1/roles/{name}": {"get": {}},
            "/.well-known/jwks.json": {"get": {}},
        }
    },
    "echo": {
        "paths": {
            "/v1/echo/whoami": {"get": {}},
            "/v1/echo/secret": {"get": {"x-meshkit-internal": True}},
        }
    },
}


def test_the_route_table_uses_paths_prefixes_and_overrides():
    table = RouteTable.build(DOCUMENTS, {"echo": ("/socket.io",)}, "/v1/legacy=echo")
    assert table.match("/v1/auth/login") == "auth"
    assert table.match("/v1/roles/admin") == "auth"
    assert table.match("/v1/rolesx") is None
    assert table.match("/.well-known/jwks.json") == "auth"
    assert table.match("/socket.io/") == "echo"
    assert table.match("/v1/legacy/thing") == "echo"
    assert table.match("/v1/echo/anything") == "echo"  # /v1/<service> is always routed
    assert table.match("/v1/echo/secret") is None  # internal operations never are
    assert table.match("/internal/v1/x") is None
    assert table.match("/nothing") is None
    assert literal_head("/v1/a/{b}/c") == "/v1/a"


def test_two_services_claiming_one_prefix_must_be_settled():
    clash = {**DOCUMENTS, "other": {"paths": {"/v1/roles": {"get": {}}}}}
    with pytest.raises(ConfigError, match="MESHKIT_GATEWAY_ROUTES=/v1/roles"):
        RouteTable.build(clash, {}, None)
    table = RouteTable.build(clash, {}, "/v1/roles=other")
    assert table.match("/v1/roles/x") == "other"


@pytest.mark.parametrize(
    ("text", "setting"),
    [
        ("GET", "MESHKIT_GATEWAY_PUBLIC_ROUTES"),
        ("FETCH /x", "MESHKIT_GATEWAY_PUBLIC_ROUTES"),
        ("GET x", "MESHKIT_GATEWAY_PUBLIC_ROUTES"),
        ("GET /a /b", "MESHKIT_GATEWAY_PUBLIC_ROUTES"),
    ],
)
def test_bad_patterns_are_config_errors(text, setting):
    with pytest.raises(ConfigError, match=setting):
        parse_patterns(text, setting=setting)


def test_patterns_and_classes():
    public = parse_patterns("POST /v1/auth/login, * /socket.io/*, /open", setting="X")
    assert public[0].matches("POST", "/v1/auth/login")
    assert not public[0].matches("GET", "/v1/auth/login")
    assert public[1].matches("GET", "/socket.io/?EIO=4")
    assert public[2].matches("DELETE", "/open/")
    classes = parse_classes("POST /v1/auth/login=auth", setting="X")
    assert classes[0][1] == "auth"
    with pytest.raises(ConfigError):
        parse_classes("POST /v1/auth/login", setting="X")
    with pytest.raises(ConfigError):
        RouteTable.build({}, {}, "nonsense")


async def test_the_merged_document_follows_a_redeployed_service(tmp_path):
    served = {"openapi": "3.1.0", "info": {"title": "echo", "version": "1"}, "paths": {}}

    async def openapi(request: web.Request) -> web.Response:
        return web.json_response(served)

    app = web.Application()
    app.router.add_get("/openapi.json", openapi)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    port = runner.addresses[0][1]
    settings = make_settings(tmp_path, MESHKIT_ECHO_URLS=f"http://127.0.0.1:{port}")
    upstreams = Upstreams(
        Directory(settings),
        BreakerRegistry(BreakerPolicy()),
        strategy="round_robin",
        health_interval=60,
        health_timeout=1,
        unhealthy_threshold=2,
    )
    try:
        async with aiohttp.ClientSession() as session:
            docs = ApiDocs(
                upstreams, session, fallback={}, routed=["echo"], interval=60, version="1"
            )
            assert (await docs.document())["paths"] == {}
            served["paths"] = {
                "/v1/echo/new": {"get": {"responses": {"200": {"description": "ok"}}}}
            }
            await docs.refresh()
            assert "/v1/echo/new" in (await docs.document())["paths"]
            await runner.cleanup()  # the service goes away: its last document stays
            await docs.refresh()
            assert "/v1/echo/new" in (await docs.document())["paths"]
    finally:
        await runner.cleanup()


async def test_instances_that_leave_discovery_are_forgotten(two_instances, tmp_path):
    upstreams, healthy_port, sick_port = two_instances
    registry = CollectorRegistry()
    upstreams.metrics = UpstreamMetrics("gateway", registry)
    pool = upstreams.pool("echo")
    pool.metrics = upstreams.metrics
    sick_url = f"http://127.0.0.1:{sick_port}"

    def series_of(url: str) -> list[str]:
        return [
            sample.name
            for family in registry.collect()
            for sample in family.samples
            if sample.labels.get("instance") == url
        ]

    async with aiohttp.ClientSession() as session:
        await upstreams.check_all(session, ["echo"])
        await upstreams.check_all(session, ["echo"])
        assert {i.port for i in pool.unhealthy} == {sick_port}
        healthy = next(i for i in await pool.instances() if i.port == healthy_port)
        held = await pool.acquire(exclude=[healthy])  # the last resort: the sick one
        assert held.instance.port == sick_port
        assert "meshkit_gateway_upstream_healthy" in series_of(sick_url)
        # a deploy: the sick instance is gone from discovery
        after = make_settings(tmp_path / "after", MESHKIT_ECHO_URLS=f"http://{healthy.address}")
        pool.directory = Directory(after)
        await upstreams.check_all(session, ["echo"])
        assert {i.port for i in pool.unhealthy} == {sick_port}  # one round missing: kept
        assert "meshkit_gateway_upstream_healthy" in series_of(sick_url)
        for _ in range(FORGET_AFTER):  # a brief gap in discovery forgets nothing
            await upstreams.check_all(session, ["echo"])
        assert held.instance in pool.outstanding  # a request is still on it: kept
        held.success()
        await upstreams.check_all(session, ["echo"])
    assert held.instance not in pool.outstanding
    assert not pool.unhealthy
    assert held.instance not in pool.failed_checks
    assert series_of(sick_url) == []  # no trail of dead instances in /metrics
    assert held.instance not in pool.seen
    assert "meshkit_gateway_upstream_healthy" in series_of(f"http://{healthy.address}")
    # an idle, healthy instance that leaves is forgotten too (it only had a health gauge)
    async with aiohttp.ClientSession() as session:
        only_sick = make_settings(tmp_path / "later", MESHKIT_ECHO_URLS=sick_url)
        pool.directory = Directory(only_sick)
        for _ in range(FORGET_AFTER):
            await upstreams.check_all(session, ["echo"])
    assert series_of(f"http://{healthy.address}") == []
    assert healthy not in pool.seen


async def test_a_starting_instance_never_opens_its_circuit_and_is_taken_once_it_listens(
    tmp_path,
):
    """`meshkit run all` on a fresh data dir: the gateway may see an upstream before it
    listens. Failures then are no verdict (no circuit opens), and the instance is probed
    again quickly, not after a whole health interval."""
    [port] = free_ports(1)
    settings = make_settings(tmp_path, MESHKIT_ECHO_URLS=f"http://127.0.0.1:{port}")
    upstreams = Upstreams(
        Directory(settings),
        BreakerRegistry(BreakerPolicy(failure_threshold=1, cooldown=60)),
        strategy="round_robin",
        health_interval=60,  # a full round would come far too late
        health_timeout=1,
        unhealthy_threshold=1,
        starting_interval=0.05,
    )
    pool = upstreams.pool("echo")
    runner = None
    async with aiohttp.ClientSession() as session:
        await upstreams.start_health_checks(session, ["echo"])
        try:
            (instance,) = await pool.instances()
            assert pool.state(instance) == "starting"
            assert instance not in pool.unhealthy
            waiting = upstreams.readiness(["echo"])["upstream:echo"]
            assert waiting != "ok"
            assert "starting" in waiting
            for _ in range(5):  # refused connections before it listens
                lease = await pool.acquire()
                lease.failure()
            assert pool.breakers.get(instance.url).state.value == "closed"
            runner, _ = await serve(200, port)
            for _ in range(200):
                if instance in pool.up:
                    break
                await asyncio.sleep(0.05)
            assert pool.state(instance) == "healthy"
            assert upstreams.readiness(["echo"]) == {"upstream:echo": "ok"}
            lease = await pool.acquire()
            lease.failure()  # it has been up: now failures count
            with pytest.raises(CircuitOpen):
                await pool.acquire()
            # readiness says "has been up since start": one outage does not take the
            # gateway out of its load balancer (docs/gateway.md)
            assert upstreams.readiness(["echo"]) == {"upstream:echo": "ok"}
        finally:
            await upstreams.stop()
            if runner is not None:
                await runner.cleanup()


async def test_an_answered_request_makes_a_starting_instance_up(two_instances, tmp_path):
    settings = make_settings(tmp_path / "x", MESHKIT_ECHO_URLS="http://127.0.0.1:9")
    upstreams = Upstreams(
        Directory(settings),
        BreakerRegistry(BreakerPolicy(failure_threshold=1, cooldown=60)),
        strategy="round_robin",
        health_interval=60,
        health_timeout=1,
        unhealthy_threshold=1,
    )
    pool = upstreams.pool("echo")
    lease = await pool.acquire()
    assert pool.state(lease.instance) == "starting"
    lease.success()
    assert pool.state(lease.instance) == "healthy"
    assert pool.ready_once


def test_the_route_table_knows_each_templates_methods():
    table = RouteTable.build(DOCUMENTS, {"echo": ["/socket.io"]}, None)
    assert table.allowed_methods("auth", "/v1/auth/login") == {"POST"}
    assert table.allowed_methods("auth", "/v1/roles/admin") == {"GET", "HEAD"}
    assert table.allowed_methods("auth", "/v1/roles/admin/extra") is None
    assert table.allowed_methods("echo", "/v1/echo/secret") is None  # internal: unknown
    assert table.allowed_methods("echo", "/socket.io/") is None
