"""Voice signaling over Socket.IO: the edge between clients and the SFU.

Contract, for clients (``docs/voice.md`` has the full list, with examples):

* Connect to ``/voice/socket.io`` with ``auth={"token": "<access token>"}`` (the same
  rules as messaging's Socket.IO: :mod:`meshkit.sockets.server`). Every emit is acked
  ``{"ok": true, ...}`` or ``{"ok": false, "error": <problem>}``.
* ``voice.join`` ``{"room_id"}``: enter the room; the ack carries the server's SDP
  ``offer`` (``{"type", "sdp", "streams": {mid: user_id}}``), ``participant`` (you) and
  ``participants``. Answer with ``voice.answer`` ``{"sdp"}``. The first m-line takes your
  microphone; each other one carries the participant ``streams`` names.
* The server offers again (``voice.offer``, same shape) when it needs another m-line for
  you; answer each with ``voice.answer``. Only the server offers, so offers never collide.
  When the m-lines are reassigned (people come and go, others start speaking in a large
  room), ``voice.streams`` ``{"room_id", "streams"}`` gives the new mid → user id map.
* ``voice.candidate`` ``{"candidate", "sdpMid", "sdpMLineIndex"}``: trickle ICE, as the
  browser's ``icecandidate`` event gives it (``candidate: ""`` ends the candidates).
* ``voice.state`` ``{"muted"?, "deafened"?}``: mute or deafen yourself. A deafened
  participant hears nothing and is not heard either.
* ``voice.leave``: leave (disconnecting does too).
* The server pushes ``voice.participant.joined|left|updated`` (``{"room_id",
  "participant", "reason"?}``) and ``voice.speaking`` (``{"room_id", "user_id",
  "speaking"}``) for your room, and ``voice.ended`` (``{"room_id", "reason", ...}``)
  when you were removed: ``kicked``, ``closed`` (room deleted), ``replaced`` (you joined
  from another connection), ``failed`` (media connection lost), ``moved`` (with
  ``to_room_id``: join that room next).

One socket is in at most one room; one user has at most one media connection per room.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aiohttp import web
from pydantic import BaseModel, Field

from meshkit.errors import ServiceUnavailable
from meshkit.services.voice.calls import CONTROL, ROOM_EVENTS, SPEAKING, Calls
from meshkit.services.voice.errors import NotInRoom
from meshkit.services.voice.media.peer import MAX_CANDIDATE, MAX_SDP
from meshkit.services.voice.media.sfu import Sfu
from meshkit.services.voice.models import SIGNALING_PATH, Id, Participant
from meshkit.sockets import ConnectionCaps, SocketServer
from meshkit.tokens import Principal

if TYPE_CHECKING:
    from meshkit.service import Service

log = logging.getLogger("meshkit.voice.signaling")
RESUBSCRIBE_AFTER = 1.0
MAX_FRAME = 1024 * 1024
"""Largest signaling frame: an SDP answer for a full room (:data:`MAX_SDP`) fits."""


def room_key(room_id: str) -> str:
    """The Socket.IO room of the sockets seated in a voice room on this instance."""
    return f"voice:{room_id}"


class JoinIn(BaseModel):
    """``voice.join``."""

    room_id: Id


class AnswerIn(BaseModel):
    """``voice.answer``: the client's SDP answer to the last offer."""

    sdp: str = Field(min_length=1, max_length=MAX_SDP)


class CandidateIn(BaseModel):
    """``voice.candidate``: one trickled ICE candidate (browser ``RTCIceCandidateInit``)."""

    candidate: str = Field(max_length=MAX_CANDIDATE)
    sdpMid: str | None = Field(default=None, max_length=32)
    sdpMLineIndex: int | None = Field(default=None, ge=0, le=1024)


class StateIn(BaseModel):
    """``voice.state``: mute or deafen oneself (at least one field)."""

    muted: bool | None = None
    deafened: bool | None = None


@dataclass(frozen=True)
class Seat:
    """Where one socket sits."""

    room_id: str
    user_id: str


def flags(participant: Participant) -> dict[str, bool]:
    """What the media plane does for a participant's state."""
    heard = not (participant.muted or participant.server_muted or participant.deafened)
    return {"sending": heard, "receiving": not participant.deafened}


class VoiceSignaling:
    """Socket.IO signaling of one voice instance, over its :class:`Sfu`."""

    def __init__(self, service: Service, sfu: Sfu, instance: str) -> None:
        self.service = service
        self._calls: Calls | None = None
        self.sfu = sfu
        self.instance = instance
        self.sockets = SocketServer(
            service,
            path=SIGNALING_PATH,
            max_frame=MAX_FRAME,
            log_name="meshkit.voice.signaling",
            on_disconnect=self._disconnected,
        )
        self.sio = self.sockets.sio
        self.seats: dict[str, Seat] = {}
        """sid → its seat."""
        self.holders: dict[Seat, str] = {}
        """seat → the sid holding its media connection."""
        self._feed: asyncio.Task[None] | None = None
        for event, handler in (
            ("voice.join", self._join),
            ("voice.answer", self._answer),
            ("voice.candidate", self._candidate),
            ("voice.state", self._state),
            ("voice.leave", self._leave),
        ):
            self.sockets.on(event, handler)

    # --- lifecycle ---------------------------------------------------------------------

    @property
    def calls(self) -> Calls:
        """The control plane (given to :meth:`start`: it needs the store and Redis)."""
        if self._calls is None:
            raise ServiceUnavailable("voice signaling is not started")
        return self._calls

    def attach(self, app: web.Application) -> None:
        """Serve signaling on ``app`` (before it starts; :meth:`start` comes later)."""
        self.sockets.attach(app)

    async def start(
        self,
        calls: Calls,
        *,
        session_check_interval: float,
        caps: ConnectionCaps | None = None,
    ) -> None:
        """Follow room events and moderator commands; end expired sessions; admit
        connections through ``caps`` (per user and per client address)."""
        self._calls = calls
        await self.sockets.start(session_check_interval=session_check_interval, caps=caps)
        self._feed = asyncio.create_task(self._follow(), name="voice-signaling-feed")

    async def stop(self) -> None:
        """Tell nobody (the sockets close), drop every media connection, stop."""
        if self._feed is not None:
            self._feed.cancel()
            with contextlib.suppress(BaseException):
                await self._feed
        for seat in list(self.holders):
            with contextlib.suppress(Exception):
                await self.calls.leave(seat.room_id, seat.user_id, reason="shutdown")
        await self.sfu.close()
        await self.sockets.stop()

    # --- client emits ------------------------------------------------------------------

    async def _join(self, sid: str, data: Any) -> dict[str, Any]:
        body = JoinIn.model_validate(data)
        principal = await self.sockets.principal(sid)
        current = self.seats.get(sid)
        if current is not None and current.room_id != body.room_id:
            await self._vacate(sid, reason="left")
        participant = await self.calls.enter(principal, body.room_id, self.instance)
        seat = Seat(body.room_id, principal.subject)
        previous = self.holders.get(seat)
        if previous is not None and previous != sid:
            await self._evict(previous, seat, "replaced")
        self.seats[sid] = seat
        self.holders[seat] = sid
        await self.sio.enter_room(sid, room_key(seat.room_id))
        try:
            room = await self.calls.rooms.get(seat.room_id)
            offer = await self.sfu.join(
                seat.room_id,
                seat.user_id,
                lambda event, payload: self._signal(sid, event, payload),
                bitrate=room.bitrate,
            )
        except BaseException:
            await self._vacate(sid, reason="failed")
            raise
        self.sfu.set_flags(seat.room_id, seat.user_id, **flags(participant))
        people = await self.calls.participants(seat.room_id)
        return {
            "ok": True,
            "offer": offer,
            "participant": participant.public().model_dump(mode="json"),
            "participants": [p.public().model_dump(mode="json") for p in people],
        }

    async def _signal(self, sid: str, event: str, payload: dict[str, Any]) -> None:
        """A renegotiation (``voice.offer``) or a new mid → user map (``voice.streams``)."""
        seat = self.seats.get(sid)
        if seat is not None:
            await self.sio.emit(event, {"room_id": seat.room_id, **payload}, to=sid)

    def _seat(self, sid: str) -> Seat:
        seat = self.seats.get(sid)
        if seat is None or self.holders.get(seat) != sid:
            raise NotInRoom("this connection is in no voice room; voice.join first")
        return seat

    async def _answer(self, sid: str, data: Any) -> dict[str, Any]:
        body = AnswerIn.model_validate(data)
        await self.sockets.principal(sid)
        seat = self._seat(sid)
        await self.sfu.peer(seat.room_id, seat.user_id).accept_answer(body.sdp)
        return {"ok": True}

    async def _candidate(self, sid: str, data: Any) -> dict[str, Any]:
        body = CandidateIn.model_validate(data)
        await self.sockets.principal(sid)
        seat = self._seat(sid)
        peer = self.sfu.peer(seat.room_id, seat.user_id)
        await peer.add_candidate(body.candidate, body.sdpMid, body.sdpMLineIndex)
        return {"ok": True}

    async def _state(self, sid: str, data: Any) -> dict[str, Any]:
        body = StateIn.model_validate(data)
        await self.sockets.principal(sid)
        seat = self._seat(sid)
        participant = await self.calls.set_self(
            seat.room_id, seat.user_id, muted=body.muted, deafened=body.deafened
        )
        self.sfu.set_flags(seat.room_id, seat.user_id, **flags(participant))
        return {"ok": True, "participant": participant.public().model_dump(mode="json")}

    async def _leave(self, sid: str, data: Any) -> dict[str, Any]:
        await self.sockets.principal(sid)
        left = await self._vacate(sid, reason="left")
        return {"ok": True, "left": left}

    async def _disconnected(self, sid: str, principal: Principal) -> None:
        await self._vacate(sid, reason="disconnected")

    # --- leaving -------------------------------------------------------------------------

    async def _vacate(self, sid: str, *, reason: str, announce: bool = True) -> bool:
        """Take ``sid`` out of its room: media, state (announced), Socket.IO room."""
        seat = self.seats.pop(sid, None)
        if seat is None:
            return False
        with contextlib.suppress(Exception):
            await self.sio.leave_room(sid, room_key(seat.room_id))
        if self.holders.get(seat) != sid:
            return True  # replaced by another connection of the same user
        del self.holders[seat]
        await self.sfu.leave(seat.room_id, seat.user_id)
        if announce:
            await self.calls.leave(seat.room_id, seat.user_id, reason=reason)
        return True

    async def _evict(self, sid: str, seat: Seat, reason: str, **extra: Any) -> None:
        """Tell ``sid`` it was removed from ``seat``'s room, and drop its media (state was
        already changed by whoever decided it)."""
        payload = {"room_id": seat.room_id, "reason": reason, **extra}
        with contextlib.suppress(Exception):
            await self.sio.emit("voice.ended", payload, to=sid)
        await self._vacate(sid, reason=reason, announce=False)

    async def on_stale(self, room_id: str, user_id: str, why: str) -> None:
        """The media connection failed or stopped answering: the participant leaves."""
        seat = Seat(room_id, user_id)
        sid = self.holders.get(seat)
        if sid is None:
            await self.sfu.leave(room_id, user_id)
            return
        log.info("voice: dropping %s from %s: %s", user_id, room_id, why)
        await self._evict(sid, seat, "failed", detail=why)
        await self.calls.leave(room_id, user_id, reason="failed")

    async def on_lost(self, room_id: str, user_id: str) -> None:
        """State no longer has a participant this instance hosts (kicked or moved through
        an instance whose command did not reach us, pruned while we stalled)."""
        sid = self.holders.get(Seat(room_id, user_id))
        if sid is not None:
            await self._evict(sid, Seat(room_id, user_id), "lost")
        else:
            await self.sfu.leave(room_id, user_id)

    async def on_speaking(self, room_id: str, user_id: str, speaking: bool) -> None:
        """The SFU heard someone start or stop: record and announce it."""
        await self.calls.set_speaking(room_id, user_id, speaking)

    # --- what other instances (and the REST API) publish ----------------------------------

    async def _follow(self) -> None:
        while True:
            try:
                pubsub = self.service.redis.pubsub(ignore_subscribe_messages=True)
                await pubsub.subscribe(ROOM_EVENTS, CONTROL)
                try:
                    async for message in pubsub.listen():
                        await self._dispatch(message.get("channel"), message.get("data"))
                finally:
                    with contextlib.suppress(Exception):
                        await pubsub.aclose()  # type: ignore[no-untyped-call]
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("voice event feed interrupted: %r; resubscribing", exc)
                await asyncio.sleep(RESUBSCRIBE_AFTER)

    async def _dispatch(self, channel: Any, raw: Any) -> None:
        try:
            message = json.loads(raw)
            room_id = str(message["room_id"])
        except (ValueError, TypeError, KeyError):
            return
        name = channel.decode() if isinstance(channel, bytes) else str(channel)
        try:
            if name == CONTROL:
                await self._command(room_id, message)
            else:
                await self._relay(room_id, message)
        except Exception:
            log.exception("voice: handling %s on %s failed", message, name)

    async def _relay(self, room_id: str, message: dict[str, Any]) -> None:
        event = message.get("event")
        participant = message.get("participant") or {}
        if event == SPEAKING:
            payload = {
                "room_id": room_id,
                "user_id": participant.get("user_id"),
                "speaking": bool(participant.get("speaking")),
            }
        else:
            payload = {k: v for k, v in message.items() if k != "event"}
        if isinstance(event, str) and event.startswith("voice."):
            await self.sio.emit(event, payload, room=room_key(room_id))

    async def _command(self, room_id: str, message: dict[str, Any]) -> None:
        command = message.get("command")
        if command == "close":
            for seated, holder in list(self.holders.items()):
                if seated.room_id == room_id:
                    await self._evict(holder, seated, "closed")
            await self.sfu.close_room(room_id)
            return
        user_id = str(message.get("user_id"))
        seat = Seat(room_id, user_id)
        sid = self.holders.get(seat)
        if command == "server_mute":
            participant = await self.calls.state.participant(room_id, user_id)
            if participant is not None:
                self.sfu.set_flags(room_id, user_id, **flags(participant))
        elif command in ("kick", "move") and sid is not None:
            extra: dict[str, Any] = {"by": message.get("by")}
            if command == "move":
                extra["to_room_id"] = message.get("to_room_id")
            await self._evict(sid, seat, "kicked" if command == "kick" else "moved", **extra)
        elif command in ("kick", "move"):
            await self.sfu.leave(room_id, user_id)  # a source without a socket: a bot
