"""A web page that joins a meshkit voice room from a browser, and the small server for it.

    meshkit run all                                # in one terminal
    python examples/voice_web/server.py            # then open http://127.0.0.1:8080

The server serves ``static/`` (the page, its script and the vendored Socket.IO client)
and forwards ``/v1/…`` and ``/voice/socket.io/…`` (HTTP and WebSocket) to the gateway at
``MESHKIT_URL``. The page, the REST API and signaling thus share one origin, which is
how a site is usually deployed behind one reverse proxy: the gateway needs no CORS
setting and the page no gateway address. It prints ``serving <url>`` once listening
(``--port 0`` picks a free port). It is an example, not a production proxy: everyone
reaches the gateway from this server's address, so the gateway's per-address limits
count them together.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
from aiohttp import web
from multidict import CIMultiDict, CIMultiDictProxy

STATIC = Path(__file__).parent / "static"
GATEWAY = web.AppKey("gateway", str)
SESSION = web.AppKey("session", aiohttp.ClientSession)
# Headers that describe one hop, not the message (RFC 9110 §7.6.1), and those the
# client library recomputes for the body it forwards.
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "host",
        "content-length",
        "content-encoding",
    }
)
# The page loads nothing from elsewhere: scripts, styles and connections stay on this
# origin (a CDN or an inline script would be refused).
PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}


def _forwarded(headers: CIMultiDictProxy[str]) -> CIMultiDict[str]:
    kept: CIMultiDict[str] = CIMultiDict()
    for name, value in headers.items():
        if name.lower() not in HOP_BY_HOP:
            kept.add(name, value)
    return kept


async def index(request: web.Request) -> web.FileResponse:
    """The page."""
    return web.FileResponse(STATIC / "index.html", headers=PAGE_HEADERS)


async def no_icon(request: web.Request) -> web.Response:
    """The page has no icon; a 404 would be logged in the browser's console."""
    return web.Response(status=204)


async def forward(request: web.Request) -> web.StreamResponse:
    """``request`` as the gateway answers it (a WebSocket is bridged frame by frame)."""
    target = request.app[GATEWAY] + request.rel_url.raw_path_qs
    session = request.app[SESSION]
    if request.headers.get("Upgrade", "").lower() == "websocket":
        return await _bridge(request, session, target)
    headers = _forwarded(request.headers)
    headers.pop("Origin", None)  # this server is the gateway's client, same-origin
    try:
        async with session.request(
            request.method,
            target,
            headers=headers,
            data=await request.read() if request.body_exists else None,
            allow_redirects=False,
        ) as upstream:
            body = await upstream.read()
            return web.Response(
                status=upstream.status, body=body, headers=_forwarded(upstream.headers)
            )
    except aiohttp.ClientError as exc:
        raise web.HTTPBadGateway(text=f"the gateway did not answer: {exc}") from exc


async def _bridge(
    request: web.Request, session: aiohttp.ClientSession, target: str
) -> web.StreamResponse:
    try:
        upstream = await session.ws_connect(target, autoping=True, heartbeat=None)
    except aiohttp.ClientError as exc:
        raise web.HTTPBadGateway(text=f"the gateway refused the WebSocket: {exc}") from exc
    client = web.WebSocketResponse(autoping=True)
    try:
        await client.prepare(request)
        pumps = [
            asyncio.create_task(_pump(client, upstream)),
            asyncio.create_task(_pump(upstream, client)),
        ]
        try:
            await asyncio.wait(pumps, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for pump in pumps:
                pump.cancel()
            await asyncio.gather(*pumps, return_exceptions=True)
    finally:
        await upstream.close()
        await client.close()
    return client


async def _pump(
    source: web.WebSocketResponse | aiohttp.ClientWebSocketResponse,
    sink: web.WebSocketResponse | aiohttp.ClientWebSocketResponse,
) -> None:
    async for message in source:
        if message.type == aiohttp.WSMsgType.TEXT:
            await sink.send_str(message.data)
        elif message.type == aiohttp.WSMsgType.BINARY:
            await sink.send_bytes(message.data)
        else:
            return


def make_app(gateway: str) -> web.Application:
    """The page and the forwarding routes, for the gateway at ``gateway``."""
    app = web.Application()
    app[GATEWAY] = gateway.rstrip("/")

    async def session(app: web.Application) -> AsyncIterator[None]:
        async with aiohttp.ClientSession(auto_decompress=True) as client:
            app[SESSION] = client
            yield

    app.cleanup_ctx.append(session)
    app.router.add_get("/", index)
    app.router.add_get("/favicon.ico", no_icon)
    app.router.add_static("/static/", STATIC, append_version=False)
    app.router.add_route("*", "/v1/{tail:.*}", forward)
    app.router.add_route("*", "/voice/socket.io{tail:.*}", forward)

    async def static_headers(request: web.Request, response: web.StreamResponse) -> None:
        for name, value in PAGE_HEADERS.items():
            response.headers.setdefault(name, value)

    app.on_response_prepare.append(static_headers)
    return app


async def serve(host: str, port: int, gateway: str) -> None:
    runner = web.AppRunner(make_app(gateway))
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    bound = runner.addresses[0]
    print(f"serving http://{bound[0]}:{bound[1]} (gateway {gateway})", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Serve the browser voice page.")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=8080, help="port (0: any free one)")
    arguments = parser.parse_args()
    url = os.environ.get("MESHKIT_URL", "http://127.0.0.1:3000")
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(arguments.host, arguments.port, url))
