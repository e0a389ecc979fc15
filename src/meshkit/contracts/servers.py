"""Events the servers service publishes.

- ``servers.health``: a health check changed state (``up``, ``degraded``, ``down``);
- ``servers.alerts``: a monitoring threshold started or stopped being crossed;
- ``servers.deployments``: a deployment changed (deployed, scaled, rolled back...);
- ``servers.jobs``: a provisioning job finished (or was failed by a restart).

Each is published once per change, with an id derived from what changed, so a retried
publish is one event. The servers service itself consumes the first two to post them in
the operations channel (``MESHKIT_SERVERS_OPERATIONS_CHANNEL``).
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar, Literal

from meshkit.events import Event

HealthState = Literal["unknown", "up", "degraded", "down"]


class HealthChanged(Event):
    """Check ``check_id`` on ``subject`` (``host:<id>`` or ``deployment:<id>``) went
    from ``previous`` to ``state``; ``detail`` says why (the last result)."""

    topic: ClassVar[str] = "servers.health"
    type: ClassVar[str] = "meshkit.servers.health.changed.v1"
    check_id: str
    check_name: str
    subject: str
    previous: HealthState
    state: HealthState
    detail: str
    at: datetime


class AlertChanged(Event):
    """A threshold rule on ``subject``'s ``metric`` started (``firing``) or stopped
    (``resolved``) being crossed; ``value`` is the sample that decided it."""

    topic: ClassVar[str] = "servers.alerts"
    type: ClassVar[str] = "meshkit.servers.alert.changed.v1"
    rule_id: str
    rule_name: str
    subject: str
    metric: str
    value: float
    threshold: float
    state: Literal["firing", "resolved"]
    at: datetime


class DeploymentChanged(Event):
    """Deployment ``deployment_id`` is now at ``version`` after ``action``."""

    topic: ClassVar[str] = "servers.deployments"
    type: ClassVar[str] = "meshkit.servers.deployment.changed.v1"
    deployment_id: str
    name: str
    host_id: str
    version: int
    action: Literal["deployed", "updated", "rolled_back", "scaled", "stopped", "removed"]
    detail: str = ""
    at: datetime


class JobFinished(Event):
    """Provisioning job ``job_id`` ended ``status`` on its hosts."""

    topic: ClassVar[str] = "servers.jobs"
    type: ClassVar[str] = "meshkit.servers.job.finished.v1"
    job_id: str
    recipe: str
    status: Literal["succeeded", "failed", "cancelled"]
    changed_hosts: int
    failed_hosts: int
    at: datetime
