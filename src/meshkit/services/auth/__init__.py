"""The auth service plugin (built in, overridable: registered ``trylast``)."""

from collections.abc import Sequence

from meshkit import PluginSettings, Service, hookimpl
from meshkit.commands import Command
from meshkit.services.auth.commands import AUTH_COMMAND
from meshkit.services.auth.service import AuthService
from meshkit.services.auth.settings import AuthSettings

__all__ = ["AuthService", "meshkit_commands", "meshkit_services", "meshkit_settings_classes"]


@hookimpl(trylast=True)
def meshkit_services() -> Sequence[type[Service]]:
    """Register the auth service."""
    return [AuthService]


@hookimpl
def meshkit_settings_classes() -> Sequence[type[PluginSettings]]:
    """The ``MESHKIT_AUTH_*`` section."""
    return [AuthSettings]


@hookimpl
def meshkit_commands() -> Sequence[Command]:
    """``meshkit auth …``."""
    return [AUTH_COMMAND]
