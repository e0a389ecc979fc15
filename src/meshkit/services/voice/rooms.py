"""Stored voice rooms: their definitions in the document store.

Rules (who may do what):

* Holders of ``voice:room.create`` (every registered user, through the built-in ``user``
  role) create rooms and own the rooms they create.
* Every authenticated caller may list and read rooms: a room is a public place.
* The owner, and holders of ``voice:room.manage``, change and delete a room.
* A room's ``channel_id`` links it to a messaging channel the acting user can see (a
  public channel, or a private channel or DM they are a member of). Messaging decides,
  asked over gRPC (``GetChannel``) when a room is created linked and when a PATCH links
  it to another channel; unlinking (``null``) and re-sending the current link ask
  nothing. An unknown channel and one the user may not see are the same 422 on
  ``channel_id`` (a private channel does not leak); when messaging cannot answer, the
  room is neither created nor changed (503, or 504 when it answers too late).

Who is *in* a room is live state (:mod:`meshkit.services.voice.state`), not stored here;
deleting a room drops its participants (:meth:`meshkit.services.voice.calls.Calls.delete_room`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from grpclib.const import Status
from grpclib.exceptions import GRPCError

from meshkit.errors import FieldError, Forbidden, NotFound, ValidationFailed
from meshkit.proto.messaging.v1 import messaging_pb2
from meshkit.proto.messaging.v1.messaging_grpc import MessagingServiceStub
from meshkit.rpc import RpcClients
from meshkit.services.voice.models import RoomQuery, VoiceRoom, VoiceRoomIn, VoiceRoomPatch
from meshkit.store import Sort, Store
from meshkit.store.errors import DocumentNotFound
from meshkit.tokens import Principal, require_permission

CREATE = "voice:room.create"
MANAGE = "voice:room.manage"
NO_ROOM = "no such voice room"
NO_CHANNEL = "no such messaging channel"

ChannelCheck = Callable[[str, str], Awaitable[bool]]
"""``channel_exists(user_id, channel_id)``: whether the channel exists and the user may
see it. Raises a 503/504 problem when that cannot be known (messaging unreachable)."""


def messaging_channel_check(rpc: RpcClients) -> ChannelCheck:
    """The :data:`ChannelCheck` that asks messaging's ``GetChannel`` through ``rpc``.

    ``NOT_FOUND`` (unknown, or invisible to the user) is ``False``. Unreachable messaging
    surfaces as the client stack's problems (``UpstreamUnavailable``, ``CircuitOpen``,
    ``NoInstances``: 503; ``DeadlineExceeded``: 504); any other status as a
    ``GRPCError`` (a 502 ``upstream-error`` if it reaches a handler).
    """

    async def channel_exists(user_id: str, channel_id: str) -> bool:
        messaging = rpc.stub(MessagingServiceStub, "messaging")
        request = messaging_pb2.GetChannelRequest(channel_id=channel_id, user_id=user_id)
        try:
            await messaging.GetChannel(request)
        except GRPCError as exc:
            if exc.status is Status.NOT_FOUND:
                return False
            raise
        return True

    return channel_exists


class Rooms:
    """Room definitions, each change checked against the caller's rights.

    ``channel_exists`` checks a link to a messaging channel (:func:`messaging_channel_check`
    in the service); ``None`` accepts any well-formed id unchecked (voice on its own).
    """

    def __init__(self, store: Store, channel_exists: ChannelCheck | None = None) -> None:
        self.store = store
        self.channel_exists = channel_exists

    async def _check_channel(self, principal: Principal, channel_id: str) -> None:
        """A 422 on ``channel_id`` unless the caller may see that channel."""
        if self.channel_exists is None:
            return
        if not await self.channel_exists(principal.subject, channel_id):
            raise ValidationFailed(
                [FieldError.of(("body", "channel_id"), NO_CHANNEL, "unknown_channel")],
                detail=f"channel_id: {NO_CHANNEL}",
            )

    async def create(self, principal: Principal, body: VoiceRoomIn) -> VoiceRoom:
        """A new room owned by the caller (needs ``voice:room.create``), linked to a
        channel the caller can see if ``channel_id`` is given."""
        require_permission(principal, CREATE)
        if body.channel_id is not None:
            await self._check_channel(principal, body.channel_id)
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
        """Change a room (owner or ``voice:room.manage``); see :class:`VoiceRoomPatch`.

        A new link is checked for the caller after their right to change the room, so
        nobody learns about channels through rooms they may not change.
        """
        room = await self._managed(principal, room_id)
        relink = body.channel_id if "channel_id" in body.model_fields_set else None
        if relink is not None and relink != room.channel_id:
            await self._check_channel(principal, relink)
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
