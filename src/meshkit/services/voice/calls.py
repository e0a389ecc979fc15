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

The same operations publish the durable, cross-service facts on the event bus
(:mod:`meshkit.contracts.voice`, through the ``events`` function given to
:class:`Calls`): ``VoiceParticipantJoined`` / ``VoiceParticipantLeft`` (topic
``voice.participants``) and ``CallStarted`` / ``CallEnded`` (topic ``voice.calls``). Who
starts or ends a call is decided in the state's scripts, so each call is announced
started and ended once. Event ids derive from the call, the user and their join time,
so publishing the same fact again is one event. Publishing is after the state change
and best effort too (a warning when Redis refuses it; the state change stands).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

from meshkit.contracts.voice import (
    CallEnded,
    CallStarted,
    VoiceParticipantJoined,
    VoiceParticipantLeft,
)
from meshkit.events import Event, PublishEvent
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
from meshkit.services.voice.state import Call, Departed, Ending, Roster, VoiceState, utcnow
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
TIMEOUT = "timeout"
"""The leave reason of a participant whose liveness lapsed (their instance died)."""


def _ms(moment: datetime) -> int:
    return round(moment.timestamp() * 1000)


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
    """Voice operations (module docstring). ``bus`` is the Redis client to publish
    live pushes on; ``events`` publishes on the event bus (``None``: nothing is)."""

    def __init__(
        self,
        rooms: Rooms,
        state: VoiceState,
        bus: Redis,
        ice: IceSource,
        events: PublishEvent | None = None,
    ) -> None:
        self.rooms = rooms
        self.state = state
        self.bus = bus
        self.ice = ice
        self.events = events

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

    async def _publish_event(self, event: Event, *, id: str, room_id: str) -> None:
        if self.events is None:
            return
        try:
            await self.events(event, id=id, subject=f"voice-room/{room_id}")
        except Exception as exc:  # Redis unreachable: the state change stands
            log.warning("could not publish %s %s: %r", event.type, id, exc)

    async def _joined(self, participant: Participant, call: Call | None) -> None:
        """``VoiceParticipantJoined`` on the bus."""
        if call is None:
            return
        user, since = participant.user_id, _ms(participant.joined_at)
        event = VoiceParticipantJoined(
            room_id=call.room_id,
            user_id=user,
            channel_id=call.channel_id,
            call_id=call.call_id,
            at=participant.joined_at,
        )
        await self._publish_event(
            event, id=f"{call.call_id}:{user}:joined:{since}", room_id=call.room_id
        )

    async def _left(
        self, room_id: str, participant: Participant, call: Call | None, reason: str, **extra: Any
    ) -> None:
        """``voice.participant.left`` to the room's sockets; ``VoiceParticipantLeft`` on
        the bus (one per join: its id carries the join time)."""
        await self._event(LEFT, participant, room_id=room_id, reason=reason, **extra)
        if call is None:
            return
        user, since = participant.user_id, _ms(participant.joined_at)
        event = VoiceParticipantLeft(
            room_id=room_id,
            user_id=user,
            channel_id=call.channel_id,
            call_id=call.call_id,
            at=max(participant.joined_at, utcnow()),
            reason=reason,
        )
        await self._publish_event(event, id=f"{call.call_id}:{user}:left:{since}", room_id=room_id)

    async def _started(self, call: Call, user_id: str) -> None:
        event = CallStarted(
            call_id=call.call_id,
            room_id=call.room_id,
            room_name=call.room_name,
            channel_id=call.channel_id,
            started_at=call.started_at,
            user_id=user_id,
        )
        await self._publish_event(event, id=f"{call.call_id}:started", room_id=call.room_id)

    async def _ended(self, ending: Ending, reason: str) -> None:
        call = ending.call
        ended_at = max(ending.ended_at, call.started_at)
        event = CallEnded(
            call_id=call.call_id,
            room_id=call.room_id,
            room_name=call.room_name,
            channel_id=call.channel_id,
            started_at=call.started_at,
            ended_at=ended_at,
            duration_seconds=(ended_at - call.started_at).total_seconds(),
            reason=reason,
        )
        await self._publish_event(event, id=f"{call.call_id}:ended", room_id=call.room_id)

    async def _gone(
        self,
        room_id: str,
        gone: list[Participant],
        call: Call | None = None,
        ended: Ending | None = None,
    ) -> None:
        """Announce participants whose liveness lapsed (their instance died), then the
        end of the call if removing them emptied the room."""
        for participant in gone:
            await self._left(room_id, participant, ended.call if ended else call, TIMEOUT)
        if ended is not None:
            await self._ended(ended, TIMEOUT)

    async def _pruned(self, room_id: str, roster: Roster) -> None:
        await self._gone(room_id, roster.gone, roster.call, roster.ended)

    async def _departed(self, room_id: str, departed: Departed, reason: str, **extra: Any) -> None:
        """Announce a departure: the one who left, lapsed others, the call's end."""
        if departed.participant is not None:
            await self._left(room_id, departed.participant, departed.call, reason, **extra)
        await self._gone(room_id, departed.gone, departed.call)
        if departed.ended is not None:
            await self._ended(departed.ended, reason if departed.participant else TIMEOUT)

    async def sweep(self) -> int:
        """End the calls of rooms whose every participant lapsed and nobody read since
        (their instances died); how many ended. Run on every heartbeat, on every
        instance: the state's scripts make each ending happen once."""
        ended = 0
        for room_id in await self.state.stale_calls():
            roster = await self.state.roster(room_id)
            await self._pruned(room_id, roster)
            ended += roster.ended is not None
        return ended

    # rooms -----------------------------------------------------------------------

    async def describe(self, room: VoiceRoom) -> VoiceRoomOut:
        """The room with its live participant count."""
        return room_out(room, len(await self.participants(room.id, room=room)))

    async def create_room(self, principal: Principal, body: VoiceRoomIn) -> VoiceRoomOut:
        """Create a room (``voice:room.create``); it starts empty. A linked channel must
        be one the caller can see (:class:`Rooms`: 422 on ``channel_id`` otherwise)."""
        return room_out(await self.rooms.create(principal, body), 0)

    async def list_rooms(self, query: RoomQuery) -> list[VoiceRoomOut]:
        """A page of rooms with their live counts."""
        found = await self.rooms.list(query)
        rosters = await self.state.rosters(room.id for room in found)
        for room_id, roster in rosters.items():
            await self._pruned(room_id, roster)
        return [
            room_out(room, len(rosters[room.id].live) if room.id in rosters else 0)
            for room in found
        ]

    async def get_room(self, room_id: str) -> VoiceRoomOut:
        """One room; 404 if unknown."""
        return await self.describe(await self.rooms.get(room_id))

    async def patch_room(
        self, principal: Principal, room_id: str, body: VoiceRoomPatch
    ) -> VoiceRoomOut:
        """Change a room (owner or ``voice:room.manage``); a new link is checked like
        on create."""
        return await self.describe(await self.rooms.patch(principal, room_id, body))

    async def delete_room(self, principal: Principal, room_id: str) -> None:
        """Delete a room (owner or ``voice:room.manage``) and drop everyone in it."""
        room = await self.rooms.delete(principal, room_id)
        closed = await self.state.close_room(room.id)
        await self._command(room.id, "close")
        call = closed.ended.call if closed.ended else None
        for participant in closed.live:
            await self._left(room.id, participant, call, "closed")
        if closed.ended is not None:
            await self._ended(closed.ended, "closed")

    # joining and leaving -----------------------------------------------------------

    async def participants(
        self, room_id: str, *, room: VoiceRoom | None = None
    ) -> list[Participant]:
        """Who is in the room now (404 for an unknown room); lapsed ones are removed and
        announced gone."""
        if room is None:
            await self.rooms.get(room_id)
        roster = await self.state.roster(room_id)
        await self._pruned(room_id, roster)
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
            signaling_query={"room": room.id},
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
            room.id,
            principal.subject,
            instance,
            max_participants=room.max_participants,
            room_name=room.name,
            channel_id=room.channel_id,
        )
        await self._gone(room.id, entered.gone, entered.call, entered.ended)
        if entered.participant is None:
            raise self._full(room)
        if entered.started and entered.call is not None:
            await self._started(entered.call, principal.subject)
        event = JOINED if entered.new else UPDATED
        await self._event(event, entered.participant, room_id=room.id)
        if entered.new:
            await self._joined(entered.participant, entered.call)
        return entered.participant

    async def leave(self, room_id: str, user_id: str, reason: str = "left") -> Participant | None:
        """Take ``user_id`` out of the room (their socket left, was dropped, ...); the
        participant as it was, ``None`` if they were not in it (nothing announced)."""
        departed = await self.state.depart(room_id, user_id)
        await self._departed(room_id, departed, reason)
        return departed.participant

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
        departed = await self.state.depart(room_id, user_id)
        if departed.participant is not None:
            await self._command(room_id, "kick", user_id=user_id, by=principal.subject)
        await self._departed(room_id, departed, "kicked")
        if departed.participant is None:
            raise NotInRoom("that user is not in this voice room")

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
        departed = await self.state.depart(room_id, user_id)
        if departed.participant is not None:
            await self._command(
                room_id, "move", user_id=user_id, to_room_id=target.id, by=principal.subject
            )
        await self._departed(room_id, departed, "moved", to_room_id=target.id)
        if departed.participant is None:
            raise NotInRoom("that user is not in this voice room")
