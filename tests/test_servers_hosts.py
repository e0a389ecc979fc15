"""Managed hosts: the key vault, the registry against a real SQLite store and real sshd
processes, and the REST adapter (with tokens signed like auth's): keys encrypted at rest
and never answered nor logged, host keys pinned on first contact and refused when they
change, connection tests, facts, typed problems for bad input."""

from __future__ import annotations

import json
import logging
import os
import secrets
import stat
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any, ClassVar

import pytest
from aiohttp.test_utils import TestClient
from joserfc import jws
from joserfc.jwk import OKPKey

from meshkit.config import ConfigError
from meshkit.errors import ValidationFailed
from meshkit.service import Need
from meshkit.services.servers.api_audit import AuditApi
from meshkit.services.servers.audit import AuditEntry, AuditLog, AuditQuery
from meshkit.services.servers.errors import (
    FactsNotGathered,
    HostKeyMismatch,
    HostNotFound,
    KeyUnreadable,
)
from meshkit.services.servers.hosts.api import HostsApi
from meshkit.services.servers.hosts.facts import parse_facts
from meshkit.services.servers.hosts.models import Host, HostIn, HostPatch, HostQuery
from meshkit.services.servers.hosts.registry import Hosts
from meshkit.services.servers.hosts.vault import KeyVault, load_kek_file
from meshkit.services.servers.settings import ServersSettings
from meshkit.services.servers.ssh import SshPool
from meshkit.services.servers.ssh.pool import fingerprint
from meshkit.store import Document, Store
from meshkit.store.errors import DuplicateKey
from meshkit.store.sqlite import SQLiteStore
from meshkit.testing import ServiceClientFactory, free_ports, make_settings
from meshkit.tokens import JwksSource, StaticJwks, jws_registry
from tests.servers_env import (
    Engine,
    SshHost,
    dockerd,
    make_sshd,
    new_key,
    private_text,
    public_line,
    sshd,
)
from tests.servers_stack import ServersStack, servers

__all__ = ["dockerd", "make_sshd", "servers", "sshd"]  # fixtures

PROBLEM = "application/problem+json"
KEK = "an operator's key-encryption key, 32+ characters long"
OTHER_KEK = "another key-encryption key entirely, also long enough"
UNKNOWN = "01HZX3Y8ZP7Q4V2N6M5K9J1T0Z"
TOKEN_KEY = OKPKey.generate_key("Ed25519", parameters={"kid": "test-ed"})


def key_lines(text: str) -> list[str]:
    """The base64 lines of a private key's text (what must never leak)."""
    return [line for line in text.splitlines() if line and not line.startswith("-----")]


def leaks(text: str, key_text: str) -> list[str]:
    return [line for line in key_lines(key_text) if line in text]


# --- the vault ------------------------------------------------------------------------


def test_vault_seals_versioned_with_a_key_id_and_bound_to_the_host() -> None:
    vault = KeyVault(KEK.encode())
    sealed = vault.seal("the secret", "host-a")
    version, key_id, payload = sealed.split(".")
    assert version == "mkv1"
    assert key_id == vault.key_id
    assert "the secret" not in sealed
    assert vault.open(sealed, "host-a") == "the secret"
    assert vault.seal("the secret", "host-a") != sealed  # a fresh nonce each time
    assert KeyVault(KEK.encode()).key_id == vault.key_id  # stable for one KEK
    assert KEK not in repr(vault)

    with pytest.raises(KeyUnreadable, match="damaged, or not this host"):
        vault.open(sealed, "host-b")  # copied onto another host
    with pytest.raises(KeyUnreadable, match="known format"):
        vault.open("plain text", "host-a")
    with pytest.raises(KeyUnreadable):
        vault.open(f"mkv1.{vault.key_id}.{payload[:-4]}AAAA", "host-a")


def test_a_wrong_kek_is_a_typed_error_naming_both_key_ids() -> None:
    sealed = KeyVault(KEK.encode()).seal("the secret", "host-a")
    other = KeyVault(OTHER_KEK.encode())
    with pytest.raises(KeyUnreadable) as caught:
        other.open(sealed, "host-a")
    assert caught.value.status == 503
    assert caught.value.extensions["current_key_id"] == other.key_id
    assert caught.value.extensions["key_id"] == KeyVault(KEK.encode()).key_id
    assert KEK not in str(caught.value.to_dict())
    assert OTHER_KEK not in str(caught.value.to_dict())


def test_a_short_kek_is_refused_at_start() -> None:
    with pytest.raises(ConfigError, match="at least 32"):
        KeyVault(b"too short")
    settings = ServersSettings(key_encryption_key="short")  # type: ignore[arg-type]
    with pytest.raises(ConfigError):
        KeyVault.from_settings(settings, Path("/nonexistent"))


def test_without_a_configured_kek_one_is_made_private_in_the_data_dir(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        first = KeyVault.from_settings(ServersSettings(), tmp_path)
    finally:
        os.umask(old)
    path = tmp_path / "servers" / "kek"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert [p.name for p in path.parent.iterdir()] == ["kek"]  # no draft left behind
    again = KeyVault.from_settings(ServersSettings(), tmp_path)
    assert again.key_id == first.key_id
    assert again.open(first.seal("x", "h"), "h") == "x"

    path.chmod(0o644)  # loosened by someone: tightened, still the same key
    assert load_kek_file(path) == load_kek_file(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600

    configured = ServersSettings(key_encryption_key=KEK)  # type: ignore[arg-type]
    assert KeyVault.from_settings(configured, tmp_path).key_id != first.key_id

    path.write_text("garbage")
    with pytest.raises(ConfigError, match="restore it from a backup"):
        load_kek_file(path)
    path.write_text("c2hvcnQ=")
    with pytest.raises(ConfigError, match="32-byte"):
        load_kek_file(path)


# --- facts parsing --------------------------------------------------------------------

SAMPLE = """\
@@os-release
PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
NAME="Debian GNU/Linux"
VERSION_ID="12"
ID=debian
@@kernel
6.1.0-18-amd64
@@arch
x86_64
@@hostname
web-1
@@uptime
12345.67 40000.00
@@cpuinfo
processor\t: 0
model name\t: AMD EPYC 7543P 32-Core Processor
processor\t: 1
model name\t: AMD EPYC 7543P 32-Core Processor
@@nproc
2
@@meminfo
MemTotal:        4030364 kB
@@df
Filesystem     1024-blocks    Used Available Capacity Mounted on
/dev/vda1         20466256 5123456  14278512      27% /
tmpfs              2015180       0   2015180       0% /dev/shm
/dev/vdb1         10000000 1000000   9000000      10% /srv/my data
@@engine
present
24.0.7
"""


def test_facts_are_parsed_from_the_sections() -> None:
    facts = parse_facts(SAMPLE)
    assert facts.os_id == "debian"
    assert facts.os_name == "Debian GNU/Linux"
    assert facts.os_version == "12"
    assert facts.kernel == "6.1.0-18-amd64"
    assert facts.arch == "x86_64"
    assert facts.hostname == "web-1"
    assert facts.uptime == pytest.approx(12345.67)
    assert facts.cpu_count == 2
    assert facts.cpu_model == "AMD EPYC 7543P 32-Core Processor"
    assert facts.memory_total == 4030364 * 1024
    assert [(d.mount, d.size, d.used) for d in facts.disks] == [
        ("/", 20466256 * 1024, 5123456 * 1024),
        ("/srv/my data", 10000000 * 1024, 1000000 * 1024),
    ]
    assert facts.engine_present
    assert facts.engine_version == "24.0.7"
    assert facts.gathered_at is not None


def test_facts_parsing_never_fails() -> None:
    empty = parse_facts("")
    assert empty.os_id is None
    assert empty.cpu_count is None
    assert empty.disks == []
    assert not empty.engine_present
    odd = parse_facts("@@uptime\nnot a number\n@@nproc\nmany\n@@engine\npresent\n{bad json")
    assert odd.uptime is None
    assert odd.cpu_count is None
    assert odd.engine_present
    assert odd.engine_version is None
    curl = parse_facts('@@engine\npresent\n{"Version": "20.10.24", "ApiVersion": "1.41"}')
    assert curl.engine_version == "20.10.24"


# --- the registry ---------------------------------------------------------------------


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    opened = await SQLiteStore.open(tmp_path / "servers.sqlite3")
    await opened.ensure_indexes([Host, AuditEntry])
    yield opened
    await opened.close()


@pytest.fixture
async def pool() -> AsyncIterator[SshPool]:
    ssh = SshPool(connect_timeout=5, command_timeout=60)
    yield ssh
    await ssh.close()


@pytest.fixture
def hosts(store: Store, pool: SshPool) -> Hosts:
    registry = Hosts(store, KeyVault(KEK.encode()), pool, AuditLog(store))
    pool.on_pin = registry.pin
    return registry


def host_in(ssh: SshHost, key_text: str, **changes: Any) -> HostIn:
    body = {
        "name": "web-1",
        "address": ssh.address,
        "port": ssh.port,
        "user": ssh.user,
        "labels": {"env": "prod", "role": "web"},
        "private_key": key_text,
        **changes,
    }
    return HostIn.model_validate(body)


def stored_bytes(directory: Path) -> bytes:
    """Everything the SQLite store wrote (the database and its journal)."""
    return b"".join(p.read_bytes() for p in directory.glob("servers.sqlite3*"))


def has_docker_socket() -> bool:
    return Path("/var/run/docker.sock").is_socket()


async def audit_actions(store: Store) -> list[tuple[str, str]]:
    entries = await AuditLog(store).page(AuditQuery(limit=200))
    return [(e.action, e.outcome) for e in reversed(entries)]


async def test_hosts_are_stored_with_their_key_encrypted(
    hosts: Hosts, store: Store, sshd: SshHost, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    key_text = sshd.private_key
    host = await hosts.create("admin", host_in(sshd, key_text))
    assert host.name == "web-1"
    assert host.labels == {"env": "prod", "role": "web"}
    assert host.host_key is None
    assert host.key_fingerprint == str(sshd.client_key.get_fingerprint("sha256"))
    assert host.public_key.startswith("ssh-ed25519 ")
    assert host.encrypted_key.startswith(f"mkv1.{hosts.vault.key_id}.")
    assert leaks(repr(host), key_text) == []

    target = await hosts.target(host.id)
    assert target.private_key == key_text
    assert "private_key" not in repr(target)

    raw = stored_bytes(tmp_path)
    assert raw, "the store wrote nothing?"
    for line in key_lines(key_text):
        assert line.encode() not in raw
    assert leaks(caplog.text, key_text) == []
    assert await audit_actions(store) == [("hosts.create", "ok")]


async def test_get_page_select_patch_remove(
    hosts: Hosts, pool: SshPool, store: Store, sshd: SshHost
) -> None:
    key_text = sshd.private_key
    web = await hosts.create("admin", host_in(sshd, key_text))
    db = await hosts.create(
        "admin", host_in(sshd, key_text, name="db-1", labels={"env": "prod", "role": "db"})
    )
    dev = await hosts.create("admin", host_in(sshd, key_text, name="dev-1", labels={"env": "dev"}))

    assert (await hosts.get(web.id)).name == "web-1"
    with pytest.raises(HostNotFound):
        await hosts.get(UNKNOWN)

    assert [h.name for h in await hosts.page(HostQuery())] == ["web-1", "db-1", "dev-1"]
    prod = await hosts.page(HostQuery(label=["env:prod"]))
    assert [h.name for h in prod] == ["web-1", "db-1"]
    assert [h.name for h in await hosts.page(HostQuery(label=["env:prod", "role:db"]))] == ["db-1"]
    assert [h.name for h in await hosts.page(HostQuery(after=web.id, limit=1))] == ["db-1"]

    assert [h.id for h in await hosts.select(None, None)] == [web.id, db.id, dev.id]
    assert [h.id for h in await hosts.select(None, {"env": "dev"})] == [dev.id]
    assert [h.id for h in await hosts.select([dev.id, web.id], {"env": "prod"})] == [web.id]
    with pytest.raises(HostNotFound) as caught:
        await hosts.select([web.id, UNKNOWN], None)
    assert caught.value.extensions["host_ids"] == [UNKNOWN]

    # a connection is pooled; a changed label keeps it, a changed key closes it
    assert (await pool.run(await hosts.target(web.id), "true")).ok
    assert pool.stats()["connections"] == 1
    relabeled = await hosts.patch("admin", web.id, HostPatch(labels={"env": "staging"}))
    assert relabeled.labels == {"env": "staging"}
    assert pool.stats()["connections"] == 1
    rekeyed = await hosts.patch(
        "admin", web.id, HostPatch.model_validate({"private_key": private_text(new_key())})
    )
    assert rekeyed.key_fingerprint != web.key_fingerprint
    assert pool.stats()["connections"] == 0

    socket = await hosts.patch(
        "admin", web.id, HostPatch(engine="ssh", engine_socket="/run/d.sock")
    )
    assert hosts.engine_socket_of(socket) == "/run/d.sock"
    back = await hosts.patch("admin", web.id, HostPatch.model_validate({"engine_socket": None}))
    assert hosts.engine_socket_of(back) == "/var/run/docker.sock"

    with pytest.raises(HostNotFound):
        await hosts.patch("admin", UNKNOWN, HostPatch(port=2222))
    with pytest.raises(DuplicateKey):
        await hosts.patch("admin", web.id, HostPatch(name="db-1"))
    assert (await hosts.get(web.id)).name == "web-1"

    removed = await hosts.remove("admin", dev.id)
    assert removed.name == "dev-1"
    with pytest.raises(HostNotFound):
        await hosts.remove("admin", dev.id)
    assert [h.name for h in await hosts.page(HostQuery())] == ["web-1", "db-1"]

    actions = await audit_actions(store)
    assert actions[:3] == [("hosts.create", "ok")] * 3
    assert ("hosts.update", "failed") in actions
    assert actions[-2:] == [("hosts.remove", "ok"), ("hosts.remove", "failed")]
    assert all(
        "BEGIN" not in json.dumps(e.detail) for e in await AuditLog(store).page(AuditQuery())
    )


async def test_bad_keys_are_422_on_their_field(hosts: Hosts, sshd: SshHost, store: Store) -> None:
    for text, code in [
        ("not a key at all", "invalid_private_key"),
        (sshd.host_key_line, "invalid_private_key"),
        (
            new_key().export_private_key("openssh", passphrase="pw").decode(),
            "key_encrypted",
        ),
    ]:
        with pytest.raises(ValidationFailed) as caught:
            await hosts.create("admin", host_in(sshd, text))
        assert caught.value.status == 422
        [error] = caught.value.extensions["errors"]
        assert error["code"] == code
        assert error["loc"] == ["body", "private_key"]
        assert text not in json.dumps(caught.value.to_dict())

    bad_pin = host_in(sshd, sshd.private_key, host_key="ssh-ed25519 AAAAnotakey")
    with pytest.raises(ValidationFailed) as caught:
        await hosts.create("admin", bad_pin)
    assert caught.value.extensions["errors"][0]["loc"] == ["body", "host_key"]
    assert await hosts.page(HostQuery()) == []
    assert set(await audit_actions(store)) == {("hosts.create", "failed")}


async def test_first_contact_pins_the_host_key_and_a_changed_key_is_refused(
    hosts: Hosts, make_sshd: Callable[..., SshHost], store: Store
) -> None:
    ssh = make_sshd(address="127.0.0.12")
    host = await hosts.create("admin", host_in(ssh, ssh.private_key))
    assert host.host_key is None

    tested = await hosts.test_connection("admin", host.id)
    assert tested.ok, tested.error
    assert tested.latency is not None
    assert tested.latency > 0
    assert tested.uname is not None
    assert tested.uname.startswith("Linux ")
    assert tested.host_key_fingerprint == fingerprint(ssh.host_key_line)
    pinned = await hosts.get(host.id)
    assert pinned.host_key == ssh.host_key_line
    assert pinned.host_key_fingerprint == fingerprint(ssh.host_key_line)

    # pinning again: the same key is fine, another is refused, the pin stays
    await hosts.pin(host.id, ssh.host_key_line + " comment")
    with pytest.raises(HostKeyMismatch):
        await hosts.pin(host.id, public_line(new_key()))
    assert (await hosts.get(host.id)).host_key == ssh.host_key_line

    old = ssh.host_key_line
    ssh.kill()
    ssh.set_host_key(new_key())
    ssh.start()
    refused = await hosts.test_connection("admin", host.id)
    assert not refused.ok
    assert refused.error is not None
    assert refused.error.type == "urn:meshkit:problem:host-key-mismatch"
    assert refused.error.extensions["presented_fingerprint"] == fingerprint(ssh.host_key_line)
    assert (await hosts.get(host.id)).host_key == old

    with pytest.raises(HostKeyMismatch):
        await hosts.gather_facts("admin", host.id)

    # the operator re-pins after the reinstall
    await hosts.patch("admin", host.id, HostPatch(host_key=ssh.host_key_line))
    assert (await hosts.test_connection("admin", host.id)).ok

    # or unpins, and the next contact pins again
    await hosts.patch("admin", host.id, HostPatch.model_validate({"host_key": None}))
    assert (await hosts.get(host.id)).host_key is None
    assert (await hosts.test_connection("admin", host.id)).ok
    assert (await hosts.get(host.id)).host_key == ssh.host_key_line

    actions = await audit_actions(store)
    assert ("hosts.test", "failed") in actions
    assert ("hosts.facts", "failed") in actions
    assert ("hosts.pin", "ok") in actions


async def test_connection_test_reports_typed_problems(
    hosts: Hosts, sshd: SshHost, make_sshd: Callable[..., SshHost]
) -> None:
    wrong = await hosts.create(
        "admin",
        host_in(sshd, private_text(new_key()), name="wrong-key", host_key=sshd.host_key_line),
    )
    tested = await hosts.test_connection("admin", wrong.id)
    assert not tested.ok
    assert tested.error is not None
    assert tested.error.type == "urn:meshkit:problem:host-auth-failed"
    assert tested.error.status == 502

    (port,) = free_ports(1)
    away = await hosts.create(
        "admin", host_in(sshd, sshd.private_key, name="away", address="127.0.0.1", port=port)
    )
    tested = await hosts.test_connection("admin", away.id)
    assert tested.error is not None
    assert tested.error.type == "urn:meshkit:problem:host-unreachable"

    with pytest.raises(HostNotFound):
        await hosts.test_connection("admin", UNKNOWN)


async def test_facts_are_gathered_from_the_real_host(
    hosts: Hosts, sshd: SshHost, dockerd: Engine, store: Store
) -> None:
    host = await hosts.create("admin", host_in(sshd, sshd.private_key))
    with pytest.raises(FactsNotGathered):
        await hosts.facts(host.id)

    facts = await hosts.gather_facts("admin", host.id)
    assert facts.kernel == os.uname().release
    assert facts.arch == os.uname().machine
    assert facts.hostname == os.uname().nodename
    assert facts.cpu_count == os.cpu_count() or facts.cpu_count
    assert facts.memory_total is not None
    assert facts.memory_total > 0
    assert facts.uptime is not None
    assert facts.uptime > 0
    assert any(d.mount == "/" for d in facts.disks)
    assert facts.os_id is not None  # Debian and the like have /etc/os-release
    assert facts.engine_present == has_docker_socket()
    stored = await hosts.get(host.id)
    assert stored.facts == facts
    assert stored.facts_at == facts.gathered_at
    assert await hosts.facts(host.id) == facts

    # a host whose engine socket is the test engine's
    await hosts.patch("admin", host.id, HostPatch(engine="ssh", engine_socket=str(dockerd.socket)))
    facts = await hosts.gather_facts("admin", host.id)
    assert facts.engine_present
    version = dockerd.docker("version", "--format", "{{.Server.Version}}").strip()
    assert facts.engine_version == version
    assert ("hosts.facts", "ok") in await audit_actions(store)


async def test_a_wrong_kek_is_a_typed_error_not_a_crash(
    hosts: Hosts, store: Store, pool: SshPool, sshd: SshHost
) -> None:
    host = await hosts.create("admin", host_in(sshd, sshd.private_key))
    rotated = Hosts(store, KeyVault(OTHER_KEK.encode()), pool, AuditLog(store))
    with pytest.raises(KeyUnreadable):
        await rotated.target(host.id)
    tested = await rotated.test_connection("admin", host.id)
    assert tested.error is not None
    assert tested.error.type == "urn:meshkit:problem:key-unreadable"
    with pytest.raises(KeyUnreadable):
        await rotated.gather_facts("admin", host.id)
    # giving the key again under the new KEK repairs it
    await rotated.patch(
        "admin", host.id, HostPatch.model_validate({"private_key": sshd.private_key})
    )
    assert (await rotated.target(host.id)).host_id == host.id


# --- REST -----------------------------------------------------------------------------


def token(subject: str, *perms: str) -> str:
    now = int(time.time())
    claims = {
        "iss": "meshkit",
        "aud": "meshkit",
        "sub": subject,
        "iat": now,
        "nbf": now,
        "exp": now + 300,
        "jti": secrets.token_hex(8),
        "typ": "access",
        "roles": ["admin"] if perms else ["user"],
        "perms": list(perms),
    }
    header = {"alg": "EdDSA", "kid": "test-ed", "typ": "at+jwt"}
    return jws.serialize_compact(
        header, json.dumps(claims), TOKEN_KEY, registry=jws_registry(["EdDSA"])
    )


def env(redis_url: str, **more: str) -> dict[str, str]:
    return {"MESHKIT_REDIS_URL": redis_url, "MESHKIT_JWT_ALGORITHMS": "EdDSA", **more}


class HostsService(AuditApi, HostsApi):
    """The hosts and audit routes on their own store (as ServersService wires them)."""

    name = "servers_hosts_test"
    default_port = 3996
    needs: ClassVar[frozenset[Need]] = frozenset({"store"})
    documents: ClassVar[tuple[type[Document], ...]] = (AuditEntry, Host)

    def jwks_source(self) -> JwksSource:
        return StaticJwks({"keys": [{**TOKEN_KEY.as_dict(private=False), "alg": "EdDSA"}]})

    async def lifespan(self) -> AsyncIterator[None]:
        settings = self.settings.section(ServersSettings)
        self.audit = AuditLog(self.store)
        self.ssh = SshPool.from_settings(settings)
        self.hosts = Hosts(
            self.store,
            KeyVault.from_settings(settings, self.settings.data_dir),
            self.ssh,
            self.audit,
            engine_socket=settings.remote_engine_socket,
        )
        self.ssh.on_pin = self.hosts.pin
        try:
            yield
        finally:
            await self.ssh.close()


class Caller:
    def __init__(self, client: TestClient[Any, Any], *perms: str) -> None:
        self.client = client
        self.headers = {"Authorization": f"Bearer {token('someone', *perms)}"}
        self.answers: list[str] = []

    async def call(self, method: str, path: str, expect: int, **kwargs: Any) -> Any:
        response = await self.client.request(method, path, headers=self.headers, **kwargs)
        text = await response.text()
        self.answers.append(text)
        assert response.status == expect, text
        if response.status >= 400:
            assert response.content_type == PROBLEM
        return json.loads(text) if text else None


@pytest.fixture
async def api(
    service_client: ServiceClientFactory, tmp_path: Path, meshkit_redis_url: str
) -> TestClient[Any, Any]:
    settings = make_settings(tmp_path / "data", **env(meshkit_redis_url))
    return await service_client(HostsService, settings=settings)


async def test_rest_hosts_round_trip_without_ever_answering_the_key(
    api: TestClient[Any, Any], sshd: SshHost, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    admin = Caller(api, "*")
    key_text = sshd.private_key
    body = {
        "name": "web-1",
        "address": sshd.address,
        "port": sshd.port,
        "user": sshd.user,
        "labels": {"env": "prod"},
        "private_key": key_text,
    }
    created = await admin.call("POST", "/v1/servers/hosts", 201, json=body)
    host_id = created["id"]
    assert "private_key" not in created
    assert "encrypted_key" not in created
    assert created["key_fingerprint"] == str(sshd.client_key.get_fingerprint("sha256"))
    assert created["host_key"] is None

    await admin.call("POST", "/v1/servers/hosts", 409, json=body)

    listed = await admin.call("GET", "/v1/servers/hosts?label=env:prod", 200)
    assert [h["id"] for h in listed] == [host_id]
    assert await admin.call("GET", "/v1/servers/hosts?label=env:dev", 200) == []
    assert (await admin.call("GET", f"/v1/servers/hosts/{host_id}", 200))["name"] == "web-1"

    tested = await admin.call("POST", f"/v1/servers/hosts/{host_id}/test", 200)
    assert tested["ok"], tested
    assert tested["host_key_fingerprint"] == fingerprint(sshd.host_key_line)
    assert (await admin.call("GET", f"/v1/servers/hosts/{host_id}", 200))[
        "host_key"
    ] == sshd.host_key_line

    await admin.call("GET", f"/v1/servers/hosts/{host_id}/facts", 404)
    facts = await admin.call("POST", f"/v1/servers/hosts/{host_id}/facts", 200)
    assert facts["kernel"] == os.uname().release
    assert await admin.call("GET", f"/v1/servers/hosts/{host_id}/facts", 200) == facts

    patched = await admin.call(
        "PATCH",
        f"/v1/servers/hosts/{host_id}",
        200,
        json={"labels": {"env": "staging"}, "private_key": key_text},
    )
    assert patched["labels"] == {"env": "staging"}
    assert "private_key" not in patched

    audit = await admin.call("GET", "/v1/servers/audit", 200)
    assert [e["action"] for e in audit][:4] == [
        "hosts.update",
        "hosts.facts",
        "hosts.test",
        "hosts.pin",  # during the test, recorded before it
    ]

    await admin.call("DELETE", f"/v1/servers/hosts/{host_id}", 204)
    await admin.call("GET", f"/v1/servers/hosts/{host_id}", 404)
    await admin.call("DELETE", f"/v1/servers/hosts/{host_id}", 404)

    for answer in admin.answers:
        assert leaks(answer, key_text) == []
    assert leaks(caplog.text, key_text) == []

    kek = tmp_path / "data" / "servers" / "kek"
    assert stat.S_IMODE(kek.stat().st_mode) == 0o600
    assert stat.S_IMODE(kek.parent.stat().st_mode) == 0o700


async def test_rest_refuses_bad_input_with_problem_documents(
    api: TestClient[Any, Any], sshd: SshHost
) -> None:
    admin = Caller(api, "*")
    good = {
        "name": "web-1",
        "address": sshd.address,
        "port": sshd.port,
        "user": sshd.user,
        "private_key": sshd.private_key,
    }
    cases: list[tuple[dict[str, Any], str]] = [
        ({"private_key": "nope"}, "private_key"),
        ({"address": "bad address!"}, "address"),
        ({"address": "999.1.1.1"}, "address"),
        ({"address": "::1::2"}, "address"),
        ({"port": 0}, "port"),
        ({"port": 70000}, "port"),
        ({"user": "-rf"}, "user"),
        ({"name": ""}, "name"),
        ({"labels": {"bad key!": "x"}}, "labels"),
        ({"labels": {"env": "has space"}}, "labels"),
        ({"labels": {f"k{i}": "v" for i in range(40)}}, "labels"),
        ({"host_key": "not a key"}, "host_key"),
        ({"engine": "kubernetes"}, "engine"),
        ({"engine_socket": "relative/path"}, "engine_socket"),
        ({"unexpected": 1}, "unexpected"),
    ]
    for change, field in cases:
        problem = await admin.call("POST", "/v1/servers/hosts", 422, json={**good, **change})
        assert problem["status"] == 422
        assert any(field in json.dumps(e["loc"]) for e in problem["errors"]), problem
    missing = {k: v for k, v in good.items() if k != "private_key"}
    await admin.call("POST", "/v1/servers/hosts", 422, json=missing)
    await admin.call("GET", "/v1/servers/hosts?limit=0", 422)
    await admin.call("GET", "/v1/servers/hosts?label=nocolon", 422)
    await admin.call("PATCH", f"/v1/servers/hosts/{UNKNOWN}", 404, json={"port": 2222})
    await admin.call("POST", f"/v1/servers/hosts/{UNKNOWN}/test", 404)
    await admin.call("POST", f"/v1/servers/hosts/{UNKNOWN}/facts", 404)
    await admin.call("GET", f"/v1/servers/hosts/{UNKNOWN}/facts", 404)
    ipv6 = await admin.call(
        "POST", "/v1/servers/hosts", 201, json={**good, "name": "v6", "address": "::1"}
    )
    assert ipv6["address"] == "::1"


async def test_rest_needs_the_hosts_permissions(api: TestClient[Any, Any], sshd: SshHost) -> None:
    user = Caller(api)
    reader = Caller(api, "servers:hosts.read")
    admin = Caller(api, "*")
    body = {"name": "h", "address": sshd.address, "private_key": sshd.private_key}
    created = await admin.call("POST", "/v1/servers/hosts", 201, json=body)
    path = f"/v1/servers/hosts/{created['id']}"
    for method, url in [
        ("POST", "/v1/servers/hosts"),
        ("GET", "/v1/servers/hosts"),
        ("GET", path),
        ("PATCH", path),
        ("DELETE", path),
        ("POST", f"{path}/test"),
        ("POST", f"{path}/facts"),
        ("GET", f"{path}/facts"),
    ]:
        problem = await user.call(method, url, 403, json={})
        assert problem["required_permission"].startswith("servers:hosts.")
    await reader.call("GET", path, 200)
    await reader.call("GET", "/v1/servers/hosts", 200)
    await reader.call("PATCH", path, 403, json={"port": 2})
    await reader.call("DELETE", path, 403)


async def test_rest_wrong_kek_is_a_503_problem(
    service_client: ServiceClientFactory, tmp_path: Path, meshkit_redis_url: str, sshd: SshHost
) -> None:
    data = tmp_path / "data"
    first = make_settings(data, **env(meshkit_redis_url, MESHKIT_SERVERS_KEY_ENCRYPTION_KEY=KEK))
    client = await service_client(HostsService, settings=first)
    body = {
        "name": "h",
        "address": sshd.address,
        "port": sshd.port,
        "private_key": sshd.private_key,
    }
    created = await Caller(client, "*").call("POST", "/v1/servers/hosts", 201, json=body)
    await client.close()

    second = make_settings(
        data, **env(meshkit_redis_url, MESHKIT_SERVERS_KEY_ENCRYPTION_KEY=OTHER_KEK)
    )
    client = await service_client(HostsService, settings=second)
    admin = Caller(client, "*")
    problem = await admin.call("POST", f"/v1/servers/hosts/{created['id']}/facts", 503)
    assert problem["type"] == "urn:meshkit:problem:key-unreadable"
    assert problem["key_id"] != problem["current_key_id"]
    tested = await admin.call("POST", f"/v1/servers/hosts/{created['id']}/test", 200)
    assert tested["error"]["type"] == "urn:meshkit:problem:key-unreadable"


async def test_openapi_declares_the_key_write_only_and_never_answered(
    api: TestClient[Any, Any],
) -> None:
    response = await api.get("/openapi.json")
    document = await response.json()
    schemas = document["components"]["schemas"]
    key = schemas["HostIn"]["properties"]["private_key"]
    assert key["writeOnly"] is True
    assert "private_key" not in schemas["HostOut"]["properties"]
    assert "encrypted_key" not in json.dumps(document)
    operation = document["paths"]["/v1/servers/hosts"]["post"]
    assert operation["x-meshkit-permission"] == "servers:hosts.manage"
    assert "422" in operation["responses"]


# --- the whole stack: auth + servers + gateway ----------------------------------------


async def test_hosts_through_the_gateway_with_real_tokens(
    servers: ServersStack, sshd: SshHost, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    admin = servers.admin
    key_text = sshd.private_key
    body = {
        "name": "gw-1",
        "address": sshd.address,
        "port": sshd.port,
        "user": sshd.user,
        "private_key": key_text,
    }
    created = await admin.call("POST", "/v1/servers/hosts", 201, json=body)
    path = f"/v1/servers/hosts/{created['id']}"
    answers = [
        created,
        await admin.call("GET", path, 200),
        await admin.call("GET", "/v1/servers/hosts", 200),
        await admin.call("POST", f"{path}/test", 200),
        await admin.call("POST", f"{path}/facts", 200),
        await admin.call("GET", "/v1/servers/audit", 200),
    ]
    assert answers[3]["ok"], answers[3]
    assert answers[4]["kernel"] == os.uname().release
    assert leaks(json.dumps(answers), key_text) == []

    user = await servers.person("plain")
    for method, url in [("GET", "/v1/servers/hosts"), ("GET", path), ("DELETE", path)]:
        problem = await user.call(method, url, 403)
        assert problem["type"] == "urn:meshkit:problem:forbidden"
    await admin.call("DELETE", path, 204)
    assert leaks(caplog.text, key_text) == []
