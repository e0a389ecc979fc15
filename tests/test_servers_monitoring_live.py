"""Monitoring against real parts: samples over SSH from OpenSSH's sshd, container stats
from a private dockerd, an ``up`` alert that fires when an sshd is killed and resolves
when it is back, and the REST API and ``/metrics`` of the running service."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiodocker
import pytest
from prometheus_client.parser import text_string_to_metric_families
from redis.asyncio import Redis

from meshkit.services.servers.audit import AuditEntry, AuditLog
from meshkit.services.servers.monitoring.alerts import Alerts
from meshkit.services.servers.monitoring.models import Alert, AlertQuery, AlertRule, AlertRuleIn
from meshkit.services.servers.monitoring.sampler import Sampler, engine_stats, ssh_probe
from meshkit.services.servers.monitoring.series import Series
from meshkit.services.servers.ssh import SshPool, SshTarget
from meshkit.store import Store, open_store
from meshkit.testing import eventually, make_settings
from tests import servers_env
from tests.servers_env import BUSYBOX, Engine, SshHost
from tests.servers_stack import ServersStack, servers_stack
from tests.test_servers_monitoring import FakeHost, Published

sshd, make_sshd, dockerd = servers_env.sshd, servers_env.make_sshd, servers_env.dockerd


@pytest.fixture
async def pool() -> AsyncIterator[SshPool]:
    made = SshPool(connect_timeout=3.0, keepalive_interval=1.0)
    try:
        yield made
    finally:
        await made.close()


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    opened = await open_store(make_settings(tmp_path), service="servers")
    await opened.ensure_indexes([AlertRule, Alert, AuditEntry])
    try:
        yield opened
    finally:
        await opened.close()


def sampler_for(
    redis: Redis,
    pool: SshPool,
    targets: dict[str, SshTarget],
    hosts: list[Any],
    **kw: Any,
) -> Sampler:
    async def target(host_id: str) -> SshTarget:
        return targets[host_id]

    async def list_hosts() -> list[Any]:
        return hosts

    return Sampler(
        redis=redis,
        series=Series(redis, retention=3600),
        hosts=list_hosts,
        probe=ssh_probe(pool, target, time_limit=10),
        interval=1.0,
        timeout=10.0,
        **kw,
    )


async def test_a_real_sample_over_ssh(sshd: SshHost, meshkit_redis: Redis, pool: SshPool) -> None:
    host = FakeHost("real")
    sampler = sampler_for(meshkit_redis, pool, {"real": sshd.target("real")}, [host])
    first = await sampler.sample_host(host)
    assert first.value("up") == 1.0
    assert first.value("cpu_percent") is None  # rates need a previous sample
    await asyncio.sleep(0.3)
    second = await sampler.sample_host(host)
    cores = second.value("cpu_cores")
    assert cores is not None
    assert cores >= 1
    cpu = second.value("cpu_percent")
    assert cpu is not None
    assert 0.0 <= cpu <= 100.0
    total, used = second.value("memory_total_bytes"), second.value("memory_used_bytes")
    assert total is not None
    assert used is not None
    assert 0 < used < total
    assert second.value("disk_used_percent", mount="/") is not None
    assert second.value("load1") is not None
    assert any(p.name == "network_receive_bytes_per_second" for p in second.points)
    assert not any(p.labels.get("interface") == "lo" for p in second.points)
    taken = second.value("sample_seconds")
    assert taken is not None
    assert taken > 0
    series = await sampler.series.query("real", "cpu_percent", first.at - 1, second.at + 1)
    assert len(series[0][0].points) == 1


async def test_container_stats_from_the_engine(
    sshd: SshHost, dockerd: Engine, meshkit_redis: Redis, pool: SshPool
) -> None:
    name = "mk-monitoring-stats"
    dockerd.docker(
        "run", "-d", "--name", name, "--label", "meshkit.deployment=dep-1", "-m", "64m",
        BUSYBOX, "sleep", "120",
    )  # fmt: skip
    try:

        @contextlib.asynccontextmanager
        async def client(host: Any) -> AsyncIterator[aiodocker.Docker]:
            docker = aiodocker.Docker(url=dockerd.url)
            try:
                yield docker
            finally:
                await docker.close()

        host = FakeHost("with-engine")
        host.engine = "local"
        sampler = sampler_for(
            meshkit_redis,
            pool,
            {host.id: sshd.target(host.id)},
            [host],
            containers=engine_stats(client),
        )
        sample = await sampler.sample_host(host)
        assert sample.value("engine_up") == 1.0
        labels = {"container": name, "deployment": "dep-1"}
        assert sample.value("container_memory_limit_bytes", **labels) == 64 * 1024 * 1024
        used = sample.value("container_memory_used_bytes", **labels)
        assert used is not None
        assert used > 0
        cpu = sample.value("container_cpu_percent", **labels)
        assert cpu is not None
        assert cpu >= 0.0
        assert sample.value("container_network_receive_bytes", **labels) is not None

        @contextlib.asynccontextmanager
        async def broken(host: Any) -> AsyncIterator[aiodocker.Docker]:
            docker = aiodocker.Docker(url="unix:///nonexistent/docker.sock")
            try:
                yield docker
            finally:
                await docker.close()

        sampler.containers = engine_stats(broken)
        degraded = await sampler.sample_host(host)
        assert degraded.value("up") == 1.0
        assert degraded.value("engine_up") == 0.0
        assert degraded.value("memory_total_bytes") is not None
        host.engine = "none"
        plain = await sampler.sample_host(host)
        assert plain.value("engine_up") is None
    finally:
        dockerd.docker("rm", "-f", name)


async def test_an_up_alert_fires_when_sshd_dies_and_resolves_when_it_is_back(
    make_sshd: Callable[..., SshHost], meshkit_redis: Redis, pool: SshPool, store: Store
) -> None:
    box = make_sshd(address="127.0.0.12")
    host = FakeHost("box")
    published = Published()
    alerts = Alerts(store, AuditLog(store), published)
    sampler = sampler_for(meshkit_redis, pool, {"box": box.target("box")}, [host], alerts=alerts)
    body = {"name": "host down", "metric": "up", "operator": "<", "threshold": 1}
    await alerts.create_rule("ops", AlertRuleIn.model_validate(body))

    async def sample() -> float | None:
        taken = await sampler.sample_host(host)
        await alerts.evaluate(host, taken, await alerts.list_rules())
        return taken.value("up")

    assert await sample() == 1.0
    box.kill()
    await pool.forget("box")
    assert await sample() == 0.0
    assert published.alerts() == [("firing", "host:box", 0.0)]
    (firing,) = await alerts.list_alerts(AlertQuery(state="firing"))
    assert firing.host_id == "box"
    box.start()

    async def back() -> bool:
        return await sample() == 1.0

    await eventually(back, within=15, every=0.2, what="the restarted sshd answering")
    assert published.alerts() == [("firing", "host:box", 0.0), ("resolved", "host:box", 1.0)]
    assert await alerts.list_alerts(AlertQuery(state="firing")) == []


# --- the running service -----------------------------------------------------------------


@pytest.fixture
async def stack(tmp_path: Path, meshkit_redis_url: str) -> AsyncIterator[ServersStack]:
    async with servers_stack(
        tmp_path, meshkit_redis_url, MESHKIT_SERVERS_MONITORING_INTERVAL="1"
    ) as running:
        yield running


async def test_rest_and_prometheus(stack: ServersStack, sshd: SshHost) -> None:
    admin = stack.admin
    host = await admin.add_host(sshd, "monitored")
    host_id = host["id"]

    async def sampled_twice() -> bool:
        found = await admin.call(
            "GET", f"/v1/servers/hosts/{host_id}/metrics", params={"metric": "up"}
        )
        return bool(found["series"]) and len(found["series"][0]["points"]) >= 2

    await eventually(sampled_twice, within=20, every=0.3, what="two samples")
    latest = await admin.call("GET", "/v1/servers/metrics/latest")
    (mine,) = [entry for entry in latest if entry["host_id"] == host_id]
    assert mine["up"] is True
    names = {m["name"] for m in mine["metrics"]}
    assert {"cpu_percent", "memory_used_bytes", "disk_used_percent", "load1"} <= names

    cpu = await admin.call(
        "GET", f"/v1/servers/hosts/{host_id}/metrics", params={"metric": "cpu_percent", "step": 60}
    )
    assert cpu["step"] == 60
    assert all(0 <= value <= 100 for _, value in cpu["series"][0]["points"])
    disks = await admin.call(
        "GET", f"/v1/servers/hosts/{host_id}/metrics", params={"metric": "disk_used_percent"}
    )
    assert {"mount": "/"} in [s["labels"] for s in disks["series"]]
    ancient = await admin.call(  # an `until` in year 1 has no hour before it: not a 500
        "GET",
        f"/v1/servers/hosts/{host_id}/metrics",
        params={"metric": "up", "until": "0001-01-01T00:30:00Z"},
    )
    assert ancient["series"] == [] or all(not s["points"] for s in ancient["series"])

    async with stack.http.get(stack.service_url + "/metrics") as response:
        text = await response.text()
    families = {f.name: f for f in text_string_to_metric_families(text)}
    ups = {s.labels["host"]: s for s in families["meshkit_servers_host_up"].samples}
    assert ups[host_id].value == 1.0
    assert ups[host_id].labels["name"] == "monitored"
    assert any(
        s.labels["host"] == host_id for s in families["meshkit_servers_host_cpu_percent"].samples
    )

    # alert rules: a threshold any host crosses fires at the next sample
    rule = await admin.call(
        "POST",
        "/v1/servers/alert-rules",
        201,
        json={"name": "always", "metric": "memory_used_bytes", "operator": ">", "threshold": 0},
    )
    assert rule["created_by"] == admin.user_id

    async def firing() -> bool:
        found = await admin.call("GET", "/v1/servers/alerts", params={"state": "firing"})
        return any(a["rule_id"] == rule["id"] and a["host_id"] == host_id for a in found)

    await eventually(firing, within=15, every=0.3, what="the alert firing")
    changed = await admin.call(
        "PATCH", f"/v1/servers/alert-rules/{rule['id']}", json={"threshold": 1e18}
    )
    assert changed["threshold"] == 1e18

    async def resolved() -> bool:
        found = await admin.call("GET", "/v1/servers/alerts")
        return [a["state"] for a in found if a["rule_id"] == rule["id"]] == ["resolved"]

    await eventually(resolved, within=15, every=0.3, what="the alert resolving")
    assert [r["id"] for r in await admin.call("GET", "/v1/servers/alert-rules")] == [rule["id"]]
    assert (await admin.call("GET", f"/v1/servers/alert-rules/{rule['id']}"))["name"] == "always"
    await admin.call("DELETE", f"/v1/servers/alert-rules/{rule['id']}", 204)
    await admin.call("GET", f"/v1/servers/alert-rules/{rule['id']}", 404)
    audit = await admin.call(
        "GET", "/v1/servers/audit", params={"target": f"alert-rule:{rule['id']}"}
    )
    assert sorted(e["action"] for e in audit) == [
        "monitoring.rules.create",
        "monitoring.rules.delete",
        "monitoring.rules.update",
    ]


async def test_bad_input_is_a_problem(stack: ServersStack) -> None:
    admin = stack.admin
    path = "/v1/servers/hosts/01JDZZZZZZZZZZZZZZZZZZZZZZ/metrics"
    missing = await admin.call("GET", path, 404, params={"metric": "up"})
    assert missing["type"] == "urn:meshkit:problem:host-not-found"
    for params in (
        {},
        {"metric": "nope"},
        {"metric": "up", "step": "0"},
        {"metric": "up", "since": "yesterday"},
        {"metric": "up", "since": "2026-01-02T00:00:00Z", "until": "2026-01-01T00:00:00Z"},
    ):
        body = await admin.call("GET", "/v1/servers/hosts/any/metrics", 422, params=params)
        assert body["type"] == "urn:meshkit:problem:validation-error", params
    good = {"name": "r", "metric": "load1", "operator": ">", "threshold": 4}
    for bad in (
        {"threshold": "high"},
        {"operator": "!="},
        {"metric": "load1", "series_labels": {"mount": "/"}},
        {"for_seconds": -5},
        {"extra": True},
        {"name": "x" * 101},
    ):
        body = await admin.call("POST", "/v1/servers/alert-rules", 422, json={**good, **bad})
        assert body["status"] == 422, bad
    made = await admin.call("POST", "/v1/servers/alert-rules", 201, json=good)
    clash = await admin.call("POST", "/v1/servers/alert-rules", 409, json=good)
    assert clash["type"] == "urn:meshkit:problem:alert-rule-exists"
    body = await admin.call(
        "PATCH", f"/v1/servers/alert-rules/{made['id']}", 422, json={"series_labels": {"x": "y"}}
    )
    assert body["status"] == 422
    unknown = "/v1/servers/alert-rules/01JDZZZZZZZZZZZZZZZZZZZZZZ"
    await admin.call("PATCH", unknown, 404, json={"threshold": 1})
    await admin.call("PATCH", "/v1/servers/alert-rules/nothing", 422, json={"threshold": 1})
    await admin.call("GET", "/v1/servers/alerts", 422, params={"state": "burning"})
    await admin.call("GET", "/v1/servers/alerts", 422, params={"limit": "0"})
    user = await stack.person("watcher")
    await user.call("GET", "/v1/servers/metrics/latest", 403)
    await user.call("POST", "/v1/servers/alert-rules", 403, json=good)


async def test_the_openapi_document_declares_the_rules(stack: ServersStack) -> None:
    async with stack.http.get(stack.service_url + "/openapi.json") as response:
        document = await response.json()
    operation = document["paths"]["/v1/servers/hosts/{host_id}/metrics"]["get"]
    params = {p["name"]: p for p in operation["parameters"]}
    assert params["metric"]["required"] is True
    assert "cpu_percent" in params["metric"]["schema"]["enum"]
    step = params["step"]["schema"]
    assert "minimum" in str(step)
    assert operation["x-meshkit-permission"] == "servers:monitoring.read"
    schemas = document["components"]["schemas"]
    rule_in = schemas["AlertRuleIn"]
    assert rule_in["additionalProperties"] is False
    assert set(rule_in["required"]) == {"name", "metric", "operator", "threshold"}
    assert rule_in["properties"]["operator"]["enum"] == [">", ">=", "<", "<="]
    assert rule_in["properties"]["for_seconds"]["minimum"] == 0
    create = document["paths"]["/v1/servers/alert-rules"]["post"]
    assert create["x-meshkit-permission"] == "servers:monitoring.manage"


async def test_container_gauges_on_metrics(
    tmp_path: Path, meshkit_redis_url: str, sshd: SshHost, dockerd: Engine
) -> None:
    name = "mk-monitoring-gauges"
    dockerd.docker(
        "run", "-d", "--name", name, "--label", "meshkit.deployment=dep-9", BUSYBOX, "sleep", "120"
    )  # fmt: skip
    try:
        async with servers_stack(
            tmp_path,
            meshkit_redis_url,
            MESHKIT_SERVERS_MONITORING_INTERVAL="1",
            MESHKIT_SERVERS_LOCAL_ENGINE=dockerd.url,
        ) as stack:
            host = await stack.admin.add_host(sshd, "engine-host", engine="local")

            async def gauges() -> dict[str, Any]:
                async with stack.http.get(stack.service_url + "/metrics") as response:
                    text = await response.text()
                return {f.name: f for f in text_string_to_metric_families(text)}

            async def has_container() -> bool:
                family = (await gauges()).get("meshkit_servers_container_memory_used_bytes")
                return family is not None and any(
                    s.labels["container"] == name for s in family.samples
                )

            await eventually(has_container, within=30, every=0.5, what="container gauges")
            families = await gauges()
            (memory,) = [
                s
                for s in families["meshkit_servers_container_memory_used_bytes"].samples
                if s.labels["container"] == name
            ]
            assert memory.labels["deployment"] == "dep-9"
            assert memory.labels["host"] == host["id"]
            engine_up = families["meshkit_servers_host_engine_up"].samples
            assert [s.value for s in engine_up if s.labels["host"] == host["id"]] == [1.0]
    finally:
        dockerd.docker("rm", "-f", name)
