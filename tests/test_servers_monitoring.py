"""Monitoring without hosts: the /proc and df parsers (on fixture text and on this
machine's own files), container stats arithmetic, the Redis series (retention, ranges,
downsampling), the Prometheus collector, and alert rules driven by a probe whose figures
the test sets."""

from __future__ import annotations

import asyncio
import subprocess
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families
from pydantic import ValidationError
from redis.asyncio import Redis

from meshkit.contracts.servers import AlertChanged
from meshkit.errors import ValidationFailed
from meshkit.events import Event
from meshkit.services.servers.audit import AuditEntry, AuditLog
from meshkit.services.servers.errors import AlertRuleExists, AlertRuleNotFound
from meshkit.services.servers.monitoring.alerts import Alerts, alert_id, subject_of
from meshkit.services.servers.monitoring.containers import container_points
from meshkit.services.servers.monitoring.models import (
    Alert,
    AlertQuery,
    AlertRule,
    AlertRuleIn,
    AlertRulePatch,
    Point,
    Sample,
    SeriesQuery,
)
from meshkit.services.servers.monitoring.procfs import (
    PROBE,
    ProbeError,
    host_points,
    parse_df,
    parse_meminfo,
    parse_net_dev,
    parse_stat,
    read_probe,
)
from meshkit.services.servers.monitoring.prometheus import MonitoringCollector
from meshkit.services.servers.monitoring.sampler import Sampler
from meshkit.services.servers.monitoring.series import Series, downsample
from meshkit.store import Store, open_store
from meshkit.testing import make_settings

STAT = """\
cpu  1000 0 500 8000 500 0 0 0 0 0
cpu0 500 0 250 4000 250 0 0 0 0 0
cpu1 500 0 250 4000 250 0 0 0 0 0
intr 12345
ctxt 999
"""
MEMINFO = """\
MemTotal:        8000000 kB
MemFree:         1000000 kB
MemAvailable:    6000000 kB
Buffers:          100000 kB
Cached:          2000000 kB
SwapTotal:       2000000 kB
SwapFree:        1500000 kB
HugePages_Total:       0
"""
NET_DEV = (
    "Inter-|   Receive                                                |  Transmit\n"
    " face |bytes    packets errs drop fifo frame compressed multicast|"
    "bytes    packets errs drop fifo colls carrier compressed\n"
    "    lo:  999999    100    0    0    0     0          0         0"
    "   999999     100    0    0    0     0       0          0\n"
    "  eth0: 1000000   2000    0    0    0     0          0         0"
    "   500000    1000    0    0    0     0       0          0\n"
)
DF = """\
Filesystem     Type     1024-blocks     Used Available Capacity Mounted on
/dev/vda1      ext4       100000000 40000000  60000000      40% /
devtmpfs       devtmpfs     1000000        0   1000000       0% /dev
tmpfs          tmpfs        2000000   500000   1500000      25% /run
/dev/vdb1      xfs          5000000  4500000    500000      90% /srv/data with space
proc           proc               0        0         0       -  /proc
"""


def probe_text(
    *, stat: str = STAT, load: str = "0.50 0.25 0.10 1/100 4242", net: str = NET_DEV
) -> str:
    return (
        f"@@meshkit stat\n{stat}@@meshkit meminfo\n{MEMINFO}@@meshkit loadavg\n{load}\n"
        f"@@meshkit net\n{net}@@meshkit uptime\n12345.67 20000.00\n@@meshkit df\n{DF}"
    )


def by_name(points: list[Point], name: str) -> list[Point]:
    return [p for p in points if p.name == name]


# --- parsers ---------------------------------------------------------------------------


def test_parsers_read_the_fixture_texts() -> None:
    assert parse_stat(STAT) == (10000, 8500, 2)
    memory = parse_meminfo(MEMINFO)
    assert memory["MemTotal"] == 8_000_000 * 1024
    assert memory["HugePages_Total"] == 0
    assert parse_net_dev(NET_DEV) == {"lo": (999999, 999999), "eth0": (1000000, 500000)}
    disks = {d.mount: d for d in parse_df(DF)}
    assert set(disks) == {"/", "/run", "/srv/data with space"}  # devtmpfs, proc skipped
    assert disks["/"].used_percent == pytest.approx(40.0)
    assert disks["/srv/data with space"].total == 5_000_000 * 1024
    untyped = "Filesystem 1024-blocks Used Available Capacity Mounted on\n/dev/x 10 5 5 50% /\n"
    assert [(d.mount, d.fstype, d.used) for d in parse_df(untyped)] == [("/", None, 5 * 1024)]


def test_first_sample_has_no_rates_and_the_second_has_them() -> None:
    first = read_probe(probe_text())
    points = host_points(first)
    assert not by_name(points, "cpu_percent")
    assert not by_name(points, "network_receive_bytes_per_second")
    assert by_name(points, "memory_used_bytes")[0].value == 2_000_000 * 1024
    assert by_name(points, "memory_used_percent")[0].value == pytest.approx(25.0)
    assert by_name(points, "swap_used_bytes")[0].value == 500_000 * 1024
    assert by_name(points, "load5")[0].value == 0.25
    assert by_name(points, "cpu_cores")[0].value == 2
    assert {p.labels["mount"] for p in by_name(points, "disk_used_percent")} == {
        "/",
        "/run",
        "/srv/data with space",
    }

    later_stat = STAT.replace("cpu  1000 0 500 8000", "cpu  1600 0 600 8300")  # 1000 more, 300 idle
    later_net = NET_DEV.replace("eth0: 1000000", "eth0: 1100000")
    second = read_probe(probe_text(stat=later_stat, net=later_net))
    rated = host_points(second, first.counters(), 10.0)
    assert by_name(rated, "cpu_percent")[0].value == pytest.approx(70.0)
    rx = by_name(rated, "network_receive_bytes_per_second")
    assert [(p.labels, p.value) for p in rx] == [({"interface": "eth0"}, 10_000.0)]  # no lo
    assert by_name(rated, "network_transmit_bytes_per_second")[0].value == 0.0


def test_counters_that_went_back_give_no_rate() -> None:
    rebooted = read_probe(probe_text(stat=STAT.replace("cpu  1000", "cpu  10")))
    earlier = read_probe(probe_text()).counters()
    assert not by_name(host_points(rebooted, earlier, 10.0), "cpu_percent")


@pytest.mark.parametrize(
    "text",
    ["", "hello\n", "@@meshkit stat\ncpu0 1 2 3\n@@meshkit meminfo\n@@meshkit loadavg\nx\n"],
)
def test_garbled_probe_output_is_a_probe_error(text: str) -> None:
    with pytest.raises(ProbeError):
        read_probe(text)


def test_the_probe_parses_on_this_machine() -> None:
    output = subprocess.run(
        ["/bin/sh", "-c", PROBE], capture_output=True, text=True, check=True, timeout=30
    ).stdout
    reading = read_probe(output)
    assert reading.cores >= 1
    assert reading.memory["MemTotal"] > 0
    assert 0 < reading.memory["MemAvailable"] <= reading.memory["MemTotal"]
    assert "lo" in reading.network
    assert reading.uptime > 0
    assert any(d.mount == "/" for d in reading.disks)
    assert not any(d.fstype in {"proc", "sysfs", "cgroup2"} for d in reading.disks)


# --- containers ------------------------------------------------------------------------

DOCKER_STATS: dict[str, Any] = {
    "cpu_stats": {
        "cpu_usage": {"total_usage": 3_000_000_000},
        "system_cpu_usage": 120_000_000_000,
        "online_cpus": 4,
    },
    "precpu_stats": {
        "cpu_usage": {"total_usage": 2_000_000_000},
        "system_cpu_usage": 100_000_000_000,
    },
    "memory_stats": {
        "usage": 50_000_000,
        "limit": 200_000_000,
        "stats": {"inactive_file": 10_000_000},
    },
    "networks": {
        "eth0": {"rx_bytes": 1000, "tx_bytes": 300},
        "eth1": {"rx_bytes": 5, "tx_bytes": 7},
    },
}


def test_container_points_compute_as_docker_stats_does() -> None:
    points = container_points(DOCKER_STATS, "web-1", "01JDEPLOY")
    values = {p.name: p.value for p in points}
    assert values["container_cpu_percent"] == pytest.approx(20.0)  # 1e9 / 20e9 * 4 * 100
    assert values["container_memory_used_bytes"] == 40_000_000
    assert values["container_memory_limit_bytes"] == 200_000_000
    assert values["container_network_receive_bytes"] == 1005
    assert values["container_network_transmit_bytes"] == 307
    assert all(p.labels == {"container": "web-1", "deployment": "01JDEPLOY"} for p in points)
    first = {**DOCKER_STATS, "precpu_stats": {}}
    assert "container_cpu_percent" not in {p.name for p in container_points(first, "x", "")}


# --- series ----------------------------------------------------------------------------


def sample(host_id: str, at: float, **values: float) -> Sample:
    points = [Point(name, value) for name, value in values.items()]
    points.append(Point("disk_used_percent", values.get("load1", 0) + 1, {"mount": "/"}))
    points.append(Point("disk_used_percent", 5.0, {"mount": "/srv"}))
    return Sample(host_id, at, points)


async def test_series_are_trimmed_to_the_retention(meshkit_redis: Redis) -> None:
    series = Series(meshkit_redis, retention=100)
    now = time.time()
    for age in (500, 150, 99, 50, 0):
        await series.write(sample("h1", now - age, up=1, load1=age))
    found, step = await series.query("h1", "load1", now - 10_000, now + 1)
    assert step is None
    assert [p[1] for p in found[0].points] == [99, 50, 0]
    assert await meshkit_redis.zcard("meshkit:servers:metrics:h1:load1") == 3
    ttl = await meshkit_redis.ttl("meshkit:servers:metrics:h1:load1")
    assert 0 < ttl <= 100


async def test_series_queries_by_range_labels_and_step(meshkit_redis: Redis) -> None:
    series = Series(meshkit_redis, retention=10_000)
    base = 1_000_000.0
    for i in range(10):
        await series.write(sample("h1", base + 10 * i, up=1, load1=float(i)))
    found, _ = await series.query("h1", "load1", base + 20, base + 50)
    assert found[0].labels == {}
    assert found[0].points == [
        (base + 20, 2.0),
        (base + 30, 3.0),
        (base + 40, 4.0),
        (base + 50, 5.0),
    ]
    disks, _ = await series.query("h1", "disk_used_percent", base, base + 100)
    assert [d.labels for d in disks] == [{"mount": "/"}, {"mount": "/srv"}]
    assert [v for _, v in disks[0].points] == [float(i + 1) for i in range(10)]
    averaged, step = await series.query("h1", "load1", base, base + 100, step=40)
    assert step == 40
    assert [v for _, v in averaged[0].points] == [1.5, 5.5, 8.5]  # buckets are epoch-aligned
    assert await series.query("h1", "cpu_percent", base, base + 100) == ([], None)
    assert await series.query("nobody", "load1", base, base + 100) == ([], None)


def test_downsampling_keeps_at_most_the_bucket_count() -> None:
    points = [(float(t), float(t)) for t in range(100)]
    assert downsample(points, 50) == [(0.0, 24.5), (50.0, 74.5)]


def test_series_query_refuses_a_backward_range() -> None:
    with pytest.raises(ValueError, match="since must be before until"):
        SeriesQuery.model_validate(
            {"metric": "up", "since": "2026-01-02T00:00:00Z", "until": "2026-01-01T00:00:00Z"}
        )
    with pytest.raises(ValidationError):
        SeriesQuery.model_validate({"metric": "no_such_metric"})
    with pytest.raises(ValidationError):
        SeriesQuery.model_validate({"metric": "up", "step": 0})


async def test_latest_samples_and_forgetting(meshkit_redis: Redis) -> None:
    series = Series(meshkit_redis, retention=1000)
    await series.write(sample("h2", time.time(), up=1, load1=2))
    await series.write(sample("h1", time.time(), up=0))
    await series.write(sample("old", time.time() - 5000, up=1))
    assert [s.host_id for s in await series.latest()] == ["h1", "h2"]
    assert [s.value("load1") for s in await series.latest(["h2"])] == [2]
    await series.forget("h2")
    assert [s.host_id for s in await series.latest()] == ["h1"]


# --- Prometheus ------------------------------------------------------------------------


def test_prometheus_text_has_host_and_container_gauges() -> None:
    latest = {
        "h1": Sample(
            "h1",
            1.0,
            [
                Point("up", 1.0),
                Point("cpu_percent", 12.5),
                Point("memory_used_bytes", 1e9),
                Point("load1", 0.5),
                Point("disk_used_percent", 40.0, {"mount": "/"}),
                Point("network_receive_bytes_per_second", 10.0, {"interface": "eth0"}),
                *container_points(DOCKER_STATS, "web-1", "01JDEPLOY"),
            ],
        ),
        "h2": Sample("h2", 1.0, [Point("up", 0.0)]),
    }
    registry = CollectorRegistry()
    registry.register(MonitoringCollector(lambda: latest, lambda: {"h1": "alpha", "h2": "beta"}))
    families = {
        f.name: f for f in text_string_to_metric_families(generate_latest(registry).decode())
    }
    up = {s.labels["host"]: s.value for s in families["meshkit_servers_host_up"].samples}
    assert up == {"h1": 1.0, "h2": 0.0}
    (cpu,) = families["meshkit_servers_host_cpu_percent"].samples
    assert cpu.labels == {"host": "h1", "name": "alpha"}
    assert cpu.value == 12.5
    (disk,) = families["meshkit_servers_host_disk_used_percent"].samples
    assert disk.labels["mount"] == "/"
    (net,) = families["meshkit_servers_host_network_receive_bytes_per_second"].samples
    assert net.labels["interface"] == "eth0"
    (container,) = families["meshkit_servers_container_cpu_percent"].samples
    assert container.labels == {
        "host": "h1",
        "name": "alpha",
        "container": "web-1",
        "deployment": "01JDEPLOY",
    }
    assert families["meshkit_servers_container_memory_used_bytes"].type == "gauge"


# --- alerts, driven by a probe the test controls ----------------------------------------


class FakeHost:
    def __init__(self, id: str, labels: dict[str, str] | None = None) -> None:
        self.id, self.name, self.labels, self.engine = id, f"name-{id}", labels or {}, "none"


class Published:
    def __init__(self) -> None:
        self.events: list[tuple[Event, str | None, str | None]] = []

    async def __call__(
        self, event: Event, *, subject: str | None = None, id: str | None = None
    ) -> None:
        self.events.append((event, subject, id))

    def alerts(self) -> list[tuple[str, str, float]]:
        return [
            (e.state, e.subject, e.value) for e, _, _ in self.events if isinstance(e, AlertChanged)
        ]


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    opened = await open_store(make_settings(tmp_path), service="servers")
    await opened.ensure_indexes([AlertRule, Alert, AuditEntry])
    try:
        yield opened
    finally:
        await opened.close()


class World:
    """Hosts whose load the test sets, sampled by a real Sampler on the test Redis."""

    def __init__(self, redis: Redis, store: Store) -> None:
        self.hosts = [FakeHost("h1", {"role": "web"}), FakeHost("h2", {"role": "db"})]
        self.load: dict[str, float] = {"h1": 0.1, "h2": 0.1}
        self.down: set[str] = set()
        self.published = Published()
        self.audit = AuditLog(store)
        self.alerts = Alerts(store, self.audit, self.published)
        self.series = Series(redis, retention=3600)
        self.redis = redis
        self.sampler = self.make_sampler()

    def make_sampler(self) -> Sampler:
        return Sampler(
            redis=self.redis,
            series=self.series,
            hosts=self.list_hosts,
            probe=self.probe,
            alerts=self.alerts,
            interval=1.0,
            timeout=5.0,
        )

    async def list_hosts(self) -> list[FakeHost]:
        return self.hosts

    async def probe(self, host_id: str) -> str:
        if host_id in self.down:
            raise ConnectionRefusedError("down")
        return probe_text(load=f"{self.load[host_id]} 0.2 0.1 1/100 1")

    async def sample(self) -> None:
        for host in self.hosts:
            sample = await self.sampler.sample_host(host)
            await self.alerts.evaluate(
                host, sample, await self.alerts.list_rules(enabled_only=True)
            )


@pytest.fixture
async def world(meshkit_redis: Redis, store: Store) -> World:
    return World(meshkit_redis, store)


def rule(**fields: Any) -> AlertRuleIn:
    body = {"name": "busy", "metric": "load1", "operator": ">", "threshold": 1.0, **fields}
    return AlertRuleIn.model_validate(body)


async def test_an_alert_fires_and_resolves_with_events(world: World) -> None:
    made = await world.alerts.create_rule("alice", rule(host_labels={"role": "web"}))
    await world.sample()
    assert world.published.alerts() == []
    world.load["h1"] = world.load["h2"] = 5.0
    await world.sample()
    assert world.published.alerts() == [("firing", "host:h1", 5.0)]  # h2 is not selected
    await world.sample()  # still crossing: nothing new
    assert len(world.published.alerts()) == 1
    (firing,) = await world.alerts.list_alerts(AlertQuery())
    assert (firing.state, firing.rule_name, firing.host_id) == ("firing", "busy", "h1")
    world.load["h1"] = 0.2
    await world.sample()
    assert world.published.alerts()[1:] == [("resolved", "host:h1", 0.2)]
    (resolved,) = await world.alerts.list_alerts(AlertQuery(state="resolved"))
    assert resolved.resolved_at is not None
    assert resolved.fired_at is not None
    event, subject, event_id = world.published.events[0]
    assert isinstance(event, AlertChanged)
    assert event.rule_id == made.id
    assert subject == "host/h1"
    assert event_id is not None
    assert event_id.startswith(alert_id(made.id, "h1", {}))
    assert event_id != world.published.events[1][2]
    # firing again later is a new event
    world.load["h1"] = 3.0
    await world.sample()
    assert [s for s, _, _ in world.published.alerts()] == ["firing", "resolved", "firing"]


async def test_for_seconds_holds_an_alert_pending(world: World) -> None:
    await world.alerts.create_rule("alice", rule(host_id="h2", for_seconds=3600))
    world.load["h2"] = 9.0
    await world.sample()
    await world.sample()
    (pending,) = await world.alerts.list_alerts(AlertQuery())
    assert pending.state == "pending"
    assert pending.host_id == "h2"
    assert world.published.alerts() == []
    world.load["h2"] = 0.0
    await world.sample()
    assert await world.alerts.list_alerts(AlertQuery()) == []  # pending just goes away
    assert world.published.alerts() == []


async def test_for_seconds_fires_once_the_condition_held_long_enough(world: World) -> None:
    await world.alerts.create_rule("alice", rule(for_seconds=0.3))
    world.load["h1"] = 9.0
    await world.sample()
    assert world.published.alerts() == []
    await asyncio.sleep(0.35)
    await world.sample()
    assert world.published.alerts() == [("firing", "host:h1", 9.0)]


async def test_an_up_rule_fires_for_a_host_that_does_not_answer(world: World) -> None:
    await world.alerts.create_rule(
        "alice", rule(name="down", metric="up", operator="<", threshold=1)
    )
    world.down.add("h2")
    await world.sample()
    assert world.published.alerts() == [("firing", "host:h2", 0.0)]
    (latest,) = [s for s in await world.series.latest() if s.host_id == "h2"]
    assert [p.name for p in latest.points] == ["up"]
    world.down.clear()
    await world.sample()
    assert world.published.alerts()[-1] == ("resolved", "host:h2", 1.0)


async def test_series_labels_watch_each_disk_on_its_own(world: World) -> None:
    await world.alerts.create_rule(
        "alice", rule(name="full", metric="disk_used_percent", threshold=80)
    )
    await world.sample()
    subjects = sorted(s for _, s, _ in world.published.alerts())
    assert subjects == [
        'host:h1{mount="/srv/data with space"}',
        'host:h2{mount="/srv/data with space"}',
    ]
    assert subject_of("h1", {"mount": "/"}) == 'host:h1{mount="/"}'


async def test_deleting_or_disabling_a_rule_resolves_its_alerts(world: World) -> None:
    first = await world.alerts.create_rule("alice", rule(threshold=0.0))
    second = await world.alerts.create_rule("alice", rule(name="other", threshold=0.0))
    await world.sample()
    assert len(world.published.alerts()) == 4
    await world.alerts.patch_rule("bob", first.id, AlertRulePatch(enabled=False))
    await world.alerts.delete_rule("bob", second.id)
    assert sorted(s for s, _, _ in world.published.alerts()[4:]) == ["resolved"] * 4
    states = [a.state for a in await world.alerts.list_alerts(AlertQuery())]
    assert states == ["resolved", "resolved"]  # the deleted rule's alerts are gone
    await world.sample()
    assert len(world.published.alerts()) == 8  # the disabled rule fires no more


async def test_rule_changes_are_audited_and_checked(world: World, store: Store) -> None:
    made = await world.alerts.create_rule("alice", rule())
    with pytest.raises(AlertRuleExists):
        await world.alerts.create_rule("alice", rule())
    patched = await world.alerts.patch_rule("bob", made.id, AlertRulePatch(threshold=7.5))
    assert patched.threshold == 7.5
    assert patched.name == "busy"
    with pytest.raises(ValidationFailed):
        await world.alerts.patch_rule("bob", made.id, AlertRulePatch(series_labels={"mount": "/"}))
    with pytest.raises(AlertRuleNotFound):
        await world.alerts.patch_rule("bob", "01JDZZZZZZZZZZZZZZZZZZZZZZ", AlertRulePatch())
    await world.alerts.delete_rule("bob", made.id)
    with pytest.raises(AlertRuleNotFound):
        await world.alerts.get_rule(made.id)
    entries = (await store.find(AuditEntry, {}, limit=50)).items
    recorded = [(e.actor, e.action, e.outcome) for e in entries]
    assert recorded == [
        ("alice", "monitoring.rules.create", "ok"),
        ("alice", "monitoring.rules.create", "failed"),
        ("bob", "monitoring.rules.update", "ok"),
        ("bob", "monitoring.rules.update", "failed"),
        ("bob", "monitoring.rules.update", "failed"),
        ("bob", "monitoring.rules.delete", "ok"),
    ]
    assert all(e.target.startswith("alert-rule:") for e in entries)


@pytest.mark.parametrize(
    "bad",
    [
        {"metric": "nope"},
        {"operator": "=="},
        {"threshold": "NaN"},
        {"for_seconds": -1},
        {"name": ""},
        {"series_labels": {"mount": "/"}},  # load1 has no mount
        {"host_labels": {"bad key!": "x"}},
        {"surprise": 1},
    ],
)
def test_bad_rules_are_refused(bad: dict[str, Any]) -> None:
    body = {"name": "r", "metric": "load1", "operator": ">", "threshold": 1, **bad}
    with pytest.raises(ValidationError):
        AlertRuleIn.model_validate(body)


async def test_each_host_is_sampled_once_per_interval_across_instances(world: World) -> None:
    other = world.make_sampler()
    probed: list[str] = []
    original = world.probe

    async def counting(host_id: str) -> str:
        probed.append(host_id)
        return await original(host_id)

    world.sampler.probe = other.probe = counting
    # a long interval: both ticks fall in the same slot
    world.sampler.interval = other.interval = 3600.0
    first, second = await asyncio.gather(world.sampler.tick(), other.tick())
    assert sorted(probed) == ["h1", "h2"]
    assert len(first) + len(second) == 2
    await other.refresh()  # (it may have refreshed before the other's sample was stored)
    assert set(world.sampler.latest) == set(other.latest) == {"h1", "h2"}
    assert world.sampler.names == {"h1": "name-h1", "h2": "name-h2"}


async def test_a_failing_host_does_not_stop_the_others(world: World) -> None:
    world.down.add("h1")

    async def slow_or_down(host_id: str) -> str:
        if host_id == "h2":
            await asyncio.sleep(0.01)
        return await World.probe(world, host_id)

    world.sampler.probe = slow_or_down
    samples = {s.host_id: s for s in await world.sampler.tick()}
    assert samples["h1"].value("up") == 0.0
    assert samples["h2"].value("up") == 1.0
    assert samples["h2"].value("memory_total_bytes") == 8_000_000 * 1024


async def test_removed_hosts_leave_the_latest_samples(world: World) -> None:
    await world.sampler.tick()
    assert set(world.sampler.latest) == {"h1", "h2"}
    world.hosts = world.hosts[:1]
    await world.sampler.refresh(known={"h1"})
    assert set(world.sampler.latest) == {"h1"}
    assert [s.host_id for s in await world.series.latest()] == ["h1"]
