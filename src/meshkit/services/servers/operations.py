"""The operations channel: health state changes and alerts posted where people look.

Off the checking path on purpose: a check or a sample publishes its event and goes on;
this consumer (group ``servers``) posts the text as ``system:servers`` with
:func:`meshkit.rpc.system_messages.post_system_message` (once per event, retried by the
event bus while messaging is down, final refusals logged).
"""

from __future__ import annotations

from meshkit.contracts.servers import AlertChanged, HealthChanged
from meshkit.events import Envelope, on
from meshkit.rpc.system_messages import post_system_message
from meshkit.service import Service
from meshkit.services.servers.settings import ServersSettings

SOURCE = "servers"
"""The system author of the posts: ``system:servers``."""
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
        if channel is not None:
            await post_system_message(
                self.rpc, channel_id=channel, text=text, source=SOURCE, envelope=envelope
            )

    @on(HealthChanged)
    async def on_health_changed(self, event: HealthChanged, envelope: Envelope) -> None:
        """Post the change (:func:`health_text`)."""
        await self.post_operations(health_text(event), envelope)

    @on(AlertChanged)
    async def on_alert_changed(self, event: AlertChanged, envelope: Envelope) -> None:
        """Post the alert (:func:`alert_text`)."""
        await self.post_operations(alert_text(event), envelope)
