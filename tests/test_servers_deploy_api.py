"""Deployments over REST through the gateway, on the real engine (``dockerd``): the
documented rules are enforced (422), unknown things are 404, uploads build and load
images, logs stream as Server-Sent Events, and secrets never appear in answers."""

from __future__ import annotations

import asyncio
import gzip
import io
import json
import tarfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from meshkit.testing import eventually
from tests.servers_env import BUSYBOX, Engine, SshHost, dockerd, sshd
from tests.servers_stack import ServersStack, servers_stack

__all__ = ["dockerd", "sshd"]

SECRET = "rest-secret-value-42"
ULID = r"^[0-9A-HJKMNP-TV-Z]{26}$"
BASE = "/v1/servers/deployments"
UPLOAD_LIMIT = 4 * 1024 * 1024


@pytest.fixture
async def stack(
    tmp_path: Path, meshkit_redis_url: str, dockerd: Engine, sshd: SshHost
) -> AsyncIterator[tuple[ServersStack, str]]:
    env = {
        "MESHKIT_SERVERS_LOCAL_ENGINE": dockerd.url,
        "MESHKIT_SERVERS_MAX_UPLOAD_BYTES": str(UPLOAD_LIMIT),
        "MESHKIT_SERVERS_DEPLOY_READY_SECONDS": "0.5",
        "MESHKIT_SERVERS_DEPLOY_STOP_TIMEOUT": "1",
        "MESHKIT_SERVERS_ENGINE_FORWARD_LINGER": "0.2",
    }
    async with servers_stack(tmp_path, meshkit_redis_url, **env) as made:
        host = await made.admin.add_host(sshd, "engine-box", engine="local")
        try:
            yield made, host["id"]
        finally:
            for deployment in await made.admin.call("GET", BASE):
                await made.admin.call("DELETE", f"{BASE}/{deployment['id']}", 204)


def spec(
    host_id: str, name: str = "site", message: str = "hello", **changes: Any
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": name,
        "host_id": host_id,
        "image": BUSYBOX,
        "pull": "never",
        "command": [
            "sh",
            "-c",
            'echo "$MESSAGE" > /www/index.html && echo "started $MESSAGE" '
            "&& exec httpd -f -vv -p 8080 -h /www",
        ],
        "env": {"MESSAGE": message, "API_TOKEN": SECRET},
        "ports": [{"container_port": 8080}],
        "health": {
            "command": "wget -q -O- http://127.0.0.1:8080/",
            "interval": 0.2,
            "retries": 2,
            "ready_timeout": 20,
        },
    }
    data.update(changes)
    return data


async def port_of(stack: ServersStack, deployment_id: str) -> int:
    found: list[int] = []

    async def ready() -> bool:
        got = await stack.admin.call("GET", f"{BASE}/{deployment_id}")
        found[:] = [
            p["host_port"]
            for c in got["containers"]
            if c["health"] == "healthy"
            for p in c["ports"]
        ]
        return len(found) == 1

    await eventually(ready, within=30, what="a healthy replica")
    return found[0]


async def page(http: aiohttp.ClientSession, port: int) -> str:
    async with http.get(f"http://127.0.0.1:{port}/") as response:
        return (await response.text()).strip()


async def test_the_rules_are_enforced_and_documented(stack: tuple[ServersStack, str]) -> None:
    servers, host_id = stack
    admin = servers.admin
    bad_specs = [
        {**spec(host_id), "name": "Bad Name"},
        {**spec(host_id), "image": "bad image"},
        {**spec(host_id), "env": {"1BAD": "x"}},
        {**spec(host_id), "labels": {"meshkit.deployment": "x"}},
        {**spec(host_id), "ports": [{"container_port": 8080, "host_port": 18080}], "replicas": 2},
        {**spec(host_id), "ports": [{"container_port": 70000}]},
        {**spec(host_id), "ports": [{"container_port": 80}, {"container_port": 80}]},
        {**spec(host_id), "ports": [{"container_port": 80, "host_ip": "not-an-ip"}]},
        {**spec(host_id), "volumes": [{"source": "relative/path", "target": "/data"}]},
        {**spec(host_id), "volumes": [{"source": "data", "target": "relative"}]},
        {**spec(host_id), "resources": {"memory": 10}},
        {**spec(host_id), "replicas": 51},
        {**spec(host_id), "unknown": 1},
        {**spec(host_id), "health": {"command": "true", "interval": 0}},
        {**spec(host_id), "secret_env": ["1BAD"]},
        {**spec(host_id), "host_id": "not-a-host-id"},
        {**spec(host_id), "volumes": [{"source": "a:b", "target": "/data"}]},
    ]
    for body in bad_specs:
        problem = await admin.call("POST", BASE, 422, json=body)
        assert problem["type"] == "urn:meshkit:problem:validation-error", body
    ulid = "01JDZZZZZZZZZZZZZZZZZZZZZZ"
    missing = await admin.call("GET", f"{BASE}/{ulid}", 404)
    assert missing["type"] == "urn:meshkit:problem:deployment-not-found"
    await admin.call("GET", f"{BASE}/{ulid}/versions", 404)
    await admin.call("GET", f"{BASE}/{ulid}/logs", 404)
    await admin.call("POST", f"{BASE}/{ulid}/scale", 404, json={"replicas": 2})
    await admin.call("DELETE", f"{BASE}/{ulid}", 404)
    await admin.call("POST", BASE, 404, json=spec(ulid))
    await admin.call("GET", f"/v1/servers/engines/{ulid}/images", 404)
    await admin.call("POST", f"{BASE}/{ulid}/scale", 422, json={"replicas": -1})
    await admin.call("GET", f"{BASE}/not-an-id", 422)
    await admin.call("GET", "/v1/servers/engines/not-an-id/images", 422)
    await admin.call("GET", f"{BASE}?after=nope", 422)

    async with servers.http.get(servers.service_url + "/openapi.json") as response:
        document = await response.json()
    schemas = document["components"]["schemas"]
    assert schemas["DeploymentSpec"]["additionalProperties"] is False
    assert schemas["DeploymentSpec"]["properties"]["name"]["pattern"]
    assert schemas["PortSpec"]["properties"]["host_ip"]["default"] == "127.0.0.1"
    deployment_spec = schemas["DeploymentSpec"]
    assert deployment_spec["properties"]["host_id"]["pattern"] == ULID
    assert deployment_spec["properties"]["secret_env"]["items"]["pattern"]
    names = deployment_spec["properties"]["labels"]["propertyNames"]
    assert names["not"] == {"pattern": "^meshkit\\."}
    assert deployment_spec["then"] == {"properties": {"replicas": {"maximum": 1}}}
    assert "host_port" in json.dumps(deployment_spec["if"])
    assert schemas["VolumeSpec"]["properties"]["source"]["pattern"]
    for path, item in document["paths"].items():
        for operation in item.values():
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "path" and parameter["name"].endswith("_id"):
                    assert parameter["schema"]["pattern"] == ULID, (path, parameter)
    stream = document["paths"][BASE + "/{deployment_id}/logs/stream"]["get"]
    assert "text/event-stream" in stream["responses"]["200"]["content"]
    build = document["paths"]["/v1/servers/engines/{host_id}/images/build"]["post"]
    assert "application/x-tar" in build["requestBody"]["content"]


async def test_deploy_update_rollback_and_logs_over_rest(stack: tuple[ServersStack, str]) -> None:
    servers, host_id = stack
    admin = servers.admin
    created = await admin.call("POST", BASE, 201, json=spec(host_id))
    deployment_id = created["id"]
    assert created["spec"]["env"]["API_TOKEN"] == "********"
    await admin.call("POST", BASE, 409, json=spec(host_id))
    async with aiohttp.ClientSession() as http:
        port = await port_of(servers, deployment_id)
        assert await page(http, port) == "hello"

        # logs, then follow: lines written after the stream opened arrive
        lines = await admin.call("GET", f"{BASE}/{deployment_id}/logs?tail=50")
        assert any(line["text"] == "started hello" for line in lines)
        url = f"{servers.gateway}{BASE}/{deployment_id}/logs/stream?tail=0"
        async with servers.http.get(url, headers=admin.headers) as response:
            assert response.status == 200
            assert response.content_type == "text/event-stream"
            await page(http, port)  # httpd -vv logs each request
            event = await asyncio.wait_for(response.content.readuntil(b"\n\n"), 10)
            assert event == b"retry: 2000\n\n"
            event = await asyncio.wait_for(response.content.readuntil(b"\n\n"), 10)
            assert event.startswith(b"event: log\ndata: ")
            line = json.loads(event.split(b"data: ", 1)[1])
            assert line["replica"] == 0
            assert line["version"] == 1

        # a failing update is rolled back; the answer says why
        broken = spec(host_id, message="broken")
        broken["health"]["command"] = "test -f /tmp/never"
        failed = await admin.call(
            "POST", f"{BASE}/{deployment_id}/versions", json={"spec": broken, "reason": "try"}
        )
        assert failed["status"] == "failed"
        assert "health check failed" in failed["failure"]
        assert await page(http, port) == "hello"

        good = await admin.call(
            "POST", f"{BASE}/{deployment_id}/versions", json={"spec": spec(host_id, message="v2")}
        )
        assert good["status"] == "active"
        assert good["number"] == 3
        assert {c["field"] for c in good["diff"]} == {"env.MESSAGE"}
        assert await page(http, await port_of(servers, deployment_id)) == "v2"

        history = await admin.call("GET", f"{BASE}/{deployment_id}/versions")
        assert [(v["number"], v["status"]) for v in history] == [
            (3, "active"),
            (2, "failed"),
            (1, "superseded"),
        ]
        one = await admin.call("GET", f"{BASE}/{deployment_id}/versions/2")
        assert one["reason"] == "try"
        await admin.call("GET", f"{BASE}/{deployment_id}/versions/9", 404)

        back = await admin.call("POST", f"{BASE}/{deployment_id}/rollback", json={"to_version": 1})
        assert back["source"] == "rollback:1"
        assert back["status"] == "active"
        assert await page(http, await port_of(servers, deployment_id)) == "hello"

        moved = await admin.call(
            "POST",
            f"{BASE}/{deployment_id}/versions",
            422,
            json={"spec": {**spec(host_id), "name": "other"}},
        )
        assert moved["status"] == 422

    stopped = await admin.call("POST", f"{BASE}/{deployment_id}/stop")
    assert stopped["status"] == "stopped"
    await admin.call("POST", f"{BASE}/{deployment_id}/scale", 409, json={"replicas": 2})
    await admin.call("POST", f"{BASE}/{deployment_id}/start")
    scaled = await admin.call("POST", f"{BASE}/{deployment_id}/scale", json={"replicas": 2})
    assert scaled["replicas"] == 2

    # nothing the API answered, nor the audit log, holds the secret
    texts = [
        json.dumps(await admin.call("GET", f"{BASE}/{deployment_id}")),
        json.dumps(await admin.call("GET", f"{BASE}/{deployment_id}/versions")),
        json.dumps(await admin.call("GET", BASE)),
        json.dumps(await admin.call("GET", "/v1/servers/audit?limit=200")),
    ]
    assert all(SECRET not in text for text in texts)
    audit = await admin.call("GET", f"/v1/servers/audit?target=deployment:{deployment_id}")
    actions = {entry["action"] for entry in audit}
    assert {"deployments.update", "deployments.rollback", "deployments.scale"} <= actions

    await admin.call("DELETE", f"{BASE}/{deployment_id}", 204)
    await admin.call("GET", f"{BASE}/{deployment_id}", 404)


def _context_tar(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


async def test_images_build_load_pull_over_rest(
    stack: tuple[ServersStack, str], dockerd: Engine, tmp_path: Path
) -> None:
    servers, host_id = stack
    admin = servers.admin
    engine = f"/v1/servers/engines/{host_id}"
    context = gzip.compress(
        _context_tar({"Dockerfile": f"FROM {BUSYBOX}\nRUN echo built > /www/index.html\n".encode()})
    )
    built = await admin.call(
        "POST",
        f"{engine}/images/build?tag=meshkit-test/rest-built:1",
        201,
        data=context,
        headers={"Content-Type": "application/gzip"},
    )
    assert built["images"] == ["meshkit-test/rest-built:1"]
    failing = _context_tar({"Dockerfile": f"FROM {BUSYBOX}\nRUN exit 7\n".encode()})
    problem = await admin.call(
        "POST",
        f"{engine}/images/build?tag=meshkit-test/rest-bad:1",
        422,
        data=failing,
        headers={"Content-Type": "application/x-tar"},
    )
    assert problem["type"] == "urn:meshkit:problem:build-failed"

    saved = tmp_path / "image.tar"
    dockerd.docker("tag", BUSYBOX, "meshkit-test/rest-saved:1")
    dockerd.docker("save", "-o", str(saved), "meshkit-test/rest-saved:1")
    dockerd.docker("rmi", "meshkit-test/rest-saved:1")
    loaded = await admin.call(
        "POST",
        f"{engine}/images/load",
        201,
        data=io.BytesIO(saved.read_bytes()),
        headers={"Content-Type": "application/x-tar"},
    )
    assert loaded["images"] == ["meshkit-test/rest-saved:1"]
    images = await admin.call("GET", f"{engine}/images")
    tags = {tag for image in images for tag in image["tags"]}
    assert {"meshkit-test/rest-built:1", "meshkit-test/rest-saved:1"} <= tags

    pulled = await admin.call(
        "POST", f"{engine}/images/pull", 502, json={"image": "127.0.0.1:1/x:1"}
    )
    assert pulled["type"] == "urn:meshkit:problem:image-unavailable"
    assert "127.0.0.1:1/x:1" in pulled["detail"]
    deploy = await admin.call(
        "POST", BASE, 502, json=spec(host_id, name="pulled", image="127.0.0.1:1/x:1", pull="always")
    )
    assert deploy["type"] == "urn:meshkit:problem:image-unavailable"

    wrong = await admin.call(
        "POST", f"{engine}/images/load", 415, data=b"x", headers={"Content-Type": "text/plain"}
    )
    assert wrong["type"] == "urn:meshkit:problem:unsupported-archive"
    big = await admin.call(
        "POST",
        f"{engine}/images/load",
        413,
        data=io.BytesIO(b"\0" * (UPLOAD_LIMIT + 1)),
        headers={"Content-Type": "application/x-tar"},
    )
    assert big["limit"] == UPLOAD_LIMIT
    containers = await admin.call("GET", f"{engine}/containers")
    assert isinstance(containers, list)


async def test_a_log_stream_a_client_leaves_releases_the_engine_forward(
    stack: tuple[ServersStack, str], dockerd: Engine, sshd: SshHost
) -> None:
    servers, _ = stack
    service = servers.service
    service.log_keepalive = 0.2
    remote = await servers.admin.add_host(
        sshd, "remote-engine", engine="ssh", engine_socket=str(dockerd.socket)
    )
    created = await servers.admin.call(
        "POST", BASE, 201, json=spec(remote["id"], name="quiet", ports=[], health=None)
    )
    url = f"{servers.gateway}{BASE}/{created['id']}/logs/stream?tail=0"
    response = await servers.http.get(url, headers=servers.admin.headers)
    assert response.status == 200
    assert await asyncio.wait_for(response.content.readuntil(b"\n\n"), 10)
    assert service.engines.forwards() == 1
    response.close()  # the client leaves while nothing is logged

    await eventually(lambda: service.engines.forwards() == 0, within=20, what="forward closed")
