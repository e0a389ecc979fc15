"""The servers service plugin (built in, overridable: registered ``trylast``)."""

from collections.abc import Sequence

from meshkit import Service, hookimpl
from meshkit.services.servers.service import ServersService

__all__ = ["ServersService", "meshkit_services"]


@hookimpl(trylast=True)
def meshkit_services() -> Sequence[type[Service]]:
    """Register the servers service."""
    return [ServersService]
