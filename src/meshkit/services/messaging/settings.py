"""The messaging service's settings: ``MESHKIT_MESSAGING_*`` variables."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from meshkit.config import PluginSettings


class MessagingSettings(PluginSettings):
    """Presence and connection-session timing."""

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
