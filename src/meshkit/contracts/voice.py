"""Events the voice service publishes (topics ``voice.participants`` and ``voice.calls``).

A *call* is one uninterrupted stretch of a room having someone in it: it starts when the
first participant enters an empty room and ends when the last one leaves, is removed, or
lapses (their voice instance died). Every event of a call carries the call's
``channel_id`` and ``room_name`` as they were when it started: a room linked to another
channel mid-call reports the new link from its next call on, so a consumer always sees
the leave of a join under the same channel.

Deciding "first" and "last" is atomic in Redis (``meshkit.services.voice.state``), so
each call has exactly one ``CallStarted`` and one ``CallEnded``, whichever instance
observed them. Event ids are derived from the call (``<call_id>:started``,
``<call_id>:<user_id>:joined:<ms>``...), so a retried publish is one event.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from meshkit.events import Event


class VoiceParticipantEvent(Event, abstract=True):
    """Someone entered or left a voice room; ``at`` orders a user's events in a room."""

    topic: ClassVar[str] = "voice.participants"
    room_id: str
    user_id: str
    channel_id: str | None = None
    """The messaging channel the room was linked to when the call started (or ``None``)."""
    call_id: str
    at: datetime


class VoiceParticipantJoined(VoiceParticipantEvent):
    """``user_id`` is in the room now (a reconnect of someone already in it is not a join)."""

    type: ClassVar[str] = "meshkit.voice.participant.joined.v1"


class VoiceParticipantLeft(VoiceParticipantEvent):
    """``user_id`` is no longer in the room.

    ``reason``: ``left``, ``disconnected``, ``failed`` (media lost), ``kicked``,
    ``moved``, ``closed`` (room deleted), ``timeout`` (their instance stopped
    answering), ``shutdown`` (their instance stopped) and others the media plane may add.
    """

    type: ClassVar[str] = "meshkit.voice.participant.left.v1"
    reason: str


class CallEvent(Event, abstract=True):
    """A room's call began or ended."""

    topic: ClassVar[str] = "voice.calls"
    call_id: str
    room_id: str
    room_name: str
    channel_id: str | None = None
    """The linked messaging channel when the call started (or ``None``)."""
    started_at: datetime


class CallStarted(CallEvent):
    """The first participant (``user_id``) entered an empty room."""

    type: ClassVar[str] = "meshkit.voice.call.started.v1"
    user_id: str


class CallEnded(CallEvent):
    """Nobody is in the room any more.

    ``ended_at`` is when the last participant left, or, when they lapsed, when their
    liveness ran out; ``duration_seconds`` is ``ended_at - started_at``. ``reason`` is
    the last leave's (``left``, ``timeout``, ``closed``...).
    """

    type: ClassVar[str] = "meshkit.voice.call.ended.v1"
    ended_at: datetime
    duration_seconds: float
    reason: str
