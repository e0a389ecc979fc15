"""The messaging service's settings: ``MESHKIT_MESSAGING_*`` variables."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from meshkit.config import PluginSettings


class MessagingSettings(PluginSettings):
    """Presence timing."""

    model_config = SettingsConfigDict(env_prefix="MESHKIT_MESSAGING_", extra="ignore", frozen=True)

    presence_ttl: float = Field(
        default=60.0,
        ge=1.0,
        le=3600.0,
        description="Seconds a connection counts as alive without a heartbeat; an instance "
        "that dies takes its users offline this long after its last heartbeat (it beats "
        "every third of it).",
    )
