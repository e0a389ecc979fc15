"""Configuration management in the whole servers service, through the gateway: a host
registered over REST, a file configuration pushed to it, changed, rolled back; an env
configuration pushed to a deployment on a real Docker Engine (``dockerd``)."""

from __future__ import annotations

import json
import stat
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from meshkit.testing import eventually
from tests.servers_env import BUSYBOX, Engine, SshHost, dockerd, sshd
from tests.servers_stack import ServersStack, servers, servers_stack

__all__ = ["dockerd", "servers", "sshd"]

SECRET = "stack-Secret-Value-5521"


async def test_push_and_rollback_through_the_gateway(
    servers: ServersStack, sshd: SshHost, tmp_path: Path
) -> None:
    admin = servers.admin
    host = await admin.add_host(sshd, "cfg-host", labels={"role": "cfg"})
    path = tmp_path / "stack.conf"
    body = {
        "kind": "file",
        "name": "stack-conf",
        "hosts": {"labels": {"role": "cfg"}},
        "path": str(path),
        "mode": "0640",
        "content": "v = 1\npw = {{ secret:pw }}\n",
        "secrets": {"pw": SECRET},
    }
    created = await admin.call("POST", "/v1/servers/configs", 201, json=body)
    url = f"/v1/servers/configs/{created['id']}"
    pushed = await admin.call("POST", url + "/push", json={})
    assert [(t["target"], t["outcome"]) for t in pushed["targets"]] == [
        (f"host:{host['id']}", "changed")
    ]
    v1 = path.read_bytes()
    assert v1 == f"v = 1\npw = {SECRET}\n".encode()
    assert stat.S_IMODE(path.stat().st_mode) == 0o640

    await admin.call("PATCH", url, json={"content": "v = 2\npw = {{ secret:pw }}\n"})
    await admin.call("POST", url + "/push", json={})
    assert path.read_bytes() == f"v = 2\npw = {SECRET}\n".encode()
    back = await admin.call("POST", url + "/rollback", json={"version": 1})
    assert (back["version"], back["rollback_of"]) == (3, 1)
    assert path.read_bytes() == v1
    assert (
        path.with_name("stack.conf.meshkit-prev").read_bytes() == f"v = 2\npw = {SECRET}\n".encode()
    )

    audit = await admin.call(
        "GET", "/v1/servers/audit", params={"target": f"config:{created['id']}"}
    )
    assert {e["action"] for e in audit} == {
        "configs.create",
        "configs.update",
        "configs.push",
        "configs.rollback",
    }
    user = await servers.person("configs-user")
    await user.call("GET", "/v1/servers/configs", 403)
    await user.call("POST", url + "/push", 403, json={})
    for answer in (created, pushed, back, audit):
        assert SECRET not in str(answer)


ENV_SECRET = "Upstream-Credential-8841"
DEPLOYMENTS = "/v1/servers/deployments"


@pytest.fixture
async def engine_stack(
    tmp_path: Path, meshkit_redis_url: str, dockerd: Engine
) -> AsyncIterator[ServersStack]:
    env = {
        "MESHKIT_SERVERS_LOCAL_ENGINE": dockerd.url,
        "MESHKIT_SERVERS_DEPLOY_READY_SECONDS": "0.5",
        "MESHKIT_SERVERS_DEPLOY_STOP_TIMEOUT": "1",
    }
    async with servers_stack(tmp_path, meshkit_redis_url, **env) as made:
        try:
            yield made
        finally:
            for deployment in await made.admin.call("GET", DEPLOYMENTS):
                await made.admin.call("DELETE", f"{DEPLOYMENTS}/{deployment['id']}", 204)


async def test_an_env_push_keeps_its_secrets_out_of_the_deployment_answers(
    engine_stack: ServersStack, sshd: SshHost, dockerd: Engine
) -> None:
    """A secret of an env configuration whose name does not look secret
    (``UPSTREAM_URL``) reaches the container, and nothing the deployment answers or
    records shows it: configuration management tells it which names are secrets."""
    admin = engine_stack.admin
    host = await admin.add_host(sshd, "env-box", engine="local")
    spec = {
        "name": "env-target",
        "host_id": host["id"],
        "image": BUSYBOX,
        "pull": "never",
        "command": ["sleep", "3600"],
        "env": {"GREETING": "hello"},
    }
    deployment = await admin.call("POST", DEPLOYMENTS, 201, json=spec)
    one = f"{DEPLOYMENTS}/{deployment['id']}"

    async def running() -> bool:
        found = await admin.call("GET", one)
        states = {c["state"] for c in found["containers"] or []}
        return bool(found["status"] == "running" and states == {"running"})

    await eventually(running, within=30, what="the deployment to run")
    body = {
        "kind": "env",
        "name": "env-target-env",
        "deployment_id": deployment["id"],
        "env": {"GREETING": "configured"},
        "secrets": {"UPSTREAM_URL": ENV_SECRET},
    }
    created = await admin.call("POST", "/v1/servers/configs", 201, json=body)
    pushed = await admin.call("POST", f"/v1/servers/configs/{created['id']}/push", json={})
    assert [(t["target"], t["outcome"]) for t in pushed["targets"]] == [
        (f"deployment:{deployment['id']}", "changed")
    ], pushed

    now = await admin.call("GET", one)
    assert now["spec"]["env"] == {"GREETING": "configured", "UPSTREAM_URL": "********"}
    containers = [c for c in now["containers"] if c["version"] == now["current_version"]]
    assert containers
    for container in containers:
        env = json.loads(
            dockerd.docker("inspect", "-f", "{{json .Config.Env}}", container["container_id"])
        )
        assert f"UPSTREAM_URL={ENV_SECRET}" in env
        assert "GREETING=configured" in env

    versions = await admin.call("GET", f"{one}/versions")
    latest = await admin.call("GET", f"{one}/versions/{now['current_version']}")
    audit = await admin.call("GET", "/v1/servers/audit", params={"limit": "200"})
    listed = await admin.call("GET", DEPLOYMENTS)
    assert any(e["action"] == "configs.push" for e in audit)
    for answer in (now, versions, latest, audit, listed, pushed, created):
        assert ENV_SECRET not in json.dumps(answer)
