"""Monitoring over REST (thin: parse, call :class:`Monitoring`, answer).

::

    GET    /v1/servers/hosts/{host_id}/metrics   a metric's time series (monitoring.read)
    GET    /v1/servers/metrics/latest            every host's latest sample (monitoring.read)
    GET    /v1/servers/alert-rules               alert rules (monitoring.read)
    POST   /v1/servers/alert-rules               new rule (monitoring.manage)
    GET    /v1/servers/alert-rules/{rule_id}     one rule (monitoring.read)
    PATCH  /v1/servers/alert-rules/{rule_id}     change a rule (monitoring.manage)
    DELETE /v1/servers/alert-rules/{rule_id}     delete a rule (monitoring.manage)
    GET    /v1/servers/alerts                    alerts now and of late (monitoring.read)

The same figures are on the service's ``/metrics`` for Prometheus
(:mod:`~meshkit.services.servers.monitoring.prometheus`).
"""

from __future__ import annotations

from meshkit import Service, delete, get, patch, post
from meshkit.services.servers.monitoring.core import Monitoring
from meshkit.services.servers.monitoring.models import (
    AlertOut,
    AlertQuery,
    AlertRuleIn,
    AlertRuleOut,
    AlertRulePatch,
    LatestOut,
    MetricSeriesOut,
    SeriesQuery,
)
from meshkit.services.servers.permissions import MONITORING_MANAGE, MONITORING_READ
from meshkit.services.servers.types import HostId, Id
from meshkit.tokens import Principal

TAGS = ("servers",)


class MonitoringApi(Service):
    """Route handlers of monitoring; the service builds :attr:`monitoring` in its lifespan."""

    monitoring: Monitoring

    @get(
        "/v1/servers/hosts/{host_id}/metrics",
        tags=TAGS,
        errors=(401, 403, 404),
        permission=MONITORING_READ,
    )
    async def host_metrics(
        self, principal: Principal, host_id: HostId, query: SeriesQuery
    ) -> MetricSeriesOut:
        """One metric of a host over a time range (default: the last hour), one series per
        label set (each disk, each interface, each container), oldest point first;
        ``step`` averages the samples per step."""
        return await self.monitoring.host_series(host_id, query)

    @get("/v1/servers/metrics/latest", tags=TAGS, errors=(401, 403), permission=MONITORING_READ)
    async def latest_metrics(self, principal: Principal) -> list[LatestOut]:
        """The latest sample of every host, by host id (a host down at its last sample
        has ``up: false`` and no other figure)."""
        return await self.monitoring.latest()

    @get("/v1/servers/alert-rules", tags=TAGS, errors=(401, 403), permission=MONITORING_READ)
    async def list_alert_rules(self, principal: Principal) -> list[AlertRuleOut]:
        """Every alert rule, oldest first."""
        return [AlertRuleOut.of(r) for r in await self.monitoring.list_rules()]

    @post(
        "/v1/servers/alert-rules",
        status=201,
        tags=TAGS,
        errors=(401, 403, 409),
        permission=MONITORING_MANAGE,
    )
    async def create_alert_rule(self, principal: Principal, body: AlertRuleIn) -> AlertRuleOut:
        """A new alert rule, evaluated from the next sample on; 409 ``alert-rule-exists``
        when the name is taken."""
        return AlertRuleOut.of(await self.monitoring.create_rule(principal, body))

    @get(
        "/v1/servers/alert-rules/{rule_id}",
        tags=TAGS,
        errors=(401, 403, 404),
        permission=MONITORING_READ,
    )
    async def get_alert_rule(self, principal: Principal, rule_id: Id) -> AlertRuleOut:
        """One alert rule; 404 ``alert-rule-not-found``."""
        return AlertRuleOut.of(await self.monitoring.get_rule(rule_id))

    @patch(
        "/v1/servers/alert-rules/{rule_id}",
        tags=TAGS,
        errors=(401, 403, 404, 409),
        permission=MONITORING_MANAGE,
    )
    async def patch_alert_rule(
        self, principal: Principal, rule_id: Id, body: AlertRulePatch
    ) -> AlertRuleOut:
        """Change a rule; disabling it resolves its firing alerts."""
        return AlertRuleOut.of(await self.monitoring.patch_rule(principal, rule_id, body))

    @delete(
        "/v1/servers/alert-rules/{rule_id}",
        status=204,
        tags=TAGS,
        errors=(401, 403, 404),
        permission=MONITORING_MANAGE,
    )
    async def delete_alert_rule(self, principal: Principal, rule_id: Id) -> None:
        """Delete a rule; its firing alerts are resolved (and announced) first."""
        await self.monitoring.delete_rule(principal, rule_id)

    @get("/v1/servers/alerts", tags=TAGS, errors=(401, 403), permission=MONITORING_READ)
    async def list_alerts(self, principal: Principal, query: AlertQuery) -> list[AlertOut]:
        """Alerts firing now, then pending ones (crossing, not yet for long enough), then
        the most recently resolved; ``state`` and ``host_id`` narrow the list."""
        return [AlertOut.of(a) for a in await self.monitoring.list_alerts(query)]
