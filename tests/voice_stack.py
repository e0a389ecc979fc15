"""auth + voice + gateway in one runtime, and callers who hold tokens and talk over
real WebRTC (aiortc on loopback): what the voice edge tests drive."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import socketio

from meshkit.plugins import get_plugin_manager
from meshkit.runtime import Runtime
from meshkit.testing import make_settings
from tests.voice_peers import Participant

PASSWORD = "correct horse battery staple"
ADMIN = "admin@example.test"


class Caller:
    """A user with a token, REST through the gateway, and a voice connection."""

    def __init__(self, stack: VoiceStack, name: str, token: str, user_id: str) -> None:
        self.stack, self.name, self.token, self.user_id = stack, name, token, user_id
        self.inbox: list[tuple[str, Any]] = []
        self._fresh()

    def _fresh(self) -> None:
        self.sio = socketio.AsyncClient(reconnection=False)
        self.media: Participant | None = None
        self.room_id: str | None = None
        self.sio.on("voice.offer", self._offer)
        self.sio.on("voice.streams", self._streams)
        self.sio.on("*", lambda event, data: self.inbox.append((event, data)))

    async def call(self, method: str, path: str, expect: int | None = None, **kw: Any) -> Any:
        headers = {"Authorization": f"Bearer {self.token}"}
        url = self.stack.gateway + path
        async with self.stack.http.request(method, url, headers=headers, **kw) as response:
            body = None if response.status == 204 else await response.json()
            if expect is not None:
                assert response.status == expect, body
            else:
                assert response.status < 400, body
            return body

    async def connect(self, room_id: str | None = None, gateway: str | None = None) -> None:
        """Connect signaling (through ``gateway``, the stack's by default), for
        ``room_id`` as a join ticket says: the gateway routes it to the room's instance."""
        query = f"?room={room_id}" if room_id else ""
        await self.sio.connect(
            (gateway or self.stack.gateway) + query,
            socketio_path="voice/socket.io",
            auth={"token": self.token},
            transports=["websocket"],
            wait_timeout=5,
        )

    async def join(
        self, room_id: str, tone: float | None = 440.0, gateway: str | None = None
    ) -> dict[str, Any]:
        if not self.sio.connected:
            await self.connect(room_id, gateway)
        if self.media is None:
            self.media = Participant(self.name, tone=tone)
        ack = await self.sio.call("voice.join", {"room_id": room_id}, timeout=10)
        if not ack["ok"]:
            return ack
        self.room_id = room_id
        answer = await self.media.answer(ack["offer"])
        done = await self.sio.call("voice.answer", {"sdp": answer}, timeout=10)
        assert done == {"ok": True}, done
        return ack

    async def _offer(self, offer: dict[str, Any]) -> None:
        assert self.media is not None
        answer = await self.media.answer(offer)
        ack = await self.sio.call("voice.answer", {"sdp": answer}, timeout=10)
        assert ack["ok"], ack

    async def _streams(self, payload: dict[str, Any]) -> None:
        if self.media is not None:
            self.media.set_streams(payload["streams"])

    def events(self, name: str) -> list[Any]:
        return [data for event, data in self.inbox if event == name]

    async def close(self) -> None:
        if self.sio.connected:
            await self.sio.disconnect()
        if self.media is not None:
            await self.media.close()

    async def hang_up(self) -> None:
        """Close the connection and media; the next :meth:`join` starts afresh."""
        await self.close()
        self._fresh()


class VoiceStack:
    def __init__(self, http: aiohttp.ClientSession, gateway: str, auth: str, runtime: Any):
        self.http, self.gateway, self.auth, self.runtime = http, gateway, auth, runtime
        self.callers: list[Caller] = []
        self.services: dict[str, Any] = {}
        """name → the running service (in-process stacks)."""

    async def person(self, name: str, *, register: bool = True) -> Caller:
        if register:
            body = {"email": f"{name}@example.test", "username": name, "password": PASSWORD}
            async with self.http.post(f"{self.auth}/v1/auth/register", json=body) as response:
                assert response.status == 201, await response.text()
        login = {"login": f"{name}@example.test", "password": PASSWORD}
        async with self.http.post(f"{self.auth}/v1/auth/login", json=login) as response:
            assert response.status == 200, await response.text()
            token = (await response.json())["access_token"]
        async with self.http.get(
            f"{self.auth}/v1/users/me", headers={"Authorization": f"Bearer {token}"}
        ) as response:
            user_id = (await response.json())["id"]
        caller = Caller(self, name, token, user_id)
        self.callers.append(caller)
        return caller


@contextlib.asynccontextmanager
async def voice_stack(
    data_dir: Path,
    redis_url: str,
    names: Sequence[str] = ("auth", "voice", "gateway"),
    plugins: Sequence[tuple[str, object]] = (),
    **env: str,
) -> AsyncIterator[VoiceStack]:
    """``names`` in one runtime (with ``plugins``) on the test Redis, media on 127.0.0.1,
    an administrator (:data:`ADMIN`); ``env`` adds or overrides ``MESHKIT_*`` settings.
    Closes every caller and stops the runtime on the way out."""
    settings = make_settings(
        data_dir,
        **{
            "MESHKIT_REDIS_URL": redis_url,
            "MESHKIT_AUTH_BCRYPT_COST": "4",
            "MESHKIT_AUTH_BOOTSTRAP_ADMIN_EMAIL": ADMIN,
            "MESHKIT_AUTH_BOOTSTRAP_ADMIN_PASSWORD": PASSWORD,
            "MESHKIT_SHUTDOWN_TIMEOUT": "2",
            "MESHKIT_GATEWAY_HEALTH_INTERVAL": "0.2",
            "MESHKIT_GATEWAY_RATE_LIMITS": "default=5000/60s,auth=1000/60s",
            "MESHKIT_VOICE_LISTEN_IPS": "127.0.0.1",
            "MESHKIT_VOICE_SESSION_CHECK_INTERVAL": "0.2",
            **env,
        },
    )
    pm = get_plugin_manager(settings, plugins=list(plugins))
    runtime = Runtime(settings, pm, list(names), ports=dict.fromkeys(names, 0))
    started = {r.service.name: r for r in await runtime.start()}
    try:
        async with aiohttp.ClientSession() as http:
            stack = VoiceStack(http, started["gateway"].url, started["auth"].url, runtime)
            stack.services = {name: r.service for name, r in started.items()}
            try:
                yield stack
            finally:
                for caller in stack.callers:
                    await caller.close()
    finally:
        await runtime.stop()


@pytest.fixture
async def voice(tmp_path: Path, meshkit_redis_url: str) -> AsyncIterator[VoiceStack]:
    """auth + voice + gateway (:func:`voice_stack`)."""
    async with voice_stack(tmp_path, meshkit_redis_url) as stack:
        yield stack
