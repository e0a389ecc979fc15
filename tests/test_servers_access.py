"""Every route of the servers service needs a ``servers:*`` permission: an ordinary user
gets 403 on each one (and no token gets 401), through the gateway, before anything of
the request is looked at; the administrator's actions land in the audit log."""

from __future__ import annotations

import re
from typing import Any

from tests.servers_env import new_key, private_text
from tests.servers_stack import ServersStack, servers

__all__ = ["servers"]  # the fixture

ULID = "01JDZZZZZZZZZZZZZZZZZZZZZZ"
METHODS = ("get", "post", "put", "patch", "delete")


async def operations(stack: ServersStack) -> list[tuple[str, str, dict[str, Any]]]:
    """Every (method, path, operation) of the servers service's own OpenAPI document."""
    async with stack.http.get(stack.service_url + "/openapi.json") as response:
        document = await response.json()
    found = []
    for path, item in document["paths"].items():
        for method in METHODS:
            if method in item and path.startswith("/v1/servers"):
                found.append((method.upper(), path, item[method]))
    return found


async def test_every_route_declares_a_servers_permission(servers: ServersStack) -> None:
    found = await operations(servers)
    assert len(found) >= 40, found
    missing = [
        f"{method} {path}"
        for method, path, operation in found
        if not str(operation.get("x-meshkit-permission", "")).startswith("servers:")
    ]
    assert missing == [], missing


async def test_an_ordinary_user_gets_403_everywhere(servers: ServersStack) -> None:
    user = await servers.person("mallory")
    for method, path, _ in await operations(servers):
        concrete = re.sub(r"\{[^}]+\}", ULID, path)
        body = await user.call(method, concrete, 403, json={})
        assert body["type"] == "urn:meshkit:problem:forbidden", (method, path, body)
        assert body["required_permission"].startswith("servers:"), body


async def test_no_token_gets_401_everywhere(servers: ServersStack) -> None:
    for method, path, _ in await operations(servers):
        concrete = re.sub(r"\{[^}]+\}", ULID, path)
        async with servers.http.request(method, servers.gateway + concrete, json={}) as response:
            assert response.status == 401, (method, path, response.status)


async def test_the_audit_log_is_readable_by_an_administrator_only(servers: ServersStack) -> None:
    page = await servers.admin.call("GET", "/v1/servers/audit?limit=5")
    assert isinstance(page, list)
    bad = await servers.admin.call("GET", "/v1/servers/audit?limit=0", 422)
    assert bad["status"] == 422


async def test_a_command_check_needs_the_right_to_run_commands(servers: ServersStack) -> None:
    """``servers:checks.manage`` alone defines HTTP and TCP checks; a command check runs
    commands on the host, so it also needs ``servers:jobs.run`` (403 without)."""
    key = new_key()
    host = await servers.admin.call(
        "POST",
        "/v1/servers/hosts",
        201,
        json={
            "name": "quiet",
            "address": "127.0.0.1",
            "port": 1,
            "user": "nobody",
            "private_key": private_text(key),
        },
    )
    role = {"name": "checkers", "permissions": ["servers:checks.*", "servers:hosts.read"]}
    await servers.admin.call("POST", "/v1/roles", 201, json=role)
    person = await servers.person("carol")
    await servers.admin.call("POST", f"/v1/roles/checkers/members/{person.user_id}", 201)
    carol = await servers.person("carol", register=False)  # a token with the new role
    subject = f"host:{host['id']}"
    command = {"kind": "command", "command": "true"}
    refused = await carol.call(
        "POST", "/v1/servers/checks", 403, json={"name": "c", "subject": subject, "probe": command}
    )
    assert refused["required_permission"] == "servers:jobs.run"
    tcp = {"kind": "tcp", "port": 1}
    await carol.call(
        "POST", "/v1/servers/checks", 201, json={"name": "t", "subject": subject, "probe": tcp}
    )
    await servers.admin.call(
        "POST", "/v1/servers/checks", 201, json={"name": "c", "subject": subject, "probe": command}
    )
    entries = await servers.admin.call("GET", "/v1/servers/audit?action=checks.create")
    assert [e["outcome"] for e in entries] == ["ok", "ok", "failed"]
