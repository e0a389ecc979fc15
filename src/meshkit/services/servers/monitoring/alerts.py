"""Alert rules and the alerts they raise: thresholds on metrics, checked after each sample.

A rule (:class:`~meshkit.services.servers.monitoring.models.AlertRule`) watches one
metric on the hosts it selects (one host, hosts with some labels, or all), each labelled
series on its own (each disk, each interface, each container) unless ``series_labels``
narrows it. :meth:`Alerts.evaluate` runs after every sample of a host; per (rule, host,
series) the state goes::

    (nothing) --crosses--> pending --held for_seconds--> firing --stops crossing--> resolved
                           pending --stops crossing--> (nothing)

With ``for_seconds`` 0 the first crossing sample fires at once. A series missing from a
sample (a down host has no CPU figure) changes nothing. Each change to ``firing`` or
``resolved`` is stored (:class:`~meshkit.services.servers.monitoring.models.Alert`) and
then published as :class:`~meshkit.contracts.servers.AlertChanged`, its id derived from
the alert and the time of the change (a retried publish is one event); the service's
operations consumer posts it. Publishing is best effort (a warning when it fails; the
state stands). Deleting or disabling a rule resolves its firing alerts.

Rule changes are audited (``monitoring.rules.create|update|delete``, target
``alert-rule:<id>``).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import operator
from collections.abc import AsyncIterator, Callable, Mapping
from datetime import UTC, datetime
from typing import Any, Protocol

from meshkit.contracts.servers import AlertChanged
from meshkit.errors import FieldError, ValidationFailed
from meshkit.events import PublishEvent
from meshkit.services.servers.audit import AuditLog
from meshkit.services.servers.errors import AlertRuleExists, AlertRuleNotFound
from meshkit.services.servers.monitoring.models import (
    RECENT_ALERTS,
    Alert,
    AlertQuery,
    AlertRule,
    AlertRuleIn,
    AlertRulePatch,
    Point,
    Sample,
    check_series_labels,
)
from meshkit.services.servers.types import Actor
from meshkit.store import Asc, Desc, DocumentNotFound, DuplicateKey, StaleVersion, Store

log = logging.getLogger("meshkit.servers")

COMPARE: dict[str, Callable[[float, float], bool]] = {
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
}


class MonitoredHost(Protocol):
    """What monitoring needs of a host (the hosts part's ``Host`` document has it)."""

    @property
    def id(self) -> str: ...
    @property
    def labels(self) -> dict[str, str]: ...
    @property
    def engine(self) -> str: ...


def subject_of(host_id: str, labels: Mapping[str, str]) -> str:
    """``host:<id>``, with the series labels Prometheus-style when there are any."""
    if not labels:
        return f"host:{host_id}"
    inner = ",".join(f"{k}={json.dumps(v)}" for k, v in sorted(labels.items()))
    return f"host:{host_id}{{{inner}}}"


def alert_id(rule_id: str, host_id: str, labels: Mapping[str, str]) -> str:
    """The id of the alert of ``rule_id`` on one series of ``host_id`` (stable)."""
    key = json.dumps([rule_id, host_id, labels], sort_keys=True)
    return f"{rule_id}.{hashlib.sha256(key.encode()).hexdigest()[:24]}"


def selects(rule: AlertRule, host: MonitoredHost) -> bool:
    """Whether ``rule`` watches ``host``."""
    if rule.host_id is not None and rule.host_id != host.id:
        return False
    return all(host.labels.get(k) == v for k, v in rule.host_labels.items())


def _at(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


class Alerts:
    """Alert rules (CRUD, audited) and their evaluation (module docstring)."""

    def __init__(self, store: Store, audit: AuditLog, publish: PublishEvent | None = None) -> None:
        self.store = store
        self.audit = audit
        self.publish = publish

    # --- rules ---------------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def _audited(
        self, actor: Actor, action: str, rule_id: str, detail: dict[str, Any]
    ) -> AsyncIterator[None]:
        try:
            yield
        except Exception as exc:
            failed = {**detail, "error": getattr(exc, "slug", type(exc).__name__)}
            target = f"alert-rule:{rule_id}"
            await self.audit.record(actor, action, target, outcome="failed", detail=failed)
            raise
        await self.audit.record(actor, action, f"alert-rule:{rule_id}", detail=detail)

    async def create_rule(self, actor: Actor, body: AlertRuleIn) -> AlertRule:
        """Store a new rule; 409 ``alert-rule-exists`` when its name is taken."""
        now = datetime.now(UTC)
        subject = actor if isinstance(actor, str) else actor.subject
        rule = AlertRule(**body.model_dump(), created_by=subject, created_at=now, updated_at=now)
        detail = body.model_dump(mode="json")
        async with self._audited(actor, "monitoring.rules.create", rule.id, detail):
            try:
                return await self.store.insert(rule)
            except DuplicateKey as exc:
                raise AlertRuleExists(
                    f"an alert rule named {body.name!r} exists", extensions={"name": body.name}
                ) from exc

    async def get_rule(self, rule_id: str) -> AlertRule:
        """One rule; 404 ``alert-rule-not-found``."""
        rule = await self.store.get(AlertRule, rule_id)
        if rule is None:
            raise AlertRuleNotFound(f"no alert rule {rule_id}")
        return rule

    async def list_rules(self, *, enabled_only: bool = False) -> list[AlertRule]:
        """Every rule (or every enabled one), oldest first."""
        where = {"enabled": True} if enabled_only else None
        return [r async for r in self.store.scan(AlertRule, where, sort=[Asc("id")])]

    async def patch_rule(self, actor: Actor, rule_id: str, body: AlertRulePatch) -> AlertRule:
        """Change the fields given; disabling a rule resolves its firing alerts."""
        changes = body.model_dump(exclude_unset=True)
        changes = {k: v for k, v in changes.items() if v is not None or k == "host_id"}
        detail = body.model_dump(mode="json", exclude_unset=True)
        async with self._audited(actor, "monitoring.rules.update", rule_id, detail):
            current = await self.get_rule(rule_id)
            merged = current.model_copy(update=changes)
            try:
                check_series_labels(merged.metric, merged.series_labels)
            except ValueError as exc:
                raise ValidationFailed(
                    [FieldError.of(("body", "series_labels"), str(exc), "value_error")]
                ) from exc

            def change(rule: AlertRule) -> AlertRule:
                return rule.model_copy(update={**changes, "updated_at": datetime.now(UTC)})

            try:
                updated = await self.store.modify(AlertRule, rule_id, change)
            except DuplicateKey as exc:
                raise AlertRuleExists(
                    f"an alert rule named {body.name!r} exists", extensions={"name": body.name}
                ) from exc
        if current.enabled and not updated.enabled:
            await self._clear(updated)
        return updated

    async def delete_rule(self, actor: Actor, rule_id: str) -> None:
        """Delete a rule and its alerts (firing ones are resolved first)."""
        async with self._audited(actor, "monitoring.rules.delete", rule_id, {}):
            rule = await self.get_rule(rule_id)
            await self.store.delete(AlertRule, rule_id)
        await self._clear(rule, delete=True)

    async def _clear(self, rule: AlertRule, *, delete: bool = False) -> None:
        """Resolve the rule's firing alerts; drop its pending ones (and all, on delete)."""
        now = datetime.now(UTC)
        async for alert in self.store.scan(Alert, {"rule_id": rule.id}):
            if alert.state == "firing":
                resolved = await self._write(
                    alert.model_copy(
                        update={"state": "resolved", "resolved_at": now, "changed_at": now}
                    )
                )
                if resolved is not None:
                    await self._announce(resolved)
            if delete or alert.state == "pending":
                await self.store.delete(Alert, alert.id)

    # --- alerts --------------------------------------------------------------------

    async def list_alerts(self, query: AlertQuery) -> list[Alert]:
        """Alerts in ``query.state`` (default: firing, then pending, then the most
        recently resolved), newest change first within each state."""
        base: dict[str, Any] = {} if query.host_id is None else {"host_id": query.host_id}
        states = [query.state] if query.state else ["firing", "pending", "resolved"]
        found: list[Alert] = []
        for state in states:
            room = query.limit - len(found)
            if state == "resolved" and query.state is None:
                room = min(room, RECENT_ALERTS)
            if room <= 0:
                break
            page = await self.store.find(
                Alert, {**base, "state": state}, sort=[Desc("changed_at")], limit=room
            )
            found.extend(page.items)
        return found

    async def evaluate(self, host: MonitoredHost, sample: Sample, rules: list[AlertRule]) -> None:
        """Move the host's alerts on ``sample`` (module docstring); publish what fired or
        resolved."""
        watching = [r for r in rules if r.enabled and selects(r, host)]
        if not watching:
            return
        stored = {a.id: a async for a in self.store.scan(Alert, {"host_id": host.id})}
        now = _at(sample.at)
        for rule in watching:
            for point in sample.points:
                if point.name != rule.metric or any(
                    point.labels.get(k) != v for k, v in rule.series_labels.items()
                ):
                    continue
                crossed = COMPARE[rule.operator](point.value, rule.threshold)
                current = stored.get(alert_id(rule.id, host.id, point.labels))
                await self._step(rule, host.id, point, crossed, now, current)

    async def _step(
        self,
        rule: AlertRule,
        host_id: str,
        point: Point,
        crossed: bool,
        now: datetime,
        current: Alert | None,
    ) -> None:
        labels, value = point.labels, point.value
        live = current is not None and current.state in ("pending", "firing")
        if crossed and not live:
            fire = rule.for_seconds <= 0
            alert = Alert(
                id=alert_id(rule.id, host_id, labels),
                rule_id=rule.id,
                rule_name=rule.name,
                host_id=host_id,
                subject=subject_of(host_id, labels),
                metric=rule.metric,
                labels=labels,
                state="firing" if fire else "pending",
                value=value,
                threshold=rule.threshold,
                since=now,
                fired_at=now if fire else None,
                changed_at=now,
            )
            if current is not None:
                alert = alert.model_copy(update={"version": current.version})
            written = await self._write(alert, new=current is None)
            if fire and written is not None:
                await self._announce(written)
        elif crossed and current is not None and current.state == "pending":
            if (now - current.since).total_seconds() >= rule.for_seconds:
                update = {"state": "firing", "fired_at": now, "value": value, "changed_at": now}
                written = await self._write(current.model_copy(update=update))
                if written is not None:
                    await self._announce(written)
        elif not crossed and current is not None and current.state == "pending":
            await self.store.delete(Alert, current.id)
        elif not crossed and current is not None and current.state == "firing":
            update = {"state": "resolved", "resolved_at": now, "value": value, "changed_at": now}
            written = await self._write(current.model_copy(update=update))
            if written is not None:
                await self._announce(written)

    async def _write(self, alert: Alert, *, new: bool = False) -> Alert | None:
        """Store the alert's new state; ``None`` when another writer got there first."""
        try:
            return await (self.store.insert(alert) if new else self.store.update(alert))
        except (DuplicateKey, StaleVersion, DocumentNotFound) as exc:  # a concurrent writer
            log.warning("servers: alert %s not updated: %r", alert.id, exc)
            return None

    async def _announce(self, alert: Alert) -> None:
        if self.publish is None or alert.state == "pending":
            return
        event = AlertChanged(
            rule_id=alert.rule_id,
            rule_name=alert.rule_name,
            subject=alert.subject,
            metric=alert.metric,
            value=alert.value,
            threshold=alert.threshold,
            state=alert.state,
            at=alert.changed_at,
        )
        stamp = round(alert.changed_at.timestamp() * 1000)
        try:
            await self.publish(
                event, id=f"{alert.id}:{alert.state}:{stamp}", subject=f"host/{alert.host_id}"
            )
        except Exception as exc:
            log.warning("servers: alert %s %s not published: %r", alert.id, alert.state, exc)
