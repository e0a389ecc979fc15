"""Contract regressions found by fuzzing the servers REST API (schemathesis plus hand-made
uploads, Last-Event-IDs and Socket.IO payloads): each input here once answered 500 or
kept a stream spinning; now it is a typed problem, declared in the OpenAPI document
where a schema can say it."""

from __future__ import annotations

import gzip
import io
import json
import tarfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from meshkit.services.servers.jobs.log import is_event_id
from tests.servers_env import BUSYBOX, Engine, SshHost, dockerd, sshd
from tests.servers_stack import ServersStack, servers_stack

__all__ = ["dockerd", "sshd"]  # fixtures

HUGE = 2**70
"""Past any 64-bit integer column: once an OverflowError deep in the store (500)."""


@pytest.fixture
async def stack(
    tmp_path: Path, meshkit_redis_url: str, dockerd: Engine, sshd: SshHost
) -> AsyncIterator[tuple[ServersStack, str]]:
    async with servers_stack(
        tmp_path / "stack", meshkit_redis_url, MESHKIT_SERVERS_LOCAL_ENGINE=dockerd.url
    ) as made:
        host = await made.admin.add_host(sshd, "contract-box", labels={"role": "c"}, engine="local")
        try:
            yield made, host["id"]
        finally:
            for deployment in await made.admin.call("GET", "/v1/servers/deployments"):
                await made.admin.call("DELETE", f"/v1/servers/deployments/{deployment['id']}", 204)


def invalid(body: dict[str, Any]) -> None:
    assert body["type"] == "urn:meshkit:problem:validation-error", body


def tar_of(*members: tarfile.TarInfo, files: dict[str, bytes] | None = None) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name, data in (files or {}).items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        for member in members:
            tar.addfile(member)
    return buffer.getvalue()


def link(name: str, target: str, kind: bytes) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, target
    return info


def declared_size_beyond_body() -> bytes:
    """A tar whose first header says its file is ~8 GiB long (the body is a few bytes)."""
    data = bytearray(tar_of(files={"Dockerfile": f"FROM {BUSYBOX}\n".encode()}))
    data[124:136] = b"77777777777\0"
    data[148:156] = b" " * 8
    data[148:156] = b"%06o\0 " % sum(data[:512])
    return bytes(data)


def schema_of(openapi: dict[str, Any], path: str, method: str, name: str) -> dict[str, Any]:
    for parameter in openapi["paths"][path][method]["parameters"]:
        if parameter["name"] == name:
            found: dict[str, Any] = parameter["schema"]
            return found
    raise AssertionError(f"{method} {path} has no parameter {name}")


async def test_version_numbers_past_the_store_are_422(
    stack: tuple[ServersStack, str], tmp_path: Path
) -> None:
    servers, host_id = stack
    admin = servers.admin
    config = await admin.call(
        "POST",
        "/v1/servers/configs",
        201,
        json={
            "kind": "file",
            "name": "contract-conf",
            "hosts": {"labels": {"role": "c"}},
            "path": str(tmp_path / "c.conf"),
            "content": "x = 1\n",
        },
    )
    one = f"/v1/servers/configs/{config['id']}"
    invalid(await admin.call("GET", f"{one}/versions/{HUGE}", 422))
    invalid(await admin.call("GET", f"{one}/versions?before={HUGE}", 422))
    invalid(await admin.call("GET", f"{one}/diff?from={HUGE}&to=1", 422))
    invalid(await admin.call("GET", f"{one}/diff?from=1&to={HUGE}", 422))
    invalid(await admin.call("POST", f"{one}/push", 422, json={"version": HUGE}))
    invalid(await admin.call("POST", f"{one}/rollback", 422, json={"version": HUGE}))
    # the largest accepted number is simply not there
    missing = await admin.call("GET", f"{one}/versions/{2**31 - 1}", 404)
    assert missing["type"] == "urn:meshkit:problem:config-version-not-found"

    deployment = await admin.call(
        "POST",
        "/v1/servers/deployments",
        201,
        json={
            "name": "contract",
            "host_id": host_id,
            "image": BUSYBOX,
            "pull": "never",
            "replicas": 0,
        },
    )
    base = f"/v1/servers/deployments/{deployment['id']}"
    invalid(await admin.call("GET", f"{base}/versions/{HUGE}", 422))
    invalid(await admin.call("POST", f"{base}/rollback", 422, json={"to_version": HUGE}))
    assert (await admin.call("GET", f"{base}/versions/{2**31 - 1}", 404))["status"] == 404

    async with servers.http.get(servers.service_url + "/openapi.json") as response:
        openapi = await response.json()
    for path in (
        "/v1/servers/configs/{config_id}/versions/{number}",
        "/v1/servers/deployments/{deployment_id}/versions/{number}",
    ):
        assert schema_of(openapi, path, "get", "number")["maximum"] == 2**31 - 1
    diff = "/v1/servers/configs/{config_id}/diff"
    assert schema_of(openapi, diff, "get", "from")["maximum"] == 2**31 - 1


@pytest.mark.parametrize(
    "image",
    [
        "lG24vgUl2",  # uppercase repository: the engine's "invalid reference format"
        "UPPER/Case:1",
        "MyRegistry/app:1",  # no dot, no port: a path component, so lowercase only
        "a..b:1",
        "foo@sha256:abc",  # a digest is 64 hex digits
        "a:b:c",
        "a" + "b" * 255,
    ],
)
async def test_image_references_the_engine_rejects_are_422(
    stack: tuple[ServersStack, str], image: str
) -> None:
    servers, host_id = stack
    admin = servers.admin
    body = {"name": "badimage", "host_id": host_id, "image": image, "pull": "never"}
    invalid(await admin.call("POST", "/v1/servers/deployments", 422, json=body))
    engine = f"/v1/servers/engines/{host_id}/images"
    invalid(await admin.call("POST", f"{engine}/pull", 422, json={"image": image}))
    context = tar_of(files={"Dockerfile": f"FROM {BUSYBOX}\n".encode()})
    invalid(
        await admin.call(
            "POST",
            f"{engine}/build",
            422,
            params={"tag": image},
            data=context,
            headers={"Content-Type": "application/x-tar"},
        )
    )


async def test_image_references_docker_accepts_still_pass(
    stack: tuple[ServersStack, str],
) -> None:
    servers, host_id = stack
    context = tar_of(files={"Dockerfile": f"FROM {BUSYBOX}\n".encode()})
    engine = f"/v1/servers/engines/{host_id}/images"
    for tag in ("contract/ok:1", "localhost/contract_ok:v1.2-rc", "127.0.0.1:5000/contract-ok"):
        built = await servers.admin.call(
            "POST",
            f"{engine}/build",
            201,
            params={"tag": tag},
            data=context,
            headers={"Content-Type": "application/x-tar"},
        )
        assert tag in built["images"][0]


@pytest.mark.parametrize(
    ("what", "body", "dockerfile"),
    [
        ("not a tar", b"\x00garbage" * 100, "Dockerfile"),
        ("gzip that is not", b"\x1f\x8b\x08garbage", "Dockerfile"),
        ("no Dockerfile", tar_of(files={"x": b"x"}), "Dockerfile"),
        ("Dockerfile outside", tar_of(files={"Dockerfile": b"FROM x\n"}), "../../etc/passwd"),
        (
            "Dockerfile a symlink out",
            tar_of(link("Dockerfile", "/etc/passwd", tarfile.SYMTYPE)),
            "Dockerfile",
        ),
        (
            "hard link out",
            tar_of(
                link("h", "../../../etc/passwd", tarfile.LNKTYPE),
                files={"Dockerfile": f"FROM {BUSYBOX}\nCOPY . /x\n".encode()},
            ),
            "Dockerfile",
        ),
        ("declared size beyond the body", declared_size_beyond_body(), "Dockerfile"),
        (
            "truncated gzip",
            gzip.compress(tar_of(files={"Dockerfile": b"FROM x\n"}))[:20],
            "Dockerfile",
        ),
    ],
)
async def test_contexts_the_engine_cannot_read_are_build_failed(
    stack: tuple[ServersStack, str], what: str, body: bytes, dockerfile: str
) -> None:
    servers, host_id = stack
    problem = await servers.admin.call(
        "POST",
        f"/v1/servers/engines/{host_id}/images/build",
        422,
        params={"tag": "contract/unreadable:1", "dockerfile": dockerfile},
        data=body,
        headers={"Content-Type": "application/x-tar"},
    )
    assert problem["type"] == "urn:meshkit:problem:build-failed", (what, problem)
    assert problem["log"], what


def test_event_ids_past_64_bits_are_not_event_ids() -> None:
    assert is_event_id("0-0")
    assert is_event_id("18446744073709551615-18446744073709551615")
    for bad in (
        None,
        "",
        "garbage",
        "1-",
        "-1",
        "18446744073709551616-0",
        "0-18446744073709551616",
        "99999999999999999999-99999999999999999999",
    ):
        assert not is_event_id(bad), bad


async def test_a_last_event_id_redis_refuses_replays_from_the_start(
    stack: tuple[ServersStack, str], tmp_path: Path
) -> None:
    """Redis refuses a stream id past 64 bits: the follower once retried it in a busy
    loop (idle comments only, a warning each turn) until the job ended."""
    servers, host_id = stack
    admin = servers.admin
    flag = tmp_path / "go"
    wait = f"i=0; while [ ! -e {flag} ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done"
    job = await admin.call(
        "POST",
        "/v1/servers/jobs",
        202,
        json={
            "recipe": {"steps": [{"kind": "command", "cmd": f"echo one; {wait}; echo two"}]},
            "hosts": {"ids": [host_id]},
            "mode": "apply",
        },
    )
    url = f"{servers.service_url}/v1/servers/jobs/{job['id']}/log"
    headers = {
        **admin.headers,
        "Accept": "text/event-stream",
        "Last-Event-ID": "99999999999999999999-99999999999999999999",
    }
    texts: list[str] = []
    idle = 0
    async with servers.http.get(url, headers=headers) as response:
        assert response.status == 200
        event: dict[str, str] = {}
        async for raw in response.content:
            line = raw.decode().rstrip("\n")
            if line == ": idle":
                idle += 1
                assert idle < 300, "the stream only idles"
            elif line.startswith(("event: ", "data: ")):
                name, _, value = line.partition(": ")
                event[name] = value
            elif not line and "event" in event:
                if event["event"] == "output":
                    texts.append(json.loads(event["data"])["text"])
                    flag.touch()
                if event["event"] == "end":
                    break
                event = {}
    assert texts == ["one\n", "two\n"]


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:99999/", "http://[::1:9/", "http://h:0/", "http://u@h/", "http://h/#f"],
)
def test_probe_urls_that_name_no_reachable_place_are_refused(url: str) -> None:
    """An HTTP check's URL needs a real host and a port in 1..65535 (no credentials, no
    fragment): the document's pattern says so, and the model refuses the rest."""
    from pydantic import ValidationError

    from meshkit.services.servers.health.models import HttpProbe

    with pytest.raises(ValidationError):
        HttpProbe(url=url)
    assert HttpProbe(url="http://[::1]:9/x?y=1").url == "http://[::1]:9/x?y=1"
