"""What the messaging service does with events: auth's user events, and its own
``MessagePosted`` (the ``@channel`` notification fan-out, off the request path).

Events are delivered at least once, possibly late and out of order (docs/events.md), so
every handler here is idempotent and never moves anything backwards:

* ``UserRegistered`` / ``UserUpdated`` keep a small :class:`UserProfile` cache (username,
  display name, avatar) for rendering authors and mentions without asking auth each
  time. A profile only ever moves to a newer account ``version``: a redelivered or
  overtaken event is ignored. The cache is best effort: users registered before the
  stream's retention window appear once they next change their profile.
* ``UserDeleted`` anonymises the user: their profile becomes a deleted-user tombstone (at
  the deletion's version, so a late ``UserUpdated`` cannot bring the name back), every
  membership of theirs is removed, and each of their messages becomes a tombstone like a
  delete (content, mentions, attachments and reactions emptied, ``deleted_at`` set) that
  keeps its id, place in history, ``author_id`` and ``reply_to`` chains. Their own
  notifications, and those their messages caused (which quote them), are deleted. The
  user id itself is a random ULID that no longer resolves anywhere, so keeping it as
  the author reveals nothing. Their reactions to other people's messages are taken
  back (found through :class:`ReactionMark`, not a scan), and each change is pushed
  like any ``reaction.removed``. The handler never short-circuits on "already done": each step is
  safe to repeat, and a crash between steps is repaired by the redelivery.
* The voice service's ``VoiceParticipantJoined`` / ``VoiceParticipantLeft`` keep who is
  in voice per linked channel (:mod:`~meshkit.services.messaging.voice_presence`, which
  ignores events older than what it applied) and push ``voice.participants`` to the
  channel's sockets when that changed.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from meshkit.contracts.auth import SessionsRevoked, UserDeleted, UserRegistered, UserUpdated
from meshkit.contracts.messaging import MessagePosted
from meshkit.contracts.voice import (
    VoiceParticipantEvent,
    VoiceParticipantJoined,
    VoiceParticipantLeft,
)
from meshkit.events import Envelope, on
from meshkit.service import Service
from meshkit.services.messaging.channels import Channels
from meshkit.services.messaging.messages import Messages, message_out
from meshkit.services.messaging.models import (
    Channel,
    Membership,
    Message,
    MessageOut,
    ReactionMark,
    UserProfile,
)
from meshkit.services.messaging.notifications import Notification, Notifications
from meshkit.services.messaging.realtime import Realtime, channel_room
from meshkit.services.messaging.voice_presence import VoicePresence
from meshkit.store import Asc, DocumentNotFound, DuplicateKey, StaleVersion

log = logging.getLogger("meshkit.messaging")
PAGE = 500
NOTIFY_WITHIN = timedelta(days=1)
"""``MessagePosted`` events older than this notify nobody (a consumer group that starts
at the oldest event, or catches up after a long outage, would otherwise notify about
messages nobody expects news of any more)."""


class MessagingConsumers(Service):
    """``@on`` handlers of the messaging service (a mixin of ``MessagingService``).

    Runs in the ``messaging`` consumer group, after ``lifespan`` built the domain
    objects. Returning acknowledges the event; raising makes it retried (then
    dead-lettered), so errors that a retry can fix (the store briefly unavailable)
    propagate, and nothing else is raised.
    """

    channels: Channels
    messages: Messages
    notifications: Notifications
    realtime: Realtime

    @on(SessionsRevoked)
    async def on_sessions_revoked(self, event: SessionsRevoked, envelope: Envelope) -> None:
        """End the open sockets of revoked sessions now, on every instance (the
        periodic check would within ``MESHKIT_MESSAGING_SESSION_CHECK_INTERVAL``)."""
        await self.realtime.sessions_revoked(event.user_id)

    @on(VoiceParticipantJoined)
    async def on_voice_joined(self, event: VoiceParticipantJoined, envelope: Envelope) -> None:
        """Show the user in voice in the room's linked channel."""
        await self._voice(event, joined=True)

    @on(VoiceParticipantLeft)
    async def on_voice_left(self, event: VoiceParticipantLeft, envelope: Envelope) -> None:
        """Stop showing the user in voice in the room's linked channel."""
        await self._voice(event, joined=False)

    async def _voice(self, event: VoiceParticipantEvent, *, joined: bool) -> None:
        if event.channel_id is None:
            return  # a room linked to no channel: nothing to show
        presence = VoicePresence(self.redis)
        changed = await presence.record(
            event.channel_id, event.room_id, event.user_id, event.at, joined=joined
        )
        if not changed:
            return
        now = await presence.of_channel(event.channel_id)
        try:
            await self.realtime.sio.emit(
                "voice.participants", now.model_dump(mode="json"), room=channel_room(now.channel_id)
            )
        except Exception:  # the record stands; clients see it on their next fetch
            log.warning("could not push voice presence of %s", now.channel_id, exc_info=True)

    @on(MessagePosted)
    async def on_message_posted(self, event: MessagePosted, envelope: Envelope) -> None:
        """Record the notifications the message causes, off the request path.

        Skipped when the message was deleted since, or when the event is older than
        :data:`NOTIFY_WITHIN` (a replayed stream must not notify about old messages).
        Records are unique per user and message: a redelivery notifies nobody twice.
        """
        if datetime.now(UTC) - envelope.time > NOTIFY_WITHIN:
            return
        message = await self.store.get(Message, event.message_id)
        channel = await self.store.get(Channel, event.channel_id)
        if message is None or message.deleted_at is not None or channel is None:
            return  # deleted since: nothing to point at
        await self.notify(channel, message_out(message))

    async def notify(self, channel: Channel, message: MessageOut) -> None:
        """Record and deliver the notifications of ``message`` (the service's)."""
        raise NotImplementedError

    @on(UserRegistered)
    async def on_user_registered(self, event: UserRegistered, envelope: Envelope) -> None:
        """Cache the new account's names."""
        await self._remember(
            UserProfile(
                id=event.user_id,
                username=event.username,
                display_name=event.display_name,
                account_version=event.version,
            )
        )

    @on(UserUpdated)
    async def on_user_updated(self, event: UserUpdated, envelope: Envelope) -> None:
        """Cache the new names, unless a newer version (or the deletion) is known."""
        await self._remember(
            UserProfile(
                id=event.user_id,
                username=event.username,
                display_name=event.display_name,
                avatar_url=event.avatar_url,
                account_version=event.version,
            )
        )

    @on(UserDeleted)
    async def on_user_deleted(self, event: UserDeleted, envelope: Envelope) -> None:
        """Forget the user's names, remove their memberships, tombstone their messages."""
        user_id = event.user_id
        await self._remember(UserProfile(id=user_id, account_version=event.version, deleted=True))
        left = await self.remove_memberships(user_id)
        erased = await self.anonymise_messages(user_id)
        unreacted = await self.take_back_reactions(user_id)
        dropped = await self.drop_notifications(user_id)
        if left or erased or unreacted or dropped:
            log.info(
                "user %s deleted: left %d channels, %d messages anonymised, "
                "reactions taken back from %d messages, %d notifications dropped",
                user_id,
                left,
                erased,
                unreacted,
                dropped,
                extra={"service": "messaging", "event_id": envelope.id},
            )

    async def _remember(self, profile: UserProfile) -> None:
        """Store ``profile`` unless the stored one is at the same or a newer version."""
        current = await self.store.get(UserProfile, profile.id)
        if current is None:
            try:
                await self.store.insert(profile)
                return
            except DuplicateKey:  # another consumer stored it a moment ago: compare below
                pass
        elif current.account_version >= profile.account_version:
            return
        fields = profile.model_dump(exclude={"id", "version"})

        def newer(stored: UserProfile) -> UserProfile:
            if stored.account_version >= profile.account_version:
                return stored
            return stored.model_copy(update=fields)

        await self.store.modify(UserProfile, profile.id, newer)

    async def remove_memberships(self, user_id: str) -> int:
        """Delete every membership of ``user_id``; how many were still there."""
        removed = 0
        for member in await self.channels.of_user(user_id):
            if await self.store.delete(Membership, member.id):
                removed += 1
                await self._push_membership(user_id, member.channel_id)
        return removed

    async def anonymise_messages(self, user_id: str) -> int:
        """Tombstone every message ``user_id`` wrote that is not one yet; how many.

        Pages by id with a keyset cursor, so the scan ends even while the tombstones it
        writes drop out of the query; the ``author_id`` index makes it a lookup.
        """
        erased = 0
        where = {"author_id": user_id, "deleted_at": None}
        async for message in self.store.scan(Message, where, sort=[Asc("id")], page_size=PAGE):
            tombstone = await self._tombstone(message)
            if tombstone is not None:
                erased += 1
                await self._push_deleted(tombstone)
        return erased

    async def take_back_reactions(self, user_id: str) -> int:
        """Remove ``user_id`` from every reaction they left; from how many messages.

        Each mark is deleted once its message is clean, so a crash half-way is finished
        by the redelivery.
        """
        cleaned = 0
        async for mark in self.store.scan(
            ReactionMark, {"user_id": user_id}, sort=[Asc("id")], page_size=PAGE
        ):
            message, emoji = await self._without_reactions_of(user_id, mark.message_id)
            if message is not None and emoji:
                cleaned += 1
                for each in emoji:
                    await self._push_reaction_removed(message, each, user_id)
            await self.store.delete(ReactionMark, mark.id)
        return cleaned

    async def _without_reactions_of(
        self, user_id: str, message_id: str
    ) -> tuple[Message | None, list[str]]:
        """Take ``user_id`` out of the message's reactions: the message now, and the
        emoji they had used on it (``None, []`` if the message is gone)."""
        removed: list[str] = []

        def without_user(stored: Message) -> Message:
            removed[:] = [emoji for emoji, users in stored.reactions.items() if user_id in users]
            if not removed:
                return stored
            left = {e: [u for u in users if u != user_id] for e, users in stored.reactions.items()}
            return stored.model_copy(update={"reactions": {e: u for e, u in left.items() if u}})

        try:
            return await self.store.modify(Message, message_id, without_user), removed
        except DocumentNotFound:
            return None, []

    async def drop_notifications(self, user_id: str) -> int:
        """Delete the user's own notifications, and those their messages caused (whose
        excerpts quote their text and now point at tombstones); how many."""
        dropped = 0
        for where in ({"user_id": user_id}, {"author_id": user_id}):
            while True:  # deleting as we go: each round reads what is left
                page = await self.store.find(Notification, where, limit=PAGE)
                for notification in page.items:
                    dropped += await self.store.delete(Notification, notification.id)
                if page.next_cursor is None:
                    break
        return dropped

    async def _tombstone(self, message: Message) -> Message | None:
        """The message as a tombstone, or ``None`` if it already was one (or is gone)."""

        def erase(stored: Message) -> Message:
            if stored.deleted_at is not None:
                return stored
            return stored.model_copy(
                update={
                    "content": "",
                    "deleted_at": datetime.now(UTC),
                    "mentions": [],
                    "mentions_channel": False,
                    "attachments": [],
                    "reactions": {},
                }
            )

        try:
            return await self.store.update(erase(message))
        except StaleVersion:  # edited or reacted to meanwhile: re-read and erase that
            pass
        except DocumentNotFound:
            return None
        current = await self.store.get(Message, message.id)
        if current is None or current.deleted_at is not None:
            return None
        try:
            return await self.store.modify(Message, message.id, erase)
        except DocumentNotFound:
            return None

    async def _push_membership(self, user_id: str, channel_id: str) -> None:
        """Tell the channel the user left, and take their sockets out of its room (best
        effort: they are being disconnected anyway, since auth revoked every session of
        the account)."""
        try:
            await self.realtime.member_left(channel_id, user_id)
        except Exception:
            log.warning("could not push membership change of %s", user_id, exc_info=True)

    async def _push_reaction_removed(self, message: Message, emoji: str, user_id: str) -> None:
        """Tell the channel the reaction is gone (best effort, like the tombstones)."""
        try:
            await self.realtime.broadcast_reaction(
                "reaction.removed", message, emoji=emoji, user_id=user_id
            )
        except Exception:
            log.warning("could not push reaction change of %s", message.id, exc_info=True)

    async def _push_deleted(self, message: Message) -> None:
        """Tell connected clients the message is now a tombstone (best effort: a failed
        push is not worth redoing the whole deletion; clients see it on their next fetch)."""
        try:
            await self.realtime.broadcast_message("message.deleted", message_out(message))
        except Exception:
            log.warning("could not push tombstone of %s", message.id, exc_info=True)
