"""The messaging service plugin (built in, overridable: registered ``trylast``)."""

from collections.abc import Sequence

from meshkit import PluginSettings, Service, hookimpl
from meshkit.services.messaging.service import MessagingService
from meshkit.services.messaging.settings import MessagingSettings

__all__ = ["MessagingService", "meshkit_services", "meshkit_settings_classes"]


@hookimpl(trylast=True)
def meshkit_services() -> Sequence[type[Service]]:
    """Register the messaging service."""
    return [MessagingService]


@hookimpl
def meshkit_settings_classes() -> Sequence[type[PluginSettings]]:
    """The ``MESHKIT_MESSAGING_*`` section."""
    return [MessagingSettings]
