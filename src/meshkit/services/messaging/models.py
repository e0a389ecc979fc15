"""What the messaging service stores, and what its API accepts and answers.

Ids are ULIDs (``meshkit.store.new_id``): they sort by creation time, so a channel's
history is ordered by message id and an id is a stable pagination cursor.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from meshkit.http.models import RequestModel
from meshkit.store import Document, Index

ChannelKind = Literal["public", "private", "dm"]
MemberRole = Literal["owner", "member"]
MAX_DM_MEMBERS = 10
ULID = r"^[0-9A-HJKMNP-TV-Z]{26}$"
Id = Annotated[str, Field(pattern=ULID, description="A ULID.")]
UserId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
ChannelName = Annotated[str, Field(min_length=1, max_length=80, pattern=r"^[^\x00-\x1f\x7f]+$")]
Topic = Annotated[str, Field(max_length=250, pattern=r"^[^\x00-\x08\x0b-\x1f\x7f]*$")]


class Channel(Document):
    """A text channel, or a direct-message conversation (``kind="dm"``)."""

    collection: ClassVar[str] = "channels"
    indexes: ClassVar[tuple[Index, ...]] = (Index("key", unique=True), Index("kind", "name"))
    kind: ChannelKind
    name: str | None = None
    topic: str = ""
    key: str
    """``dm:<sorted member ids>`` for a DM (one conversation per set of people), else
    ``ch:<id>``: unique, so two concurrent "open a DM" requests cannot make two."""
    created_by: str
    created_at: datetime
    archived_at: datetime | None = None


class Membership(Document):
    """One user in one channel; ``last_read_id`` is their read marker."""

    collection: ClassVar[str] = "memberships"
    indexes: ClassVar[tuple[Index, ...]] = (
        Index("key", unique=True),
        Index("channel_id"),
        Index("user_id"),
    )
    key: str
    """``<channel id>:<user id>``: unique, so joining twice is one membership."""
    channel_id: str
    user_id: str
    role: MemberRole = "member"
    joined_at: datetime
    last_read_id: str | None = None


class ReactionMark(Document):
    """That a user reacted to a message at some point: the index that finds a deleted
    account's reactions without scanning every message.

    Written before the reaction and not removed with it, so it may name a reaction that
    is gone (cleaning that up is a no-op) but never misses one that exists.
    """

    collection: ClassVar[str] = "reaction_marks"
    indexes: ClassVar[tuple[Index, ...]] = (Index("key", unique=True), Index("user_id"))
    key: str
    """``<user id>:<message id>``: one mark per user and message, whatever the emoji."""
    user_id: str
    message_id: str


class Attachment(RequestModel):
    """Metadata of a linked file or page: no bytes are stored here."""

    url: Annotated[str, Field(max_length=2048, pattern=r"^https?://")]
    name: Annotated[str, Field(max_length=255)] = ""
    content_type: Annotated[str, Field(max_length=127)] = ""
    size: Annotated[int, Field(ge=0)] | None = None


class Message(Document):
    """A message in a channel; deleted ones stay as tombstones (``deleted_at`` set)."""

    collection: ClassVar[str] = "messages"
    indexes: ClassVar[tuple[Index, ...]] = (
        Index("channel_id"),
        Index("nonce_key", unique=True),
        Index("author_id"),  # a deleted account's messages are found without a scan
    )
    channel_id: str
    author_id: str
    content: str
    created_at: datetime
    edited_at: datetime | None = None
    deleted_at: datetime | None = None
    reply_to: str | None = None
    mentions: list[str] = Field(default_factory=list)
    mentions_channel: bool = False
    attachments: list[Attachment] = Field(default_factory=list)
    reactions: dict[str, list[str]] = Field(default_factory=dict)
    system: bool = False
    nonce_key: str
    """``<author>:<nonce>`` when the client sent a nonce, else ``id:<id>``: unique, so
    a retried send with the same nonce can never store a second message."""


class ChannelIn(RequestModel):
    """A new channel; for a DM, ``members`` are the other people in it.

    A public or private channel needs a ``name``; a DM has none (it is named by its
    people) and needs someone besides the caller in ``members``. The rule is in the
    schema too (``if``/``then``/``else`` on ``kind``): a missing ``kind`` is ``public``.
    """

    model_config = ConfigDict(
        json_schema_extra={
            "if": {"required": ["kind"], "properties": {"kind": {"const": "dm"}}},
            "then": {
                "required": ["members"],
                "properties": {"name": {"type": "null"}, "members": {"minItems": 1}},
            },
            "else": {"required": ["name"], "properties": {"name": {"type": "string"}}},
        }
    )

    kind: ChannelKind = "public"
    name: ChannelName | None = Field(
        default=None, description="Required for a public or private channel; none for a DM."
    )
    topic: Topic = ""
    members: Annotated[list[UserId], Field(max_length=MAX_DM_MEMBERS)] = Field(
        default=[],
        description="For a DM: the other people in it (at least one, not only the caller); "
        "for a channel: people to add at once.",
    )

    @field_validator("members")
    @classmethod
    def _unique(cls, value: list[str]) -> list[str]:
        return sorted(set(value))

    @model_validator(mode="after")
    def _named_unless_dm(self) -> ChannelIn:
        if self.kind == "dm":
            if self.name is not None:
                raise ValueError("a DM has no name")
            if not self.members:
                raise ValueError("a DM needs someone else in members")
        elif self.name is None:
            raise ValueError("a public or private channel needs a name")
        return self


class ChannelPatch(RequestModel):
    """Fields of a channel its owner (or a manager) may change."""

    name: ChannelName | None = None
    topic: Topic | None = None
    archived: bool | None = None


class ChannelOut(BaseModel):
    """A channel as its members see it."""

    id: str
    kind: ChannelKind
    name: str | None
    topic: str
    created_by: str
    created_at: datetime
    archived: bool
    member_count: int
    role: MemberRole | None = Field(
        default=None, description="The caller's role; null when not a member."
    )
    unread: int = Field(default=0, description="Messages after the caller's read marker.")


class UserProfile(Document):
    """What messaging knows of an account (from auth's user events); ``id`` is the user
    id (one per user)."""

    collection: ClassVar[str] = "user_profiles"
    username: str = ""
    display_name: str | None = None
    avatar_url: str | None = None
    account_version: int
    """The auth account's ``version`` this reflects: older events are ignored."""
    deleted: bool = False


class MemberOut(BaseModel):
    """A member of a channel, with the names to show (from messaging's copy of the
    account: ``null`` until it has one, and for a deleted account)."""

    user_id: str
    role: MemberRole
    joined_at: datetime
    username: str | None = None
    display_name: str | None = None
    avatar_url: str | None = None


class MessageIn(RequestModel):
    """A message to post. ``content`` is Markdown, stored as sent."""

    content: Annotated[str, Field(min_length=1, max_length=4000)]
    nonce: Annotated[str, Field(min_length=1, max_length=64)] | None = Field(
        default=None,
        description="Client-chosen id of this send: retrying with the same nonce returns "
        "the first message instead of posting twice.",
    )
    reply_to: Id | None = None
    attachments: Annotated[list[Attachment], Field(max_length=10)] = Field(default_factory=list)


class MessagePatch(RequestModel):
    """A new text for one's own message."""

    content: Annotated[str, Field(min_length=1, max_length=4000)]


class MessageOut(BaseModel):
    """A message; a deleted one keeps its place with empty content and ``deleted``."""

    id: str
    channel_id: str
    author_id: str
    content: str
    created_at: datetime
    edited_at: datetime | None
    deleted: bool
    reply_to: str | None
    mentions: list[str]
    mentions_channel: bool
    attachments: list[Attachment]
    reactions: dict[str, int] = Field(description="Count of each emoji.")
    system: bool
    nonce: str | None = None


ONE_CURSOR = (
    "Use at most one of `before`, `after` and `around` (OpenAPI cannot declare that query "
    "parameters exclude each other; two or more are refused with 422)."
)


class HistoryQuery(BaseModel):
    """Which page of a channel's history: at most one of before, after and around."""

    before: Id | None = Field(
        default=None, description=f"The page of messages just older than this id. {ONE_CURSOR}"
    )
    after: Id | None = Field(
        default=None, description=f"The page of messages just newer than this id. {ONE_CURSOR}"
    )
    around: Id | None = Field(
        default=None,
        description="A page centred on this message, which must be in this channel "
        f"(404 otherwise). {ONE_CURSOR}",
    )
    limit: Annotated[int, Field(ge=1, le=100)] = 50

    @model_validator(mode="after")
    def _one_cursor(self) -> HistoryQuery:
        given = [n for n in ("before", "after", "around") if getattr(self, n) is not None]
        if len(given) > 1:
            raise ValueError(
                f"use only one of before, after and around (got {' and '.join(given)})"
            )
        return self


class MessageDraft(BaseModel):
    """A message about to be stored, as ``meshkit_message_before_create`` sees it.

    A hook may change ``content``, ``mentions`` or ``attachments`` in place, or raise
    :class:`~meshkit.services.messaging.messages.MessageRejected` to refuse it.
    """

    channel_id: str
    author_id: str
    content: str
    reply_to: str | None = None
    mentions: list[str] = Field(default_factory=list)
    mentions_channel: bool = False
    attachments: list[Attachment] = Field(default_factory=list)
