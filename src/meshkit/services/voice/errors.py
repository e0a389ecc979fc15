"""The voice service's problems: one class per failure a client can branch on.

Each is a :class:`~meshkit.errors.Problem` with a stable slug (``type`` is
``urn:meshkit:problem:<slug>``), rendered once at the edge: problem+json over HTTP, an
error ack over Socket.IO (signaling). ``docs/voice.md`` lists them.
"""

from __future__ import annotations

from meshkit.errors import Conflict, NotFound, PayloadTooLarge, Problem, UnsupportedMediaType


class RoomFull(Conflict):
    """The room has ``max_participants`` people in it already; ``limit`` says how many."""

    slug = "room-full"
    title = "The voice room is full"


class NotInRoom(NotFound):
    """The user addressed is not in the room now (never joined, left, or timed out)."""

    slug = "not-in-room"
    title = "Not in this voice room"


class RoomElsewhere(Conflict):
    """The room's media is hosted by another voice instance; ``instance`` names it.

    A room lives on one instance; signaling that reaches another one was misrouted.
    """

    slug = "room-elsewhere"
    title = "The voice room is hosted by another instance"


class BadSdp(Problem):
    """An SDP offer or answer that cannot be parsed or negotiated (no Opus, ...)."""

    status = 422
    slug = "bad-sdp"
    title = "Unusable session description"


class BadCandidate(Problem):
    """A trickled ICE candidate that cannot be parsed."""

    status = 422
    slug = "bad-candidate"
    title = "Unusable ICE candidate"


class UploadTooLarge(PayloadTooLarge):
    """An uploaded audio file is larger than the limit; ``limit`` gives it in bytes."""

    slug = "upload-too-large"
    title = "Audio upload too large"


class UnsupportedAudio(UnsupportedMediaType):
    """An uploaded file is not audio the server can decode; ``accepted`` lists the types."""

    slug = "unsupported-audio"
    title = "Unsupported audio format"


class NoOfferPending(Conflict):
    """An SDP answer arrived while no server offer was waiting for one (a duplicate or
    late answer); the connection is unchanged."""

    slug = "no-offer-pending"
    title = "No offer is waiting for an answer"


class RoomEmpty(Conflict):
    """A recording was asked of a room with nobody in it (on this instance): there is
    nothing to record, and a recording stops when its room empties anyway."""

    slug = "room-empty"
    title = "The voice room is empty"


class AlreadyRecording(Conflict):
    """The room is being recorded already; ``recording_id`` names that recording."""

    slug = "already-recording"
    title = "The voice room is being recorded already"


class RecordingNotReady(Conflict):
    """A recording's file is not there yet (still recording or being normalised) or will
    never be (``failed``); ``state`` says which."""

    slug = "recording-not-ready"
    title = "The recording is not ready"
