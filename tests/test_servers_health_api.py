"""Health checks over REST through the gateway: bad input is a 422 the OpenAPI document
announces, CRUD + run + history + summary with audit, and end to end a check that flips
down and up posting "… is down" / "… is up" in a messaging channel (the operations
channel) through messaging's gRPC ``PostSystemMessage``."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from meshkit.testing import eventually, free_ports
from tests.servers_env import SshHost, sshd  # noqa: F401  (fixture)
from tests.servers_stack import ServersStack, servers, servers_stack  # noqa: F401  (fixture)

CHECKS = "/v1/servers/checks"


class Flippable:
    """An HTTP server on ``address`` whose ``/healthz`` answers ``status``."""

    def __init__(self, address: str) -> None:
        self.address, self.port, self.status = address, free_ports(1)[0], 200
        self.runner: web.AppRunner | None = None

    async def start(self) -> None:
        async def healthz(request: web.Request) -> web.Response:
            return web.Response(status=self.status, text="ok")

        app = web.Application()
        app.router.add_get("/healthz", healthz)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        await web.TCPSite(self.runner, self.address, self.port).start()

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()
            self.runner = None


@pytest.fixture
async def web_on_sshd(sshd: SshHost) -> AsyncIterator[Flippable]:  # noqa: F811
    """A flippable server on the sshd host's address (so ``port`` checks reach it)."""
    server = Flippable(sshd.address)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


def http_body(host_id: str, port: int, **more: Any) -> dict[str, Any]:
    return {
        "name": "web",
        "subject": f"host:{host_id}",
        "probe": {"kind": "http", "port": port, "path": "/healthz"},
        "failures_to_down": 1,
        "successes_to_up": 1,
        "interval": 3600,
        **more,
    }


async def test_bad_input_is_a_422_and_the_document_says_why(
    servers: ServersStack,  # noqa: F811
    sshd: SshHost,  # noqa: F811
) -> None:
    admin = servers.admin
    host = await admin.add_host(sshd, "bad-input")
    good = http_body(host["id"], 8080)
    bad: list[dict[str, Any]] = [
        {**good, "subject": "server:x"},
        {**good, "subject": "host:no/slash"},
        {**good, "name": ""},
        {**good, "name": "a\nb"},
        {**good, "extra": 1},
        {**good, "interval": 0},
        {**good, "timeout": 301},
        {**good, "failures_to_down": 0},
        {**good, "degraded_latency_ms": 0},
        {**good, "probe": {"kind": "smtp", "port": 25}},
        {**good, "probe": {"kind": "http"}},
        {**good, "probe": {"kind": "http", "port": 80, "url": "http://127.0.0.1/"}},
        {**good, "probe": {"kind": "http", "url": "http://127.0.0.1/", "path": "/x"}},
        {**good, "probe": {"kind": "http", "url": "ftp://127.0.0.1/"}},
        {**good, "probe": {"kind": "http", "port": 80, "status_min": 500, "status_max": 200}},
        {**good, "probe": {"kind": "http", "port": 80, "method": "DELETE"}},
        {**good, "probe": {"kind": "http", "port": 80, "path": "no-slash"}},
        {**good, "probe": {"kind": "tcp", "port": 70000}},
        {**good, "probe": {"kind": "tcp", "port": 22, "host": "bad host"}},
        {**good, "probe": {"kind": "command", "command": ""}},
        {**good, "probe": {"kind": "command", "command": "true", "shell": "bash"}},
        {key: value for key, value in good.items() if key != "subject"},
    ]
    for body in bad:
        problem = await admin.call("POST", CHECKS, 422, json=body)
        assert problem["type"] == "urn:meshkit:problem:validation-error", (body, problem)
    unknown = await admin.call(
        "POST", CHECKS, 422, json={**good, "subject": "host:01JDZZZZZZZZZZZZZZZZZZZZZZ"}
    )
    assert unknown["errors"][0]["loc"] == ["body", "subject"], unknown
    created = await admin.call("POST", CHECKS, 201, json=good)
    duplicate = await admin.call("POST", CHECKS, 409, json=good)
    assert duplicate["type"] == "urn:meshkit:problem:duplicate-key"
    path = f"{CHECKS}/{created['id']}"
    await admin.call("PATCH", path, 422, json={"interval": -1})
    await admin.call("PATCH", path, 422, json={"subject": "host:x"})  # not changeable
    await admin.call("GET", f"{path}/history?limit=0", 422)
    await admin.call("GET", f"{CHECKS}?subject=nope", 422)
    missing = await admin.call("GET", f"{CHECKS}/01JDZZZZZZZZZZZZZZZZZZZZZZ", 404)
    assert missing["type"] == "urn:meshkit:problem:check-not-found"

    async with servers.http.get(servers.service_url + "/openapi.json") as response:
        schemas = (await response.json())["components"]["schemas"]
    check_in = schemas["CheckIn"]
    assert re.search(r"host\|deployment", check_in["properties"]["subject"]["pattern"])
    assert check_in["additionalProperties"] is False
    http_probe = schemas["HttpProbe"]
    assert len(http_probe["oneOf"]) == 2
    assert http_probe["properties"]["port"]["anyOf"][0]["maximum"] == 65535


async def test_crud_run_history_summary_and_audit(
    servers: ServersStack,  # noqa: F811
    sshd: SshHost,  # noqa: F811
    web_on_sshd: Flippable,
) -> None:
    admin = servers.admin
    host = await admin.add_host(sshd, "crud")
    created = await admin.call("POST", CHECKS, 201, json=http_body(host["id"], web_on_sshd.port))
    assert created["status"]["state"] == "unknown"
    path = f"{CHECKS}/{created['id']}"
    ran = await admin.call("POST", f"{path}/run")
    assert ran["result"]["ok"], ran
    assert ran["changed"] is True
    assert ran["status"]["state"] == "up"
    web_on_sshd.status = 503
    ran = await admin.call("POST", f"{path}/run")
    assert ran["status"]["state"] == "down"
    assert "HTTP 503" in ran["result"]["detail"]
    history = await admin.call("GET", f"{path}/history")
    assert [(h["previous"], h["state"]) for h in history] == [("up", "down"), ("unknown", "up")]

    patched = await admin.call("PATCH", path, json={"name": "web renamed", "enabled": False})
    assert patched["name"] == "web renamed"
    assert patched["status"]["state"] == "down"  # state kept
    listed = await admin.call("GET", f"{CHECKS}?subject=host:{host['id']}")
    assert [c["id"] for c in listed] == [created["id"]]

    await admin.call("PATCH", path, json={"enabled": True})
    summary = await admin.call("GET", "/v1/servers/health")
    assert summary["counts"]["down"] == 1
    assert summary["subjects"] == [
        {
            "subject": f"host:{host['id']}",
            "state": "down",
            "checks": {"unknown": 0, "up": 0, "degraded": 0, "down": 1},
        }
    ]

    user = await servers.person("viewer")
    await user.call("GET", "/v1/servers/health", 403)
    await user.call("POST", f"{path}/run", 403)

    await admin.call("DELETE", path, 204)
    await admin.call("GET", path, 404)
    entries = await admin.call("GET", f"/v1/servers/audit?target=check:{created['id']}")
    assert [e["action"] for e in reversed(entries)] == [
        "checks.create",
        "checks.run",
        "checks.run",
        "checks.update",
        "checks.update",
        "checks.delete",
    ]


async def test_a_check_flipping_posts_down_and_up_in_the_operations_channel(
    tmp_path: Path,
    meshkit_redis_url: str,
    sshd: SshHost,  # noqa: F811
    web_on_sshd: Flippable,
) -> None:
    # the operations channel is a setting: make the channel first, then start servers
    async with servers_stack(
        tmp_path, meshkit_redis_url, names=("auth", "messaging", "gateway")
    ) as first:
        channel = await first.admin.call(
            "POST", "/v1/channels", 201, json={"name": "operations", "kind": "public"}
        )
    names = ("auth", "messaging", "servers", "gateway")
    async with servers_stack(
        tmp_path,
        meshkit_redis_url,
        names=names,
        MESHKIT_SERVERS_OPERATIONS_CHANNEL=channel["id"],
    ) as stack:
        admin = stack.admin
        host = await admin.add_host(sshd, "ops-web")
        check = await admin.call(
            "POST", CHECKS, 201, json=http_body(host["id"], web_on_sshd.port, name="shop web")
        )
        path = f"{CHECKS}/{check['id']}/run"

        async def posted() -> list[str]:
            messages = await admin.call("GET", f"/v1/channels/{channel['id']}/messages")
            return [m["content"] for m in messages if m["author_id"] == "system:servers"]

        async def has(text: str) -> bool:
            return any(text in content for content in await posted())

        assert (await admin.call("POST", path))["status"]["state"] == "up"
        await eventually(lambda: has("shop web (host:"), what="the up message")
        web_on_sshd.status = 500
        assert (await admin.call("POST", path))["status"]["state"] == "down"
        await eventually(lambda: has("is down (was up)"), what="the down message")
        await web_on_sshd.stop()
        assert (await admin.call("POST", path))["status"]["state"] == "down"  # no change
        web_on_sshd.status = 200
        await web_on_sshd.start()
        assert (await admin.call("POST", path))["status"]["state"] == "up"
        await eventually(lambda: has("is up (was down)"), what="the up-again message")
        texts = await posted()
        assert len(texts) == 3, texts  # one post per change, none for a run without one
        assert "HTTP 500" in texts[1]
