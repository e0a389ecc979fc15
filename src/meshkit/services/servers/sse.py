"""Server-Sent Events responses: the one way the servers service streams to HTTP clients
(a job's output, a deployment's logs).

Contract of :func:`event_stream`: each :class:`ServerEvent` becomes one ``id:``/
``event:``/``data:`` frame (``data`` as compact JSON); a comment line goes out after
``keepalive`` seconds without an event, which keeps proxies from closing an idle stream
and tells the server within that time that the client went away; the response ends
when the events end, the client is gone, or ``stop()`` turns true (the service is
draining). The source iterator is closed in every case, so whatever it holds (an engine
session, a Redis read, an SSH forward) is released.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

MEDIA_TYPE = "text/event-stream"
KEEPALIVE = 15.0
"""Seconds of silence before a comment line is sent."""


@dataclass(frozen=True)
class ServerEvent:
    """One event: its type (``event:``), payload (``data:``) and resumable ``id``."""

    event: str
    data: Any
    id: str | None = None

    def frame(self) -> bytes:
        """The event as it goes on the wire."""
        lines = [] if self.id is None else [f"id: {self.id}"]
        lines.append(f"event: {self.event}")
        lines.append("data: " + json.dumps(self.data, separators=(",", ":"), default=str))
        return ("\n".join(lines) + "\n\n").encode()


def wants_events(request: web.Request) -> bool:
    """Whether the client asked for a stream (``Accept: text/event-stream``)."""
    return MEDIA_TYPE in request.headers.get("Accept", "")


async def event_stream(
    request: web.Request,
    events: AsyncIterator[ServerEvent],
    *,
    stop: Callable[[], bool] = lambda: False,
    keepalive: float = KEEPALIVE,
    retry_ms: int = 2000,
) -> web.StreamResponse:
    """Answer ``request`` with ``events`` as Server-Sent Events (module docstring)."""
    response = web.StreamResponse(
        headers={
            "Content-Type": MEDIA_TYPE,
            "Cache-Control": "no-store",
            "X-Accel-Buffering": "no",
            "X-Content-Type-Options": "nosniff",
        }
    )
    response.enable_chunked_encoding()
    await response.prepare(request)
    pending: asyncio.Task[ServerEvent] | None = None
    try:
        with contextlib.suppress(ConnectionError):
            await response.write(f"retry: {retry_ms}\n\n".encode())
            while not stop():
                if pending is None:
                    pending = asyncio.ensure_future(anext(events))
                done, _ = await asyncio.wait({pending}, timeout=keepalive)
                if not done:
                    await response.write(b": keepalive\n\n")
                    continue
                try:
                    event = pending.result()
                except StopAsyncIteration:
                    break
                finally:
                    pending = None
                await response.write(event.frame())
            await response.write_eof()
    finally:
        if pending is not None:
            pending.cancel()
            with contextlib.suppress(BaseException):
                await pending
        aclose = getattr(events, "aclose", None)
        if aclose is not None:
            with contextlib.suppress(Exception):
                await aclose()
    return response
