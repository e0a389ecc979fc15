"""The voice service's REST API (thin: parse, call :class:`Calls`, answer).

Paths are stable (clients and the SDK depend on them)::

    POST   /v1/voice/rooms                                        create (voice:room.create)
    GET    /v1/voice/rooms                                        list (?after, channel_id, limit)
    GET    /v1/voice/rooms/{room_id}                              one room
    PATCH  /v1/voice/rooms/{room_id}                              change (owner, voice:room.manage)
    DELETE /v1/voice/rooms/{room_id}                              delete, drops everyone (same)
    POST   /v1/voice/rooms/{room_id}/join                         join ticket (voice:room.join)
    GET    /v1/voice/rooms/{room_id}/participants                 who is in it now
    PATCH  /v1/voice/rooms/{room_id}/participants/{user_id}       server mute (voice:member.mute)
    DELETE /v1/voice/rooms/{room_id}/participants/{user_id}       kick (voice:member.kick)
    POST   /v1/voice/rooms/{room_id}/participants/{user_id}/move  move (voice:member.move)
"""

from __future__ import annotations

from meshkit import Service, delete, get, patch, post
from meshkit.services.voice.calls import JOIN, KICK, MOVE, MUTE, Calls
from meshkit.services.voice.models import (
    JoinTicket,
    MoveIn,
    ParticipantOut,
    ParticipantPatch,
    RoomQuery,
    VoiceRoomIn,
    VoiceRoomOut,
    VoiceRoomPatch,
)
from meshkit.services.voice.rooms import CREATE
from meshkit.tokens import Principal

TAGS = ("voice",)


class VoiceApi(Service):
    """Route handlers of :class:`~meshkit.services.voice.service.VoiceService`; the
    service builds :attr:`calls` in its lifespan."""

    calls: Calls

    @post("/v1/voice/rooms", status=201, tags=TAGS, errors=(401, 403), permission=CREATE)
    async def create_room(self, principal: Principal, body: VoiceRoomIn) -> VoiceRoomOut:
        """Create a voice room (needs ``voice:room.create``); the caller owns it."""
        return await self.calls.create_room(principal, body)

    @get("/v1/voice/rooms", tags=TAGS, errors=(401,))
    async def list_rooms(self, principal: Principal, query: RoomQuery) -> list[VoiceRoomOut]:
        """A page of voice rooms, oldest first, with how many are in each now."""
        return await self.calls.list_rooms(query)

    @get("/v1/voice/rooms/{room_id}", tags=TAGS, errors=(401, 404))
    async def get_room(self, principal: Principal, room_id: str) -> VoiceRoomOut:
        """One voice room."""
        return await self.calls.get_room(room_id)

    @patch("/v1/voice/rooms/{room_id}", tags=TAGS, errors=(401, 403, 404))
    async def patch_room(
        self, principal: Principal, room_id: str, body: VoiceRoomPatch
    ) -> VoiceRoomOut:
        """Rename, relink, resize or change the bitrate (owner or ``voice:room.manage``)."""
        return await self.calls.patch_room(principal, room_id, body)

    @delete("/v1/voice/rooms/{room_id}", status=204, tags=TAGS, errors=(401, 403, 404))
    async def delete_room(self, principal: Principal, room_id: str) -> None:
        """Delete a room and drop everyone in it (owner or ``voice:room.manage``)."""
        await self.calls.delete_room(principal, room_id)

    @post(
        "/v1/voice/rooms/{room_id}/join",
        tags=TAGS,
        errors=(401, 403, 404, 409),
        permission=JOIN,
    )
    async def join_room(self, principal: Principal, room_id: str) -> JoinTicket:
        """What a client needs to join: signaling path, ICE servers, the room, who is in it.

        Reserves no place: the client is in the room once it joins over signaling, which
        checks again. 409 ``room-full`` when the room is full now.
        """
        return await self.calls.join(principal, room_id)

    @get("/v1/voice/rooms/{room_id}/participants", tags=TAGS, errors=(401, 404))
    async def list_participants(self, principal: Principal, room_id: str) -> list[ParticipantOut]:
        """Who is in the room now, by join time, with their mute/deafen/speaking state."""
        return [p.public() for p in await self.calls.participants(room_id)]

    @patch(
        "/v1/voice/rooms/{room_id}/participants/{user_id}",
        tags=TAGS,
        errors=(401, 403, 404),
        permission=MUTE,
    )
    async def moderate_participant(
        self, principal: Principal, room_id: str, user_id: str, body: ParticipantPatch
    ) -> ParticipantOut:
        """Server-mute or unmute a participant (needs ``voice:member.mute``).

        404 ``not-in-room`` when they are not in the room.
        """
        participant = await self.calls.server_mute(principal, room_id, user_id, body.server_muted)
        return participant.public()

    @delete(
        "/v1/voice/rooms/{room_id}/participants/{user_id}",
        status=204,
        tags=TAGS,
        errors=(401, 403, 404),
        permission=KICK,
    )
    async def kick_participant(self, principal: Principal, room_id: str, user_id: str) -> None:
        """Kick a participant out of the room (needs ``voice:member.kick``); they may rejoin."""
        await self.calls.kick(principal, room_id, user_id)

    @post(
        "/v1/voice/rooms/{room_id}/participants/{user_id}/move",
        status=204,
        tags=TAGS,
        errors=(401, 403, 404, 409),
        permission=MOVE,
    )
    async def move_participant(
        self, principal: Principal, room_id: str, user_id: str, body: MoveIn
    ) -> None:
        """Move a participant to another room (needs ``voice:member.move``).

        They leave this room at once and their client is told to join the other one.
        409 ``room-full`` when the other room has no place for them.
        """
        await self.calls.move(principal, room_id, user_id, body.room_id)
