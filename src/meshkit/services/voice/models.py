"""What the voice service stores, keeps live in Redis, and what its API accepts and answers.

Stored (document store): :class:`VoiceRoom`, the room's definition. Live (Redis, with
TTLs; :mod:`meshkit.services.voice.state`): :class:`Participant`, who is in a room now
and in what state. Ids are ULIDs (``meshkit.store.new_id``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, Field, field_validator

from meshkit.http.models import RequestModel
from meshkit.store import Document, Index

SIGNALING_PATH = "/voice/socket.io"
"""Where clients open the voice Socket.IO connection (through the gateway)."""
ULID = r"^[0-9A-HJKMNP-TV-Z]{26}$"
ICE_URL = r"^(stun|stuns|turn|turns):[^\s]+$"
TURN_URL = r"^(turn|turns):[^\s]+$"
MIN_BITRATE, MAX_BITRATE = 6_000, 510_000  # Opus's range (RFC 6716 §2.1.1)
MAX_PARTICIPANTS = 500

Id = Annotated[str, Field(pattern=ULID, description="A ULID.")]
RoomName = Annotated[
    str,
    Field(min_length=1, max_length=100, pattern=r"^[^\x00-\x1f\x7f]+$", examples=["Lounge"]),
]
Capacity = Annotated[
    int,
    Field(
        ge=1,
        le=MAX_PARTICIPANTS,
        description="Most participants in the room at once; one more is refused (409 `room-full`).",
    ),
]
Bitrate = Annotated[
    int,
    Field(
        ge=MIN_BITRATE,
        le=MAX_BITRATE,
        description="Opus bitrate, bits per second, that clients are asked to send.",
    ),
]


class VoiceRoom(Document):
    """A voice room as stored: its settings, not who is in it (that is live state)."""

    collection: ClassVar[str] = "voice_rooms"
    indexes: ClassVar[tuple[Index, ...]] = (Index("channel_id"), Index("owner_id"))
    name: str
    channel_id: str | None = None
    """A messaging channel this room belongs to: one the linking user could see (checked
    with messaging's ``GetChannel`` over gRPC when linked)."""
    max_participants: int = 25
    bitrate: int = 32_000
    owner_id: str
    created_at: datetime


class VoiceRoomIn(RequestModel):
    """A new voice room; its creator owns it."""

    name: RoomName
    channel_id: Id | None = Field(
        default=None, description="A messaging channel to link the room to."
    )
    max_participants: Capacity = 25
    bitrate: Bitrate = 32_000


class VoiceRoomPatch(RequestModel):
    """Fields of a room its owner (or ``voice:room.manage``) may change.

    An absent field is left as it is, and so is ``null`` for ``name``,
    ``max_participants`` and ``bitrate``; ``channel_id: null`` unlinks the channel.
    Lowering ``max_participants`` below the number in the room drops nobody: only new
    joins are refused.
    """

    name: RoomName | None = None
    channel_id: Id | None = Field(
        default=None, description="The messaging channel to link; `null` unlinks it."
    )
    max_participants: Capacity | None = None
    bitrate: Bitrate | None = None


class VoiceRoomOut(BaseModel):
    """A voice room, with how many are in it now."""

    id: str
    name: str
    channel_id: str | None
    max_participants: int
    bitrate: int
    owner_id: str
    created_at: datetime
    participant_count: int = Field(description="Participants in the room right now.")


class RoomQuery(BaseModel):
    """A page of rooms, oldest first: those after the ``after`` id."""

    after: Id | None = Field(default=None, description="The page of rooms created after this id.")
    channel_id: Id | None = Field(
        default=None, description="Only the rooms linked to this messaging channel."
    )
    limit: Annotated[int, Field(ge=1, le=100)] = 50


class ParticipantOut(BaseModel):
    """Someone in a voice room now, and their state."""

    user_id: str
    muted: bool = Field(default=False, description="Muted themselves.")
    deafened: bool = Field(default=False, description="Deafened themselves (hear nothing).")
    speaking: bool = Field(default=False, description="Sending audio above the speech level.")
    server_muted: bool = Field(
        default=False, description="Muted by a moderator: their audio is not forwarded."
    )
    joined_at: datetime


class Participant(ParticipantOut):
    """A participant as live state keeps it: also the voice instance hosting its media."""

    instance: str

    def public(self) -> ParticipantOut:
        """What clients see (the hosting instance is internal)."""
        return ParticipantOut.model_validate(self.model_dump(exclude={"instance"}))


class ParticipantPatch(RequestModel):
    """A moderator's change to a participant."""

    server_muted: bool = Field(
        description="Mute (`true`) or unmute the participant for everyone in the room; "
        "it stays until undone, across leaving and joining again."
    )


class MoveIn(RequestModel):
    """Where a moderator moves a participant."""

    room_id: Id = Field(description="The room to move them to (it must have room).")


class IceServer(RequestModel):
    """One STUN or TURN server, in the shape of WebRTC's ``RTCIceServer``."""

    urls: Annotated[list[Annotated[str, Field(pattern=ICE_URL)]], Field(min_length=1)]
    username: str | None = None
    credential: str | None = None

    @field_validator("urls", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value


class JoinTicket(BaseModel):
    """What a client needs to join a room: where to signal, how to reach the media.

    Asking for a ticket reserves no place: the client appears in the room when it joins
    over signaling, which checks again that there is room.
    """

    room: VoiceRoomOut
    participants: list[ParticipantOut] = Field(description="Who is in the room now.")
    signaling_path: str = Field(
        default=SIGNALING_PATH,
        description="The Socket.IO path to connect to (on the gateway), with the access token.",
    )
    signaling_query: dict[str, str] = Field(
        default_factory=dict,
        description="Query parameters to connect with (`room`): the gateway sends the "
        "connection to the voice instance that hosts the room.",
    )
    ice_servers: list[IceServer] = Field(
        description="STUN/TURN servers for the peer connection (empty: host candidates only)."
    )
    ice_servers_expire_at: datetime | None = Field(
        default=None,
        description="When the TURN credentials in `ice_servers` stop working (null: none given).",
    )


# --- voice processing: recordings ------------------------------------------------------

RecordingState = Literal["recording", "processing", "ready", "failed"]


class Recording(Document):
    """A room recording's metadata (its file lives under the data directory)."""

    collection: ClassVar[str] = "voice_recordings"
    indexes: ClassVar[tuple[Index, ...]] = (Index("room_id"), Index("state"))
    room_id: str
    started_by: str
    started_at: datetime
    ended_at: datetime | None = None
    duration: float = 0.0
    """Seconds of audio."""
    size: int = 0
    """Bytes of the finished file."""
    state: RecordingState = "recording"
    stop_reason: str | None = None
    """``stopped`` (asked), ``empty`` (the room emptied), ``max-duration``, ``shutdown``,
    ``recovered`` (an instance crashed while recording; what was written is kept)."""
    error: str | None = None
    instance: str
    """The voice instance writing it (while ``recording``/``processing``)."""
    loudness: float | None = None
    """Integrated loudness of the finished file (LUFS)."""


class RecordingOut(BaseModel):
    """A room recording."""

    id: str
    room_id: str
    started_by: str = Field(description="Who started it.")
    started_at: datetime
    ended_at: datetime | None
    duration: float = Field(description="Seconds recorded (so far, while recording).")
    size: int = Field(description="Bytes of the file (0 until it is ready).")
    state: RecordingState = Field(
        description="`recording`, `processing` (being loudness-normalised), `ready` "
        "(downloadable) or `failed`."
    )
    stop_reason: str | None = Field(
        description="Why it stopped: `stopped`, `empty`, `max-duration`, `shutdown`, `recovered`."
    )
    error: str | None = Field(description="Why it failed, when it did.")
    loudness: float | None = Field(description="Integrated loudness, LUFS (when ready).")

    @classmethod
    def of(cls, recording: Recording) -> RecordingOut:
        """The API shape of a stored recording."""
        return cls.model_validate(recording.model_dump(exclude={"instance"}))
