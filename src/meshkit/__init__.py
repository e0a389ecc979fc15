"""meshkit: a pluggable framework for chat-and-voice microservices.

The public facade: what services and plugins import. Everything else is reachable
from its module but not promised to stay where it is.
"""

from meshkit.config import PluginSettings, Settings
from meshkit.errors import Problem
from meshkit.hookspecs import hookimpl
from meshkit.http.routing import RouteSpec, delete, get, patch, post, put, route
from meshkit.service import Service

__version__ = "0.1.0"

__all__ = [
    "PluginSettings",
    "Problem",
    "RouteSpec",
    "Service",
    "Settings",
    "__version__",
    "delete",
    "get",
    "hookimpl",
    "patch",
    "post",
    "put",
    "route",
]
