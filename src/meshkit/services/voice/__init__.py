"""The voice service plugin (built in, overridable: registered ``trylast``)."""

from collections.abc import Sequence

from meshkit import Service, hookimpl
from meshkit.services.voice.service import VoiceService

__all__ = ["VoiceService", "meshkit_services"]


@hookimpl(trylast=True)
def meshkit_services() -> Sequence[type[Service]]:
    """Register the voice service."""
    return [VoiceService]
