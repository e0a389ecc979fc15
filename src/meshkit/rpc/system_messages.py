"""Posting a system message in a messaging channel, from any service: the one path that
services use to tell people something (a voice call started, a server went down).

Contract of :func:`post_system_message`: the post goes through messaging's gRPC
``PostSystemMessage`` with an idempotency key, so a retry, or two instances handling the
same event, store one message. Messaging's final refusals (:data:`FINAL`: the channel is
gone or archived, a plugin rejected the text...) are logged and answered ``False``: a retry
cannot change them. Anything else (messaging down, slow, restarting) raises, so an event
handler that calls this is retried by the event bus. Events older than ``within`` post
nothing: a consumer catching up after a long outage would fill channels with stale news.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from grpclib.const import Status
from grpclib.exceptions import GRPCError

from meshkit.events import Envelope
from meshkit.proto.messaging.v1 import messaging_pb2
from meshkit.proto.messaging.v1.messaging_grpc import MessagingServiceStub
from meshkit.rpc.channel import RpcClients

log = logging.getLogger("meshkit.rpc")

FINAL = frozenset(
    {
        Status.NOT_FOUND,  # the channel is gone
        Status.FAILED_PRECONDITION,  # archived: read-only
        Status.INVALID_ARGUMENT,  # refused by a plugin (or a bad request: a bug)
        Status.ABORTED,  # the key was used in another channel: never posts
        Status.PERMISSION_DENIED,
        Status.UNAUTHENTICATED,
    }
)
"""Answers a retry cannot change."""
POST_WITHIN = timedelta(hours=1)


async def post_system_message(
    rpc: RpcClients,
    *,
    channel_id: str,
    text: str,
    source: str,
    envelope: Envelope,
    within: timedelta = POST_WITHIN,
) -> bool:
    """Post ``text`` in ``channel_id`` as ``system:<source>``, once for ``envelope``'s
    event (module docstring); whether messaging stored it."""
    if datetime.now(UTC) - envelope.time > within:
        return False
    messaging = rpc.stub(MessagingServiceStub, "messaging")
    request = messaging_pb2.PostSystemMessageRequest(
        channel_id=channel_id, text=text, source=source, idempotency_key=envelope.id
    )
    try:
        await messaging.PostSystemMessage(request)
    except GRPCError as exc:
        if exc.status not in FINAL:
            raise
        log.warning(
            "%s: messaging refused the post for %s: %s %s",
            source,
            envelope.id,
            exc.status.name,
            exc.message,
            extra={"service": source, "event_id": envelope.id},
        )
        return False
    return True
