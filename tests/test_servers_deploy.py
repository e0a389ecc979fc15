"""Deployments on a real Docker Engine (the ``dockerd`` fixture): deploy, scale, logs,
rolling updates that roll back by themselves without downtime, history, images, and the
SSH-forwarded engine of a remote host (the ``sshd`` fixture)."""

from __future__ import annotations

import asyncio
import contextlib
import io
import subprocess
import tarfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from meshkit.contracts.servers import DeploymentChanged
from meshkit.errors import ValidationFailed
from meshkit.events import Event
from meshkit.services.servers.audit import AuditEntry, AuditLog
from meshkit.services.servers.deploy.deployments import Deployments
from meshkit.services.servers.deploy.engines import Engines
from meshkit.services.servers.deploy.images import Images
from meshkit.services.servers.deploy.models import (
    Deployment,
    DeploymentSpec,
    DeploymentVersion,
    LogQuery,
)
from meshkit.services.servers.errors import (
    DeploymentBusy,
    DeploymentExists,
    DeploymentNotFound,
    ImageUnavailable,
)
from meshkit.services.servers.redact import MASK
from meshkit.services.servers.ssh import SshPool
from meshkit.store import Store
from meshkit.store.sqlite import SQLiteStore
from meshkit.testing import eventually, free_ports
from tests.servers_env import BUSYBOX, Engine, SshHost, dockerd, sshd

__all__ = ["dockerd", "sshd"]

SECRET = "s3cret-value-of-the-db"


@dataclass(frozen=True)
class FakeHost:
    id: str
    engine: str = "local"
    engine_socket: str | None = None


class Rig:
    """The core on a fresh store, the session's engine, and what it published."""

    def __init__(self, store: Store, engine: Engine, hosts: dict[str, FakeHost]) -> None:
        self.store = store
        self.engine = engine
        self.hosts = hosts
        self.events: list[DeploymentChanged] = []
        self.audit = AuditLog(store)
        self.engines = Engines(local_engine=engine.url)
        self.deployments = Deployments(
            store,
            self.engines,
            self.host_of,
            self.audit,
            self.publish,
            ready_seconds=0.5,
            stop_timeout=1,
        )
        self.images = Images(self.engines, self.host_of, self.audit)

    async def host_of(self, host_id: str) -> FakeHost:
        return self.hosts[host_id]

    async def publish(self, event: Event, *, subject: str | None = None, id: str | None = None):
        assert isinstance(event, DeploymentChanged)
        self.events.append(event)

    def actions(self) -> list[str]:
        return [e.action for e in self.events]

    async def audit_actions(self) -> list[tuple[str, str]]:
        found = await self.store.find(AuditEntry, limit=1000)
        return [(e.action, e.outcome) for e in found.items]


@pytest.fixture
async def rig(tmp_path: Path, dockerd: Engine) -> AsyncIterator[Rig]:
    store = await SQLiteStore.open(tmp_path / "servers.sqlite3")
    await store.ensure_indexes([Deployment, DeploymentVersion, AuditEntry])
    made = Rig(store, dockerd, {"local": FakeHost("local")})
    try:
        yield made
    finally:
        await made.deployments.close()
        async for deployment in store.scan(Deployment):
            with contextlib.suppress(Exception):
                await made.deployments.remove("cleanup", deployment.id)
        await made.engines.close()
        await store.close()


def web_spec(name: str, message: str = "v1", **changes: Any) -> DeploymentSpec:
    """busybox httpd serving ``$MESSAGE`` on 8080, healthy when it answers."""
    data: dict[str, Any] = {
        "name": name,
        "host_id": "local",
        "image": BUSYBOX,
        "pull": "never",
        "command": [
            "sh",
            "-c",
            'echo "$MESSAGE" > /www/index.html && exec httpd -f -p 8080 -h /www',
        ],
        "env": {"MESSAGE": message, "DB_PASSWORD": SECRET},
        "ports": [{"container_port": 8080}],
        "health": {
            "command": "wget -q -O- http://127.0.0.1:8080/",
            "interval": 0.2,
            "timeout": 2,
            "retries": 2,
            "ready_timeout": 20,
        },
        "replicas": 1,
        "labels": {"team": "ops"},
    }
    data.update(changes)
    return DeploymentSpec.model_validate(data)


async def fetch(session: aiohttp.ClientSession, port: int) -> str:
    async with session.get(f"http://127.0.0.1:{port}/") as response:
        assert response.status == 200
        return (await response.text()).strip()


async def ports_of(rig: Rig, deployment_id: str, *, version: int | None = None) -> list[int]:
    out = await rig.deployments.describe(deployment_id)
    assert out.containers is not None
    return [
        p.host_port
        for c in out.containers
        if version is None or c.version == version
        for p in c.ports
        if p.container_port == 8080
    ]


async def healthy(rig: Rig, deployment_id: str, count: int) -> None:
    async def check() -> bool:
        out = await rig.deployments.describe(deployment_id)
        assert out.containers is not None
        return len(out.containers) == count and all(c.health == "healthy" for c in out.containers)

    await eventually(check, within=30, what=f"{count} healthy replicas")


async def test_deploy_serves_on_loopback_and_scales(rig: Rig) -> None:
    out = await rig.deployments.deploy("alice", web_spec("web"))
    assert out.current_version == 1
    assert out.status == "running"
    assert out.spec["env"] == {"MESSAGE": "v1", "DB_PASSWORD": MASK}
    await healthy(rig, out.id, 1)
    described = await rig.deployments.describe(out.id)
    assert described.containers is not None
    (container,) = described.containers
    assert container.name == "web-v1-0"
    assert container.state == "running"
    assert container.ports[0].host_ip == "127.0.0.1"
    labels = rig.engine.docker("inspect", "-f", "{{json .Config.Labels}}", container.container_id)
    assert f'"meshkit.deployment":"{out.id}"' in labels
    assert '"meshkit.version":"1"' in labels
    assert '"meshkit.replica":"0"' in labels
    async with aiohttp.ClientSession() as session:
        assert await fetch(session, container.ports[0].host_port) == "v1"

        scaled = await rig.deployments.scale("alice", out.id, 3)
        assert scaled.replicas == 3
        await healthy(rig, out.id, 3)
        ports = await ports_of(rig, out.id)
        assert len(set(ports)) == 3
        for port in ports:
            assert await fetch(session, port) == "v1"

        await rig.deployments.scale("alice", out.id, 1)
        await healthy(rig, out.id, 1)
    with pytest.raises(DeploymentExists):
        await rig.deployments.deploy("alice", web_spec("web"))
    assert rig.actions() == ["deployed", "scaled", "scaled"]
    audit = await rig.audit_actions()
    assert ("deployments.create", "ok") in audit
    assert ("deployments.create", "failed") in audit
    assert SECRET not in str(await rig.store.find(AuditEntry, limit=1000))


async def test_logs_and_follow(rig: Rig) -> None:
    spec = DeploymentSpec.model_validate(
        {
            "name": "talker",
            "host_id": "local",
            "image": BUSYBOX,
            "pull": "never",
            "command": [
                "sh",
                "-c",
                'i=0; while true; do echo "line $i token=$API_TOKEN"; i=$((i+1)); sleep 0.1; done',
            ],
            "env": {"API_TOKEN": SECRET},
        }
    )
    out = await rig.deployments.deploy("alice", spec)

    async def some_lines() -> bool:
        return len(await rig.deployments.logs(out.id, LogQuery(tail=5))) == 5

    await eventually(some_lines, what="log lines")
    lines = await rig.deployments.logs(out.id, LogQuery(tail=5))
    assert all(line.replica == 0 and line.version == 1 for line in lines)
    assert all(SECRET not in line.text and MASK in line.text for line in lines)
    last = int(lines[-1].text.split()[1])

    stream = await rig.deployments.follow(out.id, LogQuery(tail=1))
    seen: list[int] = []
    async with contextlib.aclosing(stream):
        async for line in stream:
            assert SECRET not in line.text
            seen.append(int(line.text.split()[1]))
            if len(seen) >= 5:
                break
    assert max(seen) > last, "follow got lines written after it started"
    with pytest.raises(DeploymentNotFound):
        await rig.deployments.follow("nope", LogQuery())


async def test_rolling_update_and_automatic_rollback_without_downtime(rig: Rig) -> None:
    out = await rig.deployments.deploy("alice", web_spec("app", replicas=2))
    await healthy(rig, out.id, 2)

    # a good version replaces the old containers
    good = await rig.deployments.update("bob", out.id, web_spec("app", "v2", replicas=2))
    assert good.status == "active"
    assert good.number == 2
    await healthy(rig, out.id, 2)
    described = await rig.deployments.describe(out.id)
    assert described.containers is not None
    assert {c.version for c in described.containers} == {2}
    assert described.current_version == 2
    async with aiohttp.ClientSession() as session:
        old_ports = await ports_of(rig, out.id)
        for port in old_ports:
            assert await fetch(session, port) == "v2"

        # a version whose health check never passes: rolled back, the old ones served
        failures: list[str] = []
        answers = 0
        stop = asyncio.Event()

        async def poll() -> None:
            nonlocal answers
            while not stop.is_set():
                for port in old_ports:
                    try:
                        assert await fetch(session, port) == "v2"
                        answers += 1
                    except Exception as exc:  # any failure is downtime
                        failures.append(repr(exc))
                await asyncio.sleep(0.02)

        poller = asyncio.create_task(poll())
        bad_health = {"command": "test -f /tmp/never", "interval": 0.2, "retries": 2}
        bad = web_spec("app", "v3", replicas=2, health=bad_health)
        failed = await rig.deployments.update("bob", out.id, bad, reason="try v3")
        stop.set()
        await poller
        assert failed.status == "failed"
        assert failed.number == 3
        assert failed.failure is not None
        assert "health check failed" in failed.failure
        assert failures == []
        assert answers > 0
        after = await rig.deployments.describe(out.id)
        assert after.current_version == 2
        assert after.rollout_version is None
        assert after.containers is not None
        assert {c.version for c in after.containers} == {2}
        assert sorted(await ports_of(rig, out.id)) == sorted(old_ports)
    assert rig.actions()[-1] == "rolled_back"
    assert ("deployments.rollback", "ok") in await rig.audit_actions()

    # the history keeps every version and what changed, secrets masked
    history = await rig.deployments.history(out.id)
    assert [(v.number, v.status) for v in history] == [
        (3, "failed"),
        (2, "active"),
        (1, "superseded"),
    ]
    changes = {c.field: c for c in history[0].diff}
    assert changes["health.command"].before == "wget -q -O- http://127.0.0.1:8080/"
    assert changes["health.command"].after == "test -f /tmp/never"
    assert changes["env.MESSAGE"].before == "v2"
    assert changes["env.MESSAGE"].after == "v3"
    assert "env.DB_PASSWORD" not in changes
    assert history[0].reason == "try v3"
    assert SECRET not in repr(history)

    # a manual rollback to version 1 is a new version with version 1's spec
    back = await rig.deployments.rollback("carol", out.id, 1)
    assert back.status == "active"
    assert back.number == 4
    assert back.source == "rollback:1"
    assert back.spec == (await rig.deployments.version(out.id, 1)).spec
    await healthy(rig, out.id, 2)
    async with aiohttp.ClientSession() as session:
        for port in await ports_of(rig, out.id):
            assert await fetch(session, port) == "v1"

    # update_env (the configs part): a new version with the env, secrets still masked
    env = {"MESSAGE": "from-config", "DB_PASSWORD": "rotated-" + SECRET}
    by_env = await rig.deployments.update_env(out.id, env, "config", reason="config v7")
    assert by_env.status == "active"
    assert by_env.source == "env"
    assert by_env.number == 5
    changes = {c.field: c for c in by_env.diff}
    assert changes["env.DB_PASSWORD"].before == MASK == changes["env.DB_PASSWORD"].after
    async with aiohttp.ClientSession() as session:
        for port in await ports_of(rig, out.id):
            assert await fetch(session, port) == "from-config"

    # remove: every container gone
    await rig.deployments.remove("alice", out.id)
    assert f"meshkit.deployment={out.id}" not in rig.engine.docker(
        "ps", "-a", "--format", "{{.Labels}}"
    )
    with pytest.raises(DeploymentNotFound):
        await rig.deployments.get(out.id)
    assert rig.actions()[-1] == "removed"


async def test_a_container_that_exits_rolls_back_and_busy_is_refused(rig: Rig) -> None:
    out = await rig.deployments.deploy("alice", web_spec("crashy"))
    await healthy(rig, out.id, 1)
    crash = web_spec("crashy", "v2", command=["sh", "-c", "exit 3"], health=None)
    pending = await rig.deployments.update("bob", out.id, crash, wait=False)
    assert pending.status == "rolling_out"
    with pytest.raises(DeploymentBusy):
        await rig.deployments.scale("bob", out.id, 2)
    task = rig.deployments._rollouts[out.id]
    done = await task
    assert done.status == "failed"
    assert done.failure is not None
    assert "exited" in done.failure
    described = await rig.deployments.describe(out.id)
    assert described.containers is not None
    assert [(c.version, c.state) for c in described.containers] == [(1, "running")]


async def test_pull_from_an_unreachable_registry_is_a_clear_problem(rig: Rig) -> None:
    with pytest.raises(ImageUnavailable) as raised:
        await rig.images.pull("alice", "local", "127.0.0.1:1/x:1")
    assert "127.0.0.1:1/x:1" in raised.value.detail
    spec = web_spec("pulled", image="127.0.0.1:1/x:1", pull="missing")
    with pytest.raises(ImageUnavailable):
        await rig.deployments.deploy("alice", spec)
    assert await rig.store.count(Deployment) == 0


def _context(dockerfile: str, files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in {"Dockerfile": dockerfile.encode(), **files}.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


async def test_build_from_a_context_and_load_a_saved_image(rig: Rig, tmp_path: Path) -> None:
    context = _context(
        f"FROM {BUSYBOX}\nCOPY hello.txt /www/index.html\n", {"hello.txt": b"built here\n"}
    )
    result = await rig.images.build("alice", "local", context, "meshkit-test/built:1", "Dockerfile")
    assert result.images == ["meshkit-test/built:1"]
    tags = [t for image in await rig.images.images("local") for t in image.tags]
    assert "meshkit-test/built:1" in tags
    spec = web_spec(
        "built",
        image="meshkit-test/built:1",
        command=["httpd", "-f", "-p", "8080", "-h", "/www"],
    )
    out = await rig.deployments.deploy("alice", spec)
    await healthy(rig, out.id, 1)
    async with aiohttp.ClientSession() as session:
        (port,) = await ports_of(rig, out.id)
        assert await fetch(session, port) == "built here"

    bad = _context("FROM meshkit-test/missing:0\n", {})
    from meshkit.services.servers.errors import BuildFailed

    with pytest.raises(BuildFailed):
        await rig.images.build("alice", "local", bad, "meshkit-test/bad:1", "Dockerfile")

    saved = tmp_path / "saved.tar"
    rig.engine.docker("tag", BUSYBOX, "meshkit-test/saved:1")
    rig.engine.docker("save", "-o", str(saved), "meshkit-test/saved:1")
    rig.engine.docker("rmi", "meshkit-test/saved:1")
    loaded = await rig.images.load("alice", "local", saved.read_bytes())
    assert loaded.images == ["meshkit-test/saved:1"]
    tags = [t for image in await rig.images.images("local") for t in image.tags]
    assert "meshkit-test/saved:1" in tags
    from meshkit.services.servers.errors import BadImageArchive

    with pytest.raises(BadImageArchive):
        await rig.images.load("alice", "local", b"not a tar at all" * 100)


async def test_a_remote_engine_through_an_ssh_forward(
    rig: Rig, sshd: SshHost, tmp_path: Path
) -> None:
    pool = SshPool()
    remote = FakeHost("remote", engine="ssh", engine_socket=str(rig.engine.socket))
    rig.hosts["remote"] = remote

    async def target_of(host_id: str) -> Any:
        return sshd.target(host_id)

    engines = Engines(
        local_engine="unix:///nonexistent.sock",
        socket_dir=tmp_path,
        ssh=pool,
        target_of=target_of,
        linger=0.2,
    )
    images = Images(engines, rig.host_of, rig.audit)
    try:
        rig.engine.docker("run", "-d", "--name", "seen-remotely", BUSYBOX, "sleep", "60")
        names = [n for c in await images.containers("remote") for n in c.names]
        assert "seen-remotely" in names
        assert engines.forwards() == 1
        # a second use reuses the forward; after the linger it is closed
        assert any(i.tags for i in await images.images("remote"))
        assert engines.forwards() == 1
        await eventually(lambda: engines.forwards() == 0, what="the idle forward closed")
        assert any(i.tags for i in await images.images("remote"))
    finally:
        with contextlib.suppress(subprocess.CalledProcessError):
            rig.engine.docker("rm", "-f", "seen-remotely")
        await engines.close()
        await pool.close()


async def test_a_fixed_host_port_is_replaced_stop_first_and_restored_on_failure(
    rig: Rig,
) -> None:
    (fixed,) = free_ports(1)
    ports = [{"container_port": 8080, "host_port": fixed}]
    out = await rig.deployments.deploy("alice", web_spec("fixed", ports=ports))
    await healthy(rig, out.id, 1)
    async with aiohttp.ClientSession() as session:
        assert await fetch(session, fixed) == "v1"
        good = await rig.deployments.update("bob", out.id, web_spec("fixed", "v2", ports=ports))
        assert good.status == "active"
        assert await fetch(session, fixed) == "v2"
        bad_health = {"command": "false", "interval": 0.2, "retries": 1}
        bad = web_spec("fixed", "v3", ports=ports, health=bad_health)
        failed = await rig.deployments.update("bob", out.id, bad)
        assert failed.status == "failed"
        await healthy(rig, out.id, 1)
        assert await fetch(session, fixed) == "v2"
    with pytest.raises(ValidationFailed):
        await rig.deployments.scale("alice", out.id, 2)


async def test_a_rollout_cut_by_a_restart_is_undone_at_the_next_start(rig: Rig) -> None:
    out = await rig.deployments.deploy("alice", web_spec("cut"))
    await healthy(rig, out.id, 1)
    slow = web_spec("cut", "v2", health={"command": "false", "interval": 30, "retries": 3})
    pending = await rig.deployments.update("bob", out.id, slow, wait=False)

    async def started() -> bool:
        described = await rig.deployments.describe(out.id)
        return any(c.version == 2 for c in described.containers or [])

    await eventually(started, what="the new container started")
    await rig.deployments.close()  # the service stops mid-rollout
    assert (await rig.deployments.get(out.id)).rollout == pending.number

    again = Deployments(rig.store, rig.engines, rig.host_of, rig.audit, rig.publish)
    await again.recover()
    found = await again.get(out.id)
    assert found.rollout is None
    assert found.current == 1
    version = await again.version(out.id, 2)
    assert version.status == "failed"
    assert version.failure == "interrupted by a restart of the service"
    await healthy(rig, out.id, 1)
    described = await again.describe(out.id)
    assert [c.version for c in described.containers or []] == [1]
