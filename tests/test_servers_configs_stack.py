"""Configuration management in the whole servers service, through the gateway: a host
registered over REST, a file configuration pushed to it, changed, rolled back."""

from __future__ import annotations

import stat
from pathlib import Path

from tests.servers_env import SshHost, sshd
from tests.servers_stack import ServersStack, servers

__all__ = ["servers", "sshd"]

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
