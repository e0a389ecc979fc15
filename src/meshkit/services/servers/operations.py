"""The operations channel: health state changes and alerts posted where people look.

Off the checking path on purpose: a check or a sample publishes its event and goes on;
this consumer (group ``servers``) posts the text through messaging's gRPC
``PostSystemMessage`` as ``system:servers``, retried by the event bus while messaging is
down, with the event id as the idempotency key, so a redelivery posts once. Messaging's
final refusals (the channel is gone or archived) are logged, not retried.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from grpclib.const import Status
from grpclib.exceptions import GRPCError

from meshkit.contracts.servers import AlertChanged, HealthChanged
from meshkit.events import Envelope, on
from meshkit.proto.messaging.v1 import messaging_pb2
from meshkit.proto.messaging.v1.messaging_grpc import MessagingServiceStub
from meshkit.service import Service
from meshkit.services.servers.settings import ServersSettings

log = logging.getLogger("meshkit.servers")

SOURCE = "servers"
"""The system author of the posts: ``system:servers``."""
POST_WITHIN = timedelta(hours=1)
"""Older events post nothing: a consumer catching up after an outage would flood the
channel with news that is no longer true."""
FINAL = frozenset(
    {
        Status.NOT_FOUND,
        Status.FAILED_PRECONDITION,
        Status.INVALID_ARGUMENT,
        Status.ABORTED,
        Status.PERMISSION_DENIED,
        Status.UNAUTHENTICATED,
    }
)
ICONS = {"up": "✅", "degraded": "⚠️", "down": "🔴", "unknown": "❔"}


def health_text(event: HealthChanged) -> str:
    """The post of a health state change."""
    icon = ICONS.get(event.state, "")
    return (
        f"{icon} {event.check_name} ({event.subject}) is {event.state} "
        f"(was {event.previous}): {event.detail}"
    )


def alert_text(event: AlertChanged) -> str:
    """The post of an alert that fired or resolved."""
    verb = "FIRING" if event.state == "firing" else "resolved"
    return (
        f"Alert {verb}: {event.rule_name} on {event.subject}: {event.metric} = "
        f"{event.value:g} (threshold {event.threshold:g})"
    )


class OperationsConsumers(Service):
    """``@on`` handlers of the servers service (a mixin of ``ServersService``)."""

    async def post_operations(self, text: str, envelope: Envelope) -> None:
        """Post ``text`` in the operations channel, once per event (if one is set)."""
        channel = self.settings.section(ServersSettings).operations_channel
        if channel is None or datetime.now(UTC) - envelope.time > POST_WITHIN:
            return
        messaging = self.rpc.stub(MessagingServiceStub, "messaging")
        request = messaging_pb2.PostSystemMessageRequest(
            channel_id=channel, text=text, source=SOURCE, idempotency_key=envelope.id
        )
        try:
            await messaging.PostSystemMessage(request)
        except GRPCError as exc:
            if exc.status not in FINAL:
                raise
            log.warning(
                "servers: messaging refused the operations post for %s: %s %s",
                envelope.id,
                exc.status.name,
                exc.message,
                extra={"service": "servers", "event_id": envelope.id},
            )

    @on(HealthChanged)
    async def on_health_changed(self, event: HealthChanged, envelope: Envelope) -> None:
        """Post the change (:func:`health_text`)."""
        await self.post_operations(health_text(event), envelope)

    @on(AlertChanged)
    async def on_alert_changed(self, event: AlertChanged, envelope: Envelope) -> None:
        """Post the alert (:func:`alert_text`)."""
        await self.post_operations(alert_text(event), envelope)
