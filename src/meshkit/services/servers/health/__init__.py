"""Health checks: HTTP, TCP and command probes of hosts and deployments on schedules, a
state machine with hysteresis per check (state in Redis, shared by instances), each change
published as :class:`~meshkit.contracts.servers.HealthChanged`, and a summary."""

from meshkit.services.servers.health.api import HealthApi
from meshkit.services.servers.health.checks import Checks
from meshkit.services.servers.health.models import CheckDefinition
from meshkit.services.servers.health.probes import Prober, Subjects
from meshkit.services.servers.health.scheduler import HealthScheduler
from meshkit.services.servers.health.state import HealthStates
from meshkit.services.servers.health.wiring import subjects_of

__all__ = [
    "CheckDefinition",
    "Checks",
    "HealthApi",
    "HealthScheduler",
    "HealthStates",
    "Prober",
    "Subjects",
    "subjects_of",
]
