"""The gateway service (see the class docstring)."""

from typing import ClassVar

from meshkit import Service
from meshkit.service import Need


class GatewayService(Service):
    """Single entry point: routing, load balancing, JWT validation, rate limiting, OpenAPI docs.

    Its domain API is built on this base in the service's own issue; the framework already
    gives it health, readiness, metrics and its OpenAPI document.
    """

    name = "gateway"
    default_port = 3000
    title = "meshkit gateway"
    description = (
        "Single entry point: routing, load balancing, JWT validation, rate limiting, OpenAPI docs."
    )
    needs: ClassVar[frozenset[Need]] = frozenset({"redis"})
