"""Notifications: who is told about a message, the records they page and mark read.

* A message creates one :class:`Notification` per recipient: each *member* of the
  channel it mentions as ``<@id>`` (kind ``mention``), every other member for
  ``@channel`` / ``@everyone`` (``channel_mention``), and every other member of a DM
  (``dm``). The author is never notified, and neither is a mentioned non-member (a
  mention must not leak a private channel's text to an outsider).
* One record per (user, message), whatever the reasons: a unique ``key`` makes
  :meth:`Notifications.for_message` idempotent, so calling it again for the same message
  (a retried send, a replayed event) notifies nobody twice.
* Each new record is handed to the ``push`` callback (real time, for connected
  clients) and then to every ``meshkit_notify`` plugin (push services, e-mail). Both
  are best effort: a failure is logged and never undoes or fails anything.
* Records are listed newest first with an opaque cursor (the last id: ids are ULIDs,
  time-ordered) and marked read by id or all at once; a user only ever reaches their
  own, so someone else's id is simply not found.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Annotated, Any, ClassVar, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, model_validator

from meshkit import Service, get, post
from meshkit.http.models import RequestModel
from meshkit.plugins import PluginManager, each_result
from meshkit.store import (
    Desc,
    Document,
    DocumentNotFound,
    DuplicateKey,
    Index,
    Page,
    StaleVersion,
    Store,
    new_id,
)
from meshkit.tokens import Principal

log = logging.getLogger("meshkit.messaging.notifications")

NotificationKind = Literal["mention", "channel_mention", "dm"]
EXCERPT = 140
"""Characters of the message text a notification keeps (with an ellipsis beyond)."""
MAX_PAGE = 100
MARK_ALL_BATCH = 500
ULID = r"^[0-9A-HJKMNP-TV-Z]{26}$"
NotificationId = Annotated[str, Field(pattern=ULID, description="A notification id (ULID).")]

Push = Callable[[str, dict[str, Any]], Awaitable[None]]
"""``push(user_id, payload)``: send ``payload`` to the user's open connections, if any."""


class Notification(Document):
    """One user told about one message; unread while ``read_at`` is null."""

    collection: ClassVar[str] = "notifications"
    indexes: ClassVar[tuple[Index, ...]] = (
        Index("key", unique=True),
        Index("user_id"),  # a user's list, newest first (id ends every index)
        Index("user_id", "read_at"),  # unread only, and the badge count
        Index("author_id"),  # what a deleted account's messages caused
    )
    key: str
    """``<user id>:<message id>``: unique, so a message notifies each user at most once."""
    user_id: str
    kind: NotificationKind
    channel_id: str
    message_id: str
    author_id: str
    excerpt: str
    created_at: datetime
    read_at: datetime | None = None


class MessageLike(Protocol):
    """What :meth:`Notifications.for_message` reads of a message (``Message`` or
    ``MessageOut`` both fit)."""

    @property
    def id(self) -> str: ...
    @property
    def channel_id(self) -> str: ...
    @property
    def author_id(self) -> str: ...
    @property
    def content(self) -> str: ...
    @property
    def mentions(self) -> list[str]: ...
    @property
    def mentions_channel(self) -> bool: ...


class NotificationOut(BaseModel):
    """A notification as its recipient sees it."""

    id: str
    kind: NotificationKind
    channel_id: str
    message_id: str
    author_id: str
    excerpt: str = Field(description=f"The start of the message (up to {EXCERPT} characters).")
    created_at: datetime
    read: bool
    read_at: datetime | None


class NotificationList(BaseModel):
    """A page of the caller's notifications, newest first, and their unread badge."""

    items: list[NotificationOut]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next (older) page; null on the last page."
    )
    unread: int = Field(description="How many of the caller's notifications are unread.")


class NotificationQuery(BaseModel):
    """Which page: ``cursor`` from the previous page, optionally unread ones only."""

    unread_only: bool = False
    limit: Annotated[int, Field(ge=1, le=MAX_PAGE)] = 50
    cursor: NotificationId | None = None


class MarkRead(RequestModel):
    """Exactly one of: ``ids`` (up to 100 of the caller's notifications) or ``all: true``.

    The schema says so with ``if``/``then``/``else`` (which generated clients accept
    where they choke on a ``oneOf`` beside ``properties``): with ``all: true``, ``ids``
    is absent or null; otherwise ``ids`` is required.
    """

    model_config = ConfigDict(
        json_schema_extra={
            "if": {"required": ["all"], "properties": {"all": {"const": True}}},
            "then": {"properties": {"ids": {"type": "null"}}},
            "else": {"required": ["ids"], "properties": {"ids": {"type": "array"}}},
        }
    )

    ids: Annotated[list[NotificationId], Field(min_length=1, max_length=MAX_PAGE)] | None = None
    all: bool = False

    @model_validator(mode="after")
    def _one_of(self) -> MarkRead:
        if (self.ids is None) == (not self.all):
            raise ValueError("send either ids or all: true")
        return self


class UnreadCount(BaseModel):
    """The caller's unread badge."""

    unread: int


def excerpt_of(content: str) -> str:
    """The message text on one line, cut to :data:`EXCERPT` characters (``…`` marks a cut)."""
    flat = " ".join(content.split())
    return flat if len(flat) <= EXCERPT else flat[: EXCERPT - 1].rstrip() + "…"


def notification_out(notification: Notification) -> NotificationOut:
    """The API shape of a stored notification."""
    return NotificationOut(
        id=notification.id,
        kind=notification.kind,
        channel_id=notification.channel_id,
        message_id=notification.message_id,
        author_id=notification.author_id,
        excerpt=notification.excerpt,
        created_at=notification.created_at,
        read=notification.read_at is not None,
        read_at=notification.read_at,
    )


def recipients(
    message: MessageLike, channel_kind: str, member_ids: Sequence[str]
) -> dict[str, NotificationKind]:
    """Who is told about ``message``, and why (the strongest reason per user).

    A DM tells every other member (``dm``). A channel tells mentioned members
    (``mention``) and, for ``@channel``, every other member (``channel_mention``).
    Never the author; never a non-member. Order: mentions first, then member order.
    """
    members = dict.fromkeys(m for m in member_ids if m != message.author_id)
    if channel_kind == "dm":
        return dict.fromkeys(members, "dm")
    chosen: dict[str, NotificationKind] = {
        user: "mention" for user in message.mentions if user in members
    }
    if message.mentions_channel:
        for user in members:
            chosen.setdefault(user, "channel_mention")
    return chosen


class Notifications:
    """Notification records on the service's store, their delivery and their read state.

    :param store: the messaging service's store.
    :param plugins: whose ``meshkit_notify`` implementations deliver elsewhere.
    :param service: passed to ``meshkit_notify`` as ``service``.
    :param push: optional real-time delivery, called once per new notification with
        ``{"notification": <NotificationOut as JSON>, "unread": <badge>}``.
    """

    def __init__(
        self, store: Store, plugins: PluginManager, service: Any, push: Push | None = None
    ) -> None:
        self.store = store
        self.plugins = plugins
        self.service = service
        self.push = push

    async def for_message(
        self, message: MessageLike, channel_kind: str, member_ids: Sequence[str]
    ) -> list[Notification]:
        """Record and deliver the notifications ``message`` causes; the new ones.

        ``member_ids`` are the channel's members. Records that already exist (the same
        message again) are skipped and not delivered again. Each record is delivered as
        soon as it is stored, so a run cut short and repeated (a redelivered event) has
        delivered everything it stored but, at most, the one record in flight. Costs one
        insert per recipient: for ``@channel`` in a large channel, call this off the
        request path.
        """
        now = datetime.now(UTC)
        excerpt = excerpt_of(message.content)
        created: list[Notification] = []
        for user_id, kind in recipients(message, channel_kind, member_ids).items():
            try:
                notification = await self.store.insert(
                    Notification(
                        key=f"{user_id}:{message.id}",
                        user_id=user_id,
                        kind=kind,
                        channel_id=message.channel_id,
                        message_id=message.id,
                        author_id=message.author_id,
                        excerpt=excerpt,
                        created_at=now,
                    )
                )
            except DuplicateKey:  # this message already notified this user
                continue
            created.append(notification)
            await self._deliver(notification)
        return created

    async def _deliver(self, notification: Notification) -> None:
        if self.push is not None:
            try:
                payload = {
                    "notification": notification_out(notification).model_dump(mode="json"),
                    "unread": await self.unread_count(notification.user_id),
                }
                await self.push(notification.user_id, payload)
            except Exception:
                log.exception("pushing notification %s failed", notification.id)
        await each_result(
            self.plugins.hook.meshkit_notify, service=self.service, notification=notification
        )

    async def unread_count(self, user_id: str) -> int:
        """The user's unread badge (a count on the ``(user_id, read_at)`` index)."""
        return await self.store.count(Notification, {"user_id": user_id, "read_at": None})

    async def mark_read(self, user_id: str, ids: Sequence[str] | None) -> int:
        """Mark the user's notifications ``ids`` read (``None``: all of them); how many
        were unread.

        Ids that are not the user's, unknown or already read are ignored. "All" means
        all that exist when the call starts: one arriving meanwhile stays unread.
        """
        now = datetime.now(UTC)
        where: dict[str, Any] = {"user_id": user_id, "read_at": None}
        if ids is not None:
            wanted = list(dict.fromkeys(ids))
            if not wanted:
                return 0
            where["id"] = {"$in": wanted}
            found = await self.store.find(Notification, where, limit=len(wanted))
            return sum([await self._mark(n, now) for n in found.items])
        where["id"] = {"$lt": new_id()}
        marked = 0
        while True:
            batch = await self.store.find(Notification, where, limit=MARK_ALL_BATCH)
            for notification in batch.items:
                marked += await self._mark(notification, now)
            if len(batch.items) < MARK_ALL_BATCH:
                return marked

    async def _mark(self, notification: Notification, now: datetime) -> bool:
        """Set ``read_at`` once; a concurrent writer is retried, a gone record skipped."""
        try:
            await self.store.update(notification.model_copy(update={"read_at": now}))
            return True
        except StaleVersion:
            pass
        except DocumentNotFound:
            return False
        marked = False

        def change(current: Notification) -> Notification:
            nonlocal marked
            marked = current.read_at is None
            return current.model_copy(update={"read_at": current.read_at or now})

        try:
            await self.store.modify(Notification, notification.id, change)
        except DocumentNotFound:
            return False
        return marked

    async def list(
        self,
        user_id: str,
        *,
        unread_only: bool = False,
        after_cursor: str | None = None,
        limit: int = 50,
    ) -> Page[Notification]:
        """A page of the user's notifications, newest first.

        ``after_cursor`` is a previous page's ``next_cursor`` (the id of its oldest
        item): the page holds the ones just older. Keyset paging, so notifications
        arriving meanwhile never make a page skip or repeat one.
        """
        where: dict[str, Any] = {"user_id": user_id}
        if unread_only:
            where["read_at"] = None
        if after_cursor is not None:
            where["id"] = {"$lt": after_cursor}
        found = await self.store.find(Notification, where, sort=[Desc("id")], limit=limit + 1)
        items = found.items[:limit]
        more = len(found.items) > limit
        return Page(items, items[-1].id if more else None)


class NotificationsApi(Service):
    """Notification routes, a mixin of the messaging service (``self.notifications``).

    Paths are stable: ``GET /v1/notifications`` and ``POST /v1/notifications/read``.
    """

    notifications: Notifications

    @get("/v1/notifications", tags=["notifications"], errors=(401,))
    async def list_notifications(
        self, principal: Principal, query: NotificationQuery
    ) -> NotificationList:
        """The caller's notifications, newest first, with their unread badge."""
        page = await self.notifications.list(
            principal.subject,
            unread_only=query.unread_only,
            after_cursor=query.cursor,
            limit=query.limit,
        )
        return NotificationList(
            items=[notification_out(n) for n in page.items],
            next_cursor=page.next_cursor,
            unread=await self.notifications.unread_count(principal.subject),
        )

    @post("/v1/notifications/read", tags=["notifications"], errors=(401,))
    async def mark_notifications_read(self, principal: Principal, body: MarkRead) -> UnreadCount:
        """Mark some (``ids``) or all (``all: true``) of the caller's notifications read.

        Ids that are not the caller's are ignored. Answers the new unread badge.
        """
        await self.notifications.mark_read(principal.subject, None if body.all else body.ids)
        return UnreadCount(unread=await self.notifications.unread_count(principal.subject))
