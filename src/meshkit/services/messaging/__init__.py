"""The messaging service plugin (built in, overridable: registered ``trylast``)."""

from collections.abc import Sequence

from meshkit import Service, hookimpl
from meshkit.services.messaging.service import MessagingService

__all__ = ["MessagingService", "meshkit_services"]


@hookimpl(trylast=True)
def meshkit_services() -> Sequence[type[Service]]:
    """Register the messaging service."""
    return [MessagingService]
