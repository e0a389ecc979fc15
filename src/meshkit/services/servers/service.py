"""The servers service (see the class docstring)."""

from typing import ClassVar

from meshkit import Service
from meshkit.service import Need


class ServersService(Service):
    """SSH provisioning, Docker deployments, monitoring, configuration and health checks.

    Its domain API is built on this base in the service's own issue; the framework already
    gives it health, readiness, metrics and its OpenAPI document.
    """

    name = "servers"
    default_port = 3004
    title = "meshkit servers"
    description = (
        "SSH provisioning, Docker deployments, monitoring, configuration and health checks."
    )
    needs: ClassVar[frozenset[Need]] = frozenset({"store", "redis"})
