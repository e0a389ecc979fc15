"""The monitoring part as one object: queries, alert rules, and its background sampling.

:func:`start_monitoring` builds it on the service's Redis, store and SSH pool, registers
the ``/metrics`` collector and starts the sampling loop; leaving the context stops both.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta

from prometheus_client import CollectorRegistry
from redis.asyncio import Redis

from meshkit.events import PublishEvent
from meshkit.services.servers.audit import AuditLog
from meshkit.services.servers.monitoring.alerts import Alerts
from meshkit.services.servers.monitoring.models import (
    Alert,
    AlertQuery,
    AlertRule,
    AlertRuleIn,
    AlertRulePatch,
    LatestOut,
    MetricSeriesOut,
    PointOut,
    Sample,
    SeriesQuery,
    utc,
)
from meshkit.services.servers.monitoring.prometheus import MonitoringCollector
from meshkit.services.servers.monitoring.sampler import (
    ContainerStats,
    ListHosts,
    Probe,
    Sampler,
)
from meshkit.services.servers.monitoring.series import Series
from meshkit.services.servers.schedule import Periodic
from meshkit.services.servers.settings import ServersSettings
from meshkit.services.servers.types import Actor
from meshkit.store import Store

DEFAULT_RANGE = timedelta(hours=1)


def latest_out(sample: Sample) -> LatestOut:
    """The API shape of a latest sample."""
    return LatestOut(
        host_id=sample.host_id,
        at=datetime.fromtimestamp(sample.at, UTC),
        up=sample.value("up") == 1.0,
        metrics=[PointOut(name=p.name, labels=p.labels, value=p.value) for p in sample.points],
    )


class Monitoring:
    """Every monitoring operation (the REST adapter calls these)."""

    def __init__(
        self,
        series: Series,
        alerts: Alerts,
        sampler: Sampler,
        host_exists: Callable[[str], Awaitable[object]],
    ) -> None:
        self.series = series
        self.alerts = alerts
        self.sampler = sampler
        self.host_exists = host_exists
        """Raises the hosts part's 404 ``host-not-found`` for an unknown host."""

    async def host_series(self, host_id: str, query: SeriesQuery) -> MetricSeriesOut:
        """``query.metric`` of one host over ``since..until`` (default: the last hour)."""
        await self.host_exists(host_id)
        until = utc(query.until) if query.until else datetime.now(UTC)
        if query.since:
            since = utc(query.since)
        else:  # an hour before, or the start of time for an `until` in year 1
            since = until - min(DEFAULT_RANGE, until - datetime.min.replace(tzinfo=UTC))
        series, step = await self.series.query(
            host_id, query.metric, since.timestamp(), until.timestamp(), query.step
        )
        return MetricSeriesOut(
            host_id=host_id, metric=query.metric, since=since, until=until, step=step, series=series
        )

    async def latest(self) -> list[LatestOut]:
        """The latest sample of every host that has one, by host id."""
        return [latest_out(s) for s in await self.series.latest()]

    async def create_rule(self, actor: Actor, body: AlertRuleIn) -> AlertRule:
        """:meth:`Alerts.create_rule`."""
        return await self.alerts.create_rule(actor, body)

    async def list_rules(self) -> list[AlertRule]:
        """Every alert rule, oldest first."""
        return await self.alerts.list_rules()

    async def get_rule(self, rule_id: str) -> AlertRule:
        """:meth:`Alerts.get_rule`."""
        return await self.alerts.get_rule(rule_id)

    async def patch_rule(self, actor: Actor, rule_id: str, body: AlertRulePatch) -> AlertRule:
        """:meth:`Alerts.patch_rule`."""
        return await self.alerts.patch_rule(actor, rule_id, body)

    async def delete_rule(self, actor: Actor, rule_id: str) -> None:
        """:meth:`Alerts.delete_rule`."""
        await self.alerts.delete_rule(actor, rule_id)

    async def list_alerts(self, query: AlertQuery) -> list[Alert]:
        """:meth:`Alerts.list_alerts`."""
        return await self.alerts.list_alerts(query)


@contextlib.asynccontextmanager
async def start_monitoring(
    settings: ServersSettings,
    *,
    redis: Redis,
    store: Store,
    audit: AuditLog,
    publish: PublishEvent | None,
    registry: CollectorRegistry | None,
    hosts: ListHosts,
    host_exists: Callable[[str], Awaitable[object]],
    probe: Probe,
    containers: ContainerStats | None,
    sample: bool = True,
) -> AsyncIterator[Monitoring]:
    """Build the part, export it on ``registry`` and sample every
    ``settings.monitoring_interval`` seconds (unless ``sample`` is false) until the
    context ends."""
    series = Series(redis, settings.monitoring_retention)
    alerts = Alerts(store, audit, publish)
    sampler = Sampler(
        redis=redis,
        series=series,
        hosts=hosts,
        probe=probe,
        containers=containers,
        alerts=alerts,
        interval=settings.monitoring_interval,
        concurrency=settings.monitoring_concurrency,
        timeout=settings.monitoring_timeout,
    )
    collector = MonitoringCollector(lambda: sampler.latest, lambda: sampler.names)
    if registry is not None:
        registry.register(collector)
    loop = Periodic("monitoring", settings.monitoring_interval, sampler.run_once)
    if sample:
        loop.start()
    try:
        yield Monitoring(series, alerts, sampler, host_exists)
    finally:
        await loop.stop()
        if registry is not None:
            registry.unregister(collector)
