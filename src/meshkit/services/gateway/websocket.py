"""Proxying a WebSocket: one connection to the client, one to the upstream, frames both ways.

The upstream connection is opened first, so a refused or failing upstream answers the
client's upgrade with a 502/503/504 problem instead of an accepted socket that dies at
once. The subprotocol the upstream picked is the one offered to the client. When either
side closes, the other is closed with the same code (1011 when the upstream broke); a
frame that cannot be delivered closes both.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import aiohttp
from aiohttp import WSMsgType, web

from meshkit.errors import Forbidden, NotFound, Problem, Unauthenticated
from meshkit.services.gateway.proxy import (
    BadGateway,
    Placement,
    Proxy,
    UpstreamTimeout,
    upstream_headers,
)
from meshkit.services.gateway.upstreams import ServicePool

log = logging.getLogger("meshkit.gateway")
UPSTREAM_BROKE = 1011
MAX_MESSAGE = 1024 * 1024
"""Largest WebSocket message relayed, either way (aiohttp buffers a whole message)."""
UNSENDABLE = frozenset({1005, 1006, 1015})  # reserved: never sent in a close frame


REFUSALS: dict[int, type[Problem]] = {401: Unauthenticated, 403: Forbidden, 404: NotFound}


def is_websocket(request: web.Request) -> bool:
    """Whether ``request`` asks to upgrade to a WebSocket."""
    upgrade = request.headers.get("Upgrade", "").lower()
    return request.method == "GET" and upgrade == "websocket"


async def proxy_websocket(
    request: web.Request,
    pool: ServicePool,
    proxy: Proxy,
    *,
    sticky: bool,
    place: Placement | None = None,
) -> web.StreamResponse:
    """Connect upstream, accept the client, relay until one side closes. ``place`` as
    for :meth:`Proxy.forward`."""
    if place is not None:
        lease = await pool.acquire(affinity=place.key, owner=place.owner, kind="websocket")
    else:
        affinity = proxy.affinity_key(request) if sticky else None
        lease = await pool.acquire(affinity=affinity, kind="websocket")
    headers = upstream_headers(request, proxy.policy)
    headers.popall("Sec-WebSocket-Protocol", None)
    offered = [
        p.strip()
        for value in request.headers.getall("Sec-WebSocket-Protocol", [])
        for p in value.split(",")
        if p.strip()
    ]
    url = f"{lease.instance.url.replace('http', 'ws', 1)}{request.rel_url.raw_path_qs}"
    try:
        upstream = await proxy.session.ws_connect(
            url,
            headers=headers,
            protocols=offered,
            timeout=aiohttp.ClientWSTimeout(ws_receive=None, ws_close=proxy.policy.connect_timeout),
            autoping=True,
            max_msg_size=MAX_MESSAGE,
        )
    except asyncio.CancelledError:
        lease.release()
        raise
    except aiohttp.WSServerHandshakeError as exc:
        lease.failure() if exc.status >= 500 else lease.success()
        refusal = REFUSALS.get(exc.status)
        if refusal is not None:  # the upstream's answer to the client, not a failure
            raise refusal(f"{pool.service} refused the WebSocket upgrade") from None
        raise BadGateway(f"{pool.service} refused the WebSocket upgrade ({exc.status})") from None
    except (aiohttp.ServerTimeoutError, TimeoutError):
        lease.failure()
        raise UpstreamTimeout(f"{pool.service} did not accept the WebSocket in time") from None
    except (aiohttp.ClientError, OSError):
        lease.failure()
        raise BadGateway(f"the WebSocket connection to {pool.service} failed") from None
    lease.success()
    client = web.WebSocketResponse(
        protocols=[upstream.protocol] if upstream.protocol else (),
        autoping=True,
        max_msg_size=MAX_MESSAGE,
    )
    try:
        await client.prepare(request)
        await _relay(client, upstream)
    finally:
        await upstream.close()
        await client.close()
    return client


async def _pump(
    source: web.WebSocketResponse | aiohttp.ClientWebSocketResponse,
    sink: web.WebSocketResponse | aiohttp.ClientWebSocketResponse,
) -> int:
    """Copy frames from ``source`` to ``sink``; the close code that ended it."""
    async for message in source:
        if message.type is WSMsgType.TEXT:
            await sink.send_str(message.data)
        elif message.type is WSMsgType.BINARY:
            await sink.send_bytes(message.data)
        elif message.type is WSMsgType.ERROR:
            return UPSTREAM_BROKE
    return source.close_code or 1000


async def _relay(client: web.WebSocketResponse, upstream: aiohttp.ClientWebSocketResponse) -> None:
    to_upstream = asyncio.create_task(_pump(client, upstream))
    to_client = asyncio.create_task(_pump(upstream, client))
    try:
        done, _ = await asyncio.wait({to_upstream, to_client}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (to_upstream, to_client):
            if not task.done():
                task.cancel()
        for task in (to_upstream, to_client):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
    finished = next(iter(done))
    code = UPSTREAM_BROKE
    with contextlib.suppress(Exception):
        code = finished.result()
    if code in UNSENDABLE or not 1000 <= code < 5000:
        code = 1000 if finished.exception() is None and code != UPSTREAM_BROKE else UPSTREAM_BROKE
    if finished is to_upstream:
        await upstream.close(code=code)
    else:
        await client.close(code=code)
