"""Ready means usable: `meshkit run all` on a fresh data dir, as a newcomer runs it.

A real `meshkit run all` process (embedded redis-server, fresh SQLite files, every service
on a free loopback port). The moment the gateway's /readyz says 200, a proxied call
must work on its first try: no 502 from an upstream that does not listen yet, no
`circuit-open` left over from the gateway probing it too early.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

SERVICES = ("gateway", "auth", "messaging", "voice", "servers")
PASSWORD = "correct horse battery staple"


@pytest.fixture
async def fresh_system(tmp_path: Path) -> AsyncIterator[str]:
    """`meshkit run all` with a data dir that does not exist yet; the gateway's URL as
    soon as it listens (before it is ready)."""
    meshkit = str(Path(sys.executable).parent / "meshkit")
    env = {k: v for k, v in os.environ.items() if not k.startswith("MESHKIT_")}
    env.update(
        MESHKIT_DATA_DIR=str(tmp_path / "fresh"),
        MESHKIT_AUTH_BCRYPT_COST="4",
        MESHKIT_LOG_FORMAT="json",
        MESHKIT_SHUTDOWN_TIMEOUT="2",
    )
    ports = [arg for name in SERVICES for arg in ("--port", f"{name}=0")]
    process = await asyncio.create_subprocess_exec(
        meshkit, "run", "all", *ports, env=env, stderr=asyncio.subprocess.PIPE
    )
    assert process.stderr is not None
    drain: asyncio.Task[None] | None = None
    try:
        gateway = None
        while gateway is None:
            line = await asyncio.wait_for(process.stderr.readline(), 60)
            assert line, "meshkit run all exited"
            with contextlib.suppress(ValueError):
                name, found, url = json.loads(line).get("message", "").partition(" listening on ")
                if found and name == "gateway":
                    gateway = url
        drain = asyncio.create_task(_drain(process.stderr))
        yield gateway
    finally:
        process.terminate()
        await asyncio.wait_for(process.wait(), 30)
        if drain is not None:
            await drain


async def _drain(stream: asyncio.StreamReader) -> None:
    while await stream.readline():
        pass


async def test_the_first_proxied_call_after_ready_succeeds(fresh_system: str) -> None:
    gateway = fresh_system
    async with aiohttp.ClientSession() as http:
        for _ in range(3000):  # poll tightly: the test is about the first 200
            with contextlib.suppress(aiohttp.ClientError):
                async with http.get(f"{gateway}/readyz") as response:
                    if response.status == 200:
                        ready = await response.json()
                        break
                    assert response.content_type == "application/problem+json"
                    problem = await response.json()
                    assert problem["not_ready"], problem  # it says what it waits for
            await asyncio.sleep(0.01)
        else:
            pytest.fail("the gateway never became ready")
        # at once, no retry: what a newcomer's script does
        async with http.post(
            f"{gateway}/v1/auth/register",
            json={"email": "ada@example.test", "username": "ada", "password": PASSWORD},
        ) as response:
            assert response.status == 201, await response.text()
        async with http.post(
            f"{gateway}/v1/auth/login", json={"login": "ada", "password": PASSWORD}
        ) as response:
            assert response.status == 200, await response.text()
            token = (await response.json())["access_token"]
        async with http.get(
            f"{gateway}/v1/channels", headers={"Authorization": f"Bearer {token}"}
        ) as response:
            assert response.status == 200, await response.text()  # messaging answers too
    upstreams = {k: v for k, v in ready["checks"].items() if k.startswith("upstream:")}
    assert {"upstream:auth", "upstream:messaging"} <= set(upstreams)
    assert set(upstreams.values()) == {"ok"}
