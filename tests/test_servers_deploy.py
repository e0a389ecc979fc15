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
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from redis.asyncio import Redis

from meshkit.contracts.servers import DeploymentChanged
from meshkit.errors import ValidationFailed
from meshkit.events import Event
from meshkit.services.servers.audit import AuditEntry, AuditLog
from meshkit.services.servers.deploy.deployments import Deployments
from meshkit.services.servers.deploy.engines import Engines
from meshkit.services.servers.deploy.images import Images
from meshkit.services.servers.deploy.leases import Leases, heartbeat_key
from meshkit.services.servers.deploy.models import (
    Deployment,
    DeploymentSpec,
    DeploymentVersion,
    Lease,
    LogQuery,
)
from meshkit.services.servers.deploy.sealing import seal
from meshkit.services.servers.errors import (
    DeploymentBusy,
    DeploymentExists,
    DeploymentNotFound,
    HostNotFound,
    ImageUnavailable,
    RolloutFailed,
)
from meshkit.services.servers.hosts.vault import KeyVault
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


LOCAL = "01JD0000000000000000000001"
REMOTE = "01JD0000000000000000000002"
VAULT = KeyVault(b"k" * 32)


class Rig:
    """The core on a fresh store, the session's engine, and what it published."""

    def __init__(
        self, store: Store, engine: Engine, hosts: dict[str, FakeHost], redis: Redis
    ) -> None:
        self.store = store
        self.engine = engine
        self.hosts = hosts
        self.redis = redis
        self.events: list[DeploymentChanged] = []
        self.audit = AuditLog(store)
        self.engines = Engines(local_engine=engine.url)
        self.made: list[Deployments] = []
        self.deployments = self.instance("a")
        self.images = Images(self.engines, self.host_of, self.audit)

    def instance(self, name: str, engines: Engines | None = None) -> Deployments:
        """Another service instance on the same store and Redis (its heartbeat beats)."""
        made = Deployments(
            self.store,
            engines or self.engines,
            self.host_of,
            self.audit,
            Leases(self.store, self.redis, f"{name}-{id(self)}", ttl=3),
            VAULT,
            self.publish,
            ready_seconds=0.5,
            stop_timeout=1,
        )
        self.made.append(made)
        return made

    async def host_of(self, host_id: str) -> FakeHost:
        return self.hosts[host_id]

    async def publish(
        self, event: Event, *, subject: str | None = None, id: str | None = None
    ) -> None:
        assert isinstance(event, DeploymentChanged)
        self.events.append(event)

    def actions(self) -> list[str]:
        return [e.action for e in self.events]

    async def audit_actions(self) -> list[tuple[str, str]]:
        found = await self.store.find(AuditEntry, limit=1000)
        return [(e.action, e.outcome) for e in found.items]


@pytest.fixture
async def rig(tmp_path: Path, dockerd: Engine, meshkit_redis_url: str) -> AsyncIterator[Rig]:
    store = await SQLiteStore.open(tmp_path / "servers.sqlite3")
    await store.ensure_indexes([Deployment, DeploymentVersion, AuditEntry])
    redis = Redis.from_url(meshkit_redis_url)
    made = Rig(store, dockerd, {LOCAL: FakeHost(LOCAL)}, redis)
    made.deployments.start_background()  # beats (and recovers) every second
    try:
        yield made
    finally:
        for instance in made.made:
            await instance.close()
        cleaner = made.instance("cleanup")
        async for deployment in store.scan(Deployment):
            with contextlib.suppress(Exception):
                await cleaner.recover()
                await cleaner.remove("cleanup", deployment.id)
        await made.engines.close()
        await redis.aclose()
        await store.close()


def web_spec(name: str, message: str = "v1", **changes: Any) -> DeploymentSpec:
    """busybox httpd serving ``$MESSAGE`` on 8080, healthy when it answers."""
    data: dict[str, Any] = {
        "name": name,
        "host_id": LOCAL,
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
            "host_id": LOCAL,
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
    task = rig.deployments.rollouts.tasks[out.id]
    done = await task
    assert done.status == "failed"
    assert done.failure is not None
    assert "exited" in done.failure
    described = await rig.deployments.describe(out.id)
    assert described.containers is not None
    assert [(c.version, c.state) for c in described.containers] == [(1, "running")]


async def test_pull_from_an_unreachable_registry_is_a_clear_problem(rig: Rig) -> None:
    with pytest.raises(ImageUnavailable) as raised:
        await rig.images.pull("alice", LOCAL, "127.0.0.1:1/x:1")
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
    result = await rig.images.build("alice", LOCAL, context, "meshkit-test/built:1", "Dockerfile")
    assert result.images == ["meshkit-test/built:1"]
    tags = [t for image in await rig.images.images(LOCAL) for t in image.tags]
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
        await rig.images.build("alice", LOCAL, bad, "meshkit-test/bad:1", "Dockerfile")

    saved = tmp_path / "saved.tar"
    rig.engine.docker("tag", BUSYBOX, "meshkit-test/saved:1")
    rig.engine.docker("save", "-o", str(saved), "meshkit-test/saved:1")
    rig.engine.docker("rmi", "meshkit-test/saved:1")
    loaded = await rig.images.load("alice", LOCAL, saved.read_bytes())
    assert loaded.images == ["meshkit-test/saved:1"]
    tags = [t for image in await rig.images.images(LOCAL) for t in image.tags]
    assert "meshkit-test/saved:1" in tags
    from meshkit.services.servers.errors import BadImageArchive

    with pytest.raises(BadImageArchive):
        await rig.images.load("alice", LOCAL, b"not a tar at all" * 100)


async def test_a_remote_engine_through_an_ssh_forward(
    rig: Rig, sshd: SshHost, tmp_path: Path
) -> None:
    pool = SshPool()
    remote = FakeHost(REMOTE, engine="ssh", engine_socket=str(rig.engine.socket))
    rig.hosts[REMOTE] = remote

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
        names = [n for c in await images.containers(REMOTE) for n in c.names]
        assert "seen-remotely" in names
        assert engines.forwards() == 1
        # a second use reuses the forward; after the linger it is closed
        assert any(i.tags for i in await images.images(REMOTE))
        assert engines.forwards() == 1
        await eventually(lambda: engines.forwards() == 0, what="the idle forward closed")
        assert any(i.tags for i in await images.images(REMOTE))
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

    # another instance starting now leaves the rollout of a live instance alone
    other = rig.instance("b")
    await other.recover()
    running = await other.get(out.id)
    assert running.rollout == pending.number
    assert running.lease is not None
    assert running.lease.instance == rig.deployments.leases.instance
    assert await started()
    with pytest.raises(DeploymentBusy):
        await other.scale("bob", out.id, 2)

    await rig.deployments.close()  # the service stops mid-rollout (its heartbeat goes)
    assert (await rig.deployments.get(out.id)).rollout == pending.number

    again = rig.instance("c")
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


async def container_env(rig: Rig, deployment_id: str, version: int) -> str:
    out = await rig.deployments.describe(deployment_id)
    (container,) = [c for c in out.containers or [] if c.version == version]
    return rig.engine.docker("inspect", "-f", "{{json .Config.Env}}", container.container_id)


async def test_secret_env_is_sealed_masked_and_kept_when_sent_back_masked(rig: Rig) -> None:
    conn = "postgres://app:hunter2-conn@db/app"
    command = (
        'echo "conn=$CONN" && echo "$MESSAGE" > /www/index.html && exec httpd -f -p 8080 -h /www'
    )
    spec = web_spec(
        "sealed",
        env={"MESSAGE": "v1", "DB_PASSWORD": SECRET, "CONN": conn},
        secret_env=["CONN"],
        command=["sh", "-c", command],
    )
    out = await rig.deployments.deploy("alice", spec)
    assert out.spec["env"] == {"MESSAGE": "v1", "DB_PASSWORD": MASK, "CONN": MASK}
    await healthy(rig, out.id, 1)

    # stored sealed, not in clear; the container gets the values
    (v1,) = (await rig.store.find(DeploymentVersion, {"deployment_id": out.id})).items
    assert conn not in repr(v1)
    assert SECRET not in repr(v1)
    assert sorted(v1.sealed) == ["CONN", "DB_PASSWORD"]
    assert all(sealed.startswith("mkv1.") for sealed in v1.sealed.values())
    env = await container_env(rig, out.id, 1)
    assert f"CONN={conn}" in env
    assert f"DB_PASSWORD={SECRET}" in env

    # logs: a secret_env value is scrubbed like a secret-named one
    async def logged() -> bool:
        return any("conn=" in line.text for line in await rig.deployments.logs(out.id, LogQuery()))

    await eventually(logged, what="the conn line")
    texts = [line.text for line in await rig.deployments.logs(out.id, LogQuery())]
    assert f"conn={MASK}" in texts
    assert all(conn not in text for text in texts)

    # a client sending the shown (masked) spec back keeps the stored secrets
    shown = (await rig.deployments.describe(out.id)).spec
    again = DeploymentSpec.model_validate({**shown, "env": {**shown["env"], "MESSAGE": "v2"}})
    v2 = await rig.deployments.update("bob", out.id, again)
    assert v2.status == "active"
    assert [c.field for c in v2.diff] == ["env.MESSAGE"]
    env = await container_env(rig, out.id, 2)
    assert f"CONN={conn}" in env
    assert f"DB_PASSWORD={SECRET}" in env

    # update_env (configs) names more secrets: sealed and masked as well
    extra = "plain-looking-secret-123"
    v3 = await rig.deployments.update_env(
        out.id,
        {"MESSAGE": "v3", "CONN": conn, "DB_PASSWORD": SECRET, "PLAIN": extra},
        "config",
        reason="config v2",
        secret_names=frozenset({"PLAIN"}),
    )
    assert v3.status == "active"
    assert v3.spec.secret_env == ["CONN", "PLAIN"]
    assert v3.spec.env["PLAIN"] == MASK
    changes = {c.field: c for c in v3.diff}
    assert changes["env.PLAIN"].after == MASK
    assert f"PLAIN={extra}" in await container_env(rig, out.id, 3)
    history = await rig.deployments.history(out.id)
    stored = await rig.store.find(DeploymentVersion, {"deployment_id": out.id})
    audit = await rig.store.find(AuditEntry, limit=1000)
    for text in (repr(history), repr(stored.items), repr(audit.items), repr(rig.events)):
        assert conn not in text
        assert SECRET not in text
        assert extra not in text


async def test_rollback_keeps_the_replica_count(rig: Rig) -> None:
    out = await rig.deployments.deploy("alice", web_spec("keep"))
    await rig.deployments.update("bob", out.id, web_spec("keep", "v2"))
    await rig.deployments.scale("bob", out.id, 2)
    back = await rig.deployments.rollback("bob", out.id, 1)
    assert back.status == "active"
    assert back.spec.replicas == 2
    assert "replicas" not in {c.field for c in back.diff}
    assert (await rig.deployments.get(out.id)).replicas == 2
    await healthy(rig, out.id, 2)


async def test_every_change_claims_the_deployment_across_instances(rig: Rig) -> None:
    out = await rig.deployments.deploy("alice", web_spec("leased"))
    assert (await rig.deployments.get(out.id)).lease is None
    other = rig.instance("b")
    async with rig.deployments.leases.held(out.id, "test"):
        attempts = [
            other.scale("bob", out.id, 2),
            other.stop("bob", out.id),
            other.start("bob", out.id),
            other.remove("bob", out.id),
            other.update("bob", out.id, web_spec("leased", "v2")),
            other.rollback("bob", out.id, 1),
            rig.deployments.stop("bob", out.id),
        ]
        for attempt in attempts:
            with pytest.raises(DeploymentBusy) as raised:
                await attempt
            assert raised.value.extensions["op"] == "test"
    assert (await rig.deployments.get(out.id)).lease is None
    audit = await rig.audit_actions()
    assert ("deployments.scale", "failed") in audit

    # the lease of an instance that is gone (no heartbeat) is taken over
    ghost = Lease(op="scale", instance="ghost", token="t", since=datetime.now(UTC))
    await rig.store.modify(Deployment, out.id, lambda d: d.model_copy(update={"lease": ghost}))
    scaled = await other.scale("bob", out.id, 2)
    assert scaled.replicas == 2
    assert (await rig.deployments.get(out.id)).lease is None


class CutProxy:
    """A unix socket in front of the engine's that can stop answering (and resume)."""

    def __init__(self, path: Path, upstream: Path) -> None:
        self.path, self.upstream = path, upstream
        self.cut = False
        self.writers: list[asyncio.StreamWriter] = []
        self.server: asyncio.AbstractServer | None = None

    async def start(self) -> None:
        self.server = await asyncio.start_unix_server(self._serve, path=str(self.path))

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.cut:
            writer.transport.abort()
            return
        up_reader, up_writer = await asyncio.open_unix_connection(str(self.upstream))
        self.writers += [writer, up_writer]

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            with contextlib.suppress(Exception):
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            sink.transport.abort()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    def cut_off(self) -> None:
        self.cut = True
        for writer in self.writers:
            writer.transport.abort()
        self.writers.clear()

    async def close(self) -> None:
        self.cut_off()
        if self.server is not None:
            self.server.close()


async def test_an_engine_lost_mid_rollout_leaves_it_to_recovery_which_restores(
    rig: Rig, tmp_path: Path
) -> None:
    proxy = CutProxy(tmp_path / "engine.sock", rig.engine.socket)
    await proxy.start()
    engines = Engines(local_engine=f"unix://{proxy.path}")
    cut = rig.instance("cut", engines=engines)
    cut.start_background()
    try:
        (fixed,) = free_ports(1)
        ports = [{"container_port": 8080, "host_port": fixed}]
        out = await cut.deploy("alice", web_spec("lost", ports=ports))
        await healthy(rig, out.id, 1)
        slow = {"command": "false", "interval": 30, "retries": 3, "ready_timeout": 60}
        pending = await cut.update(
            "bob", out.id, web_spec("lost", "v2", ports=ports, health=slow), wait=False
        )

        async def old_stopped_new_started() -> bool:
            described = await rig.deployments.describe(out.id)
            states = {c.version: c.state for c in described.containers or []}
            return states.get(1) == "exited" and states.get(2) == "running"

        await eventually(old_stopped_new_started, what="the fixed-port rollout under way")
        proxy.cut_off()  # the engine stops answering mid-rollout
        left = await cut.rollouts.tasks[out.id]
        assert left.status == "rolling_out"
        assert left.failure
        found = await rig.deployments.get(out.id)
        assert found.rollout == pending.number
        assert found.current == 1
        with pytest.raises(DeploymentBusy):
            await rig.deployments.scale("bob", out.id, 1)

        proxy.cut = False  # the engine answers again: the recovery tick restores

        async def restored() -> bool:
            return (await rig.deployments.get(out.id)).rollout is None

        await eventually(restored, within=30, what="recovery of the rollout")
        version = await rig.deployments.version(out.id, pending.number)
        assert version.status == "failed"
        await healthy(rig, out.id, 1)
        described = await rig.deployments.describe(out.id)
        assert [c.version for c in described.containers or []] == [1]
        async with aiohttp.ClientSession() as session:

            async def serves() -> bool:
                try:
                    return await fetch(session, fixed) == "v1"
                except aiohttp.ClientError:  # the proxy may answer before httpd is up
                    return False

            await eventually(serves, within=20, what="the old replica serving again")
        assert ("deployments.recover", "ok") in await rig.audit_actions()
    finally:
        await cut.close()
        await engines.close()
        await proxy.close()


# --- leases, env pushes and recovery without an engine -----------------------------------


@dataclass
class Bare:
    """A store and Redis, no engine: leases and recovery on documents alone."""

    store: Store
    redis: Redis


@pytest.fixture
async def bare(tmp_path: Path, meshkit_redis_url: str) -> AsyncIterator[Bare]:
    store = await SQLiteStore.open(tmp_path / "bare.sqlite3")
    await store.ensure_indexes([Deployment, DeploymentVersion, AuditEntry])
    redis = Redis.from_url(meshkit_redis_url)
    try:
        yield Bare(store, redis)
    finally:
        await redis.aclose()
        await store.close()


async def stored_deployment(store: Store, name: str, **changes: Any) -> Deployment:
    at = datetime.now(UTC)
    data: dict[str, Any] = {
        "name": name,
        "host_id": LOCAL,
        "current": 1,
        "replicas": 1,
        "created_at": at,
        "updated_at": at,
        **changes,
    }
    return await store.insert(Deployment(**data))


async def test_a_live_lease_survives_a_lost_heartbeat_and_a_late_release_changes_nothing(
    bare: Bare,
) -> None:
    deployment = await stored_deployment(bare.store, "leased")
    a = Leases(bare.store, bare.redis, f"a-{id(bare)}", ttl=30)
    b = Leases(bare.store, bare.redis, f"b-{id(bare)}", ttl=30)
    await a.beat()
    await b.beat()
    claimed, token = await a.claim(deployment.id, "rollout", running=True, rollout=2)
    assert claimed.lease is not None
    assert claimed.lease.until is not None
    # Redis lost A's heartbeat (a restart, a slow tick) while A's lease_until is ahead
    await bare.redis.delete(heartbeat_key(a.instance))
    with pytest.raises(DeploymentBusy):
        await b.claim(deployment.id, "recover", recovering=True)
    await a.beat()  # the heartbeat loop renews the lease
    renewed = await bare.store.get(Deployment, deployment.id)
    assert renewed is not None
    assert renewed.lease is not None
    assert renewed.lease.until is not None
    assert renewed.lease.until >= claimed.lease.until

    # the lease really expires (until passed, heartbeat gone): B takes it over
    def lapse(d: Deployment) -> Deployment:
        assert d.lease is not None
        past = datetime(2000, 1, 1, tzinfo=UTC)
        return d.model_copy(update={"lease": d.lease.model_copy(update={"until": past})})

    await bare.store.modify(Deployment, deployment.id, lapse)
    await bare.redis.delete(heartbeat_key(a.instance))
    taken, b_token = await b.claim(deployment.id, "recover", recovering=True)
    assert taken.lease is not None
    assert taken.lease.instance == b.instance
    # A's late release (its rollout "finished") writes nothing
    after = await a.release(deployment.id, token, current=2, rollout=None, replicas=3)
    assert after is not None
    assert (after.current, after.rollout, after.replicas) == (1, 2, 1)
    assert after.lease is not None
    assert after.lease.token == b_token
    with pytest.raises(DeploymentBusy):
        await a.apply(deployment.id, token, replicas=3)
    released = await b.release(deployment.id, b_token, rollout=None)
    assert released is not None
    assert released.lease is None
    assert released.rollout is None


async def test_a_rollout_on_a_removed_host_is_cleared_by_recovery(bare: Bare) -> None:
    async def host_of(host_id: str) -> FakeHost:
        raise HostNotFound(f"no host {host_id}")

    leases = Leases(bare.store, bare.redis, f"r-{id(bare)}", ttl=3)
    made = Deployments(
        bare.store,
        Engines(local_engine="unix:///nonexistent.sock"),
        host_of,
        AuditLog(bare.store),
        leases,
        VAULT,
    )
    gone = Lease(op="rollout", instance="gone-instance", token="t0", since=datetime.now(UTC))
    deployment = await stored_deployment(bare.store, "orphan", rollout=2, lease=gone)
    at = datetime.now(UTC)
    for number, status in ((1, "active"), (2, "rolling_out")):
        stored, sealed = seal(VAULT, deployment.id, web_spec("orphan", f"v{number}"))
        await bare.store.insert(
            DeploymentVersion(
                deployment_id=deployment.id,
                number=number,
                spec=stored,
                sealed=sealed,
                status=status,
                source="deploy" if number == 1 else "update",
                actor="alice",
                created_at=at,
            )
        )
    await made.recover()
    found = await made.get(deployment.id)
    assert found.rollout is None
    assert found.lease is None
    assert found.current == 1
    version = await made.version(deployment.id, 2)
    assert version.status == "failed"
    assert version.failure == f"host {LOCAL} no longer exists"


async def test_an_env_push_left_rolling_out_is_a_failure(
    bare: Bare, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def host_of(host_id: str) -> FakeHost:
        return FakeHost(host_id)

    made = Deployments(
        bare.store,
        Engines(local_engine="unix:///nonexistent.sock"),
        host_of,
        AuditLog(bare.store),
        Leases(bare.store, bare.redis, f"e-{id(bare)}", ttl=3),
        VAULT,
    )
    left = DeploymentVersion(
        deployment_id="d",
        number=2,
        spec=web_spec("env"),
        status="rolling_out",
        source="env",
        failure="the engine stopped answering",
        actor="configs",
        created_at=datetime.now(UTC),
    )

    async def launch(*_args: Any) -> DeploymentVersion:
        return left

    monkeypatch.setattr(made.rollouts, "launch", launch)
    with pytest.raises(RolloutFailed) as raised:
        await made.update_env("d", {"A": "1"}, "configs", reason="push")
    assert raised.value.extensions["status"] == "rolling_out"
    assert raised.value.extensions["version"] == 2


async def test_log_masking_covers_every_version_the_replicas_run(bare: Bare) -> None:
    async def host_of(host_id: str) -> FakeHost:
        return FakeHost(host_id)

    made = Deployments(
        bare.store,
        Engines(local_engine="unix:///nonexistent.sock"),
        host_of,
        AuditLog(bare.store),
        Leases(bare.store, bare.redis, f"m-{id(bare)}", ttl=3),
        VAULT,
    )
    deployment = await stored_deployment(bare.store, "masked", current=2)
    at = datetime.now(UTC)
    for number in (1, 2):
        spec = web_spec("masked", env={"DB_PASSWORD": f"old-secret-{number}"})
        stored, sealed = seal(VAULT, deployment.id, spec)
        await bare.store.insert(
            DeploymentVersion(
                deployment_id=deployment.id,
                number=number,
                spec=stored,
                sealed=sealed,
                status="superseded" if number == 1 else "active",
                source="deploy",
                actor="alice",
                created_at=at,
            )
        )
    secrets = await made._secrets_of(deployment)({1})
    assert set(secrets) == {"old-secret-1", "old-secret-2"}
