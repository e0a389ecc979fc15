"""The voice service's settings: ``MESHKIT_VOICE_*`` variables.

Nothing here makes traffic leave the machine by default: the ICE server list is empty
(aiortc's own default names a public STUN server; meshkit never uses it), TURN is off
until both its URLs and its secret are set, and host candidates are gathered on the
interfaces the operator allows.
"""

from __future__ import annotations

import ipaddress
import json
import re
from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import NoDecode, SettingsConfigDict

from meshkit.config import PluginSettings
from meshkit.services.voice.models import TURN_URL, IceServer


def _list_of(value: Any) -> Any:
    """A JSON array, or a comma-separated list, from an environment variable's text."""
    if not isinstance(value, str):
        return value
    text = value.strip()
    if not text:
        return []
    if text.startswith("["):
        return json.loads(text)
    return [part.strip() for part in text.split(",") if part.strip()]


class VoiceSettings(PluginSettings):
    """ICE/TURN, the addresses media is gathered on, and how long voice state lives."""

    model_config = SettingsConfigDict(env_prefix="MESHKIT_VOICE_", extra="ignore", frozen=True)

    ice_servers: Annotated[list[IceServer], NoDecode] = Field(
        default_factory=list,
        description="STUN/TURN servers handed to clients in the join ticket, as a JSON "
        'list of `{"urls": [...], "username"?, "credential"?}`. Empty by default: no '
        "public STUN server is ever used unless listed here.",
    )
    turn_urls: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="TURN server URLs (`turn:host:3478?transport=udp`, `turns:…`; comma-"
        "separated or a JSON list) for which each join gets time-limited credentials "
        "(coturn's TURN REST API scheme, `use-auth-secret`). Needs `MESHKIT_VOICE_TURN_SECRET`.",
    )
    turn_secret: SecretStr | None = Field(
        default=None,
        description="The secret shared with the TURN server (coturn `static-auth-secret`) "
        "that signs the time-limited credentials.",
    )
    turn_ttl: int = Field(
        default=3600,
        ge=60,
        le=7 * 86_400,
        description="Seconds a TURN credential handed out with a join stays valid.",
    )
    listen_ips: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Addresses the media plane gathers host ICE candidates on (comma-"
        "separated or a JSON list). Empty: every non-loopback interface, as aioice does.",
    )
    announced_ip: str | None = Field(
        default=None,
        description="Public address announced in host candidates instead of the listen "
        "address (a server behind 1:1 NAT), as mediasoup's announced IP.",
    )
    rtc_port_min: int = Field(
        default=0,
        ge=0,
        le=65_535,
        description="Lowest UDP port for media (with `MESHKIT_VOICE_RTC_PORT_MAX`); 0: "
        "any ephemeral port.",
    )
    rtc_port_max: int = Field(
        default=0,
        ge=0,
        le=65_535,
        description="Highest UDP port for media; 0: any ephemeral port.",
    )
    state_ttl: float = Field(
        default=15.0,
        ge=1.0,
        le=600.0,
        description="Seconds a participant stays in a room's live state without a "
        "heartbeat from the instance hosting it (it beats every third of it): a crashed "
        "voice process's participants disappear this long after its last beat.",
    )

    max_forwarded: int = Field(
        default=8,
        ge=1,
        le=64,
        description="Speakers a participant is sent at once, the loudest first; in a larger "
        "room the others' audio is not forwarded while they are quieter.",
    )
    session_check_interval: float = Field(
        default=5.0,
        gt=0.0,
        le=300.0,
        description="Seconds between checks of the signaling connections' tokens: a "
        "participant whose access token expired (not renewed with the auth emit) or was "
        "revoked is dropped from voice within this long.",
    )
    max_connections_per_user: int = Field(
        default=10,
        ge=0,
        description="Concurrent signaling connections one user may hold, across all voice "
        "instances (each can hold a media connection: ports, ICE, DTLS); one more is "
        "refused (`connect_error`, 429 `too-many-connections`). 0: no cap.",
    )
    max_connections_per_ip: int = Field(
        default=200,
        ge=0,
        description="Concurrent signaling connections from one client address, across all "
        "voice instances (behind the gateway: the address the gateway saw). 0: no cap.",
    )

    max_upload_bytes: int = Field(
        default=20 * 1024 * 1024,
        ge=1024,
        le=1024 * 1024 * 1024,
        description="Largest audio file accepted for playback into a room, in bytes "
        "(`POST /v1/voice/rooms/{room_id}/playback`; 413 `upload-too-large` beyond). The "
        "gateway's `MESHKIT_GATEWAY_MAX_BODY_SIZE` must be at least as large.",
    )

    # --- voice processing: recording, noise suppression ---
    recording_max_seconds: int = Field(
        default=4 * 3600,
        ge=1,
        le=24 * 3600,
        description="Longest a room recording runs, in seconds: it stops by itself then "
        "(and when the room empties), and the file is kept.",
    )
    recording_loudness: float = Field(
        default=-16.0,
        ge=-40.0,
        le=-5.0,
        description="Integrated loudness (LUFS, EBU R128) a finished recording is "
        "normalised to (FFmpeg's `loudnorm`; true peaks at most -1.5 dBTP).",
    )
    recording_bitrate: int = Field(
        default=48_000,
        ge=6_000,
        le=510_000,
        description="Opus bitrate of recordings, bits per second.",
    )
    noise_suppression: Literal["off", "afftdn", "rnnoise"] = Field(
        default="off",
        description="Noise suppression of a room's mix (what the listen stream, "
        "recordings carry; forwarded audio is never touched): `afftdn` (FFmpeg's FFT "
        "denoiser: stationary noise below `MESHKIT_VOICE_NOISE_FLOOR`, tones kept), "
        "`rnnoise` (RNNoise: keeps speech only; needs `pip install 'meshkit[denoise]'`).",
    )
    noise_floor: float = Field(
        default=-50.0,
        ge=-80.0,
        le=-20.0,
        description="The noise level `afftdn` removes, dBFS.",
    )

    @field_validator("ice_servers", "turn_urls", "listen_ips", mode="before")
    @classmethod
    def _parse_list(cls, value: Any) -> Any:
        return _list_of(value)

    @field_validator("turn_urls")
    @classmethod
    def _turn_urls(cls, value: list[str]) -> list[str]:
        for url in value:
            if not re.match(TURN_URL, url):
                raise ValueError(f"{url!r} is not a turn: or turns: URL")
        return value

    @field_validator("listen_ips")
    @classmethod
    def _addresses(cls, value: list[str]) -> list[str]:
        for address in value:
            ipaddress.ip_address(address)  # ValueError names the bad one
        return value

    @field_validator("announced_ip")
    @classmethod
    def _announced(cls, value: str | None) -> str | None:
        if value:
            ipaddress.ip_address(value)
        return value or None

    @model_validator(mode="after")
    def _consistent(self) -> VoiceSettings:
        if self.turn_urls and self.turn_secret is None:
            raise ValueError("MESHKIT_VOICE_TURN_URLS needs MESHKIT_VOICE_TURN_SECRET")
        if (self.rtc_port_min == 0) != (self.rtc_port_max == 0):
            raise ValueError("set both MESHKIT_VOICE_RTC_PORT_MIN and _MAX, or neither")
        if self.rtc_port_min > self.rtc_port_max:
            raise ValueError("MESHKIT_VOICE_RTC_PORT_MIN is above MESHKIT_VOICE_RTC_PORT_MAX")
        if 0 < self.rtc_port_min < 1024:
            raise ValueError("MESHKIT_VOICE_RTC_PORT_MIN must be 1024 or more")
        return self
