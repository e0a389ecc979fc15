"""The voice service (see the class docstring)."""

from typing import ClassVar

from meshkit import Service
from meshkit.service import Need


class VoiceService(Service):
    """WebRTC voice rooms, audio streaming and voice processing.

    Its domain API is built on this base in the service's own issue; the framework already
    gives it health, readiness, metrics and its OpenAPI document.
    """

    name = "voice"
    default_port = 3003
    title = "meshkit voice"
    description = "WebRTC voice rooms, audio streaming and voice processing."
    needs: ClassVar[frozenset[Need]] = frozenset({"store", "redis"})
