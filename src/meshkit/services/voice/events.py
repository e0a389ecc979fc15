"""What the voice service does with its own events: tell a room's linked channel that a
call started or ended, with a system message posted over messaging's gRPC.

Off the request path on purpose: joining or leaving a room never waits for messaging,
and a message that could not be posted (messaging down, slow, restarting) is retried by
the event bus (backoff, then the dead-letter stream) in the ``voice`` consumer group.
Each post carries the event id as its idempotency key, so a redelivery, or two voice
instances handling the same event, store one message. Messaging's own refusals (the
channel was deleted or archived, a plugin rejected the text) are final: logged, not
retried.
"""

from __future__ import annotations

import logging

from meshkit.contracts.voice import CallEnded, CallStarted
from meshkit.events import Envelope, on
from meshkit.rpc.system_messages import post_system_message
from meshkit.service import Service

log = logging.getLogger("meshkit.voice")

SOURCE = "voice"
"""The system author of the posts: ``system:voice``."""


def format_duration(seconds: float) -> str:
    """``42 s``, ``3 min 5 s``, ``1 h 2 min``."""
    whole = max(0, round(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes} min"
    if minutes:
        return f"{minutes} min {secs} s"
    return f"{secs} s"


def started_text(event: CallStarted) -> str:
    """The system message of a call's start."""
    return f"Voice call started in {event.room_name}"


def ended_text(event: CallEnded) -> str:
    """The system message of a call's end."""
    return f"Voice call ended ({format_duration(event.duration_seconds)})"


class VoiceConsumers(Service):
    """``@on`` handlers of the voice service (a mixin of ``VoiceService``), run in the
    ``voice`` consumer group. Returning acknowledges; raising retries."""

    async def post_to_channel(self, channel_id: str, text: str, envelope: Envelope) -> None:
        """Post ``text`` into ``channel_id`` as ``system:voice``, once per event."""
        await post_system_message(
            self.rpc, channel_id=channel_id, text=text, source=SOURCE, envelope=envelope
        )

    @on(CallStarted)
    async def on_call_started(self, event: CallStarted, envelope: Envelope) -> None:
        """Post the start (:func:`started_text`) in the linked channel."""
        if event.channel_id is not None:
            await self.post_to_channel(event.channel_id, started_text(event), envelope)

    @on(CallEnded)
    async def on_call_ended(self, event: CallEnded, envelope: Envelope) -> None:
        """Post the end (:func:`ended_text`) in the linked channel."""
        if event.channel_id is not None:
            await self.post_to_channel(event.channel_id, ended_text(event), envelope)
