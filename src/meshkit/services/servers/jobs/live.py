"""A job's output, live: Server-Sent Events and Socket.IO (``/servers/socket.io``).

Both read the job's Redis stream (:func:`meshkit.services.servers.jobs.log.follow`), so
they work on any servers instance, whichever runs the job.

**SSE** (``GET /v1/servers/jobs/{id}/log`` with ``Accept: text/event-stream`` or
``?follow=true``): one event per log entry, ``event:`` its type (``output``, ``step``,
``host``, ``job``), ``id:`` its event id (send it back as ``Last-Event-ID`` to resume
after it), ``data:`` the entry as JSON; then an ``end`` event (``{"status", "text"}``)
when the job finishes, and the response ends. Written by
:func:`meshkit.services.servers.sse.event_stream` (keepalive comments, closed source).

**Socket.IO**: connect to ``/servers/socket.io`` with ``auth={"token": ...}`` (the
rules of :mod:`meshkit.sockets.server`); emit ``job.follow`` ``{"job_id", "after"?}``
(needs ``servers:jobs.read``) → ack ``{"ok": true, "job_id", "status"}``, then pushes
``job.output`` (output and step entries), ``job.host`` (a host started or finished)
and ``job.finished`` (``{"job_id", "status", "text"}``, the last); each push carries
``job_id``, ``id`` and the entry. ``job.unfollow`` ``{"job_id"}`` stops them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncGenerator, AsyncIterator
from typing import TYPE_CHECKING, Any

from aiohttp import web
from pydantic import BaseModel, Field

from meshkit.errors import Conflict, Forbidden
from meshkit.services.servers import sse
from meshkit.services.servers.jobs.log import END, IDLE, is_event_id
from meshkit.services.servers.jobs.models import JOBS_SOCKET_PATH
from meshkit.services.servers.jobs.runner import Jobs
from meshkit.services.servers.permissions import JOBS_READ
from meshkit.services.servers.types import Id
from meshkit.sockets import SocketServer
from meshkit.tokens import Principal

if TYPE_CHECKING:
    from meshkit.service import Service

log = logging.getLogger("meshkit.servers.jobs")
MAX_FOLLOWS = 16
"""Jobs one Socket.IO connection follows at once."""
PUSHES = {"output": "job.output", "step": "job.output", "host": "job.host", "job": "job.output"}


def wants_events(request: web.Request, follow: bool) -> bool:
    """Whether a log request asks for the live stream rather than the stored log."""
    return follow or sse.wants_events(request)


async def server_events(
    entries: AsyncGenerator[tuple[str, dict[str, Any]], None],
) -> AsyncIterator[sse.ServerEvent]:
    """A job's followed log (:meth:`Jobs.follow`) as Server-Sent Events: one per entry,
    its ``type`` as the event and its event id as ``id``, the ``end`` one last; quiet
    seconds are left to the stream's keepalive. ``entries`` is closed with it."""
    async with contextlib.aclosing(entries):
        async for event_id, entry in entries:
            kind = str(entry.get("type", "output"))
            if kind == IDLE:
                continue
            yield sse.ServerEvent(kind, entry, id=event_id if is_event_id(event_id) else None)
            if kind == END:
                return


class FollowIn(BaseModel):
    """``job.follow``."""

    job_id: Id
    after: str | None = Field(
        default=None,
        max_length=48,
        pattern=r"^\d{1,20}-\d{1,20}$",
        description="Resume after this event id.",
    )


class UnfollowIn(BaseModel):
    """``job.unfollow``."""

    job_id: Id


class JobSockets:
    """The jobs' Socket.IO server (module docstring); built in ``setup_app``, given its
    :class:`Jobs` at start."""

    def __init__(self, service: Service) -> None:
        self.sockets = SocketServer(
            service,
            path=JOBS_SOCKET_PATH,
            log_name="meshkit.servers.jobs.sockets",
            on_disconnect=self._disconnected,
        )
        self.sio = self.sockets.sio
        self._jobs: Jobs | None = None
        self.follows: dict[str, dict[str, asyncio.Task[None]]] = {}
        """sid → job id → the task pushing that job's log to it."""
        self.sockets.on("job.follow", self._follow)
        self.sockets.on("job.unfollow", self._unfollow)

    def attach(self, app: web.Application) -> None:
        """Serve on ``app`` (from ``setup_app``)."""
        self.sockets.attach(app)

    async def start(self, jobs: Jobs, *, session_check_interval: float | None = 30.0) -> None:
        """Start serving follows of ``jobs``."""
        self._jobs = jobs
        await self.sockets.start(session_check_interval=session_check_interval)

    async def stop(self) -> None:
        """Stop every push and disconnect everyone."""
        for tasks in list(self.follows.values()):
            for task in list(tasks.values()):
                task.cancel()
        for tasks in list(self.follows.values()):
            for task in list(tasks.values()):
                with contextlib.suppress(BaseException):
                    await task
        self.follows.clear()
        await self.sockets.stop()

    @property
    def jobs(self) -> Jobs:
        if self._jobs is None:
            raise RuntimeError("the jobs' Socket.IO server has not started")
        return self._jobs

    async def _follow(self, sid: str, data: Any) -> dict[str, Any]:
        body = FollowIn.model_validate(data)
        principal = await self.sockets.principal(sid)
        _require(principal)
        mine = self.follows.setdefault(sid, {})
        if body.job_id not in mine and len(mine) >= MAX_FOLLOWS:
            raise Conflict(f"a connection follows at most {MAX_FOLLOWS} jobs at once")
        job = await self.jobs.get(body.job_id)
        events = await self.jobs.follow(job.id, body.after)
        old = mine.pop(job.id, None)
        if old is not None:
            old.cancel()
        mine[job.id] = asyncio.create_task(self._push(sid, job.id, events))
        return {"job_id": job.id, "status": job.status}

    async def _unfollow(self, sid: str, data: Any) -> dict[str, Any]:
        body = UnfollowIn.model_validate(data)
        await self.sockets.principal(sid)
        task = self.follows.get(sid, {}).pop(body.job_id, None)
        if task is not None:
            task.cancel()
        return {"job_id": body.job_id, "following": False}

    async def _push(
        self, sid: str, job_id: str, events: AsyncGenerator[tuple[str, dict[str, Any]], None]
    ) -> None:
        try:
            async for event_id, entry in events:
                kind = entry.get("type")
                if kind == IDLE:
                    continue
                if kind == END:
                    payload = {"job_id": job_id, "id": event_id, **entry}
                    await self.sio.emit("job.finished", payload, to=sid)
                    return
                name = PUSHES.get(str(kind), "job.output")
                await self.sio.emit(name, {"job_id": job_id, "id": event_id, **entry}, to=sid)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("pushing job %s to socket %s failed: %r", job_id, sid, exc)
        finally:
            tasks = self.follows.get(sid)
            if tasks is not None and tasks.get(job_id) is asyncio.current_task():
                tasks.pop(job_id, None)

    async def _disconnected(self, sid: str, principal: Principal) -> None:
        for task in self.follows.pop(sid, {}).values():
            task.cancel()


def _require(principal: Principal) -> None:
    if not principal.has_permission(JOBS_READ):
        raise Forbidden(
            f"this needs the permission {JOBS_READ!r}",
            extensions={"required_permission": JOBS_READ},
        )
