"""Stored voice rooms: their definitions in the document store.

Rules (who may do what):

* Holders of ``voice:room.create`` (every registered user, through the built-in ``user``
  role) create rooms and own the rooms they create.
* Every authenticated caller may list and read rooms: a room is a public place.
* The owner, and holders of ``voice:room.manage``, change and delete a room.

Who is *in* a room is live state (:mod:`meshkit.services.voice.state`), not stored here;
deleting a room drops its participants (:meth:`meshkit.services.voice.calls.Calls.delete_room`).
"""

from __future__ import annotations

from datetime import UTC, datetime

from meshkit.errors import Forbidden, NotFound
from meshkit.services.voice.models import RoomQuery, VoiceRoom, VoiceRoomIn, VoiceRoomPatch
from meshkit.store import Sort, Store
from meshkit.store.errors import DocumentNotFound
from meshkit.tokens import Principal, require_permission

CREATE = "voice:room.create"
MANAGE = "voice:room.manage"
NO_ROOM = "no such voice room"


class Rooms:
    """Room definitions, each change checked against the caller's rights."""

    def __init__(self, store: Store) -> None:
        self.store = store

    async def create(self, principal: Principal, body: VoiceRoomIn) -> VoiceRoom:
        """A new room owned by the caller (needs ``voice:room.create``)."""
        require_permission(principal, CREATE)
        return await self.store.insert(
            VoiceRoom(
                name=body.name,
                channel_id=body.channel_id,
                max_participants=body.max_participants,
                bitrate=body.bitrate,
                owner_id=principal.subject,
                created_at=datetime.now(UTC),
            )
        )

    async def get(self, room_id: str) -> VoiceRoom:
        """The room; 404 if there is none."""
        room = await self.store.get(VoiceRoom, room_id)
        if room is None:
            raise NotFound(NO_ROOM)
        return room

    async def list(self, query: RoomQuery) -> list[VoiceRoom]:
        """A page of rooms, oldest first, after ``query.after``."""
        where: dict[str, object] = {}
        if query.after is not None:
            where["id"] = {"$gt": query.after}
        if query.channel_id is not None:
            where["channel_id"] = query.channel_id
        page = await self.store.find(VoiceRoom, where, sort=[Sort("id")], limit=query.limit)
        return page.items

    @staticmethod
    def may_manage(principal: Principal, room: VoiceRoom) -> bool:
        """Whether the caller owns the room or holds ``voice:room.manage``."""
        return room.owner_id == principal.subject or principal.has_permission(MANAGE)

    async def _managed(self, principal: Principal, room_id: str) -> VoiceRoom:
        room = await self.get(room_id)
        if not self.may_manage(principal, room):
            raise Forbidden(
                "only the room's owner, or voice:room.manage, may do this",
                extensions={"required_permission": MANAGE},
            )
        return room

    async def patch(self, principal: Principal, room_id: str, body: VoiceRoomPatch) -> VoiceRoom:
        """Change a room (owner or ``voice:room.manage``); see :class:`VoiceRoomPatch`."""
        room = await self._managed(principal, room_id)
        update: dict[str, object] = {
            name: getattr(body, name)
            for name in ("name", "max_participants", "bitrate")
            if getattr(body, name) is not None
        }
        if "channel_id" in body.model_fields_set:
            update["channel_id"] = body.channel_id
        if not update:
            return room
        try:
            return await self.store.modify(
                VoiceRoom, room.id, lambda current: current.model_copy(update=update)
            )
        except DocumentNotFound:
            raise NotFound(NO_ROOM) from None

    async def delete(self, principal: Principal, room_id: str) -> VoiceRoom:
        """Delete a room (owner or ``voice:room.manage``); the room as it was."""
        room = await self._managed(principal, room_id)
        if not await self.store.delete(VoiceRoom, room.id):
            raise NotFound(NO_ROOM)
        return room
