"""The auth service (see the class docstring)."""

from typing import ClassVar

from meshkit import Service
from meshkit.service import Need


class AuthService(Service):
    """Registration, login, tokens, password reset, roles and service API keys.

    Its domain API is built on this base in the service's own issue; the framework already
    gives it health, readiness, metrics and its OpenAPI document.
    """

    name = "auth"
    default_port = 3001
    title = "meshkit auth"
    description = "Registration, login, tokens, password reset, roles and service API keys."
    needs: ClassVar[frozenset[Need]] = frozenset({"store", "redis"})
