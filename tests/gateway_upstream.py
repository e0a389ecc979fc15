"""An upstream service for the gateway tests, runnable in a process of its own.

    python -m tests.gateway_upstream <port> <data dir>   (env: MESHKIT_* as usual)

It answers who called (the verified principal), streams uploads and downloads of any
size in constant memory, echoes WebSocket frames and runs a Socket.IO server, so the
tests can watch every gateway feature against a real service over real sockets. The
process prints ``ready <port>`` once it listens; the tests SIGKILL it mid-load.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import sys
from collections.abc import Sequence
from typing import Any, ClassVar

import socketio
from aiohttp import WSMsgType, web

from meshkit import Service, get, hookimpl, post, put
from meshkit.config import Settings
from meshkit.plugins import get_plugin_manager
from meshkit.runtime import Runtime
from meshkit.service import Need
from meshkit.tokens import Principal

CHUNK = 64 * 1024


class EchoService(Service):
    """Echoes requests back: the gateway tests' upstream."""

    name = "echo"
    default_port = 3990
    title = "Echo"
    description = "Answers with what it received."
    needs: ClassVar[frozenset[Need]] = frozenset()
    gateway_prefixes = ("/socket.io",)

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self.sio = socketio.AsyncServer(
            async_mode="aiohttp", cors_allowed_origins=[], ping_interval=1, ping_timeout=2
        )
        self.sio.on("ping", self._on_ping)

    async def _on_ping(self, sid: str, data: Any) -> dict[str, Any]:
        await self.sio.emit("pong", {"data": data, "pid": os.getpid()}, to=sid)
        return {"ack": data}

    @get("/v1/echo/whoami")
    async def whoami(self, principal: Principal, request: web.Request) -> dict[str, Any]:
        """Who the token says the caller is, and what the gateway forwarded."""
        return {
            "subject": principal.subject,
            "pid": os.getpid(),
            "port": request.url.port,
            "forwarded_for": request.headers.get("X-Forwarded-For"),
            "forwarded_proto": request.headers.get("X-Forwarded-Proto"),
            "forwarded_host": request.headers.get("X-Forwarded-Host"),
            "request_id": request.headers.get("X-Request-ID"),
            "hop": request.headers.get("X-Hop"),
            "has_api_key": "X-Meshkit-Api-Key" in request.headers,
        }

    @get("/v1/echo/vault/{key}", internal=True)
    async def vault(self, key: str) -> dict[str, str]:
        """For other services only: the gateway must never route here."""
        return {"reached_internal": key}

    @get("/v1/echo/public")
    async def public(self, request: web.Request) -> dict[str, Any]:
        """No token needed here (the tests list it as a public route)."""
        return {"pid": os.getpid(), "port": request.url.port}

    @post("/v1/echo/upload")
    async def upload(self, request: web.Request) -> dict[str, Any]:
        """Read the body in chunks; answer its size and SHA-256."""
        digest = hashlib.sha256()
        size = 0
        async for chunk in request.content.iter_chunked(CHUNK):
            digest.update(chunk)
            size += len(chunk)
        return {"bytes": size, "sha256": digest.hexdigest()}

    @put("/v1/echo/upload")
    async def replace(self, request: web.Request) -> dict[str, Any]:
        """The same as the upload, for an idempotent method."""
        return await self.upload(request)

    @get("/v1/echo/download")
    async def download(self, request: web.Request, size: int) -> web.StreamResponse:
        """``size`` bytes of a repeating pattern, streamed."""
        response = web.StreamResponse()
        response.content_type = "application/octet-stream"
        await response.prepare(request)
        block = bytes(range(256)) * (CHUNK // 256)
        left = size
        while left > 0:
            piece = block[: min(left, CHUNK)]
            await response.write(piece)
            left -= len(piece)
        await response.write_eof()
        return response

    @get("/v1/echo/slow")
    async def slow(self, seconds: float) -> dict[str, float]:
        """Answer after ``seconds``."""
        await asyncio.sleep(seconds)
        return {"slept": seconds}

    @get("/v1/echo/status")
    async def status(self, code: int) -> web.Response:
        """Answer with ``code``."""
        return web.json_response({"code": code}, status=code)

    closed_sockets: ClassVar[list[int | None]] = []
    """Close codes of the WebSocket connections that ended, as this side saw them."""

    async def websocket(self, request: web.Request) -> web.WebSocketResponse:
        """Echo every frame; ``close`` closes with code 4001."""
        ws = web.WebSocketResponse(protocols=("echo.v1",))
        await ws.prepare(request)
        try:
            await self._echo(ws)
        finally:
            self.closed_sockets.append(ws.close_code)
        return ws

    async def _echo(self, ws: web.WebSocketResponse) -> None:
        async for message in ws:
            if message.type is WSMsgType.TEXT:
                if message.data == "close":
                    await ws.close(code=4001, message=b"asked to")
                    break
                await ws.send_str(f"echo:{message.data}")
            elif message.type is WSMsgType.BINARY:
                await ws.send_bytes(message.data[::-1])

    def setup_app(self, app: web.Application) -> None:
        """The WebSocket route and the Socket.IO server."""
        app.router.add_get("/v1/echo/ws", self.websocket)
        self.sio.attach(app)


@hookimpl
def meshkit_services() -> Sequence[type[Service]]:
    """Register the echo service."""
    return [EchoService]


async def main(port: int, data_dir: str) -> None:
    """Serve the echo service on ``port`` until SIGTERM/SIGKILL."""
    env = {**os.environ, "MESHKIT_DATA_DIR": data_dir}
    settings = Settings.from_env(env)
    pm = get_plugin_manager(
        settings, plugins=[("echo", sys.modules[__name__])], load_entry_points=False
    )
    runtime = Runtime(settings, pm, ["echo"], ports={"echo": port})
    running = await runtime.start()
    print(f"ready {running[0].port}", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await runtime.stop()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), sys.argv[2]))
