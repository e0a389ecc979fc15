"""Real time over Socket.IO (python-socketio), on the messaging service's own port.

Contract, for clients (``docs/messaging.md`` has the full event list):

* Connect to path ``/socket.io`` with ``auth={"token": "<access token>"}``. A missing,
  invalid, expired or revoked token is refused; the ``connect_error`` data is a problem
  document (``type``, ``title``, ``status``, ``detail``) saying why. The connection
  machinery (authentication, acks, token lifetime, connection caps) is the framework's
  :class:`meshkit.sockets.SocketServer`; this module is messaging's domain on top.
* On connect the socket is in a room per channel the user belongs to (and one for the
  user, which all their devices share); membership changes made anywhere (REST, another
  instance, a channel created with them in it) move the user's sockets in and out of
  rooms, then tell each socket (``channel.joined`` / ``channel.left``); the channel
  hears ``member.joined`` / ``member.left``.
* A connection lives as long as its access token: renew it before it expires with the
  ``auth`` emit (``{"token": "<new access token>"}``, same user). A connection whose
  token expired or was revoked (logout, session revoked) gets ``session.ended`` (a
  problem document) and is disconnected; the client connects again with a fresh token
  and resumes.
* Every client emit is answered by an ack: ``{"ok": true, ...}`` or ``{"ok": false,
  "error": <problem document>}``. A malformed payload is an ``ok: false`` ack, never a
  dropped connection: undecodable JSON is ``400 malformed-body``, a payload that does not
  fit the event ``422 validation-error``, an event the server does not know ``404
  unknown-event`` (:mod:`meshkit.sockets.payloads` reads the frames).
* A message is stored before it is acknowledged and broadcast.
* Emits that write (``message.send``, ``typing``) spend from the user's rate-limit
  budget, the one their REST calls through the gateway spend from; a refused emit's ack
  is ``429 rate-limited`` with ``retry_after``. Concurrent connections per user and per
  client address are capped; a connection over a cap is refused with ``429
  too-many-connections`` (:mod:`~meshkit.services.messaging.socket_limits`,
  :mod:`meshkit.sockets.caps`).
* One connection's emits are handled one after the other, in the order they were sent:
  its messages are stored (and get their ids) in send order. Different connections are
  handled concurrently.
* Several messaging instances share fan-out through a Redis stream
  (:mod:`meshkit.fanout`). When pushes may have been lost on the way (Redis restarted,
  or an instance could not reach it), every affected socket gets ``resync`` and the
  client resumes (the ``resume`` emit) from the last message it saw.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import uuid
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Literal

from aiohttp import web
from pydantic import BaseModel, Field

from meshkit.errors import ServiceUnavailable
from meshkit.events.tasks import cancel_and_wait
from meshkit.fanout import StreamFanout
from meshkit.services.messaging.channels import member_out
from meshkit.services.messaging.messages import message_out
from meshkit.services.messaging.models import (
    ChannelOut,
    Id,
    Membership,
    Message,
    MessageIn,
    MessageOut,
)
from meshkit.services.messaging.presence import Presence
from meshkit.services.messaging.socket_limits import EmitLimits
from meshkit.sockets import ConnectionCaps, SocketServer
from meshkit.tokens import Principal

if TYPE_CHECKING:
    from meshkit.services.messaging.service import MessagingService

log = logging.getLogger("meshkit.messaging")
FANOUT_STREAM = "meshkit:messaging:fanout"
MEMBERSHIP_CHANNEL = "meshkit:messaging:membership"
SESSIONS_CHANNEL = "meshkit:messaging:sessions"
TYPING_EVERY = 3.0
STOP_GRACE = 5.0  # seconds a background task may take to stop
RESUME_LIMIT = 500


def channel_room(channel_id: str) -> str:
    """The room of everyone connected who is a member of the channel."""
    return f"channel:{channel_id}"


def user_room(user_id: str) -> str:
    """The room of every device of one user."""
    return f"user:{user_id}"


class SendIn(MessageIn):
    """``message.send``: a message for one channel."""

    channel_id: Id


class ChannelRef(BaseModel):
    """``typing``: which channel."""

    channel_id: Id


class ReadIn(BaseModel):
    """``read``: the last message the user has seen in a channel."""

    channel_id: Id
    message_id: Id


class PresenceIn(BaseModel):
    """``presence.set``: the status the user chooses."""

    status: Literal["online", "idle", "dnd", "offline"]


class ResumeIn(BaseModel):
    """``resume``: the id of the last message the client received (any channel)."""

    last_seen_id: Id
    limit: int = Field(default=RESUME_LIMIT, ge=1, le=RESUME_LIMIT)


class Realtime:
    """The Socket.IO server of one messaging instance."""

    def __init__(self, service: MessagingService, *, cors_origins: list[str] | str) -> None:
        self.service = service
        self.sockets = SocketServer(
            service,
            path="socket.io",
            client_manager=StreamFanout(lambda: service.redis, FANOUT_STREAM, on_gap=self.resync),
            cors_origins=cors_origins,
            log_name="meshkit.messaging",
            on_connect=self._connect,
            on_registered=self._registered,
            on_disconnect=self._disconnect,
        )
        self.sio = self.sockets.sio
        self.limits: EmitLimits | None = None
        self._typing: dict[tuple[str, str], float] = {}
        self._listener: asyncio.Task[None] | None = None
        self._beating: asyncio.Task[None] | None = None
        self.presence: Presence | None = None
        for event, handler in (
            ("message.send", self._send),
            ("typing", self._typing_event),
            ("read", self._read),
            ("presence.set", self._presence),
            ("resume", self._resume),
        ):
            self.sockets.on(event, handler)

    @property
    def principals(self) -> dict[str, Principal]:
        """sid → whom its current access token names (the socket server's)."""
        return self.sockets.principals

    def attach(self, app: web.Application) -> None:
        """Serve Socket.IO on ``app`` at ``/socket.io/``."""
        self.sockets.attach(app)

    # --- lifecycle ---------------------------------------------------------------

    async def start(
        self,
        *,
        presence_ttl: float,
        session_check_interval: float,
        limits: EmitLimits | None = None,
        caps: ConnectionCaps | None = None,
    ) -> None:
        """Follow membership changes made by any instance; keep presence (and the
        connection counts of ``caps``) alive; end connections whose token ran out or was
        revoked. ``limits`` rate-limits the emits that write."""
        self.limits = limits
        self.presence = Presence(self.service.redis, instance=uuid.uuid4().hex, ttl=presence_ttl)
        self._listener = asyncio.create_task(self._follow_changes())
        self._beating = asyncio.create_task(self._heartbeats())
        await self.sockets.start(session_check_interval=session_check_interval, caps=caps)

    async def stop(self) -> None:
        """Disconnect clients and stop background work."""
        for task in (self._listener, self._beating):
            # redis-py can swallow a cancellation (turning it into a timeout): cancel again
            if task is not None and not await cancel_and_wait(task, STOP_GRACE):
                log.warning("a Socket.IO background task did not stop within %.0f s", STOP_GRACE)
        await self.sockets.stop()  # the fan-out listener too

    # --- connection ----------------------------------------------------------------

    async def _connect(self, sid: str, principal: Principal, environ: dict[str, Any]) -> None:
        """A socket whose token checked out: into its user's room and its channels'
        rooms; online. (:meth:`_disconnect` undoes it if the connect fails later.)"""
        user = principal.subject
        await self.sio.enter_room(sid, user_room(user))
        await self._sync_rooms(sid, user)
        if self.presence is not None:
            before = await self.presence.status(user)
            after = await self.presence.connected(user, sid)
            if after != before:
                await self.push_presence(user, after)

    async def _registered(self, sid: str, principal: Principal) -> None:
        """Listed now, the socket gets every membership change published from here on;
        those published while :meth:`_connect` scanned are caught up here."""
        await self._sync_rooms(sid, principal.subject, joined=self._channel_rooms(sid))

    async def _sync_rooms(self, sid: str, user: str, joined: set[str] | None = None) -> set[str]:
        """Put ``sid`` in the rooms of ``user``'s channels and out of any others it was
        put in (``joined``); the rooms now. Run again after registering the socket, a
        membership change published during the first scan is not lost."""
        rooms = {channel_room(m.channel_id) for m in await self.service.channels.of_user(user)}
        for room in rooms - (joined or set()):
            await self.sio.enter_room(sid, room)
        for room in (joined or set()) - rooms:
            await self.sio.leave_room(sid, room)
        return rooms

    def _channel_rooms(self, sid: str) -> set[str]:
        """The channel rooms ``sid`` is in now."""
        return {room for room in self.sio.rooms(sid) if room.startswith("channel:")}

    async def _disconnect(self, sid: str, principal: Principal) -> None:
        """The socket went (or its connect failed half-way): the user may be offline."""
        user_id = principal.subject
        presence = self.presence
        if presence is not None and await presence.disconnected(user_id, sid) == "offline":
            await self.push_presence(user_id, "offline")

    async def _charge(self, event: str, principal: Principal, **params: str) -> None:
        """Spend from the user's rate-limit budget for ``event`` (429 when it is empty)."""
        if self.limits is not None:
            await self.limits.charge(event, principal.subject, **params)

    # --- client emits ----------------------------------------------------------------

    async def _send(self, sid: str, data: Any) -> dict[str, Any]:
        body = SendIn.model_validate(data)
        principal = await self.sockets.principal(sid)
        await self._charge("message.send", principal, channel_id=body.channel_id)
        channel = await self.service.channels.writable(principal, body.channel_id)
        message, created = await self.service.messages.create(principal.subject, channel, body)
        out = message_out(message)
        if created:
            await self.service.announce(channel, out)
        return {"ok": True, "message": out.model_dump(mode="json")}

    async def _typing_event(self, sid: str, data: Any) -> dict[str, Any]:
        body = ChannelRef.model_validate(data)
        principal = await self.sockets.principal(sid)
        await self._charge("typing", principal, channel_id=body.channel_id)
        await self.service.channels.writable(principal, body.channel_id)
        key = (principal.subject, body.channel_id)
        now = time.monotonic()
        if now - self._typing.get(key, 0.0) >= TYPING_EVERY:  # throttled, ephemeral
            self._typing[key] = now
            await self.sio.emit(
                "typing",
                {"channel_id": body.channel_id, "user_id": principal.subject},
                room=channel_room(body.channel_id),
                skip_sid=sid,
            )
        return {"ok": True}

    async def _read(self, sid: str, data: Any) -> dict[str, Any]:
        body = ReadIn.model_validate(data)
        principal = await self.sockets.principal(sid)
        marker = await self.service.channels.mark_read(principal, body.channel_id, body.message_id)
        payload = {"channel_id": body.channel_id, "message_id": marker}
        await self.sio.emit("read", payload, room=user_room(principal.subject), skip_sid=sid)
        return {"ok": True, "last_read_id": marker}

    async def _presence(self, sid: str, data: Any) -> dict[str, Any]:
        body = PresenceIn.model_validate(data)
        principal = await self.sockets.principal(sid)
        if self.presence is None:
            raise ServiceUnavailable("presence is not running")
        status = await self.presence.choose(principal.subject, body.status)
        await self.push_presence(principal.subject, status)
        return {"ok": True, "status": status}

    async def _resume(self, sid: str, data: Any) -> dict[str, Any]:
        body = ResumeIn.model_validate(data)
        principal = await self.sockets.principal(sid)
        missed = await self.service.messages.since(
            [m.channel_id for m in await self.service.channels.of_user(principal.subject)],
            body.last_seen_id,
            body.limit + 1,
        )
        more = len(missed) > body.limit
        return {
            "ok": True,
            "messages": [message_out(m).model_dump(mode="json") for m in missed[: body.limit]],
            "more": more,
        }

    # --- session lifetime ------------------------------------------------------------

    async def end_stale_sessions(self, sids: Iterable[str] | None = None) -> int:
        """End this instance's connections (or those of ``sids``) whose token expired
        or was revoked; how many (:meth:`meshkit.sockets.SocketServer.end_stale_sessions`)."""
        return await self.sockets.end_stale_sessions(sids)

    # --- server pushes ---------------------------------------------------------------

    async def resync(self, reason: str) -> None:
        """``resync`` to every socket of this instance: pushes may have been lost (the
        fan-out across instances broke), so each client resumes from its last seen id."""
        await self.sio.emit("resync", {"reason": reason}, ignore_queue=True)

    async def push_presence(self, user_id: str, status: str) -> None:
        """``presence`` to everyone who shares a channel with the user (and their devices)."""
        payload = {"user_id": user_id, "status": status}
        rooms = [user_room(user_id)] + [
            channel_room(m.channel_id) for m in await self.service.channels.of_user(user_id)
        ]
        await self.sio.emit("presence", payload, room=rooms)

    async def _heartbeats(self) -> None:
        """Keep this instance's connections alive; announce users whose instance died.
        (The connection caps' counts are kept by the socket server.)"""
        assert self.presence is not None
        while True:
            try:
                await self.presence.heartbeat(self.sockets.users)
                for user_id in await self.presence.expired():
                    await self.push_presence(user_id, "offline")
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("presence heartbeat failed: %r", exc)
            await asyncio.sleep(self.presence.ttl / 3)

    async def broadcast_message(self, event: str, message: MessageOut) -> None:
        """``message.created/updated/deleted`` to everyone connected in its channel."""
        await self.sio.emit(
            event, message.model_dump(mode="json"), room=channel_room(message.channel_id)
        )

    async def broadcast_reaction(
        self, event: str, message: Message, *, emoji: str, user_id: str
    ) -> None:
        """``reaction.added/removed`` with the emoji's new count, to the channel."""
        payload = {
            "channel_id": message.channel_id,
            "message_id": message.id,
            "emoji": emoji,
            "user_id": user_id,
            "count": len(message.reactions.get(emoji, [])),
        }
        await self.sio.emit(event, payload, room=channel_room(message.channel_id))

    async def broadcast_channel(self, channel_id: str, payload: dict[str, Any]) -> None:
        """``channel.updated`` to the channel's connected members."""
        await self.sio.emit("channel.updated", payload, room=channel_room(channel_id))

    async def member_joined(self, member: Membership, channel: ChannelOut) -> None:
        """``member`` joined (or was put in, or created) a channel, which they see as
        ``channel``: each of their sockets, on every instance, enters its room and then
        gets ``channel.joined``; the channel's connected members get ``member.joined``."""
        await self._publish_membership(
            member.user_id, member.channel_id, channel.model_dump(mode="json")
        )
        profile = (await self.service.channels.profiles([member.user_id])).get(member.user_id)
        shown = member_out(member, profile).model_dump(mode="json")
        payload = {"channel_id": member.channel_id, **shown}
        await self.sio.emit("member.joined", payload, room=channel_room(member.channel_id))

    async def member_left(self, channel_id: str, user_id: str) -> None:
        """``user_id`` left (or was removed from) a channel: each of their sockets leaves
        its room and gets ``channel.left``; the remaining members get ``member.left``."""
        await self._publish_membership(user_id, channel_id, None)
        payload = {"channel_id": channel_id, "user_id": user_id}
        await self.sio.emit("member.left", payload, room=channel_room(channel_id))

    async def _publish_membership(
        self, user_id: str, channel_id: str, channel: dict[str, Any] | None
    ) -> None:
        """Tell every instance to move the user's sockets into (``channel``: how they see
        it) or out of (``None``) the channel's room, then tell each socket. The socket
        hears of it once moved, so every message after ``channel.joined`` reaches it."""
        message = {
            "user_id": user_id,
            "channel_id": channel_id,
            "joined": channel is not None,  # what instances of the previous release read
            "channel": channel,
        }
        await self.service.redis.publish(MEMBERSHIP_CHANNEL, json.dumps(message))

    async def sessions_revoked(self, user_id: str) -> None:
        """Some of the user's sessions were revoked (auth's ``SessionsRevoked``): every
        instance checks that user's connections now, not at its next periodic check."""
        await self.service.redis.publish(SESSIONS_CHANNEL, user_id)

    async def _follow_changes(self) -> None:
        """Apply membership changes and session revocations published by any instance."""
        while True:
            try:
                pubsub = self.service.redis.pubsub(ignore_subscribe_messages=True)
                await pubsub.subscribe(MEMBERSHIP_CHANNEL, SESSIONS_CHANNEL)
                await self._resync_rooms()  # changes published while unsubscribed are lost
                try:
                    async for message in pubsub.listen():
                        channel, data = message.get("channel"), message.get("data")
                        if channel in (SESSIONS_CHANNEL, SESSIONS_CHANNEL.encode()):
                            await self._check_user(data)
                        else:
                            await self._apply_membership(data)
                finally:
                    with contextlib.suppress(Exception):
                        await pubsub.aclose()  # type: ignore[no-untyped-call]
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("membership change feed interrupted: %r; resubscribing", exc)
                await asyncio.sleep(1.0)

    async def _check_user(self, raw: Any) -> None:
        user_id = raw.decode(errors="replace") if isinstance(raw, bytes) else str(raw)
        await self.sockets.check_user(user_id)  # denylist unreadable: the periodic check

    async def _resync_rooms(self) -> None:
        """Bring every local socket's channel rooms in line with the store."""
        for user, sids in list(self.sockets.users.items()):
            for sid in list(sids):
                with contextlib.suppress(Exception):
                    await self._sync_rooms(sid, user, joined=self._channel_rooms(sid))

    async def _apply_membership(self, raw: Any) -> None:
        try:
            change = json.loads(raw)
            user_id, channel_id = change["user_id"], change["channel_id"]
            channel = change.get("channel")
            joined = change.get("joined", channel is not None)  # older instances: no channel
        except (ValueError, TypeError, KeyError, AttributeError):
            return
        room = channel_room(channel_id)
        for sid in self.sockets.sids_of(user_id):
            try:  # one socket gone meanwhile must not stop the others, or the feed
                if joined:
                    await self.sio.enter_room(sid, room)
                    if channel is not None:
                        await self.sio.emit("channel.joined", channel, to=sid, ignore_queue=True)
                else:
                    await self.sio.leave_room(sid, room)
                    left = {"channel_id": channel_id}
                    await self.sio.emit("channel.left", left, to=sid, ignore_queue=True)
            except Exception as exc:
                log.debug("membership change for socket %s skipped: %r", sid, exc)
