"""Every route of the servers service needs a ``servers:*`` permission: an ordinary user
gets 403 on each one (and no token gets 401), through the gateway, before anything of
the request is looked at; the administrator's actions land in the audit log."""

from __future__ import annotations

import re
from typing import Any

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
