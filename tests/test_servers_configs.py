"""Configuration management: versions, diffs, pushes over SFTP to real sshd hosts,
rollbacks, env pushes to deployments, secrets masked everywhere, bad input.

A small service made of the configuration routes (and the audit log's) is served
in-process on a real store and Redis and called with real signed tokens. Hosts are real
OpenSSH sshd processes on loopback addresses, all on this machine, so the test reads the
files a push wrote straight from the disk. The deployment side is reached through the
``update_env`` callable configuration management is given (the deployments part's
``Deployments.update_env`` in the service); here it records what it is given.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import secrets
import stat
import threading
import time
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import Any, ClassVar

import pytest
from joserfc import jws
from joserfc.jwk import OKPKey

from meshkit.service import Need
from meshkit.services.servers.api_audit import AuditApi
from meshkit.services.servers.audit import AuditEntry, AuditLog
from meshkit.services.servers.configs import Config, Configs, ConfigsApi, ConfigVersion
from meshkit.services.servers.configs.lock import PushLocks
from meshkit.services.servers.configs.models import PushIn
from meshkit.services.servers.errors import ConfigBusy
from meshkit.services.servers.hosts.vault import KeyVault
from meshkit.services.servers.ssh import SshPool, SshTarget
from meshkit.store import Document
from meshkit.testing import eventually, make_settings
from meshkit.tokens import JwksSource, Principal, StaticJwks, jws_registry
from tests.servers_env import SshHost, make_sshd, sshd

__all__ = ["make_sshd", "sshd"]

KEY = OKPKey.generate_key("Ed25519", parameters={"kid": "configs-test"})
PROBLEM = "application/problem+json"
MASK = "********"
FILE_SECRET = "s3cr3t-File-Value-7731"
ENV_SECRET = "hunter2-Env-Password-9915"
TOKEN_SECRET = "tok-5e8f-Api-Token-2207"
NEW_SECRET = "n3w-Rotated-Secret-4410"
SECRETS = (FILE_SECRET, ENV_SECRET, TOKEN_SECRET, NEW_SECRET)
DEP_1 = "01JDDEP1000000000000000001"
DEP_2 = "01JDDEP2000000000000000002"
HOST_ID = "01JDWEB1000000000000000001"
MISSING = "01JDZZZZZZZZZZZZZZZZZZZZZZ"


VAULT = KeyVault(b"configuration tests' key-encryption key")


def token_for(user_id: str, perms: Sequence[str]) -> str:
    """An access token signed like the auth service signs them."""
    now = int(time.time())
    claims = {
        "iss": "meshkit",
        "aud": "meshkit",
        "sub": user_id,
        "iat": now,
        "nbf": now,
        "exp": now + 600,
        "jti": secrets.token_hex(8),
        "typ": "access",
        "perms": list(perms),
    }
    header = {"alg": "EdDSA", "kid": "configs-test", "typ": "at+jwt"}
    return jws.serialize_compact(header, json.dumps(claims), KEY, registry=jws_registry(["EdDSA"]))


class ConfigsTest(ConfigsApi, AuditApi):
    """The configuration routes and the audit log, on their own store."""

    name = "configs_test"
    default_port = 3996
    needs: ClassVar[frozenset[Need]] = frozenset({"store", "redis"})
    documents: ClassVar[tuple[type[Document], ...]] = (Config, ConfigVersion, AuditEntry)

    hosts: dict[str, tuple[SshTarget, dict[str, str]]]
    env_calls: list[tuple[str, dict[str, str], str, str]]
    env_secret_names: list[frozenset[str]]
    env_fails: str | None = None
    env_rolls_back = False
    env_gate: asyncio.Event | None = None

    def jwks_source(self) -> JwksSource:
        return StaticJwks({"keys": [{**KEY.as_dict(private=False), "alg": "EdDSA"}]})

    async def select(
        self, host_ids: list[str] | None, labels: dict[str, str] | None
    ) -> list[SimpleNamespace]:
        """As ``Hosts.select`` does: the listed hosts (all when ``None``) with every label."""
        chosen = []
        for host_id, (_, host_labels) in self.hosts.items():
            listed = host_ids is None or host_id in host_ids
            if listed and (labels or {}).items() <= host_labels.items():
                chosen.append(SimpleNamespace(id=host_id))
        return chosen

    async def target(self, host_id: str) -> SshTarget:
        return self.hosts[host_id][0]

    async def update_env(
        self,
        deployment_id: str,
        env: dict[str, str],
        actor: Principal | str,
        *,
        reason: str,
        secret_names: frozenset[str] = frozenset(),
    ) -> SimpleNamespace:
        """As ``Deployments.update_env`` answers: the new version, ``failed`` when the
        rollout was rolled back; it raises when it cannot start. With ``env_gate`` set it
        waits for it (a long rolling update)."""
        if self.env_fails is not None:
            raise RuntimeError(self.env_fails)
        who = actor if isinstance(actor, str) else actor.subject
        self.env_calls.append((deployment_id, env, who, reason))
        self.env_secret_names.append(secret_names)
        if self.env_gate is not None:
            await self.env_gate.wait()
        if self.env_rolls_back:
            return SimpleNamespace(status="failed", failure="the new version never got healthy")
        return SimpleNamespace(status="active", failure=None)

    async def lifespan(self) -> AsyncIterator[None]:
        self.hosts, self.env_calls, self.env_secret_names = {}, [], []
        self.audit = AuditLog(self.store)
        self.ssh = SshPool(connect_timeout=10, command_timeout=60)
        self.configs = Configs(
            self.store,
            self.audit,
            VAULT,
            redis=self.redis,
            ssh=self.ssh,
            select_hosts=self.select,
            target_of=self.target,
            update_env=self.update_env,
            parallelism=4,
        )
        try:
            yield
        finally:
            await self.ssh.close()


class Caller:
    """Someone calling the service with their own token."""

    def __init__(self, client: Any, perms: Sequence[str], seen: list[str]) -> None:
        self.client, self.seen = client, seen
        self.headers = {"Authorization": f"Bearer {token_for('op-' + str(len(perms)), perms)}"}

    async def call(self, method: str, path: str, expect: int = 200, **kw: Any) -> Any:
        response = await self.client.request(method, path, headers=self.headers, **kw)
        text = await response.text()
        self.seen.append(text)
        assert response.status == expect, (response.status, text)
        if response.status >= 400:
            assert response.content_type == PROBLEM
        return None if response.status == 204 else json.loads(text)


class World:
    """The running service, an administrator, a user without rights, and the answers
    every call got (to grep for secrets)."""

    def __init__(self, service: ConfigsTest, client: Any) -> None:
        self.service = service
        self.seen: list[str] = []
        self.admin = Caller(client, ["*"], self.seen)
        self.user = Caller(client, [], self.seen)

    def add_host(self, host_id: str, host: SshHost, **labels: str) -> None:
        self.service.hosts[host_id] = (host.target(host_id), labels)

    async def create_file(self, path: Path, content: str, **fields: Any) -> dict[str, Any]:
        body = {
            "kind": "file",
            "name": fields.pop("name", "app-conf"),
            "hosts": fields.pop("hosts", {"labels": {"role": "web"}}),
            "path": str(path),
            "content": content,
            **fields,
        }
        created: dict[str, Any] = await self.admin.call(
            "POST", "/v1/servers/configs", 201, json=body
        )
        return created

    async def push(self, config_id: str, expect: int = 200, **body: Any) -> dict[str, Any]:
        url = f"/v1/servers/configs/{config_id}/push"
        answer: dict[str, Any] = await self.admin.call("POST", url, expect, json=body)
        return answer

    async def audit(self) -> list[AuditEntry]:
        page = await self.service.store.find(AuditEntry, {}, limit=1000)
        return page.items


@pytest.fixture
async def world(
    tmp_path: Path, meshkit_redis_url: str, meshkit_redis: Any, service_client: Any
) -> World:
    settings = make_settings(
        tmp_path / "data", MESHKIT_REDIS_URL=meshkit_redis_url, MESHKIT_JWT_ALGORITHMS="EdDSA"
    )
    service = ConfigsTest(settings)
    client = await service_client(service, settings=settings)
    return World(service, client)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def has_backup(path: Path) -> bool:
    """Whether a push kept a previous file next to ``path``."""
    return path.with_name(path.name + ".meshkit-prev").exists()


def leftovers(directory: Path) -> list[str]:
    """Temporary files a push left behind (there must never be any)."""
    return sorted(p.name for p in directory.iterdir() if ".meshkit-tmp-" in p.name)


V1 = "# app v1\r\nlisten = 8080\nname = café ☕\npassword = {{ secret:db }}\nno newline at end"
V2 = "# app v2\nlisten = 9090\nname = café ☕\npassword = {{secret:db}}\nworkers = 4\n"


# --- push, rollback, backups ---


async def test_push_v1_v2_then_rollback_restores_v1_byte_for_byte(world, sshd, tmp_path):
    world.add_host("web-1", sshd, role="web")
    directory = tmp_path / "etc"
    directory.mkdir()
    path = directory / "app.conf"
    created = await world.create_file(
        path, V1, owner="nobody", group="nogroup", mode="0640", secrets={"db": FILE_SECRET}
    )
    config_id = created["id"]
    assert created["hosts"] == {"labels": {"role": "web"}}
    v1_bytes = V1.replace("{{ secret:db }}", FILE_SECRET).encode()

    first = await world.push(config_id)
    assert (first["version"], first["changed"], first["failed"]) == (1, 1, 0)
    [result] = first["targets"]
    assert result["target"] == "host:web-1"
    assert result["outcome"] == "changed"
    assert path.read_bytes() == v1_bytes
    assert result["sha256"] == sha(v1_bytes)
    assert created["live"] == []
    info = path.stat()
    assert (stat.S_IMODE(info.st_mode), info.st_uid, info.st_gid) == (0o640, 65534, 65534)
    assert not (directory / "app.conf.meshkit-prev").exists()  # nothing was there before

    url = f"/v1/servers/configs/{config_id}"
    await world.admin.call("PATCH", url, json={"content": V2, "mode": "0600", "message": "v2"})
    second = await world.push(config_id)
    v2_bytes = V2.replace("{{secret:db}}", FILE_SECRET).encode()
    assert (second["version"], second["targets"][0]["outcome"]) == (2, "changed")
    assert path.read_bytes() == v2_bytes
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    backup = directory / "app.conf.meshkit-prev"
    assert backup.read_bytes() == v1_bytes
    assert stat.S_IMODE(backup.stat().st_mode) == 0o640

    back = await world.admin.call("POST", url + "/rollback", json={"version": 1})
    assert (back["version"], back["rollback_of"], back["targets"][0]["outcome"]) == (
        3,
        1,
        "changed",
    )
    assert path.read_bytes() == v1_bytes  # byte for byte: CRLF, UTF-8, no final newline
    info = path.stat()
    assert (stat.S_IMODE(info.st_mode), info.st_uid, info.st_gid) == (0o640, 65534, 65534)
    assert backup.read_bytes() == v2_bytes
    assert leftovers(directory) == []

    versions = await world.admin.call("GET", url + "/versions")
    assert [(v["number"], v["rollback_of"]) for v in versions] == [(3, 1), (2, None), (1, None)]
    assert versions[0]["sha256"] == versions[2]["sha256"] == sha(v1_bytes)
    assert versions[0]["message"] == "rollback to version 1"
    config = await world.admin.call("GET", url)
    assert config["latest"] == 3
    [live] = config["live"]
    assert (live["target"], live["version"], live["sha256"]) == ("host:web-1", 3, sha(v1_bytes))
    actions = [(e.action, e.outcome) for e in await world.audit()]
    for action in ("configs.create", "configs.update", "configs.push", "configs.rollback"):
        assert (action, "ok") in actions


async def test_a_second_push_changes_nothing(world, sshd, tmp_path):
    world.add_host("web-1", sshd, role="web")
    path = tmp_path / "same.conf"
    created = await world.create_file(path, "a = 1\n", secrets={"db": FILE_SECRET})
    await world.push(created["id"])
    before = path.stat()
    again = await world.push(created["id"])
    assert (again["targets"][0]["outcome"], again["changed"]) == ("unchanged", 0)
    assert again["targets"][0]["unified"] == ""
    after = path.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert not has_backup(path)


async def test_dry_run_shows_the_diff_and_changes_nothing(world, sshd, tmp_path):
    world.add_host("web-1", sshd, role="web")
    path = tmp_path / "dry.conf"
    created = await world.create_file(path, V1, secrets={"db": FILE_SECRET})
    config_id = created["id"]
    # Nothing there yet: it would be made; nothing is.
    check = await world.push(config_id, dry_run=True)
    assert (check["dry_run"], check["changed"]) == (True, 1)
    assert check["targets"][0]["outcome"] == "would-change"
    assert "+listen = 8080" in check["targets"][0]["unified"]
    assert not path.exists()
    assert leftovers(tmp_path) == []

    await world.push(config_id)
    before, content = path.stat(), path.read_bytes()
    url = f"/v1/servers/configs/{config_id}"
    await world.admin.call("PATCH", url, json={"content": V2, "mode": "0600"})
    check = await world.push(config_id, dry_run=True)
    [target] = check["targets"]
    assert target["outcome"] == "would-change"
    assert "-listen = 8080" in target["unified"]
    assert "+listen = 9090" in target["unified"]
    assert "password = ********" in target["unified"]
    assert {"key": "mode", "change": "changed", "old": "0644", "new": "0600", "secret": False} in (
        target["changes"]
    )
    assert target["sha256"] == sha(content)
    after = path.stat()
    assert path.read_bytes() == content
    assert (after.st_ino, after.st_mtime_ns, after.st_mode) == (
        before.st_ino,
        before.st_mtime_ns,
        before.st_mode,
    )
    assert not has_backup(path)
    assert leftovers(tmp_path) == []
    config = await world.admin.call("GET", url)
    assert config["live"][0]["version"] == 1  # a dry run records nothing as live
    pushes = [e for e in await world.audit() if e.action == "configs.push"]
    assert [e.detail["dry_run"] for e in pushes] == [True, False, True]


async def test_readers_only_ever_see_a_whole_file(world, sshd, tmp_path):
    """Atomic writes: a reader polling the file while big versions replace each other
    sees one complete version each time, never a part; no temporary file remains."""
    world.add_host("web-1", sshd, role="web")
    path = tmp_path / "big.conf"
    a = "".join(f"line {n} of version A\n" for n in range(20_000))
    b = "".join(f"line {n} of version B, a little longer\n" for n in range(20_000))
    created = await world.create_file(path, a)
    await world.push(created["id"])
    stop, seen, torn = threading.Event(), set(), []

    def reader() -> None:
        while not stop.is_set():
            data = path.read_bytes()
            if data in (a.encode(), b.encode()):
                seen.add(data[:30])
            else:
                torn.append(len(data))

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        url = f"/v1/servers/configs/{created['id']}"
        for content in (b, a, b, a, b):
            await world.admin.call("PATCH", url, json={"content": content})
            pushed = await world.push(created["id"])
            assert pushed["targets"][0]["outcome"] == "changed"
            assert leftovers(tmp_path) == []
    finally:
        stop.set()
        thread.join()
    assert torn == []
    assert path.read_bytes() == b.encode()


async def test_a_failed_write_leaves_nothing_behind(world, sshd, tmp_path):
    world.add_host("web-1", sshd, role="web")
    missing = tmp_path / "no-such-dir" / "app.conf"
    created = await world.create_file(missing, "x = 1\n", name="nowhere")
    answer = await world.push(created["id"])
    [target] = answer["targets"]
    assert (target["outcome"], answer["failed"]) == ("failed", 1)
    assert "does not exist" in target["error"]
    assert not missing.parent.exists()

    occupied = tmp_path / "occupied"
    (occupied / "app.conf").mkdir(parents=True)  # a directory where the file should go
    created = await world.create_file(occupied / "app.conf", "x = 1\n", name="occupied")
    answer = await world.push(created["id"])
    assert "not a regular file" in answer["targets"][0]["error"]
    assert sorted(p.name for p in occupied.iterdir()) == ["app.conf"]

    created = await world.create_file(tmp_path / "owned", "x\n", name="owned", owner="nosuchuser")
    answer = await world.push(created["id"])
    assert "no user 'nosuchuser'" in answer["targets"][0]["error"]
    assert not (tmp_path / "owned").exists()
    assert leftovers(tmp_path) == []
    failed = [e for e in await world.audit() if e.action == "configs.push"]
    assert {e.outcome for e in failed} == {"failed"}


async def test_a_push_goes_to_every_host_of_the_group_and_survives_one_down(
    world, sshd, make_sshd, tmp_path
):
    other = make_sshd(address="127.0.0.47")
    down = make_sshd(address="127.0.0.48")
    world.add_host("web-1", sshd, role="web")
    world.add_host("web-2", other, role="web")
    world.add_host("web-3", down, role="web")
    world.add_host("db-1", other, role="db")
    down.kill()
    path = tmp_path / "group.conf"
    created = await world.create_file(path, "x = 1\n", hosts={"labels": {"role": "web"}})
    answer = await world.push(created["id"])
    outcomes = {t["target"]: t["outcome"] for t in answer["targets"]}
    # web-1 and web-2 share this machine's disk: one writes, the other finds it done.
    assert outcomes["host:web-3"] == "failed"
    assert sorted(outcomes) == ["host:web-1", "host:web-2", "host:web-3"]
    assert {outcomes["host:web-1"], outcomes["host:web-2"]} <= {"changed", "unchanged"}
    assert path.read_bytes() == b"x = 1\n"
    config = await world.admin.call("GET", f"/v1/servers/configs/{created['id']}")
    assert sorted(live["target"] for live in config["live"]) == ["host:web-1", "host:web-2"]


async def test_a_hung_file_server_fails_that_host_only(world, sshd, make_sshd, tmp_path):
    """An SFTP server that never answers (a host stuck on a dead mount) does not hold
    the push: past the pool's time limit that host is ``failed``, the others pushed."""
    hung = make_sshd(address="127.0.0.49")
    config = hung.config.read_text()
    hung.config.write_text(config.replace("internal-sftp", "/bin/sleep 3600"))
    hung.kill()
    hung.start()
    world.add_host("web-1", sshd, role="web")
    world.add_host("web-9", hung, role="web")
    pool = SshPool(connect_timeout=10, command_timeout=2)
    world.service.configs.ssh = pool
    path = tmp_path / "hung.conf"
    try:
        created = await world.create_file(path, "x = 1\n")
        answer = await world.push(created["id"])
    finally:
        await pool.close()
    outcomes = {t["target"]: t for t in answer["targets"]}
    assert outcomes["host:web-1"]["outcome"] == "changed"
    assert outcomes["host:web-9"]["outcome"] == "failed"
    assert "did not finish" in outcomes["host:web-9"]["error"]
    assert answer["failed"] == 1
    assert path.read_bytes() == b"x = 1\n"
    [push] = [e for e in await world.audit() if e.action == "configs.push"]
    assert push.outcome == "failed"


# --- one push at a time ---


async def test_a_push_while_another_runs_is_busy_on_every_instance(world, meshkit_redis):
    body = {
        "kind": "env",
        "name": "slow-env",
        "deployment_id": DEP_1,
        "env": {"A": "1"},
        "secrets": {"API_TOKEN": TOKEN_SECRET},
    }
    created = await world.admin.call("POST", "/v1/servers/configs", 201, json=body)
    config_id = created["id"]
    url = f"/v1/servers/configs/{config_id}"
    gate = world.service.env_gate = asyncio.Event()
    first = asyncio.create_task(world.push(config_id))
    await eventually(lambda: len(world.service.env_calls) == 1, what="the first push under way")

    busy = await world.push(config_id, 409)
    assert busy["type"] == "urn:meshkit:problem:config-busy"
    # Another instance: its own core and Redis client on the same Redis and store.
    store = world.service.store
    other = Configs(store, AuditLog(store), VAULT, redis=meshkit_redis)
    with pytest.raises(ConfigBusy):
        await other.push("op-other", config_id, PushIn())
    rolled = await world.admin.call("POST", url + "/rollback", 409, json={"version": 1})
    assert rolled["type"] == "urn:meshkit:problem:config-busy"
    assert (await world.admin.call("GET", url))["latest"] == 1  # no version was made
    check = await world.push(config_id, dry_run=True)  # a dry run writes nothing: never busy
    assert check["targets"][0]["outcome"] == "would-change"
    assert len(world.service.env_calls) == 1

    gate.set()
    done = await first
    assert done["targets"][0]["outcome"] == "changed"
    world.service.env_gate = None
    again = await world.push(config_id)  # the lock was released
    assert again["targets"][0]["outcome"] == "unchanged"
    entries = [(e.action, e.outcome, e.detail.get("error")) for e in await world.audit()]
    refused = [e for e in entries if e[2] is not None]
    assert len(refused) == 3  # this instance's push and rollback, the other's push
    assert {(action, outcome) for action, outcome, _ in refused} == {
        ("configs.push", "failed"),
        ("configs.rollback", "failed"),
    }


async def test_the_push_lock_is_renewed_and_released_only_by_its_owner(meshkit_redis):
    locks = PushLocks(meshkit_redis, ttl=1.2, prefix="test:push-lock:")
    async with locks.hold("one"):
        token = await meshkit_redis.get("test:push-lock:one")
        assert token is not None
        with pytest.raises(ConfigBusy):
            async with locks.hold("one"):
                pass
        await asyncio.sleep(3)  # well past the ttl: held all along, renewed
        assert await meshkit_redis.get("test:push-lock:one") == token
    assert await meshkit_redis.get("test:push-lock:one") is None
    async with locks.hold("one"):  # free again
        pass

    # The lock expired and another push took it: the first holder leaves it alone.
    async with locks.hold("two"):
        await meshkit_redis.set("test:push-lock:two", "another-holder")
    assert await meshkit_redis.get("test:push-lock:two") == b"another-holder"
    # An instance that died holding a lock: it expires after the ttl.
    await meshkit_redis.set("test:push-lock:three", "dead-instance", px=200)
    with pytest.raises(ConfigBusy):
        async with locks.hold("three"):
            pass

    async def free() -> bool:
        return await meshkit_redis.get("test:push-lock:three") is None

    await eventually(free, what="the dead instance's lock to expire")
    async with locks.hold("three"):
        pass


# --- deployments (env) ---


async def test_env_push_gives_the_deployment_its_environment(world):
    body = {
        "kind": "env",
        "name": "api-env",
        "deployment_id": DEP_1,
        "env": {"LOG_LEVEL": "info", "DB_PASSWORD": ENV_SECRET},
        "secrets": {"STRIPE_KEY": TOKEN_SECRET},
    }
    created = await world.admin.call("POST", "/v1/servers/configs", 201, json=body)
    assert created["env"] == {"LOG_LEVEL": "info"}
    assert created["secrets"] == {"DB_PASSWORD": MASK, "STRIPE_KEY": MASK}
    config_id = created["id"]

    answer = await world.push(config_id)
    [target] = answer["targets"]
    assert (target["target"], target["outcome"]) == (f"deployment:{DEP_1}", "changed")
    full = {"LOG_LEVEL": "info", "DB_PASSWORD": ENV_SECRET, "STRIPE_KEY": TOKEN_SECRET}
    [(deployment, env, who, reason)] = world.service.env_calls
    assert (deployment, env, who) == (DEP_1, full, "op-1")
    assert reason == "configuration api-env version 1"
    # The deployment is told which variables are secrets, whatever their names.
    assert world.service.env_secret_names == [frozenset({"DB_PASSWORD", "STRIPE_KEY"})]

    again = await world.push(config_id)
    assert again["targets"][0]["outcome"] == "unchanged"
    assert len(world.service.env_calls) == 1  # no needless rolling update

    url = f"/v1/servers/configs/{config_id}"
    change = {"env": {"LOG_LEVEL": "debug", "DB_PASSWORD": MASK}, "secrets": {"STRIPE_KEY": None}}
    changed = await world.admin.call("PATCH", url, json=change)
    assert (changed["latest"], changed["secrets"]) == (2, {"DB_PASSWORD": MASK})
    check = await world.push(config_id, dry_run=True)
    assert check["targets"][0]["outcome"] == "would-change"
    assert check["targets"][0]["changes"] == [
        {"key": "LOG_LEVEL", "change": "changed", "old": "info", "new": "debug", "secret": False},
        {"key": "STRIPE_KEY", "change": "removed", "old": MASK, "new": None, "secret": True},
    ]
    assert len(world.service.env_calls) == 1
    await world.push(config_id)
    assert world.service.env_calls[-1][1] == {"LOG_LEVEL": "debug", "DB_PASSWORD": ENV_SECRET}
    assert world.service.env_secret_names[-1] == frozenset({"DB_PASSWORD"})

    back = await world.admin.call("POST", url + "/rollback", json={"version": 1})
    assert (back["version"], back["targets"][0]["outcome"]) == (3, "changed")
    assert world.service.env_calls[-1][1] == full

    world.service.env_rolls_back = True
    await world.admin.call("PATCH", url, json={"env": {"LOG_LEVEL": "error"}})
    rolled_back = await world.push(config_id)
    assert rolled_back["targets"][0]["outcome"] == "failed"
    assert "rolled back: the new version never got healthy" in rolled_back["targets"][0]["error"]
    config = await world.admin.call("GET", url)
    assert config["live"][0]["version"] == 3  # what the deployment still runs
    world.service.env_rolls_back = False

    world.service.env_fails = f"engine refused STRIPE_KEY={TOKEN_SECRET}"
    await world.admin.call("PATCH", url, json={"env": {"LOG_LEVEL": "warning"}})
    failed = await world.push(config_id)
    assert failed["failed"] == 1
    assert failed["targets"][0]["error"] == f"engine refused STRIPE_KEY={MASK}"
    assert [e.outcome for e in await world.audit() if e.action == "configs.push"][-1] == "failed"


# --- secrets ---


async def test_secrets_never_show_but_the_pushed_file_has_them(world, sshd, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    world.add_host("web-1", sshd, role="web")
    path = tmp_path / "secret.conf"
    created = await world.create_file(
        path,
        "db = {{ secret:db }}\ntoken = {{ secret:api_token }}\n",
        secrets={"db": FILE_SECRET, "api_token": TOKEN_SECRET},
    )
    assert created["secrets"] == {"api_token": MASK, "db": MASK}
    assert "{{ secret:db }}" in created["content"]
    config_id = created["id"]
    url = f"/v1/servers/configs/{config_id}"
    await world.push(config_id)
    assert path.read_text() == f"db = {FILE_SECRET}\ntoken = {TOKEN_SECRET}\n"

    # Sending the mask back keeps a value; a new value rotates it.
    same = await world.admin.call("PATCH", url, json={"secrets": {"db": MASK, "api_token": MASK}})
    assert same["latest"] == 1  # nothing changed: no version
    rotated = await world.admin.call("PATCH", url, json={"secrets": {"db": NEW_SECRET}})
    assert rotated["latest"] == 2
    check = await world.push(config_id, dry_run=True)
    assert check["targets"][0]["outcome"] == "would-change"
    assert check["targets"][0]["unified"] == ""  # the masked texts are the same
    assert check["targets"][0]["changes"] == [
        {"key": "content", "change": "changed", "old": MASK, "new": MASK, "secret": True}
    ]
    await world.push(config_id)
    assert path.read_text() == f"db = {NEW_SECRET}\ntoken = {TOKEN_SECRET}\n"
    diff = await world.admin.call("GET", url + "/diff", params={"from": "1", "to": "2"})
    assert diff["changes"] == [
        {"key": "secrets.db", "change": "changed", "old": MASK, "new": MASK, "secret": True}
    ]
    await world.admin.call("PATCH", url, json={"content": "db = {{ secret:db }}\n"})
    await world.admin.call("GET", url + "/versions")
    await world.admin.call("GET", url + "/versions/1")
    await world.admin.call("GET", "/v1/servers/configs")
    await world.admin.call("POST", url + "/rollback", json={"version": 1})
    await world.admin.call("GET", "/v1/servers/audit", params={"limit": "200"})
    await test_env_push_gives_the_deployment_its_environment(world)

    assert path.read_text() == f"db = {FILE_SECRET}\ntoken = {TOKEN_SECRET}\n"
    everything = "\n".join(world.seen)
    audit = json.dumps([e.model_dump(mode="json") for e in await world.audit()])
    logs = caplog.text + "\n".join(r.getMessage() for r in caplog.records)
    for secret in SECRETS:
        assert secret not in everything
        assert secret not in audit
        assert secret not in logs
    stored = json.dumps(
        [v.model_dump(mode="json") for v in (await world.service.store.find(ConfigVersion)).items]
    )
    for secret in SECRETS:
        assert secret not in stored  # sealed at rest too
    assert MASK in everything


# --- diffs ---


async def test_diff_between_versions(world, tmp_path):
    created = await world.create_file(
        tmp_path / "d.conf", V1, mode="0640", secrets={"db": FILE_SECRET}
    )
    url = f"/v1/servers/configs/{created['id']}"
    await world.admin.call("PATCH", url, json={"content": V2, "owner": "nobody"})
    diff = await world.admin.call("GET", url + "/diff", params={"from": "1", "to": "2"})
    assert (diff["from"], diff["to"]) == (1, 2)
    text = diff["unified"]
    assert text.startswith("--- version 1\n+++ version 2\n")
    assert "-listen = 8080\n" in text
    assert "+listen = 9090\n" in text
    assert "+workers = 4\n" in text
    assert "\\ No newline at end of file" in text
    assert diff["changes"] == [
        {"key": "owner", "change": "added", "old": None, "new": "nobody", "secret": False}
    ]
    same = await world.admin.call("GET", url + "/diff", params={"from": "2", "to": "2"})
    assert (same["unified"], same["changes"]) == ("", [])
    reverse = await world.admin.call("GET", url + "/diff", params={"from": "2", "to": "1"})
    assert "+listen = 8080\n" in reverse["unified"]


async def test_env_diff_is_key_level(world):
    body = {
        "kind": "env",
        "name": "env-diff",
        "deployment_id": DEP_2,
        "env": {"A": "1", "B": "2", "API_TOKEN": TOKEN_SECRET},
    }
    created = await world.admin.call("POST", "/v1/servers/configs", 201, json=body)
    url = f"/v1/servers/configs/{created['id']}"
    change = {"env": {"A": "1", "B": "3", "C": "4"}, "secrets": {"API_TOKEN": NEW_SECRET}}
    await world.admin.call("PATCH", url, json=change)
    diff = await world.admin.call("GET", url + "/diff", params={"from": 1, "to": 2})
    assert diff["unified"] is None
    assert diff["changes"] == [
        {"key": "API_TOKEN", "change": "changed", "old": MASK, "new": MASK, "secret": True},
        {"key": "B", "change": "changed", "old": "2", "new": "3", "secret": False},
        {"key": "C", "change": "added", "old": None, "new": "4", "secret": False},
    ]


# --- bad input, rights ---


async def test_bad_input_is_a_problem(world, tmp_path):
    good = {
        "kind": "file",
        "name": "good",
        "hosts": {"ids": [HOST_ID]},
        "path": str(tmp_path / "good.conf"),
        "content": "x\n",
    }
    bad_bodies = [
        {**good, "path": "etc/relative.conf"},
        {**good, "path": "/etc/../shadow"},
        {**good, "path": "/etc/dir/"},
        {**good, "mode": "999"},
        {**good, "mode": "rwxr-xr-x"},
        {**good, "owner": "Robert'); DROP"},
        {**good, "hosts": {}},
        {**good, "hosts": {"ids": []}},
        {**good, "hosts": {"labels": {}}},
        {**good, "hosts": {"ids": ["web-1"]}},
        {**good, "hosts": {"host_ids": [HOST_ID]}},
        {**good, "hosts": {"labels": {"bad key": "x"}}},
        {**good, "kind": "tarball"},
        {**good, "secrets": {"db": "abc"}},  # too short to be masked reliably
        {**good, "surprise": True},
        {"kind": "env", "name": "e", "deployment_id": DEP_1, "env": {"1BAD": "x"}},
        {"kind": "env", "name": "e", "deployment_id": "dep-1"},
    ]
    for body in bad_bodies:
        problem = await world.admin.call("POST", "/v1/servers/configs", 422, json=body)
        assert problem["type"] == "urn:meshkit:problem:validation-error", body
    unknown = {**good, "content": "pw = {{ secret:nope }}\n"}
    problem = await world.admin.call("POST", "/v1/servers/configs", 422, json=unknown)
    assert (problem["type"], problem["unknown_secrets"]) == (
        "urn:meshkit:problem:config-invalid",
        ["nope"],
    )
    both = {"kind": "env", "name": "e", "deployment_id": DEP_1, "env": {"A": "1"}}
    problem = await world.admin.call(
        "POST", "/v1/servers/configs", 422, json={**both, "secrets": {"A": "1234"}}
    )
    assert problem["type"] == "urn:meshkit:problem:config-invalid"

    created = await world.admin.call("POST", "/v1/servers/configs", 201, json=good)
    await world.admin.call("POST", "/v1/servers/configs", 409, json=good)
    url = f"/v1/servers/configs/{created['id']}"
    problem = await world.admin.call("PATCH", url, 422, json={"env": {"A": "1"}})
    assert problem["type"] == "urn:meshkit:problem:config-invalid"
    await world.admin.call("PATCH", url, 422, json={"mode": "8888"})
    await world.admin.call("PATCH", url, 422, json={"secrets": {"db": MASK}})  # none to keep
    problem = await world.push(created["id"], 404, version=7)
    assert (problem["type"], problem["latest"]) == (
        "urn:meshkit:problem:config-version-not-found",
        1,
    )
    await world.push(created["id"], 422, version=0)
    await world.admin.call("POST", url + "/rollback", 404, json={"version": 5})
    await world.admin.call("GET", url + "/versions/9", 404)
    await world.admin.call("GET", url + "/diff", 404, params={"from": "1", "to": "3"})
    await world.admin.call("GET", url + "/diff", 422, params={"from": "x", "to": "1"})
    await world.admin.call("GET", url + "/diff", 422, params={"to": "1"})
    problem = await world.admin.call("GET", f"/v1/servers/configs/{MISSING}", 404)
    assert problem["type"] == "urn:meshkit:problem:config-not-found"
    await world.push(MISSING, 404)
    problem = await world.admin.call("GET", "/v1/servers/configs/nope", 422)
    assert problem["type"] == "urn:meshkit:problem:validation-error"
    await world.push("nope", 422)
    await world.admin.call("GET", "/v1/servers/configs", 422, params={"after": "nope"})
    assert (await world.admin.call("GET", url))["latest"] == 1
    failed = [e for e in await world.audit() if e.outcome == "failed"]
    assert {e.action for e in failed} >= {"configs.create", "configs.update", "configs.push"}


async def test_without_the_permissions_everything_is_403(world, tmp_path):
    created = await world.create_file(tmp_path / "p.conf", "x\n")
    url = f"/v1/servers/configs/{created['id']}"
    calls = [
        ("POST", "/v1/servers/configs", {"json": {}}),
        ("GET", "/v1/servers/configs", {}),
        ("GET", url, {}),
        ("PATCH", url, {"json": {}}),
        ("DELETE", url, {}),
        ("GET", url + "/versions", {}),
        ("GET", url + "/versions/1", {}),
        ("GET", url + "/diff", {"params": {"from": "1", "to": "1"}}),
        ("POST", url + "/push", {"json": {}}),
        ("POST", url + "/rollback", {"json": {"version": 1}}),
    ]
    for method, path, kw in calls:
        problem = await world.user.call(method, path, 403, **kw)
        assert problem["required_permission"].startswith("servers:configs."), path
    await world.admin.call("DELETE", url, 204)
    await world.admin.call("GET", url, 404)
    assert await world.service.store.count(ConfigVersion) == 0


async def test_the_openapi_document_declares_the_rules(world):
    response = await world.admin.client.get("/openapi.json")
    document = await response.json()
    operation = document["paths"]["/v1/servers/configs"]["post"]
    assert operation["x-meshkit-permission"] == "servers:configs.manage"
    schemas = document["components"]["schemas"]
    body = json.dumps(operation["requestBody"]) + json.dumps(schemas)
    assert '"discriminator"' in body
    assert "FileConfigIn" in body
    assert "EnvConfigIn" in body
    file_in = schemas["FileConfigIn"]["properties"]
    assert file_in["path"]["pattern"].startswith("^(/")
    assert file_in["mode"]["pattern"] == "^[0-7]{3,4}$"
    assert file_in["content"]["maxLength"] == 1_048_576
    assert schemas["HostSelector"]["anyOf"] == [
        {"required": ["ids"]},
        {"required": ["labels"]},
    ]
    ulid = "^[0-9A-HJKMNP-TV-Z]{26}$"
    assert schemas["EnvConfigIn"]["properties"]["deployment_id"]["pattern"] == ulid
    one = document["paths"]["/v1/servers/configs/{config_id}"]["get"]
    [config_id] = [p for p in one["parameters"] if p["name"] == "config_id"]
    assert config_id["schema"]["pattern"] == ulid
    push = document["paths"]["/v1/servers/configs/{config_id}/push"]["post"]
    assert push["x-meshkit-permission"] == "servers:configs.manage"
    assert "409" in push["responses"]
    diff = document["paths"]["/v1/servers/configs/{config_id}/diff"]["get"]
    assert {p["name"] for p in diff["parameters"]} >= {"config_id", "from", "to"}
