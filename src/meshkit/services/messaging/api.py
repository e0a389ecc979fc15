"""The messaging service's HTTP API (thin: parse, check, call the domain, answer).

Paths are stable (clients and the SDK depend on them): ``/v1/channels``,
``/v1/channels/{channel_id}``, ``/v1/channels/{channel_id}/members/{user_id}`` (``me``
for oneself) and ``/v1/channels/{channel_id}/messages[/{message_id}]``.
"""

from __future__ import annotations

import logging

from meshkit import Service, delete, get, patch, post, put
from meshkit.services.messaging.channels import Channels, member_out
from meshkit.services.messaging.messages import Messages, message_out
from meshkit.services.messaging.models import (
    Channel,
    ChannelIn,
    ChannelOut,
    ChannelPatch,
    HistoryQuery,
    MemberOut,
    Membership,
    MessageIn,
    MessageOut,
    MessagePatch,
)
from meshkit.services.messaging.reactions import Reaction
from meshkit.services.messaging.realtime import Realtime
from meshkit.services.messaging.voice_presence import ChannelVoiceOut, VoicePresence
from meshkit.tokens import Principal

ME = "me"
log = logging.getLogger("meshkit.messaging")


def _user(principal: Principal, user_id: str) -> str:
    return principal.subject if user_id == ME else user_id


class MessagingApi(Service):
    """Route handlers of :class:`~meshkit.services.messaging.service.MessagingService`."""

    channels: Channels
    messages: Messages
    realtime: Realtime

    async def announce(self, channel: Channel, message: MessageOut) -> None:
        """Broadcast a new message and notify whom it concerns (the service implements it)."""
        raise NotImplementedError

    @post("/v1/channels", status=201, tags=["channels"], errors=(401, 404))
    async def create_channel(self, principal: Principal, body: ChannelIn) -> ChannelOut:
        """Create a channel, or open a DM.

        Opening a DM is idempotent: the same people always get the same conversation.
        """
        channel, added = await self.channels.create(principal, body)
        for new in added:
            await self._announce_member(channel, new)
        return await self.channels.describe(
            channel, await self.channels.membership(channel.id, principal.subject)
        )

    @get("/v1/channels", tags=["channels"], errors=(401,))
    async def list_channels(self, principal: Principal) -> list[ChannelOut]:
        """The channels the caller is a member of, with unread counts."""
        found = []
        for member in await self.channels.of_user(principal.subject):
            channel = await self.store.get(Channel, member.channel_id)
            if channel is None:
                continue
            found.append(await self.channels.describe(channel, member))
        return found

    @get("/v1/channels/{channel_id}", tags=["channels"], errors=(401, 404))
    async def get_channel(self, principal: Principal, channel_id: str) -> ChannelOut:
        """One channel the caller can see."""
        channel = await self.channels.visible(principal, channel_id)
        member = await self.channels.membership(channel_id, principal.subject)
        return await self.channels.describe(channel, member)

    @patch("/v1/channels/{channel_id}", tags=["channels"], errors=(401, 403, 404, 409))
    async def patch_channel(
        self, principal: Principal, channel_id: str, body: ChannelPatch
    ) -> ChannelOut:
        """Rename, change the topic, archive (owner or ``messaging:channels.manage``)."""
        channel = await self.channels.patch(principal, channel_id, body)
        member = await self.channels.membership(channel_id, principal.subject)
        out = await self.channels.describe(channel, member)
        await self.realtime.broadcast_channel(
            channel.id, out.model_dump(mode="json", exclude={"role", "unread"})
        )
        return out

    @get("/v1/channels/{channel_id}/voice", tags=["channels"], errors=(401, 404))
    async def channel_voice(self, principal: Principal, channel_id: str) -> ChannelVoiceOut:
        """Who is in the voice rooms linked to the channel now (any channel the caller
        can see); changes are pushed as ``voice.participants``."""
        channel = await self.channels.visible(principal, channel_id)
        return await VoicePresence(self.redis).of_channel(channel.id)

    @get("/v1/channels/{channel_id}/members", tags=["channels"], errors=(401, 403, 404))
    async def list_members(self, principal: Principal, channel_id: str) -> list[MemberOut]:
        """Who is in the channel (members only)."""
        channel = await self.channels.readable(principal, channel_id)
        members = await self.channels.members(channel.id)
        profiles = await self.channels.profiles([m.user_id for m in members])
        return [member_out(m, profiles.get(m.user_id)) for m in members]

    @put(
        "/v1/channels/{channel_id}/members/{user_id}",
        status=204,
        tags=["channels"],
        errors=(401, 403, 404, 409),
    )
    async def add_member(self, principal: Principal, channel_id: str, user_id: str) -> None:
        """Join (``me``) or add someone; joining a public channel needs no invite."""
        channel, member = await self.channels.add_member(
            principal, channel_id, _user(principal, user_id)
        )
        if member is not None:
            await self._announce_member(channel, member)

    @delete(
        "/v1/channels/{channel_id}/members/{user_id}",
        status=204,
        tags=["channels"],
        errors=(401, 403, 404, 409),
    )
    async def remove_member(self, principal: Principal, channel_id: str, user_id: str) -> None:
        """Leave (``me``) or remove someone (owner or ``messaging:channels.manage``)."""
        user = _user(principal, user_id)
        await self.channels.remove_member(principal, channel_id, user)
        try:
            await self.realtime.member_left(channel_id, user)
        except Exception:  # stored: the sockets catch up when they reconnect
            log.warning("could not announce that %s left %s", user, channel_id, exc_info=True)

    async def _announce_member(self, channel: Channel, member: Membership) -> None:
        """Move the new member's sockets and tell the channel: best effort, after the
        write (an error here must not turn a stored change into a 500 a retry repeats)."""
        try:
            await self.realtime.member_joined(member, await self.channels.describe(channel, member))
        except Exception:
            log.warning(
                "could not announce %s joining %s", member.user_id, channel.id, exc_info=True
            )

    @post(
        "/v1/channels/{channel_id}/messages",
        status=201,
        tags=["messages"],
        errors=(401, 403, 404, 409),
    )
    async def post_message(
        self, principal: Principal, channel_id: str, body: MessageIn
    ) -> MessageOut:
        """Post a message.

        A retry with the same ``nonce`` gets the same answer as the first send (the
        same message, 201) and stores nothing new.
        """
        channel = await self.channels.writable(principal, channel_id)
        message, created = await self.messages.create(principal.subject, channel, body)
        out = message_out(message)
        if created:
            await self.announce(channel, out)
        return out

    @get("/v1/channels/{channel_id}/messages", tags=["messages"], errors=(401, 403, 404))
    async def list_messages(
        self, principal: Principal, channel_id: str, query: HistoryQuery
    ) -> list[MessageOut]:
        """A page of history, oldest first: the newest, or ``before``/``after``/``around`` an id."""
        channel = await self.channels.readable(principal, channel_id)
        return [message_out(m) for m in await self.messages.history(channel, query)]

    @patch(
        "/v1/channels/{channel_id}/messages/{message_id}",
        tags=["messages"],
        errors=(401, 403, 404, 409),
    )
    async def edit_message(
        self, principal: Principal, channel_id: str, message_id: str, body: MessagePatch
    ) -> MessageOut:
        """Edit one's own message (``edited_at`` is set)."""
        channel = await self.channels.writable(principal, channel_id)
        message = await self.messages.edit(principal, channel, message_id, body.content)
        out = message_out(message)
        await self.realtime.broadcast_message("message.updated", out)
        return out

    @delete(
        "/v1/channels/{channel_id}/messages/{message_id}",
        status=204,
        tags=["messages"],
        errors=(401, 403, 404),
    )
    async def delete_message(self, principal: Principal, channel_id: str, message_id: str) -> None:
        """Delete a message (its author, or ``messaging:messages.manage``); a tombstone stays."""
        channel = await self.channels.readable(principal, channel_id)
        message = await self.messages.delete(principal, channel, message_id)
        await self.realtime.broadcast_message("message.deleted", message_out(message))

    @put(
        "/v1/channels/{channel_id}/messages/{message_id}/reactions/{emoji}",
        status=204,
        tags=["messages"],
        errors=(401, 403, 404, 409),
    )
    async def add_reaction(
        self, principal: Principal, channel_id: str, message_id: str, emoji: Reaction
    ) -> None:
        """React with ``emoji`` (URL-encoded; a Unicode emoji or ``:shortcode:``)."""
        await self._react(principal, channel_id, message_id, emoji, add=True)

    @delete(
        "/v1/channels/{channel_id}/messages/{message_id}/reactions/{emoji}",
        status=204,
        tags=["messages"],
        errors=(401, 403, 404, 409),
    )
    async def remove_reaction(
        self, principal: Principal, channel_id: str, message_id: str, emoji: Reaction
    ) -> None:
        """Take one's ``emoji`` reaction back."""
        await self._react(principal, channel_id, message_id, emoji, add=False)

    async def _react(
        self, principal: Principal, channel_id: str, message_id: str, emoji: str, *, add: bool
    ) -> None:
        channel = await self.channels.writable(principal, channel_id)
        message, changed = await self.messages.react(principal, channel, message_id, emoji, add=add)
        if changed:
            await self.realtime.broadcast_reaction(
                "reaction.added" if add else "reaction.removed",
                message,
                emoji=emoji,
                user_id=principal.subject,
            )
