"""The servers service plugin (built in, overridable: registered ``trylast``)."""

from collections.abc import Sequence

from meshkit import PluginSettings, Service, hookimpl
from meshkit.commands import Command
from meshkit.services.servers.cli import SERVERS_COMMAND
from meshkit.services.servers.service import ServersService
from meshkit.services.servers.settings import ServersSettings

__all__ = ["ServersService", "meshkit_commands", "meshkit_services", "meshkit_settings_classes"]


@hookimpl(trylast=True)
def meshkit_services() -> Sequence[type[Service]]:
    """Register the servers service."""
    return [ServersService]


@hookimpl
def meshkit_settings_classes() -> Sequence[type[PluginSettings]]:
    """The ``MESHKIT_SERVERS_*`` section."""
    return [ServersSettings]


@hookimpl
def meshkit_commands() -> Sequence[Command]:
    """``meshkit servers …`` (a REST client of a running system)."""
    return [SERVERS_COMMAND]
