"""The gateway service plugin (built in, overridable: registered ``trylast``)."""

from collections.abc import Sequence

from meshkit import PluginSettings, Service, hookimpl
from meshkit.commands import Command
from meshkit.services.gateway.commands import GATEWAY_COMMAND
from meshkit.services.gateway.service import GatewayService
from meshkit.services.gateway.settings import GatewaySettings

__all__ = ["GatewayService", "meshkit_commands", "meshkit_services", "meshkit_settings_classes"]


@hookimpl(trylast=True)
def meshkit_services() -> Sequence[type[Service]]:
    """Register the gateway service."""
    return [GatewayService]


@hookimpl
def meshkit_settings_classes() -> Sequence[type[PluginSettings]]:
    """The ``MESHKIT_GATEWAY_*`` section."""
    return [GatewaySettings]


@hookimpl
def meshkit_commands() -> Sequence[Command]:
    """``meshkit gateway …``."""
    return [GATEWAY_COMMAND]
