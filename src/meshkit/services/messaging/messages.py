"""Posting, editing, deleting and paging messages.

* A send is stored before anyone hears of it. With a ``nonce``, the same nonce from the
  same author returns the first message: the unique ``nonce_key`` makes that hold even
  for two concurrent retries.
* ``meshkit_message_before_create`` hooks see a :class:`MessageDraft` first and may
  change it or raise :class:`MessageRejected` (the sender gets the reason; nobody else
  hears of the message); ``meshkit_message_created`` hooks hear of stored messages.
* Mentions are ``<@user id>`` in the text (the form clients render as a name), and
  ``@channel`` / ``@everyone`` for everyone in the channel.
* History pages are keyset queries on the (channel, id) index: a page costs the same at
  any depth, and ids sort by creation, so concurrent writes never reorder a page.
"""

from __future__ import annotations

import contextlib
import logging
import re
from datetime import UTC, datetime
from typing import Any, cast

from meshkit.errors import Conflict, FieldError, Forbidden, NotFound, Problem, ValidationFailed
from meshkit.plugins import PluginManager, each_result
from meshkit.services.messaging.models import (
    Channel,
    HistoryQuery,
    Message,
    MessageDraft,
    MessageIn,
    MessageOut,
    ReactionMark,
)
from meshkit.services.messaging.reactions import is_reaction
from meshkit.store import Asc, Desc, Store, new_id
from meshkit.store.errors import DuplicateKey
from meshkit.tokens import Principal

log = logging.getLogger("meshkit.messaging")
MENTION = re.compile(r"<@([A-Za-z0-9_-]{1,64})>")
CHANNEL_MENTION = re.compile(r"(?<![\w@])@(channel|everyone)\b")
MAX_MENTIONS = 50
MODERATE = "messaging:messages.manage"
MAX_REACTIONS = 20


class MessageRejected(Problem):
    """A plugin refused the message; ``detail`` is its reason, shown to the sender."""

    status = 422
    slug = "message-rejected"
    title = "Message rejected"


def mentions_in(content: str) -> tuple[list[str], bool]:
    """User ids mentioned as ``<@id>`` (first :data:`MAX_MENTIONS`), and ``@channel``."""
    users = list(dict.fromkeys(MENTION.findall(content)))[:MAX_MENTIONS]
    return users, CHANNEL_MENTION.search(content) is not None


def message_out(message: Message) -> MessageOut:
    """The API shape: tombstones keep their place but lose their content."""
    deleted = message.deleted_at is not None
    own = message.author_id + ":"
    nonce = message.nonce_key.removeprefix(own) if message.nonce_key.startswith(own) else None
    return MessageOut(
        id=message.id,
        channel_id=message.channel_id,
        author_id=message.author_id,
        content="" if deleted else message.content,
        created_at=message.created_at,
        edited_at=message.edited_at,
        deleted=deleted,
        reply_to=message.reply_to,
        mentions=[] if deleted else message.mentions,
        mentions_channel=False if deleted else message.mentions_channel,
        attachments=[] if deleted else message.attachments,
        reactions={} if deleted else {k: len(v) for k, v in message.reactions.items() if v},
        system=message.system,
        nonce=nonce,
    )


class Messages:
    """Message operations on the service's store, with its plugin hooks."""

    def __init__(self, store: Store, plugins: PluginManager, service: Any) -> None:
        self.store = store
        self.plugins = plugins
        self.service = service

    async def create(
        self, author_id: str, channel: Channel, body: MessageIn, *, system: bool = False
    ) -> tuple[Message, bool]:
        """Store a message (or find the one this nonce already made); created?"""
        if body.nonce is not None:
            existing = await self._by_nonce(author_id, body.nonce)
            if existing is not None:
                return self._same_send(existing, channel), False
        if body.reply_to is not None:
            parent = await self.store.get(Message, body.reply_to)
            if parent is None or parent.channel_id != channel.id:
                raise NotFound("the message replied to is not in this channel")
        users, everyone = mentions_in(body.content)
        draft = MessageDraft(
            channel_id=channel.id,
            author_id=author_id,
            content=body.content,
            reply_to=body.reply_to,
            mentions=users,
            mentions_channel=everyone,
            attachments=list(body.attachments),
        )
        self.plugins.hook.meshkit_message_before_create(service=self.service, draft=draft)
        if not draft.content.strip():
            raise MessageRejected("the message is empty after plugins processed it")
        message_id = new_id()
        message = Message(
            id=message_id,
            channel_id=channel.id,
            author_id=author_id,
            content=draft.content,
            created_at=_now(),
            reply_to=draft.reply_to,
            mentions=draft.mentions,
            mentions_channel=draft.mentions_channel,
            attachments=draft.attachments,
            system=system,
            nonce_key=f"{author_id}:{body.nonce}" if body.nonce else f"id:{message_id}",
        )
        try:
            message = await self.store.insert(message)
        except DuplicateKey:  # the same nonce won a race a moment ago
            existing = await self._by_nonce(author_id, cast(str, body.nonce))
            if existing is None:
                raise
            return self._same_send(existing, channel), False
        await self._announce(message)
        return message, True

    async def _by_nonce(self, author_id: str, nonce: str) -> Message | None:
        found = await self.store.find(Message, {"nonce_key": f"{author_id}:{nonce}"}, limit=1)
        return found.items[0] if found.items else None

    @staticmethod
    def _same_send(existing: Message, channel: Channel) -> Message:
        if existing.channel_id != channel.id:
            raise Conflict("this nonce was already used for a message in another channel")
        return existing

    async def _announce(self, message: Message) -> None:
        await each_result(
            self.plugins.hook.meshkit_message_created,
            service=self.service,
            message=message_out(message),
        )

    async def get(self, channel: Channel, message_id: str) -> Message:
        """One message of ``channel`` (404 for any other id)."""
        message = await self.store.get(Message, message_id)
        if message is None or message.channel_id != channel.id:
            raise NotFound("no such message in this channel")
        return message

    async def edit(
        self, principal: Principal, channel: Channel, message_id: str, content: str
    ) -> Message:
        """New text for the caller's own message (mentions follow the new text)."""
        message = await self.get(channel, message_id)
        if message.author_id != principal.subject:
            raise Forbidden("only the author may edit a message")
        if message.deleted_at is not None:
            raise Conflict("the message was deleted")
        users, everyone = mentions_in(content)
        return await self.store.update(
            message.model_copy(
                update={
                    "content": content,
                    "edited_at": _now(),
                    "mentions": users,
                    "mentions_channel": everyone,
                }
            )
        )

    async def delete(self, principal: Principal, channel: Channel, message_id: str) -> Message:
        """Tombstone a message: its author, or a moderator, may."""
        message = await self.get(channel, message_id)
        if message.author_id != principal.subject and not principal.has_permission(MODERATE):
            raise Forbidden("only the author or a moderator may delete a message")
        if message.deleted_at is not None:
            return message
        return await self.store.update(
            message.model_copy(
                update={"deleted_at": _now(), "content": "", "attachments": [], "reactions": {}}
            )
        )

    async def since(self, channel_ids: list[str], last_seen_id: str, limit: int) -> list[Message]:
        """Messages after ``last_seen_id`` in any of ``channel_ids``, oldest first.

        Ids are global and time-ordered, so one id says where a client stopped in every
        channel at once: resuming from it gives no gap and no duplicate.
        """
        found: list[Message] = []
        for channel_id in channel_ids:
            page = await self.store.find(
                Message,
                {"channel_id": channel_id, "id": {"$gt": last_seen_id}},
                sort=[Asc("id")],
                limit=min(limit, 1000),
            )
            found.extend(page.items)
        found.sort(key=lambda m: m.id)
        return found[:limit]

    async def react(
        self, principal: Principal, channel: Channel, message_id: str, emoji: str, *, add: bool
    ) -> tuple[Message, bool]:
        """Add or remove the caller's ``emoji`` reaction; whether anything changed.

        Idempotent both ways; at most :data:`MAX_REACTIONS` different emoji a message.
        Adapters validate ``emoji`` with :data:`~.reactions.Reaction` first; this checks
        the same set again, so no other caller can store anything else.
        """
        if not is_reaction(emoji):
            raise ValidationFailed(
                [FieldError.of(("path", "emoji"), "not an emoji or a known :shortcode:", "pattern")]
            )
        message = await self.get(channel, message_id)
        if message.deleted_at is not None:
            raise Conflict("the message was deleted")
        user = principal.subject
        if add:  # the index first: a reaction is never stored without its mark
            mark = ReactionMark(key=f"{user}:{message.id}", user_id=user, message_id=message.id)
            with contextlib.suppress(DuplicateKey):
                await self.store.insert(mark)
        changed = False

        def apply(current: Message) -> Message:
            nonlocal changed
            if current.deleted_at is not None:  # deleted since it was read
                raise Conflict("the message was deleted")
            reactions = {k: list(v) for k, v in current.reactions.items()}
            users = reactions.get(emoji, [])
            if add and user not in users:
                if emoji not in reactions and len(reactions) >= MAX_REACTIONS:
                    raise Conflict(f"a message takes at most {MAX_REACTIONS} different emoji")
                reactions[emoji] = [*users, user]
            elif not add and user in users:
                users.remove(user)
                if users:
                    reactions[emoji] = users
                else:
                    reactions.pop(emoji)
            else:
                changed = False
                return current
            changed = True
            return current.model_copy(update={"reactions": reactions})

        updated = await self.store.modify(Message, message.id, apply)
        return updated, changed

    async def history(self, channel: Channel, query: HistoryQuery) -> list[Message]:
        """One page of the channel, oldest first (see :class:`HistoryQuery`)."""
        where: dict[str, Any] = {"channel_id": channel.id}
        if query.after is not None:
            page = await self.store.find(
                Message, {**where, "id": {"$gt": query.after}}, sort=[Asc("id")], limit=query.limit
            )
            return page.items
        if query.around is not None:
            older = (query.limit - 1) // 2
            newer = query.limit - 1 - older
            centre = await self.store.get(Message, query.around)
            if centre is None or centre.channel_id != channel.id:
                raise NotFound("no such message in this channel")
            items: list[Message] = []
            if older:
                items = (
                    await self.store.find(
                        Message,
                        {**where, "id": {"$lt": query.around}},
                        sort=[Desc("id")],
                        limit=older,
                    )
                ).items[::-1]
            items.append(centre)
            if newer:
                items += (
                    await self.store.find(
                        Message,
                        {**where, "id": {"$gt": query.around}},
                        sort=[Asc("id")],
                        limit=newer,
                    )
                ).items
            return items
        if query.before is not None:
            where["id"] = {"$lt": query.before}
        page = await self.store.find(Message, where, sort=[Desc("id")], limit=query.limit)
        return page.items[::-1]


def _now() -> datetime:
    return datetime.now(UTC)
