"""Socket.IO fan-out of one messaging process: deliveries/s and send-to-receive latency.

auth and messaging run in a child process (``meshkit run auth messaging``, embedded
Redis); this process holds the clients: one sender and N receiving connections in one
channel, all real python-socketio clients over websockets. The sender emits
``message.send`` (acknowledged after the message is stored) at a fixed rate; every
receiver timestamps each ``message.created``. Prints, for each N:

- deliveries/s (receipts across all receivers over the run);
- p50 / p99 latency from the emit to each receipt.

The clients share this process's event loop, so at large N part of the latency is the
receiving side's own work: the figures are an upper bound on the server's.

    python bench/messaging_fanout.py [--receivers 100 500] [--messages 100] [--rate 20]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
import socketio

PASSWORD = "correct horse battery staple"


async def start_services(data_dir: Path) -> tuple[asyncio.subprocess.Process, dict[str, str]]:
    """``meshkit run auth messaging`` on free ports; their URLs."""
    meshkit = str(Path(sys.executable).parent / "meshkit")
    env = {
        **os.environ,
        "MESHKIT_DATA_DIR": str(data_dir),
        "MESHKIT_AUTH_BCRYPT_COST": "4",
        "MESHKIT_LOG_FORMAT": "json",
        "MESHKIT_LOG_LEVEL": "INFO",
    }
    env.pop("MESHKIT_REDIS_URL", None)
    process = await asyncio.create_subprocess_exec(
        meshkit,
        "run",
        "auth",
        "messaging",
        "--port",
        "auth=0",
        "--port",
        "messaging=0",
        env=env,
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stderr is not None
    urls: dict[str, str] = {}
    while len(urls) < 2:
        line = await asyncio.wait_for(process.stderr.readline(), 60)
        if not line:
            raise RuntimeError("meshkit exited before listening")
        with contextlib.suppress(ValueError):
            name, found, url = json.loads(line).get("message", "").partition(" listening on ")
            if found:
                urls[name] = url
    asyncio.get_running_loop().create_task(_drain(process.stderr))
    return process, urls


async def _drain(stream: asyncio.StreamReader) -> None:
    while await stream.readline():
        pass


async def account(http: aiohttp.ClientSession, auth: str, name: str) -> str:
    """Register and log in; the access token."""
    await http.post(
        f"{auth}/v1/auth/register",
        json={"email": f"{name}@example.test", "username": name, "password": PASSWORD},
    )
    async with http.post(
        f"{auth}/v1/auth/login", json={"login": name, "password": PASSWORD}
    ) as response:
        return str((await response.json())["access_token"])


async def run(receivers: int, messages: int, rate: float, urls: dict[str, str]) -> None:
    """One measurement with ``receivers`` connections."""
    async with aiohttp.ClientSession() as http:
        tag = f"{receivers}-{int(time.time())}"
        sender_token = await account(http, urls["auth"], f"sender{tag}")
        reader_token = await account(http, urls["auth"], f"reader{tag}")
        headers = {"Authorization": f"Bearer {sender_token}"}
        async with http.post(
            f"{urls['messaging']}/v1/channels", json={"name": f"bench {tag}"}, headers=headers
        ) as response:
            channel_id = (await response.json())["id"]
        async with http.put(
            f"{urls['messaging']}/v1/channels/{channel_id}/members/me",
            headers={"Authorization": f"Bearer {reader_token}"},
        ):
            pass
    sent_at: dict[str, float] = {}
    latencies: list[float] = []
    received = 0
    done = asyncio.Event()
    expected = receivers * messages

    def on_message(message: dict[str, Any]) -> None:
        nonlocal received
        started = sent_at.get(message.get("content", ""))
        if started is not None:
            latencies.append((time.perf_counter() - started) * 1000)
            received += 1
            if received >= expected:
                done.set()

    clients = []
    for _ in range(receivers):
        client = socketio.AsyncClient(reconnection=False)
        client.on("message.created", on_message)
        await client.connect(
            urls["messaging"], auth={"token": reader_token}, transports=["websocket"]
        )
        clients.append(client)
    sender = socketio.AsyncClient(reconnection=False)
    await sender.connect(urls["messaging"], auth={"token": sender_token}, transports=["websocket"])
    try:
        begin = time.perf_counter()
        for n in range(messages):
            delay = begin + n / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            content = f"m{n}"
            sent_at[content] = time.perf_counter()
            ack = await sender.call(
                "message.send", {"channel_id": channel_id, "content": content}, timeout=30
            )
            assert ack["ok"], ack
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(done.wait(), 60)
        elapsed = time.perf_counter() - begin
    finally:
        await sender.disconnect()
        for client in clients:
            await client.disconnect()
    cuts = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [0.0] * 99
    print(
        f"receivers {receivers}: {received:,}/{expected:,} deliveries in {elapsed:.1f} s = "
        f"{received / elapsed:,.0f} deliveries/s; send-to-receive p50 {cuts[49]:.1f} ms, "
        f"p99 {cuts[98]:.1f} ms"
    )


async def main(receivers: list[int], messages: int, rate: float) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        process, urls = await start_services(Path(tmp))
        try:
            for count in receivers:
                await run(count, messages, rate, urls)
        finally:
            process.terminate()
            await process.wait()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--receivers", type=int, nargs="+", default=[100, 500])
    parser.add_argument("--messages", type=int, default=100)
    parser.add_argument("--rate", type=float, default=20.0, help="messages sent per second")
    options = parser.parse_args()
    asyncio.run(main(options.receivers, options.messages, options.rate))
