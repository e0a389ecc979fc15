"""Provisioning through the gateway: recipes and jobs over REST, output live over
Server-Sent Events and Socket.IO (``/servers/socket.io``), 403 without the permission,
422 for bad input; with auth, servers and the gateway in one runtime and a real sshd."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import socketio

from meshkit.services.gateway.settings import DEFAULT_PUBLIC_ROUTES
from meshkit.store import new_id
from meshkit.testing import eventually
from tests.servers_env import SshHost, sshd
from tests.servers_stack import Operator, ServersStack, servers_stack

__all__ = ["sshd"]  # fixtures

SOCKET_ROUTE = "* /servers/socket.io/*"


@pytest.fixture
async def servers(tmp_path: Path, meshkit_redis_url: str) -> AsyncIterator[ServersStack]:
    """auth + servers + gateway with the gateway's default settings: the jobs' Socket.IO
    handshake (token in the payload, checked by the service) is public there."""
    assert SOCKET_ROUTE in DEFAULT_PUBLIC_ROUTES
    async with servers_stack(tmp_path / "stack", meshkit_redis_url) as stack:
        yield stack


def gated(flag: Path) -> str:
    """A command that prints ``one``, waits (bounded) for ``flag`` to exist, prints ``two``:
    it can only finish after its first line reached the test."""
    return (
        f"echo one; i=0; while [ ! -e {flag} ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done; "
        f"[ -e {flag} ] && echo two"
    )


async def add_host(admin: Operator, host: SshHost) -> str:
    created = await admin.add_host(host, "web-1", labels={"role": "web"})
    host_id: str = created["id"]
    return host_id


async def events(response: aiohttp.ClientResponse) -> AsyncIterator[dict[str, Any]]:
    """The Server-Sent Events of a response, as ``{"id", "event", "data"}``."""
    current: dict[str, Any] = {}
    async for raw in response.content:
        line = raw.decode().rstrip("\n")
        if not line:
            if "event" in current:
                yield current
            current = {}
        elif line.startswith(":"):
            continue
        else:
            name, _, value = line.partition(": ")
            current[name] = json.loads(value) if name == "data" else value


async def wait_job(admin: Operator, job_id: str) -> dict[str, Any]:
    found: dict[str, Any] = {}

    async def done() -> bool:
        found.update(await admin.call("GET", f"/v1/servers/jobs/{job_id}"))
        return found["status"] in ("succeeded", "failed", "cancelled")

    await eventually(done, within=60, what=f"job {job_id} to finish")
    return found


async def test_recipes_and_jobs_over_rest(
    servers: ServersStack, sshd: SshHost, tmp_path: Path
) -> None:
    admin = servers.admin
    host_id = await add_host(admin, sshd)
    target = tmp_path / "hello.txt"
    recipe = {
        "name": "hello",
        "description": "writes a greeting",
        "steps": [
            {"kind": "file", "path": str(target), "content": "hello\n", "mode": "0644"},
            {"kind": "command", "cmd": "echo done", "unless": f"grep -q bye {target}"},
        ],
    }
    made = await admin.call("POST", "/v1/servers/recipes", 201, json=recipe)
    assert made["revision"] == 1
    assert made["steps"][0]["kind"] == "file"
    conflict = await admin.call("POST", "/v1/servers/recipes", 409, json=recipe)
    assert conflict["type"] == "urn:meshkit:problem:recipe-exists"
    listed = await admin.call("GET", "/v1/servers/recipes")
    assert [r["name"] for r in listed] == ["hello"]

    check = await admin.call(
        "POST",
        "/v1/servers/jobs",
        202,
        json={"recipe": "hello", "hosts": {"ids": [host_id]}, "mode": "check"},
    )
    assert check["status"] in ("queued", "running")
    assert check["instance"]
    checked = await wait_job(admin, check["id"])
    assert checked["status"] == "succeeded"
    assert "+hello" in checked["hosts"][0]["steps"][0]["diff"]
    assert not target.exists()

    apply = {"recipe": "hello", "hosts": {"labels": {"role": "web"}}, "mode": "apply"}
    first = await wait_job(
        admin, (await admin.call("POST", "/v1/servers/jobs", 202, json=apply))["id"]
    )
    assert first["summary"]["hosts_changed"] == 1
    assert target.read_text() == "hello\n"
    second = await wait_job(
        admin, (await admin.call("POST", "/v1/servers/jobs", 202, json=apply))["id"]
    )
    assert second["summary"]["hosts_ok"] == 0
    assert second["summary"]["steps"]["changed"] == 1
    assert [s["status"] for s in second["hosts"][0]["steps"]] == ["ok", "changed"]

    log = await admin.call("GET", f"/v1/servers/jobs/{second['id']}/log")
    assert log["status"] == "succeeded"
    assert "done\n" in [e["text"] for e in log["entries"] if e["type"] == "output"]
    jobs = await admin.call("GET", "/v1/servers/jobs?limit=2")
    assert [j["id"] for j in jobs] == [second["id"], first["id"]]

    updated = await admin.call(
        "PUT", f"/v1/servers/recipes/{made['id']}", json={**recipe, "description": "v2"}
    )
    assert updated["revision"] == 2
    await admin.call("DELETE", f"/v1/servers/recipes/{made['id']}", 204)
    await admin.call("GET", f"/v1/servers/recipes/{made['id']}", 404)
    finished = await admin.call("POST", f"/v1/servers/jobs/{second['id']}/cancel", 409)
    assert finished["type"] == "urn:meshkit:problem:job-finished"
    audit = await admin.call("GET", "/v1/servers/audit?limit=200")
    actions = {e["action"] for e in audit}
    assert {"recipes.create", "recipes.update", "recipes.delete", "jobs.run"} <= actions


async def test_sse_streams_output_live_and_resumes(
    servers: ServersStack, sshd: SshHost, tmp_path: Path
) -> None:
    admin = servers.admin
    host_id = await add_host(admin, sshd)
    flag = tmp_path / "go"
    body = {
        "recipe": {"steps": [{"kind": "command", "cmd": gated(flag)}]},
        "hosts": {"ids": [host_id]},
        "mode": "apply",
    }
    job = await admin.call("POST", "/v1/servers/jobs", 202, json=body)
    url = f"{servers.gateway}/v1/servers/jobs/{job['id']}/log"
    seen: list[dict[str, Any]] = []
    headers = {**admin.headers, "Accept": "text/event-stream"}
    async with servers.http.get(url, headers=headers) as response:
        assert response.status == 200
        assert response.content_type == "text/event-stream"
        async for event in events(response):
            seen.append(event)
            if event["event"] == "output" and event["data"]["text"] == "one\n":
                flag.touch()  # only now can the command go on
            if event["event"] == "end":
                break
    texts = [e["data"].get("text") for e in seen if e["event"] == "output"]
    assert texts == ["one\n", "two\n"]
    assert seen[-1]["data"]["status"] == "succeeded"
    kinds = [e["event"] for e in seen]
    assert kinds.index("host") < kinds.index("output") < kinds.index("step")

    # resume after "one": the rest, then the end
    one = next(e["id"] for e in seen if e["data"].get("text") == "one\n")
    async with servers.http.get(
        url + "?follow=true", headers={**admin.headers, "Last-Event-ID": one}
    ) as response:
        rest = [e async for e in events(response)]
    assert [e["data"].get("text") for e in rest if e["event"] == "output"] == ["two\n"]
    assert rest[-1]["event"] == "end"


async def test_socketio_streams_output_live(
    servers: ServersStack, sshd: SshHost, tmp_path: Path
) -> None:
    admin = servers.admin
    host_id = await add_host(admin, sshd)
    flag = tmp_path / "go"
    client = socketio.AsyncClient(reconnection=False)
    pushes: list[tuple[str, dict[str, Any]]] = []
    finished = asyncio.Event()

    def on(name: str) -> None:
        async def handler(data: dict[str, Any]) -> None:
            pushes.append((name, data))
            if name == "job.output" and data.get("text") == "one\n":
                flag.touch()
            if name == "job.finished":
                finished.set()

        client.on(name, handler)

    for name in ("job.output", "job.host", "job.finished"):
        on(name)
    await client.connect(
        servers.gateway,
        socketio_path="servers/socket.io",
        auth={"token": admin.token},
        transports=["websocket"],
        wait_timeout=5,
    )
    try:
        body = {
            "recipe": {"steps": [{"kind": "command", "cmd": gated(flag)}]},
            "hosts": {"ids": [host_id]},
            "mode": "apply",
        }
        job = await admin.call("POST", "/v1/servers/jobs", 202, json=body)
        ack = await client.call("job.follow", {"job_id": job["id"]}, timeout=10)
        assert ack["ok"] is True, ack
        assert ack["job_id"] == job["id"]
        await asyncio.wait_for(finished.wait(), 60)
        outputs = [d["text"] for n, d in pushes if n == "job.output" and d["type"] == "output"]
        assert outputs == ["one\n", "two\n"]
        assert any(n == "job.host" and d["status"] == "changed" for n, d in pushes)
        assert pushes[-1][0] == "job.finished"
        assert pushes[-1][1]["status"] == "succeeded"
        bad = await client.call("job.follow", {"job_id": ""}, timeout=10)
        assert bad["ok"] is False
        assert bad["error"]["status"] == 422
        malformed = await client.call("job.follow", {"job_id": "nope"}, timeout=10)
        assert malformed["ok"] is False
        assert malformed["error"]["status"] == 422
        unknown = await client.call("job.follow", {"job_id": new_id()}, timeout=10)
        assert unknown["ok"] is False
        assert unknown["error"]["status"] == 404
    finally:
        await client.disconnect()


async def test_without_the_permission_everything_is_403(
    servers: ServersStack, sshd: SshHost
) -> None:
    admin = servers.admin
    host_id = await add_host(admin, sshd)
    job = await admin.call(
        "POST",
        "/v1/servers/jobs",
        202,
        json={
            "recipe": {"steps": [{"kind": "command", "cmd": "true"}]},
            "hosts": {"ids": [host_id]},
        },
    )
    user = await servers.person("bob")
    for method, path in [
        ("GET", "/v1/servers/recipes"),
        ("POST", "/v1/servers/recipes"),
        ("GET", "/v1/servers/recipes/x"),
        ("PUT", "/v1/servers/recipes/x"),
        ("DELETE", "/v1/servers/recipes/x"),
        ("GET", "/v1/servers/jobs"),
        ("POST", "/v1/servers/jobs"),
        ("GET", f"/v1/servers/jobs/{job['id']}"),
        ("POST", f"/v1/servers/jobs/{job['id']}/cancel"),
        ("GET", f"/v1/servers/jobs/{job['id']}/log"),
        ("GET", f"/v1/servers/jobs/{job['id']}/log?follow=true"),
    ]:
        problem = await user.call(method, path, 403, json={})
        assert problem["status"] == 403, (method, path)
    client = socketio.AsyncClient(reconnection=False)
    await client.connect(
        servers.gateway,
        socketio_path="servers/socket.io",
        auth={"token": user.token},
        transports=["websocket"],
        wait_timeout=5,
    )
    try:
        ack = await client.call("job.follow", {"job_id": job["id"]}, timeout=10)
        assert ack["ok"] is False
        assert ack["error"]["status"] == 403
    finally:
        await client.disconnect()
    await wait_job(admin, job["id"])


async def test_bad_input_is_422(servers: ServersStack, sshd: SshHost) -> None:
    admin = servers.admin
    host_id = await add_host(admin, sshd)
    bad_bodies = [
        {"recipe": {"steps": [{"kind": "file", "path": "etc/motd"}]}, "hosts": {"ids": [host_id]}},
        {
            "recipe": {"steps": [{"kind": "file", "path": "/etc/motd", "mode": "888"}]},
            "hosts": {"ids": [host_id]},
        },
        {"recipe": {"steps": [{"kind": "user", "user": "x;reboot"}]}, "hosts": {"ids": [host_id]}},
        {"recipe": {"steps": [{"kind": "nope"}]}, "hosts": {"ids": [host_id]}},
        {"recipe": {"steps": []}, "hosts": {"ids": [host_id]}},
        {"recipe": "hello", "hosts": {"ids": [host_id]}, "mode": "maybe"},
        {"recipe": "hello", "hosts": {"ids": [host_id]}, "parallelism": 0},
        {"recipe": "hello", "hosts": "everything"},
        {"recipe": "hello", "hosts": {}},
        {"recipe": "hello", "hosts": {"ids": []}},
        {"recipe": "hello", "hosts": {"ids": ["web-1"]}},
        {
            "recipe": {"steps": [{"kind": "command", "cmd": "true"}], "from_job": "x"},
            "hosts": {"ids": [host_id]},
        },
    ]
    for body in bad_bodies:
        problem = await admin.call("POST", "/v1/servers/jobs", 422, json=body)
        assert problem["type"] == "urn:meshkit:problem:validation-error", body
    none = await admin.call(
        "POST",
        "/v1/servers/jobs",
        422,
        json={
            "recipe": {"steps": [{"kind": "command", "cmd": "true"}]},
            "hosts": {"ids": [host_id], "labels": {"role": "db"}},
        },
    )
    assert none["type"] == "urn:meshkit:problem:no-hosts-selected"
    unknown = await admin.call(
        "POST",
        "/v1/servers/jobs",
        404,
        json={
            "recipe": {"steps": [{"kind": "command", "cmd": "true"}]},
            "hosts": {"ids": [new_id()]},
        },
    )
    assert unknown["type"] == "urn:meshkit:problem:host-not-found"
    masked = {"kind": "file", "path": "/tmp/x", "content": "********", "content_secret": True}
    refused = await admin.call(
        "POST", "/v1/servers/recipes", 422, json={"name": "masked", "steps": [masked]}
    )
    assert refused["type"] == "urn:meshkit:problem:masked-secret-unknown"
    assert (refused["step"], refused["field"]) == (0, "content")
    missing = await admin.call(
        "POST", "/v1/servers/jobs", 404, json={"recipe": "missing", "hosts": {"ids": [host_id]}}
    )
    assert missing["type"] == "urn:meshkit:problem:recipe-not-found"
    await admin.call("POST", "/v1/servers/recipes", 422, json={"name": "bad name", "steps": []})
    await admin.call("GET", "/v1/servers/jobs/not-a-job", 422)
    await admin.call("GET", f"/v1/servers/jobs/{new_id()}", 404)
    await admin.call("GET", "/v1/servers/jobs?before=nope", 422)
    await admin.call("GET", "/v1/servers/jobs?limit=0", 422)
    # the document says the rules
    async with servers.http.get(f"{servers.service_url}/openapi.json") as response:
        document = await response.json()
    schemas = document["components"]["schemas"]
    selector = schemas["HostSelector"]
    assert selector["anyOf"] == [{"required": ["ids"]}, {"required": ["labels"]}]
    assert schemas["InlineRecipe"]["properties"]["from_job"]
    assert "^0?[0-7]{3,4}$" in json.dumps(schemas["FileStep"]["properties"]["mode"])
    step_union = json.dumps(schemas["InlineRecipe"])
    assert "discriminator" in step_union or "oneOf" in step_union
