"""``meshkit.messaging.v1.MessagingService`` over gRPC: other services post into channels
and look channels up as a user sees them.

Contract of ``PostSystemMessage`` (see ``docs/messaging.md``, "Internal API"):

* The message is authored by ``system:<source>`` and flagged ``system=True``; it goes
  through :meth:`Messages.create`, so plugin hooks see and may refuse it like any other
  message, and it is announced like a REST send (pushed to the channel's sockets, and
  notifications for ``@channel``, ``<@id>`` mentions and DMs).
* ``idempotency_key`` is the message nonce of that author: a retry with the same key and
  source answers the first message (even if the channel was archived meanwhile) and
  stores nothing. Without a key every call posts. The client stack never retries this
  method on its own (it has side effects); callers that retry set the key.
* System posts need no membership: the caller is a service holding an API key (the
  server checks it before this code runs), not a user.

Contract of ``GetChannel``:

* The channel as ``user_id`` sees it, decided by :meth:`Channels.visible` (the rule the
  REST API applies): a public channel is visible to everyone, a private channel or DM
  to its members only. To anyone else it answers ``NOT_FOUND`` exactly like an unknown
  id, so the answer never tells that a private channel exists.
* The user is judged without their token's permissions (the call carries none): a holder
  of ``messaging:channels.manage`` who is not a member of a private channel gets
  ``NOT_FOUND`` here, although the REST API would show it to them.
* Nothing is written: the client stack may retry it (``NO_SIDE_EFFECTS``).

Errors are meshkit problems; the gRPC server maps them to statuses (``meshkit.rpc.errors``):
an unknown channel (for ``GetChannel``, an invisible one too) is ``NOT_FOUND``, a bad
field ``INVALID_ARGUMENT`` (as is a plugin's refusal, ``message-rejected``), an archived
channel ``FAILED_PRECONDITION`` (``channel-archived``) and a key already used in another
channel ``ABORTED``.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from google.protobuf.timestamp_pb2 import Timestamp
from grpclib.server import Stream
from pydantic import TypeAdapter, ValidationError

from meshkit.errors import FieldError, NotFound, Problem, ValidationFailed
from meshkit.proto.messaging.v1 import messaging_pb2
from meshkit.proto.messaging.v1.messaging_grpc import MessagingServiceBase
from meshkit.services.messaging.messages import message_out
from meshkit.services.messaging.models import Channel, Id, Message, MessageIn, UserId
from meshkit.tokens import Principal

if TYPE_CHECKING:
    from meshkit.services.messaging.service import MessagingService

SYSTEM_PREFIX = "system:"
SOURCE = re.compile(r"^[a-z][a-z0-9_.-]{0,31}$")
"""A service name (``[a-z][a-z0-9_]*`` in meshkit) or a dotted sub-source (``ci.deploy``)."""
FIELD_OF = {"content": "text", "nonce": "idempotency_key"}
"""MessageIn fields as the request names them, for error messages."""
CHANNEL_ID: TypeAdapter[str] = TypeAdapter(Id)
USER_ID: TypeAdapter[str] = TypeAdapter(UserId)


class ChannelArchived(Problem):
    """The channel is read-only: nothing may be posted into it (gRPC ``FAILED_PRECONDITION``).

    Status 412 so that the shared problem-to-gRPC mapping gives ``FAILED_PRECONDITION``
    (the caller must change the world, not retry); REST answers 409 for the same case.
    """

    status = 412
    slug = "channel-archived"
    title = "Channel archived"


def system_author(source: str) -> str:
    """The author id of messages a service posts: ``system:<source>``."""
    return SYSTEM_PREFIX + source


def _invalid(field: str, message: str, code: str) -> ValidationFailed:
    return ValidationFailed(
        [FieldError.of(("request", field), message, code)], detail=f"{field}: {message}"
    )


def _checked(adapter: TypeAdapter[str], field: str, value: str) -> str:
    """``value`` if it is well formed as the REST API would accept it."""
    try:
        return adapter.validate_python(value)
    except ValidationError as exc:
        first = exc.errors()[0]
        message = "required" if not value else first["msg"]
        raise _invalid(field, message, "missing" if not value else first["type"]) from None


def user_principal(user_id: str) -> Principal:
    """``user_id`` as a caller without roles or permissions: what a member view needs.

    The service calling ``GetChannel`` has authenticated the user and passes only their
    id; judging them without permissions can only hide channels, never show more.
    """
    return Principal(
        subject=user_id,
        roles=frozenset(),
        permissions=frozenset(),
        token_id="",
        session_id=None,
        expires_at=datetime.now(UTC),
    )


def _timestamp(message: Message) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(message.created_at)
    return stamp


class MessagingRpc(MessagingServiceBase):
    """The servicer; one per service instance, holding only a reference to the service."""

    def __init__(self, service: MessagingService) -> None:
        self.service = service

    async def PostSystemMessage(
        self,
        stream: Stream[
            messaging_pb2.PostSystemMessageRequest, messaging_pb2.PostSystemMessageResponse
        ],
    ) -> None:
        """Post ``text`` into ``channel_id`` as ``system:<source>``; idempotent with a key."""
        request = await stream.recv_message()
        assert request is not None
        message = await self.post(
            request.channel_id, request.text, request.source, request.idempotency_key
        )
        await stream.send_message(
            messaging_pb2.PostSystemMessageResponse(
                message_id=message.id, created_at=_timestamp(message)
            )
        )

    async def GetChannel(
        self, stream: Stream[messaging_pb2.GetChannelRequest, messaging_pb2.GetChannelResponse]
    ) -> None:
        """The channel as ``user_id`` sees it; ``NOT_FOUND`` when unknown or invisible."""
        request = await stream.recv_message()
        assert request is not None
        channel, member = await self.channel_for(request.channel_id, request.user_id)
        await stream.send_message(
            messaging_pb2.GetChannelResponse(
                id=channel.id,
                name=channel.name or "",
                kind=channel.kind,
                archived=channel.archived_at is not None,
                member=member,
            )
        )

    async def channel_for(self, channel_id: str, user_id: str) -> tuple[Channel, bool]:
        """The domain side of ``GetChannel``: the channel if ``user_id`` may see it, and
        whether they are a member. Ids are checked first: nothing is looked up for a
        malformed one."""
        channel_id = _checked(CHANNEL_ID, "channel_id", channel_id)
        user_id = _checked(USER_ID, "user_id", user_id)
        channels = self.service.channels
        channel = await channels.visible(user_principal(user_id), channel_id)
        return channel, await channels.membership(channel.id, user_id) is not None

    async def post(self, channel_id: str, text: str, source: str, key: str) -> Message:
        """The domain side of ``PostSystemMessage`` (callable without a network).

        Order matters: the request is validated first (nothing is looked up for a bad
        one), then the channel, then an earlier post with the same key answers before
        the archived check, so a retry after archiving still gets its first message.
        """
        if not channel_id:
            raise _invalid("channel_id", "a channel id is required", "missing")
        if not SOURCE.match(source):
            raise _invalid("source", f"must match {SOURCE.pattern}", "pattern_mismatch")
        if not text.strip():
            raise _invalid("text", "the text is empty", "too_short")
        try:
            body = MessageIn(content=text, nonce=key or None)
        except ValidationError as exc:
            first = exc.errors()[0]
            field = FIELD_OF.get(str(first["loc"][0]), str(first["loc"][0]))
            raise _invalid(field, first["msg"], first["type"]) from None
        author = system_author(source)
        store = self.service.store
        channel = await store.get(Channel, channel_id)
        if channel is None:
            raise NotFound(f"no channel {channel_id!r}")
        if channel.archived_at is not None:
            if body.nonce is not None:
                found = await store.find(Message, {"nonce_key": f"{author}:{body.nonce}"}, limit=1)
                if found.items and found.items[0].channel_id == channel.id:
                    return found.items[0]
            raise ChannelArchived("the channel is archived: it is read-only")
        message, created = await self.service.messages.create(author, channel, body, system=True)
        if created:  # like a REST or socket send: push to the channel, notify whom it concerns
            await self.service.announce(channel, message_out(message))
        return message
