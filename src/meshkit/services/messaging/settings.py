"""The messaging service's settings: ``MESHKIT_MESSAGING_*`` variables."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from meshkit.config import PluginSettings


class MessagingSettings(PluginSettings):
    """Presence, connection-session timing and caps on concurrent connections."""

    model_config = SettingsConfigDict(env_prefix="MESHKIT_MESSAGING_", extra="ignore", frozen=True)

    presence_ttl: float = Field(
        default=60.0,
        ge=1.0,
        le=3600.0,
        description="Seconds a connection counts as alive without a heartbeat; an instance "
        "that dies takes its users offline this long after its last heartbeat (it beats "
        "every third of it).",
    )
    session_check_interval: float = Field(
        default=5.0,
        gt=0.0,
        le=300.0,
        description="Seconds between checks of the open Socket.IO connections' tokens: a "
        "connection whose access token expired (not renewed with the auth emit) or was "
        "revoked is ended within this long.",
    )
    max_connections_per_user: int = Field(
        default=20,
        ge=0,
        description="Concurrent Socket.IO connections one user may hold, across all "
        "messaging instances; one more is refused (`connect_error`, 429 "
        "`too-many-connections`). 0: no cap.",
    )
    max_connections_per_ip: int = Field(
        default=200,
        ge=0,
        description="Concurrent Socket.IO connections from one client address, across all "
        "instances (behind the gateway: the address the gateway saw). 0: no cap.",
    )
