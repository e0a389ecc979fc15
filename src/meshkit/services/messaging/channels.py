"""Channels and who is in them.

Rules (who may do what):

* Anyone may create a public or private channel and becomes its owner; anyone may open
  a DM with up to ten other people (the same set of people always gets the same DM).
* A public channel is visible to everyone and joining it needs no invite; a private
  channel or DM is visible to its members only — to anyone else it does not exist (404).
* Owners, and holders of ``messaging:channels.manage``, rename, change the topic,
  archive, invite into private channels and remove members. Any member may add people
  to a public channel. Everyone may leave. DM membership is fixed.
* An archived channel is read-only.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime

from meshkit.errors import Conflict, FieldError, Forbidden, NotFound, ValidationFailed
from meshkit.services.messaging.models import (
    Channel,
    ChannelIn,
    ChannelOut,
    ChannelPatch,
    MemberOut,
    MemberRole,
    Membership,
    Message,
    UserProfile,
)
from meshkit.store import Store, new_id
from meshkit.store.errors import DuplicateKey
from meshkit.tokens import Principal

MANAGE = "messaging:channels.manage"
PROFILE_BATCH = 500  # profiles fetched per query
UserCheck = Callable[[str], Awaitable[None]]
"""Raises NotFound when a user id names no account (asks the auth service)."""


def utcnow() -> datetime:
    """Now, in UTC."""
    return datetime.now(UTC)


def membership_key(channel_id: str, user_id: str) -> str:
    """The unique key of one user's membership in one channel."""
    return f"{channel_id}:{user_id}"


class Channels:
    """Channel and membership operations, each checked against the caller's rights."""

    def __init__(self, store: Store, user_exists: UserCheck) -> None:
        self.store = store
        self.user_exists = user_exists

    async def create(
        self, principal: Principal, body: ChannelIn
    ) -> tuple[Channel, list[Membership]]:
        """A new channel (or the caller's existing DM with those people), and the
        memberships this call added (none when the DM existed already)."""
        now = utcnow()
        me = principal.subject
        if body.kind == "dm":
            people = sorted({me, *body.members})
            if len(people) < 2:
                raise ValidationFailed(
                    [FieldError.of(("body", "members"), "a DM needs someone else", "too_short")]
                )
            for user in people:
                if user != me:
                    await self.user_exists(user)
            key = "dm:" + ",".join(people)
            channel = Channel(kind="dm", key=key, created_by=me, created_at=now)
            try:
                channel = await self.store.insert(channel)
            except DuplicateKey:
                found = await self.store.find(Channel, {"key": key}, limit=1)
                channel = found.items[0]
            # also completes a DM whose first opening broke off
            added = [await self._add(channel.id, user, "member", now) for user in people]
            return channel, [member for member in added if member is not None]
        assert body.name is not None  # ChannelIn requires it for every kind but dm
        others = [user for user in body.members if user != me]
        for user in others:  # before anything is stored: an unknown user leaves no channel
            await self.user_exists(user)
        channel_id = new_id()
        channel = Channel(
            id=channel_id,
            kind=body.kind,
            name=body.name,
            topic=body.topic,
            key=f"ch:{channel_id}",
            created_by=me,
            created_at=now,
        )
        channel = await self.store.insert(channel)
        added = [await self._add(channel.id, me, "owner", now)]
        added += [await self._add(channel.id, user, "member", now) for user in others]
        return channel, [member for member in added if member is not None]

    async def _add(
        self, channel_id: str, user_id: str, role: MemberRole, now: datetime
    ) -> Membership | None:
        """The new membership, or ``None`` if the user was a member already."""
        try:
            return await self.store.insert(
                Membership(
                    key=membership_key(channel_id, user_id),
                    channel_id=channel_id,
                    user_id=user_id,
                    role=role,
                    joined_at=now,
                )
            )
        except DuplicateKey:
            return None

    async def membership(self, channel_id: str, user_id: str) -> Membership | None:
        """``user_id``'s membership in the channel, if any."""
        found = await self.store.find(
            Membership, {"key": membership_key(channel_id, user_id)}, limit=1
        )
        return found.items[0] if found.items else None

    async def visible(self, principal: Principal, channel_id: str) -> Channel:
        """The channel if the caller may see it; 404 otherwise (private ones stay secret)."""
        channel = await self.store.get(Channel, channel_id)
        if channel is None:
            raise NotFound("no such channel")
        hidden = channel.kind != "public" and not principal.has_permission(MANAGE)
        if hidden and await self.membership(channel_id, principal.subject) is None:
            raise NotFound("no such channel")
        return channel

    async def readable(self, principal: Principal, channel_id: str) -> Channel:
        """The channel if the caller may read its messages: members (and managers)."""
        channel = await self.visible(principal, channel_id)
        if principal.has_permission(MANAGE):
            return channel
        if await self.membership(channel_id, principal.subject) is None:
            raise Forbidden("join the channel to read it")
        return channel

    async def writable(self, principal: Principal, channel_id: str) -> Channel:
        """The channel if the caller may post in it: a member, and it is not archived."""
        channel = await self.visible(principal, channel_id)
        if await self.membership(channel_id, principal.subject) is None:
            raise Forbidden("join the channel to post in it")
        if channel.archived_at is not None:
            raise Conflict("the channel is archived: it is read-only")
        return channel

    async def _require_admin(self, principal: Principal, channel: Channel) -> None:
        if principal.has_permission(MANAGE):
            return
        member = await self.membership(channel.id, principal.subject)
        if member is None or member.role != "owner":
            raise Forbidden("only the channel's owner may do this")

    async def patch(self, principal: Principal, channel_id: str, body: ChannelPatch) -> Channel:
        """Rename, change the topic, archive or unarchive."""
        channel = await self.visible(principal, channel_id)
        if channel.kind == "dm":
            raise Conflict("a DM has no name or topic to change")
        await self._require_admin(principal, channel)
        update: dict[str, object] = {}
        if body.name is not None:
            update["name"] = body.name
        if body.topic is not None:
            update["topic"] = body.topic
        if body.archived is not None:
            update["archived_at"] = utcnow() if body.archived else None
        if not update:
            return channel
        return await self.store.update(channel.model_copy(update=update))

    async def add_member(
        self, principal: Principal, channel_id: str, user_id: str
    ) -> tuple[Channel, Membership | None]:
        """Join (``user_id`` is the caller) or add someone: the channel, and the new
        membership (``None`` if they were a member already)."""
        channel = await self.visible(principal, channel_id)
        if channel.kind == "dm":
            raise Conflict("the people in a DM are fixed; open another DM")
        if channel.archived_at is not None:
            raise Conflict("the channel is archived: it is read-only")
        me = principal.subject
        if user_id != me:
            if channel.kind == "private":
                await self._require_admin(principal, channel)
            elif not principal.has_permission(MANAGE) and not await self.membership(channel.id, me):
                raise Forbidden("join the channel before adding people to it")
            await self.user_exists(user_id)
        elif channel.kind == "private" and not principal.has_permission(MANAGE):
            raise NotFound("no such channel")  # private: joining needs an invite
        return channel, await self._add(channel.id, user_id, "member", utcnow())

    async def remove_member(self, principal: Principal, channel_id: str, user_id: str) -> None:
        """Leave (``user_id`` is the caller) or remove someone."""
        channel = await self.visible(principal, channel_id)
        if channel.kind == "dm":
            raise Conflict("the people in a DM are fixed")
        if user_id != principal.subject:
            await self._require_admin(principal, channel)
        member = await self.membership(channel.id, user_id)
        if member is None:
            raise NotFound("not a member of this channel")
        await self.store.delete(Membership, member.id)

    async def members(self, channel_id: str) -> list[Membership]:
        """Every membership of a channel, oldest first."""
        return [m async for m in self.store.scan(Membership, {"channel_id": channel_id})]

    async def of_user(self, user_id: str) -> list[Membership]:
        """Every membership of a user."""
        return [m async for m in self.store.scan(Membership, {"user_id": user_id})]

    async def mark_read(self, principal: Principal, channel_id: str, message_id: str) -> str:
        """Move the caller's read marker forward to ``message_id``; the marker now.

        Markers only move forward: a stale device reporting an older message changes
        nothing.
        """
        channel = await self.readable(principal, channel_id)
        message = await self.store.get(Message, message_id)
        if message is None or message.channel_id != channel.id:
            raise NotFound("no such message in this channel")

        def forward(member: Membership) -> Membership:
            if member.last_read_id is not None and member.last_read_id >= message_id:
                return member
            return member.model_copy(update={"last_read_id": message_id})

        member = await self.membership(channel.id, principal.subject)
        if member is None:
            raise Forbidden("join the channel to mark it read")
        updated = await self.store.modify(Membership, member.id, forward)
        return updated.last_read_id or message_id

    async def describe(self, channel: Channel, member: Membership | None) -> ChannelOut:
        """The channel as ``member`` (or a non-member) sees it."""
        unread = 0
        if member is not None:
            where: dict[str, object] = {"channel_id": channel.id}
            if member.last_read_id:
                where["id"] = {"$gt": member.last_read_id}
            unread = await self.store.count(Message, where)
        return ChannelOut(
            id=channel.id,
            kind=channel.kind,
            name=channel.name,
            topic=channel.topic,
            created_by=channel.created_by,
            created_at=channel.created_at,
            archived=channel.archived_at is not None,
            member_count=await self.store.count(Membership, {"channel_id": channel.id}),
            role=member.role if member else None,
            unread=unread,
        )

    async def profiles(self, user_ids: Sequence[str]) -> dict[str, UserProfile]:
        """Messaging's copy of these accounts, by id: those it has and not deleted."""
        found: dict[str, UserProfile] = {}
        ids = list(dict.fromkeys(user_ids))
        for start in range(0, len(ids), PROFILE_BATCH):
            batch = ids[start : start + PROFILE_BATCH]
            page = await self.store.find(UserProfile, {"id": {"$in": batch}}, limit=len(batch))
            found.update((p.id, p) for p in page.items if not p.deleted)
        return found


def member_out(member: Membership, profile: UserProfile | None = None) -> MemberOut:
    """The API shape of a membership, with the names of ``profile`` if known."""
    return MemberOut(
        user_id=member.user_id,
        role=member.role,
        joined_at=member.joined_at,
        username=(profile.username or None) if profile else None,
        display_name=profile.display_name if profile else None,
        avatar_url=profile.avatar_url if profile else None,
    )
