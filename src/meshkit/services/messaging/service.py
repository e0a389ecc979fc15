"""The messaging service (see the class docstring)."""

from typing import ClassVar

from meshkit import Service
from meshkit.service import Need


class MessagingService(Service):
    """Real-time chat over Socket.IO: channels, history, presence, notifications.

    Its domain API is built on this base in the service's own issue; the framework already
    gives it health, readiness, metrics and its OpenAPI document.
    """

    name = "messaging"
    default_port = 3002
    title = "meshkit messaging"
    description = "Real-time chat over Socket.IO: channels, history, presence, notifications."
    needs: ClassVar[frozenset[Need]] = frozenset({"store", "redis"})
