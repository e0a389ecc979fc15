"""The auth service plugin (built in, overridable: registered ``trylast``)."""

from collections.abc import Sequence

from meshkit import Service, hookimpl
from meshkit.services.auth.service import AuthService

__all__ = ["AuthService", "meshkit_services"]


@hookimpl(trylast=True)
def meshkit_services() -> Sequence[type[Service]]:
    """Register the auth service."""
    return [AuthService]
