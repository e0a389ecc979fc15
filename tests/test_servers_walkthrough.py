"""The servers walkthrough (``examples/servers_walkthrough.py``) runs end to end through
the gateway against a real sshd (the host) and Docker Engine (its engine, reached over an
SSH-forwarded socket), and ``docs/servers.md`` shows exactly its code."""

from __future__ import annotations

import asyncio
import json
import os
import re
import sys
import textwrap
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.servers_env import BUSYBOX, Engine, SshHost, dockerd, sshd
from tests.servers_stack import ServersStack, servers_stack

__all__ = ["dockerd", "sshd"]  # fixtures

ROOT = Path(__file__).parent.parent
SCRIPT = ROOT / "examples" / "servers_walkthrough.py"
DOC = ROOT / "docs" / "servers.md"
REGION = re.compile(
    r"^( *)# --8<-- \[start:([a-z-]+)\]\n(.*?)^ *# --8<-- \[end:\2\]\n", re.MULTILINE | re.DOTALL
)
OUTPUT = re.compile(r"^<!-- walkthrough output -->\n((?:    .*\n)+)", re.MULTILINE)
INCLUDE = re.compile(
    r"^<!-- walkthrough: ([a-z-]+) -->\n```python\n(.*?)^```\n", re.MULTILINE | re.DOTALL
)


def script_regions() -> dict[str, str]:
    """Each ``--8<--`` region of the script, dedented."""
    return {name: textwrap.dedent(body) for _, name, body in REGION.findall(SCRIPT.read_text())}


def test_the_docs_show_the_walkthrough_as_it_runs() -> None:
    regions = script_regions()
    assert len(regions) >= 8
    shown = dict(INCLUDE.findall(DOC.read_text()))
    assert list(shown) == list(regions), "docs/servers.md must include every step, in order"
    for name, code in regions.items():
        assert shown[name] == code, f"docs/servers.md's {name!r} step differs from the script"


@pytest.fixture
async def stack(
    tmp_path: Path, meshkit_redis_url: str, dockerd: Engine
) -> AsyncIterator[ServersStack]:
    env = {
        "MESHKIT_SERVERS_LOCAL_ENGINE": dockerd.url,
        "MESHKIT_SERVERS_DEPLOY_READY_SECONDS": "0.5",
        "MESHKIT_SERVERS_DEPLOY_STOP_TIMEOUT": "1",
    }
    async with servers_stack(tmp_path / "stack", meshkit_redis_url, **env) as made:
        try:
            yield made
        finally:
            for deployment in await made.admin.call("GET", "/v1/servers/deployments"):
                await made.admin.call("DELETE", f"/v1/servers/deployments/{deployment['id']}", 204)


async def run_walkthrough(
    stack: ServersStack, sshd: SshHost, dockerd: Engine, tmp_path: Path
) -> tuple[dict[str, Any], str]:
    key_file = tmp_path / "id_ed25519"
    key_file.write_text(sshd.private_key)
    key_file.chmod(0o600)
    env = {**os.environ, "MESHKIT_URL": stack.gateway, "MESHKIT_TOKEN": stack.admin.token}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(SCRIPT),
        "--address",
        sshd.address,
        "--port",
        str(sshd.port),
        "--user",
        sshd.user,
        "--key-file",
        str(key_file),
        "--engine",
        "ssh",
        "--engine-socket",
        str(dockerd.socket),
        "--base-image",
        BUSYBOX,
        "--remote-dir",
        str(tmp_path / "remote"),
        env=env,
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 300)
    output = out.decode()
    assert process.returncode == 0, output[-3000:] + err.decode()[-3000:]
    last = output.strip().splitlines()[-1]
    assert last.startswith("walkthrough done: "), output[-2000:]
    made: dict[str, Any] = json.loads(last.removeprefix("walkthrough done: "))
    return made, output + err.decode()


async def test_the_walkthrough_runs_from_a_new_host_to_a_rollback(
    stack: ServersStack, sshd: SshHost, dockerd: Engine, tmp_path: Path
) -> None:
    made, output = await run_walkthrough(stack, sshd, dockerd, tmp_path)
    print(output)  # shown when the test fails (or with -s)
    admin = stack.admin
    assert "PRIVATE KEY" not in output

    host = await admin.call("GET", f"/v1/servers/hosts/{made['host_id']}")
    assert host["host_key"].split()[:2] == sshd.host_key_line.split()[:2]  # pinned by the test
    assert host["facts"]["engine_present"] is True

    # check mode changed nothing; the first apply did; the second found nothing to do
    jobs = await admin.call("GET", "/v1/servers/jobs")
    assert [j["mode"] for j in jobs] == ["apply", "apply", "check"]
    assert [j["status"] for j in jobs] == ["succeeded"] * 3
    second, first, check = jobs
    assert check["summary"]["steps"]["changed"] == 3
    assert "+managed by meshkit" in (check["hosts"][0]["steps"][1]["diff"] or "")
    assert first["summary"]["steps"]["changed"] == 3
    assert second["summary"]["steps"]["changed"] == 0
    remote = tmp_path / "remote"
    assert (remote / "motd").read_text() == "managed by meshkit\n"
    assert (remote / "stamp").exists()

    # v1 deployed, v2 good, v3 rolled back by itself, v4 = v1 again by hand
    deployment_id = made["deployment_id"]
    history = await admin.call("GET", f"/v1/servers/deployments/{deployment_id}/versions")
    assert [(v["number"], v["status"]) for v in history] == [
        (4, "active"),
        (3, "failed"),
        (2, "superseded"),
        (1, "superseded"),
    ]
    assert history[0]["source"] == "rollback:1"
    assert history[0]["spec"]["env"] == history[3]["spec"]["env"]
    assert history[1]["failure"]
    deployment = await admin.call("GET", f"/v1/servers/deployments/{deployment_id}")
    assert deployment["current_version"] == 4
    assert sorted((c["version"], c["state"]) for c in deployment["containers"]) == [
        (4, "running"),
        (4, "running"),
    ]

    actions = {
        e["action"]
        for e in await admin.call(
            "GET", "/v1/servers/audit", params={"target": f"deployment:{deployment_id}"}
        )
    }
    assert {"deployments.update", "deployments.rollback", "deployments.rollout"} <= actions
    assert "(v4): serving: hello from version 1" in output
    printed = {line.strip() for line in output.splitlines()}
    for block in OUTPUT.findall(DOC.read_text()):  # what the docs say it prints, it prints
        for line in block.splitlines():
            assert line.strip() in printed, line
    for step in ("1. add a host", "host key pinned", "8. roll back by hand", "failed ("):
        assert step in output
