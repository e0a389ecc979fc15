"""The gateway service plugin (built in, overridable: registered ``trylast``)."""

from collections.abc import Sequence

from meshkit import Service, hookimpl
from meshkit.services.gateway.service import GatewayService

__all__ = ["GatewayService", "meshkit_services"]


@hookimpl(trylast=True)
def meshkit_services() -> Sequence[type[Service]]:
    """Register the gateway service."""
    return [GatewayService]
