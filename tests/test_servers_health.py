"""Health checks, core level: the state machine, each kind of probe against real listeners
and the shared sshd on loopback, events published once per change, the scheduler running
each check once per interval across two instances, and the summary's rollup."""

from __future__ import annotations

import asyncio
import math
import os
import socket
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from redis.asyncio import Redis

from meshkit.contracts.servers import HealthChanged
from meshkit.errors import NotFound, ValidationFailed
from meshkit.events import Event
from meshkit.services.servers.audit import AuditEntry, AuditLog
from meshkit.services.servers.errors import CheckNotFound
from meshkit.services.servers.health import (
    CheckDefinition,
    Checks,
    HealthScheduler,
    HealthStates,
    Prober,
    Subjects,
)
from meshkit.services.servers.health.models import (
    CheckIn,
    CheckPatch,
    CheckQuery,
    CheckState,
    ProbeResult,
)
from meshkit.services.servers.health.state import advance, decide
from meshkit.services.servers.health.wiring import published_port
from meshkit.services.servers.ssh import SshPool, SshTarget
from meshkit.store import Store, open_store
from meshkit.testing import eventually, free_ports, make_settings
from tests.servers_env import SshHost, sshd  # noqa: F401  (fixture)

LOCAL = "127.0.0.1"


# --- the state machine ---------------------------------------------------------------


def result(ok: bool, latency: float = 1.0) -> ProbeResult:
    return ProbeResult(ok=ok, latency_ms=latency, detail="x", at=datetime.now(UTC))


def walk(outcomes: list[bool | float], **thresholds: Any) -> list[str]:
    """The states after each outcome (``True``/``False``, or a latency for a success)."""
    options: dict[str, Any] = {
        "failures_to_down": 3,
        "successes_to_up": 2,
        "degraded_latency_ms": None,
    }
    options.update(thresholds)
    state, seen = CheckState(), list[str]()
    for outcome in outcomes:
        each = result(True, float(outcome)) if not isinstance(outcome, bool) else result(outcome)
        state = advance(state, each, **options)
        seen.append(state.state)
    return seen


def test_a_new_check_is_up_after_enough_successes() -> None:
    assert walk([True, True, True]) == ["unknown", "up", "up"]
    assert walk([True], successes_to_up=1) == ["up"]


def test_one_failure_degrades_and_enough_in_a_row_is_down() -> None:
    assert walk([True, True, False, False, False]) == [
        "unknown",
        "up",
        "degraded",
        "degraded",
        "down",
    ]


def test_coming_back_takes_successes_in_a_row() -> None:
    states = walk([True, True, False, False, False, True, False, True, True])
    assert states[4:] == ["down", "down", "down", "down", "up"]


def test_a_flap_stays_degraded_until_enough_successes() -> None:
    assert walk([True, True, False, True, True, True]) == [
        "unknown",
        "up",
        "degraded",
        "degraded",
        "up",
        "up",
    ]


def test_a_slow_success_is_degraded_while_it_is_slow() -> None:
    states = walk([True, True, 500.0, 500.0, 5.0], degraded_latency_ms=100)
    assert states == ["unknown", "up", "degraded", "degraded", "up"]
    # slow successes still count towards coming back from down
    states = walk([False, False, False, 500.0, 500.0], degraded_latency_ms=100)
    assert states[2:] == ["down", "down", "degraded"]


def test_a_new_check_failing_goes_down_without_being_up() -> None:
    assert walk([False, False, False]) == ["unknown", "unknown", "down"]
    current = CheckState(state="down", failures=5)
    assert (
        decide(
            current, result(True), failures_to_down=3, successes_to_up=1, degraded_latency_ms=None
        )
        == "up"
    )


# --- parts ---------------------------------------------------------------------------


@dataclass
class Parts:
    store: Store
    redis: Redis
    checks: Checks
    events: list[tuple[str, HealthChanged]] = field(default_factory=list)
    hosts: dict[str, str] = field(default_factory=dict)
    targets: dict[str, SshTarget] = field(default_factory=dict)
    deployments: dict[str, tuple[str, dict[int, int]]] = field(default_factory=dict)

    def changes(self) -> list[tuple[str, str]]:
        return [(e.previous, e.state) for _, e in self.events]


def make_checks(
    store: Store,
    redis: Redis,
    parts_hosts: dict[str, str],
    targets: dict[str, SshTarget],
    deployments: dict[str, tuple[str, dict[int, int]]],
    events: list[Any],
    pool: SshPool,
) -> Checks:
    async def host_address(host_id: str) -> str:
        if host_id not in parts_hosts:
            raise NotFound(f"no host {host_id}")
        return parts_hosts[host_id]

    async def host_target(host_id: str) -> SshTarget:
        if host_id not in targets:
            raise NotFound(f"no host {host_id}")
        return targets[host_id]

    async def deployment_host(deployment_id: str, port: int | None) -> tuple[str, int | None]:
        if deployment_id not in deployments:
            raise NotFound(f"no deployment {deployment_id}")
        host_id, ports = deployments[deployment_id]
        return host_id, None if port is None else ports.get(port)

    async def publish(event: Event, *, subject: str | None = None, id: str | None = None) -> None:
        assert isinstance(event, HealthChanged)
        assert id is not None
        assert subject == event.subject
        events.append((id, event))

    async def run(target: SshTarget, command: str, limit: float) -> Any:
        return await pool.run(target, command, time_limit=limit)

    subjects = Subjects(host_address, host_target, deployment_host)
    return Checks(
        store,
        HealthStates(redis, history_size=10),
        Prober(subjects, run),
        AuditLog(store),
        publish,
    )


@pytest.fixture
async def parts(tmp_path: Path, meshkit_redis: Redis) -> AsyncIterator[Parts]:
    store = await open_store(make_settings(tmp_path), service="servers")
    await store.ensure_indexes([CheckDefinition, AuditEntry])
    pool = SshPool(connect_timeout=5)
    hosts = {"h1": LOCAL}
    targets: dict[str, SshTarget] = {}
    deployments: dict[str, tuple[str, dict[int, int]]] = {}
    events: list[tuple[str, HealthChanged]] = []
    checks = make_checks(store, meshkit_redis, hosts, targets, deployments, events, pool)
    try:
        yield Parts(store, meshkit_redis, checks, events, hosts, targets, deployments)
    finally:
        await checks.prober.close()
        await pool.close()
        await store.close()


@dataclass
class Flippable:
    """An HTTP server on 127.0.0.1 whose ``/healthz`` answers ``status`` (and ``body``)."""

    port: int
    status: int = 200
    body: str = "all good"
    followed: int = 0
    runner: web.AppRunner | None = None

    async def start(self) -> None:
        async def healthz(request: web.Request) -> web.Response:
            return web.Response(status=self.status, text=self.body)

        async def moved(request: web.Request) -> web.Response:
            raise web.HTTPFound("/elsewhere")

        async def elsewhere(request: web.Request) -> web.Response:
            self.followed += 1
            return web.Response(text="followed")

        app = web.Application()
        app.router.add_get("/healthz", healthz)
        app.router.add_get("/moved", moved)
        app.router.add_get("/elsewhere", elsewhere)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        await web.TCPSite(self.runner, LOCAL, self.port).start()

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()
            self.runner = None


@pytest.fixture
async def web_server() -> AsyncIterator[Flippable]:
    server = Flippable(free_ports(1)[0])
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


def http_check(port: int, name: str = "web", **more: Any) -> CheckIn:
    body: dict[str, Any] = {
        "name": name,
        "subject": "host:h1",
        "probe": {"kind": "http", "port": port, "path": "/healthz"},
        "failures_to_down": 3,
        "successes_to_up": 2,
        **more,
    }
    return CheckIn.model_validate(body)


# --- http ----------------------------------------------------------------------------


async def test_http_check_goes_up_degraded_down_and_up_with_one_event_each(
    parts: Parts, web_server: Flippable
) -> None:
    check = await parts.checks.create("admin", http_check(web_server.port))
    assert check.status.state == "unknown"
    run = parts.checks.run

    async def states(count: int) -> list[str]:
        return [(await run(check.id)).status.state for _ in range(count)]

    assert await states(2) == ["unknown", "up"]
    web_server.status = 500
    assert await states(3) == ["degraded", "degraded", "down"]
    web_server.status = 200
    assert await states(1) == ["down"]
    await web_server.stop()  # refused connections are failures too
    failed = await run(check.id)
    assert not failed.result.ok
    assert failed.status.state == "down"
    assert failed.status.successes == 0
    await web_server.start()
    assert await states(2) == ["down", "up"]

    assert parts.changes() == [
        ("unknown", "up"),
        ("up", "degraded"),
        ("degraded", "down"),
        ("down", "up"),
    ]
    ids = [i.rsplit(":", 1)[0] for i, _ in parts.events]
    assert ids == [f"health:{check.id}:{n}" for n in (1, 2, 3, 4)]
    assert len({i for i, _ in parts.events}) == 4
    down = parts.events[2][1]
    assert down.check_name == "web"
    assert down.subject == "host:h1"
    assert "HTTP 500" in down.detail

    history = await parts.checks.history(check.id, 10)
    assert [(h.number, h.previous, h.state) for h in history] == [
        (4, "down", "up"),
        (3, "degraded", "down"),
        (2, "up", "degraded"),
        (1, "unknown", "up"),
    ]
    assert [h.number for h in await parts.checks.history(check.id, 2)] == [4, 3]


async def test_http_expectations_status_range_body_and_no_redirects(
    parts: Parts, web_server: Flippable
) -> None:
    wanted = await parts.checks.create(
        "admin",
        http_check(
            web_server.port,
            "body",
            probe={
                "kind": "http",
                "url": f"http://{LOCAL}:{web_server.port}/healthz",
                "body_contains": "good",
                "status_min": 200,
                "status_max": 204,
            },
        ),
    )
    first = await parts.checks.run(wanted.id)
    assert first.result.ok, first.result
    web_server.body = "all bad"
    second = await parts.checks.run(wanted.id)
    assert not second.result.ok
    assert "without the expected text" in second.result.detail
    web_server.status, web_server.body = 302, "good"
    third = await parts.checks.run(wanted.id)
    assert not third.result.ok
    assert "HTTP 302" in third.result.detail

    # a redirect is an answer: it is never followed
    moved = await parts.checks.create(
        "admin",
        http_check(
            web_server.port,
            "moved",
            probe={
                "kind": "http",
                "port": web_server.port,
                "path": "/moved",
            },
        ),
    )
    answer = await parts.checks.run(moved.id)
    assert answer.result.ok, answer.result
    assert "HTTP 302" in answer.result.detail, answer.result
    assert web_server.followed == 0


async def test_slow_answers_are_degraded(parts: Parts, web_server: Flippable) -> None:
    check = await parts.checks.create(
        "admin", http_check(web_server.port, successes_to_up=1, degraded_latency_ms=1)
    )
    original = parts.checks.prober.probe

    async def slow(check: CheckDefinition) -> ProbeResult:
        found = await original(check)
        return found.model_copy(update={"latency_ms": found.latency_ms + 50})

    parts.checks.prober.probe = slow  # type: ignore[method-assign]
    out = await parts.checks.run(check.id)
    assert out.result.ok
    assert out.status.state == "degraded"


# --- tcp -----------------------------------------------------------------------------


async def test_tcp_check_against_a_listening_and_a_closed_port(parts: Parts) -> None:
    listener = socket.create_server((LOCAL, 0))
    port = listener.getsockname()[1]
    try:
        body = CheckIn.model_validate(
            {
                "name": "tcp",
                "subject": "host:h1",
                "probe": {"kind": "tcp", "port": port},
                "failures_to_down": 1,
                "successes_to_up": 1,
            }
        )
        check = await parts.checks.create("admin", body)
        out = await parts.checks.run(check.id)
        assert out.result.ok, out.result
        assert out.status.state == "up", out.result
    finally:
        listener.close()
    out = await parts.checks.run(check.id)
    assert not out.result.ok, out.result
    assert out.status.state == "down", out.result
    # host:port given explicitly
    other = socket.create_server((LOCAL, 0))
    try:
        await parts.checks.patch(
            "admin",
            check.id,
            CheckPatch.model_validate(
                {"probe": {"kind": "tcp", "host": LOCAL, "port": other.getsockname()[1]}}
            ),
        )
        out = await parts.checks.run(check.id)
        assert out.result.ok
        assert out.status.state == "up"
    finally:
        other.close()
    assert parts.changes() == [("unknown", "up"), ("up", "down"), ("down", "up")]


async def test_a_deployment_subject_uses_its_published_port(parts: Parts) -> None:
    listener = socket.create_server((LOCAL, 0))
    published = listener.getsockname()[1]
    parts.deployments["d1"] = ("h1", {80: published})
    try:
        body = CheckIn.model_validate(
            {
                "name": "dep",
                "subject": "deployment:d1",
                "probe": {"kind": "tcp", "port": 80},
                "successes_to_up": 1,
            }
        )
        check = await parts.checks.create("admin", body)
        out = await parts.checks.run(check.id)
        assert out.result.ok
        assert f":{published}" in out.result.detail
        await parts.checks.patch(
            "admin", check.id, CheckPatch.model_validate({"probe": {"kind": "tcp", "port": 81}})
        )
        out = await parts.checks.run(check.id)
        assert not out.result.ok
        assert "publishes no host port" in out.result.detail
    finally:
        listener.close()
    assert (
        published_port(
            {
                "containers": [
                    {"state": "running", "ports": [{"container_port": 80, "host_port": 5}]}
                ],
                "spec": {"ports": [{"container_port": 80, "host_port": None}]},
            },
            80,
        )
        == 5
    )


# --- command over SSH ------------------------------------------------------------------


def touch(path: Path) -> None:
    path.touch()


def remove(path: Path) -> None:
    path.unlink(missing_ok=True)


async def test_command_check_over_ssh(parts: Parts, sshd: SshHost) -> None:  # noqa: F811
    parts.hosts["ssh"] = sshd.address
    parts.targets["ssh"] = sshd.target("ssh")
    marker = Path(f"/tmp/meshkit-health-{os.getpid()}")
    remove(marker)
    body = CheckIn.model_validate(
        {
            "name": "marker",
            "subject": "host:ssh",
            "probe": {"kind": "command", "command": f"test -f {marker}"},
            "failures_to_down": 1,
            "successes_to_up": 1,
            "timeout": 10,
        }
    )
    check = await parts.checks.create("admin", body)
    try:
        out = await parts.checks.run(check.id)
        assert not out.result.ok, out.result
        assert out.status.state == "down", out.result
        assert "exited 1" in out.result.detail
        touch(marker)
        out = await parts.checks.run(check.id)
        assert out.result.ok, out.result
        assert out.status.state == "up", out.result
    finally:
        remove(marker)
    # a command past the check's timeout fails
    await parts.checks.patch(
        "admin",
        check.id,
        CheckPatch.model_validate(
            {"probe": {"kind": "command", "command": "sleep 30"}, "timeout": 0.5}
        ),
    )
    out = await parts.checks.run(check.id)
    assert not out.result.ok, out.result
    assert "timed out" in out.result.detail, out.result
    # the host is gone: a failed result, not an error
    del parts.targets["ssh"]
    out = await parts.checks.run(check.id)
    assert not out.result.ok
    assert "does not exist" in out.result.detail


# --- definitions, audit, summary --------------------------------------------------------


async def test_unknown_subjects_and_checks(parts: Parts) -> None:
    body = CheckIn.model_validate(
        {"name": "x", "subject": "host:nope", "probe": {"kind": "tcp", "port": 1}}
    )
    with pytest.raises(ValidationFailed) as caught:
        await parts.checks.create("admin", body)
    assert caught.value.errors[0]["loc"] == ["body", "subject"]
    for call in (
        parts.checks.get("nope"),
        parts.checks.run("nope", "admin"),
        parts.checks.history("nope", 5),
        parts.checks.delete("admin", "nope"),
    ):
        with pytest.raises(CheckNotFound):
            await call
    audit = await parts.store.find(AuditEntry, {"outcome": "failed"})
    assert {e.action for e in audit.items} == {"checks.create", "checks.run", "checks.delete"}


async def test_changes_are_audited_and_delete_forgets_state(
    parts: Parts, web_server: Flippable
) -> None:
    check = await parts.checks.create("alice", http_check(web_server.port, successes_to_up=1))
    await parts.checks.run(check.id, "alice")
    await parts.checks.patch("alice", check.id, CheckPatch(interval=60))
    assert (await parts.checks.get(check.id)).interval == 60
    assert (await parts.checks.get(check.id)).status.state == "up"
    await parts.checks.delete("alice", check.id)
    assert not await parts.redis.keys(f"meshkit:servers:health:*{check.id}*")
    entries = await parts.store.find(AuditEntry, {"target": f"check:{check.id}"})
    assert [e.action for e in entries.items] == [
        "checks.create",
        "checks.run",
        "checks.update",
        "checks.delete",
    ]
    assert {e.actor for e in entries.items} == {"alice"}


async def test_summary_counts_and_rolls_up_per_subject(parts: Parts, web_server: Flippable) -> None:
    parts.hosts["h2"] = LOCAL
    closed = free_ports(1)[0]
    quick = {"failures_to_down": 1, "successes_to_up": 1}
    good = await parts.checks.create("a", http_check(web_server.port, "good", **quick))
    bad = await parts.checks.create(
        "a",
        CheckIn.model_validate(
            {"name": "bad", "subject": "host:h1", "probe": {"kind": "tcp", "port": closed}, **quick}
        ),
    )
    other = await parts.checks.create("a", http_check(web_server.port, "other", subject="host:h2"))
    await parts.checks.create(
        "a",
        CheckIn.model_validate(
            {
                "name": "off",
                "subject": "host:h2",
                "probe": {"kind": "tcp", "port": closed},
                "enabled": False,
            }
        ),
    )
    for check in (good, bad, other):
        await parts.checks.run(check.id)
    summary = await parts.checks.summary()
    assert summary.counts == {"unknown": 1, "up": 1, "degraded": 0, "down": 1}
    by_name = {c.name: c for c in summary.checks}
    assert by_name["bad"].state == "down"
    assert by_name["off"].enabled is False
    assert by_name["good"].detail
    assert "HTTP 200" in by_name["good"].detail
    rolled = {s.subject: s for s in summary.subjects}
    assert rolled["host:h1"].state == "down"
    assert rolled["host:h1"].checks == {"unknown": 0, "up": 1, "degraded": 0, "down": 1}
    assert rolled["host:h2"].state == "unknown"  # "off" is disabled: not rolled up
    listed = await parts.checks.page(CheckQuery(subject="host:h2"))
    assert [c.name for c in listed] == ["other", "off"]


# --- state shared by instances, the scheduler -------------------------------------------


async def test_concurrent_runs_count_every_result_once(parts: Parts, web_server: Flippable) -> None:
    check = await parts.checks.create("a", http_check(web_server.port))
    await asyncio.gather(*(parts.checks.run(check.id) for _ in range(20)))
    state = (await parts.checks.get(check.id)).status
    assert state.runs == 20
    assert state.successes == 20
    assert state.transitions == 1
    assert parts.changes() == [("unknown", "up")]


async def test_two_schedulers_run_each_check_once_per_interval(
    parts: Parts, web_server: Flippable, tmp_path: Path
) -> None:
    check = await parts.checks.create("a", http_check(web_server.port, interval=1))
    seen: list[datetime] = []
    schedulers = []
    for _ in range(2):
        original = parts.checks.prober.probe

        async def counted(
            c: CheckDefinition, original: Callable[..., Any] = original
        ) -> ProbeResult:
            found: ProbeResult = await original(c)
            seen.append(found.at)
            return found

        instance = Checks(
            parts.store,
            parts.checks.states,
            Prober(parts.checks.prober.subjects, None),
            parts.checks.audit,
            parts.checks.publish,
        )
        instance.prober.probe = counted  # type: ignore[method-assign, assignment]
        scheduler = HealthScheduler(instance, parts.redis, every=0.05, concurrency=2)
        schedulers.append((instance, scheduler))
    started = time.time()
    for _, scheduler in schedulers:
        scheduler.start()
    try:
        await eventually(lambda: len(seen) >= 3, within=15, what="three scheduled runs")
    finally:
        for instance, scheduler in schedulers:
            await scheduler.stop()
            await instance.prober.close()
    ended = time.time()
    slots = math.floor(ended / check.interval) - math.floor(started / check.interval) + 1
    assert len(seen) <= slots, (len(seen), slots)  # once per slot, not once per tick each
    state = (await parts.checks.get(check.id)).status
    assert state.runs == len(seen)
    assert state.state == "up"


async def test_subjects_of_reads_the_hosts_registry_and_deployments() -> None:
    from types import SimpleNamespace

    from meshkit.services.servers.health import subjects_of

    class Hosts:
        async def get(self, host_id: str) -> Any:
            if host_id != "h1":
                raise NotFound("no host")
            return SimpleNamespace(address="127.0.0.5")

        async def target(self, host_id: str) -> SshTarget:
            await self.get(host_id)
            return SshTarget(host_id, "127.0.0.5", 22, "root", "key")

    class Deployments:
        async def get(self, deployment_id: str) -> Any:
            if deployment_id != "d1":
                raise NotFound("no deployment")
            return SimpleNamespace(host_id="h1")

        async def describe(self, deployment_id: str, *, containers: bool = True) -> Any:
            await self.get(deployment_id)
            replica = {"state": "running", "ports": [{"container_port": 80, "host_port": 3}]}
            return SimpleNamespace(host_id="h1", spec={"ports": []}, containers=[replica])

    subjects = subjects_of(Hosts(), Deployments())
    assert await subjects.exists("host:h1")
    assert await subjects.exists("deployment:d1")
    assert not await subjects.exists("host:h2")
    assert not await subjects.exists("deployment:d2")
    assert await subjects.endpoint("deployment:d1", 80) == ("127.0.0.5", 3)
    assert await subjects.endpoint("host:h1", 8080) == ("127.0.0.5", 8080)
    assert (await subjects.target("deployment:d1")).host_id == "h1"
    assert not await subjects_of(Hosts()).exists("deployment:d1")
