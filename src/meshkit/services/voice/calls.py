"""The one core of every voice operation: REST and Socket.IO adapters both call :class:`Calls`.

Each operation checks the caller's rights, changes the stored room or the live state,
and publishes what happened on Redis pub/sub, which every voice instance's media plane
and signaling subscribe to:

* ``meshkit:voice:room-events``: ``{"room_id", "event", "participant", ...}`` with
  ``event`` one of ``voice.participant.joined``, ``voice.participant.left`` (with a
  ``reason``: ``left``, ``kicked``, ``moved``, ``closed``, ``timeout``),
  ``voice.participant.updated`` and ``voice.speaking``; ``participant`` is the client
  shape (:class:`~meshkit.services.voice.models.ParticipantOut`).
* ``meshkit:voice:control``: what the media plane hosting a participant must apply,
  ``{"room_id", "command", "user_id", ...}`` with ``command`` one of ``kick``, ``move``
  (``to_room_id``), ``server_mute`` (``server_muted``) and ``close`` (the room was
  deleted; no ``user_id``).

Publishing comes after the state change and is best effort (logged): pub/sub has no
memory anyway, and the heartbeat is the backstop, since a host's heartbeat reports the
participants that are gone from state (:meth:`VoiceState.heartbeat`).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

from meshkit.services.voice.errors import NotInRoom, RoomFull
from meshkit.services.voice.ice import IceGrant
from meshkit.services.voice.models import (
    SIGNALING_PATH,
    JoinTicket,
    Participant,
    RoomQuery,
    VoiceRoom,
    VoiceRoomIn,
    VoiceRoomOut,
    VoiceRoomPatch,
)
from meshkit.services.voice.rooms import Rooms
from meshkit.services.voice.state import VoiceState
from meshkit.tokens import Principal, require_permission

log = logging.getLogger("meshkit.voice")

ROOM_EVENTS = "meshkit:voice:room-events"
CONTROL = "meshkit:voice:control"
JOIN = "voice:room.join"
MUTE = "voice:member.mute"
KICK = "voice:member.kick"
MOVE = "voice:member.move"

JOINED = "voice.participant.joined"
LEFT = "voice.participant.left"
UPDATED = "voice.participant.updated"
SPEAKING = "voice.speaking"

IceSource = Callable[[str], IceGrant]
"""The ICE servers (and TURN credentials) for a user id, e.g.
``functools.partial(ice_grant, settings)``."""


def room_out(room: VoiceRoom, participant_count: int) -> VoiceRoomOut:
    """The API shape of a stored room."""
    return VoiceRoomOut(
        id=room.id,
        name=room.name,
        channel_id=room.channel_id,
        max_participants=room.max_participants,
        bitrate=room.bitrate,
        owner_id=room.owner_id,
        created_at=room.created_at,
        participant_count=participant_count,
    )


class Calls:
    """Voice operations (module docstring). ``bus`` is the Redis client to publish on."""

    def __init__(self, rooms: Rooms, state: VoiceState, bus: Redis, ice: IceSource) -> None:
        self.rooms = rooms
        self.state = state
        self.bus = bus
        self.ice = ice

    # publishing ------------------------------------------------------------------

    async def _publish(self, channel: str, message: dict[str, Any]) -> None:
        try:
            await self.bus.publish(channel, json.dumps(message))
        except (RedisError, OSError) as exc:
            log.warning("could not publish %s on %s: %r", message, channel, exc)

    async def _event(self, event: str, participant: Participant, **extra: Any) -> None:
        payload = participant.public().model_dump(mode="json")
        message = {"room_id": extra.pop("room_id"), "event": event, "participant": payload}
        await self._publish(ROOM_EVENTS, {**message, **extra})

    async def _command(self, room_id: str, command: str, **extra: Any) -> None:
        await self._publish(CONTROL, {"room_id": room_id, "command": command, **extra})

    async def _gone(self, room_id: str, gone: list[Participant]) -> None:
        """Announce participants whose liveness lapsed (their instance died)."""
        for participant in gone:
            await self._event(LEFT, participant, room_id=room_id, reason="timeout")

    # rooms -----------------------------------------------------------------------

    async def describe(self, room: VoiceRoom) -> VoiceRoomOut:
        """The room with its live participant count."""
        return room_out(room, len(await self.participants(room.id, room=room)))

    async def create_room(self, principal: Principal, body: VoiceRoomIn) -> VoiceRoomOut:
        """Create a room (``voice:room.create``); it starts empty."""
        return room_out(await self.rooms.create(principal, body), 0)

    async def list_rooms(self, query: RoomQuery) -> list[VoiceRoomOut]:
        """A page of rooms with their live counts."""
        found = await self.rooms.list(query)
        counts = await self.state.counts(room.id for room in found)
        return [room_out(room, counts.get(room.id, 0)) for room in found]

    async def get_room(self, room_id: str) -> VoiceRoomOut:
        """One room; 404 if unknown."""
        return await self.describe(await self.rooms.get(room_id))

    async def patch_room(
        self, principal: Principal, room_id: str, body: VoiceRoomPatch
    ) -> VoiceRoomOut:
        """Change a room (owner or ``voice:room.manage``)."""
        return await self.describe(await self.rooms.patch(principal, room_id, body))

    async def delete_room(self, principal: Principal, room_id: str) -> None:
        """Delete a room (owner or ``voice:room.manage``) and drop everyone in it."""
        room = await self.rooms.delete(principal, room_id)
        dropped = await self.state.clear_room(room.id)
        await self._command(room.id, "close")
        for participant in dropped:
            await self._event(LEFT, participant, room_id=room.id, reason="closed")

    # joining and leaving -----------------------------------------------------------

    async def participants(
        self, room_id: str, *, room: VoiceRoom | None = None
    ) -> list[Participant]:
        """Who is in the room now (404 for an unknown room); lapsed ones are removed and
        announced gone."""
        if room is None:
            await self.rooms.get(room_id)
        roster = await self.state.roster(room_id)
        await self._gone(room_id, roster.gone)
        return roster.live

    async def join(self, principal: Principal, room_id: str) -> JoinTicket:
        """What the caller needs to join the room over signaling (``voice:room.join``).

        Refused with :class:`RoomFull` when the room is full now (the caller is not
        counted if they are in it already). Reserves nothing: :meth:`enter` checks again.
        """
        require_permission(principal, JOIN)
        room = await self.rooms.get(room_id)
        people = await self.participants(room.id, room=room)
        others = [p for p in people if p.user_id != principal.subject]
        if len(others) >= room.max_participants:
            raise self._full(room)
        grant = self.ice(principal.subject)
        return JoinTicket(
            room=room_out(room, len(people)),
            participants=[p.public() for p in people],
            signaling_path=SIGNALING_PATH,
            ice_servers=grant.servers,
            ice_servers_expire_at=grant.expires_at,
        )

    @staticmethod
    def _full(room: VoiceRoom) -> RoomFull:
        return RoomFull(
            f"the room has {room.max_participants} participants already",
            extensions={"limit": room.max_participants},
        )

    async def enter(self, principal: Principal, room_id: str, instance: str) -> Participant:
        """Put the caller in the room, hosted by ``instance`` (signaling, when a socket
        joins): re-checks ``voice:room.join``, that the room exists and has room.

        Entering again (a reconnect) keeps the participant's state and announces an
        update; a new participant is announced joined.
        """
        require_permission(principal, JOIN)
        room = await self.rooms.get(room_id)
        entered = await self.state.enter(
            room.id, principal.subject, instance, max_participants=room.max_participants
        )
        await self._gone(room.id, entered.gone)
        if entered.participant is None:
            raise self._full(room)
        event = JOINED if entered.new else UPDATED
        await self._event(event, entered.participant, room_id=room.id)
        return entered.participant

    async def leave(self, room_id: str, user_id: str, reason: str = "left") -> Participant | None:
        """Take ``user_id`` out of the room (their socket left, was dropped, ...); the
        participant as it was, ``None`` if they were not in it (nothing announced)."""
        participant = await self.state.leave(room_id, user_id)
        if participant is not None:
            await self._event(LEFT, participant, room_id=room_id, reason=reason)
        return participant

    # a participant's own state -------------------------------------------------------

    async def set_self(
        self,
        room_id: str,
        user_id: str,
        muted: bool | None = None,
        deafened: bool | None = None,
    ) -> Participant:
        """Mute or deafen oneself; :class:`NotInRoom` if not in the room."""
        fields = {
            name: value
            for name, value in (("muted", muted), ("deafened", deafened))
            if value is not None
        }
        changed = await self.state.update(room_id, user_id, **fields)
        if changed is None:
            raise NotInRoom("not in this voice room")
        before, after = changed
        if before != after:
            await self._event(UPDATED, after, room_id=room_id)
        return after

    async def set_speaking(self, room_id: str, user_id: str, speaking: bool) -> Participant | None:
        """Record that a participant started or stopped speaking (the media plane, on a
        change); announced only when it changed. ``None`` if they are not in the room."""
        changed = await self.state.update(room_id, user_id, speaking=speaking)
        if changed is None:
            return None
        before, after = changed
        if before.speaking != after.speaking:
            await self._event(SPEAKING, after, room_id=room_id)
        return after

    # moderation ------------------------------------------------------------------------

    async def _present(self, room_id: str, user_id: str) -> Participant:
        await self.rooms.get(room_id)
        participant = await self.state.participant(room_id, user_id)
        if participant is None:
            raise NotInRoom("that user is not in this voice room")
        return participant

    async def server_mute(
        self, principal: Principal, room_id: str, user_id: str, muted: bool
    ) -> Participant:
        """Mute or unmute a participant for everyone (``voice:member.mute``). The mute
        holds until undone, also if they leave and join again."""
        require_permission(principal, MUTE)
        await self._present(room_id, user_id)
        changed = await self.state.update(room_id, user_id, server_muted=muted)
        if changed is None:
            raise NotInRoom("that user is not in this voice room")
        before, after = changed
        await self._command(room_id, "server_mute", user_id=user_id, server_muted=muted)
        if before != after:
            await self._event(UPDATED, after, room_id=room_id)
        return after

    async def kick(self, principal: Principal, room_id: str, user_id: str) -> None:
        """Drop a participant from the room (``voice:member.kick``); they may join again."""
        require_permission(principal, KICK)
        await self._present(room_id, user_id)
        participant = await self.state.leave(room_id, user_id)
        if participant is None:
            raise NotInRoom("that user is not in this voice room")
        await self._command(room_id, "kick", user_id=user_id, by=principal.subject)
        await self._event(LEFT, participant, room_id=room_id, reason="kicked")

    async def move(self, principal: Principal, room_id: str, user_id: str, to_room: str) -> None:
        """Move a participant to another room (``voice:member.move``).

        They leave this room now; their client is told (the ``move`` command) to join
        ``to_room`` over signaling, where the usual checks apply. Refused with
        :class:`RoomFull` when ``to_room`` has no place for them now.
        """
        require_permission(principal, MOVE)
        await self._present(room_id, user_id)
        target = await self.rooms.get(to_room)
        if target.id == room_id:
            return
        others = [
            p for p in await self.participants(target.id, room=target) if p.user_id != user_id
        ]
        if len(others) >= target.max_participants:
            raise self._full(target)
        participant = await self.state.leave(room_id, user_id)
        if participant is None:
            raise NotInRoom("that user is not in this voice room")
        await self._command(
            room_id, "move", user_id=user_id, to_room_id=target.id, by=principal.subject
        )
        await self._event(LEFT, participant, room_id=room_id, reason="moved", to_room_id=target.id)
