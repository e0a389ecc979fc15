"""auth + messaging in one runtime on the test Redis, with people who hold tokens: the
stack the Socket.IO edge tests (payloads, limits) drive with real clients."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import socketio

from meshkit.plugins import get_plugin_manager
from meshkit.runtime import Runtime
from meshkit.testing import make_settings

PASSWORD = "correct horse battery staple"


@dataclass
class Someone:
    """A registered user with an access token."""

    stack: Stack
    name: str
    user_id: str
    token: str

    async def call(self, method: str, path: str, **kwargs: Any) -> Any:
        headers = {"Authorization": f"Bearer {self.token}"}
        url = self.stack.messaging + path
        async with self.stack.http.request(method, url, headers=headers, **kwargs) as response:
            assert response.status < 400, await response.text()
            return None if response.status == 204 else await response.json()

    async def socket(self, url: str | None = None, **options: Any) -> socketio.AsyncClient:
        """A connected python-socketio client (closed with the stack)."""
        client = socketio.AsyncClient(reconnection=False)
        await client.connect(
            url or self.stack.messaging,
            auth={"token": self.token},
            transports=["websocket"],
            wait_timeout=5,
            **options,
        )
        self.stack.clients.append(client)
        return client

    async def raw(self) -> RawSocket:
        """A connected Engine.IO WebSocket driven frame by frame."""
        url = (
            self.stack.messaging.replace("http", "ws", 1) + "/socket.io/?EIO=4&transport=websocket"
        )
        ws = await self.stack.http.ws_connect(url)
        raw = RawSocket(ws)
        self.stack.raws.append(raw)
        opened = await raw.frame()
        assert opened.startswith("0"), opened
        await ws.send_str("40" + json.dumps({"token": self.token}))
        connected = await raw.frame()
        assert connected.startswith("40{"), connected
        return raw


@dataclass
class RawSocket:
    """Engine.IO v4 / Socket.IO v5 by hand: the frames a python client cannot send."""

    ws: aiohttp.ClientWebSocketResponse
    next_id: int = 0

    async def frame(self, wait: float = 5) -> str:
        """The next text frame that is not a ping (answered) or a server push."""
        while True:
            message = await asyncio.wait_for(self.ws.receive(), wait)
            if message.type is not aiohttp.WSMsgType.TEXT:
                raise ConnectionError(f"{message.type.name}: {message.data!r} {message.extra!r}")
            text = str(message.data)
            if text == "2":
                await self.ws.send_str("3")
                continue
            if text.startswith("42"):
                continue  # presence and other pushes
            return text

    async def ack_of(self, ack_id: int, wait: float = 5) -> Any:
        """The payload of the ack numbered ``ack_id``."""
        while True:
            text = await self.frame(wait)
            prefix = f"43{ack_id}["
            if text.startswith(prefix):
                return json.loads(text[len(prefix) - 1 :])[0]

    async def send(self, body: str) -> int:
        """Send ``42<id><body>``; the ack id used."""
        ack_id = self.next_id
        self.next_id += 1
        await self.ws.send_str(f"42{ack_id}{body}")
        return ack_id


@dataclass
class Stack:
    """What :func:`messaging_stack` yields."""

    http: aiohttp.ClientSession
    auth: str
    messaging: str
    runtime: Runtime
    urls: dict[str, str] = field(default_factory=dict)
    """Every started service's URL; ``messaging2`` for the second instance."""
    clients: list[socketio.AsyncClient] = field(default_factory=list)
    raws: list[RawSocket] = field(default_factory=list)

    async def person(self, name: str) -> Someone:
        body = {"email": f"{name}@example.test", "username": name, "password": PASSWORD}
        async with self.http.post(f"{self.auth}/v1/auth/register", json=body) as response:
            assert response.status == 201, await response.text()
            user_id = (await response.json())["id"]
        return Someone(self, name, user_id, await self.log_in(name))

    async def log_in(self, name: str) -> str:
        body = {"login": name, "password": PASSWORD}
        async with self.http.post(f"{self.auth}/v1/auth/login", json=body) as response:
            assert response.status == 200, await response.text()
            return str((await response.json())["access_token"])


@contextlib.asynccontextmanager
async def messaging_stack(
    tmp_path: Path,
    redis_url: str,
    *,
    services: tuple[str, ...] = ("auth", "messaging"),
    second_messaging: bool = False,
    **env: str,
) -> AsyncIterator[Stack]:
    """``services`` on free ports (and another messaging instance when asked), ``env``
    added to their settings."""
    settings = make_settings(
        tmp_path,
        MESHKIT_REDIS_URL=redis_url,
        MESHKIT_AUTH_BCRYPT_COST="4",
        MESHKIT_SHUTDOWN_TIMEOUT="2",
        MESHKIT_MESSAGING_SESSION_CHECK_INTERVAL="300",
        **env,
    )
    runtime = Runtime(
        settings, get_plugin_manager(settings), list(services), ports=dict.fromkeys(services, 0)
    )
    started = {r.service.name: r for r in await runtime.start()}
    urls = {name: r.url for name, r in started.items()}
    runtimes = [runtime]
    try:
        if second_messaging:
            other = make_settings(
                tmp_path,
                MESHKIT_REDIS_URL=redis_url,
                MESHKIT_SHUTDOWN_TIMEOUT="2",
                MESHKIT_MESSAGING_SESSION_CHECK_INTERVAL="300",
                MESHKIT_AUTH_URLS=urls["auth"],
                **env,
            )
            second = Runtime(
                other, get_plugin_manager(other), ["messaging"], ports={"messaging": 0}
            )
            runtimes.append(second)
            urls["messaging2"] = (await second.start())[0].url
        async with aiohttp.ClientSession() as http:
            stack = Stack(http, urls["auth"], urls["messaging"], runtime, urls)
            try:
                yield stack
            finally:
                for client in stack.clients:
                    if client.connected:
                        await client.disconnect()
                for raw in stack.raws:
                    await raw.ws.close()
    finally:
        for each in reversed(runtimes):
            await each.stop()
