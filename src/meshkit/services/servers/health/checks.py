"""Health checks: one function per operation (REST adapters and the scheduler call these).

Definitions are stored documents; states and their history are live in Redis
(:class:`~meshkit.services.servers.health.state.HealthStates`), shared by every instance.
Each run records its result there atomically; when the state changes, a
:class:`~meshkit.contracts.servers.HealthChanged` is published once, with the id
``health:<check id>:<transition number>:<its time, ms>`` (a retried publish is one event,
and a state lost with Redis does not reuse an id); the operations consumer posts it in
the operations channel. Creating, changing, deleting and running a check by hand land in
the audit log (``checks.<action>``, target ``check:<id>``); scheduled runs do not (their
changes are in the check's history).
"""

from __future__ import annotations

import logging
from collections import Counter
from datetime import UTC, datetime
from typing import Any, get_args

from meshkit.contracts.servers import HealthChanged, HealthState
from meshkit.errors import FieldError, Forbidden, ValidationFailed
from meshkit.events import PublishEvent
from meshkit.services.servers.audit import AuditLog
from meshkit.services.servers.errors import CheckNotFound
from meshkit.services.servers.health.models import (
    CheckDefinition,
    CheckIn,
    CheckOut,
    CheckPatch,
    CheckQuery,
    CheckState,
    CheckSummary,
    HealthSummary,
    RunOut,
    SubjectSummary,
    Transition,
)
from meshkit.services.servers.health.probes import Prober
from meshkit.services.servers.health.state import HealthStates
from meshkit.services.servers.permissions import JOBS_RUN
from meshkit.store import Sort, Store
from meshkit.store.errors import DocumentNotFound
from meshkit.tokens import Principal

log = logging.getLogger("meshkit.servers")

NO_SUBJECT = "no such host or deployment"
STATES: tuple[HealthState, ...] = get_args(HealthState)
ROLLUP: tuple[HealthState, ...] = ("down", "degraded", "up")
"""A subject's state is the first of these any of its enabled checks is in (else unknown)."""


def check_out(check: CheckDefinition, status: CheckState) -> CheckOut:
    """The API shape of a stored check and its state."""
    return CheckOut.model_validate(
        {
            **check.model_dump(exclude={"version", "probe"}),
            "probe": check.probe_model(),
            "status": status,
        }
    )


def rollup(states: list[HealthState]) -> HealthState:
    """A subject's state from its checks' (see :data:`ROLLUP`)."""
    for state in ROLLUP:
        if state in states:
            return state
    return "unknown"


class Checks:
    """Health-check operations (module docstring); ``publish`` ``None``: no events."""

    def __init__(
        self,
        store: Store,
        states: HealthStates,
        prober: Prober,
        audit: AuditLog,
        publish: PublishEvent | None = None,
    ) -> None:
        self.store = store
        self.states = states
        self.prober = prober
        self.audit = audit
        self.publish = publish

    # definitions ----------------------------------------------------------------------

    async def _check_subject(self, subject: str) -> None:
        if not await self.prober.subjects.exists(subject):
            raise ValidationFailed(
                [FieldError.of(("body", "subject"), NO_SUBJECT, "unknown_subject")],
                detail=f"subject: {NO_SUBJECT} ({subject})",
            )

    async def _stored(self, check_id: str) -> CheckDefinition:
        check = await self.store.get(CheckDefinition, check_id)
        if check is None:
            raise CheckNotFound(f"no health check {check_id}")
        return check

    async def create(self, actor: Principal | str, body: CheckIn) -> CheckOut:
        """A new check on an existing host or deployment (422 on ``subject`` otherwise);
        its state is ``unknown`` until it has run."""
        detail = body.model_dump(mode="json")
        async with self.audit.audited(actor, "checks.create", "check:new", detail) as note:
            _may_run_commands(actor, body.probe.kind)
            await self._check_subject(body.subject)
            now = datetime.now(UTC)
            check = await self.store.insert(
                CheckDefinition(
                    **body.model_dump(exclude={"probe"}),
                    probe=body.probe.model_dump(mode="json"),
                    created_by=actor if isinstance(actor, str) else actor.subject,
                    created_at=now,
                    updated_at=now,
                )
            )
            note.target = f"check:{check.id}"
        return check_out(check, CheckState())

    async def get(self, check_id: str) -> CheckOut:
        """One check and its state; 404 ``check-not-found``."""
        check = await self._stored(check_id)
        return check_out(check, await self.states.get(check.id))

    async def page(self, query: CheckQuery) -> list[CheckOut]:
        """A page of checks, oldest first, with their states."""
        where: dict[str, object] = {}
        if query.after is not None:
            where["id"] = {"$gt": query.after}
        if query.subject is not None:
            where["subject"] = query.subject
        page = await self.store.find(CheckDefinition, where, sort=[Sort("id")], limit=query.limit)
        states = await self.states.get_many(c.id for c in page.items)
        return [check_out(c, states[c.id]) for c in page.items]

    async def patch(self, actor: Principal | str, check_id: str, body: CheckPatch) -> CheckOut:
        """Change a check (see :class:`CheckPatch`); its state and history are kept."""
        detail = body.model_dump(mode="json", exclude_unset=True)
        async with self.audit.audited(actor, "checks.update", f"check:{check_id}", detail):
            stored = await self._stored(check_id)
            kind = body.probe.kind if body.probe is not None else stored.probe.get("kind", "")
            _may_run_commands(actor, str(kind))
            update: dict[str, Any] = {
                name: value
                for name, value in body.model_dump(exclude={"probe"}, exclude_unset=True).items()
                if value is not None or name == "degraded_latency_ms"
            }
            if body.probe is not None:
                update["probe"] = body.probe.model_dump(mode="json")
            update["updated_at"] = datetime.now(UTC)
            try:
                check = await self.store.modify(
                    CheckDefinition, check_id, lambda current: current.model_copy(update=update)
                )
            except DocumentNotFound:
                raise CheckNotFound(f"no health check {check_id}") from None
        return check_out(check, await self.states.get(check.id))

    async def delete(self, actor: Principal | str, check_id: str) -> None:
        """Delete a check, its state and its history."""
        async with self.audit.audited(actor, "checks.delete", f"check:{check_id}"):
            check = await self._stored(check_id)
            if not await self.store.delete(CheckDefinition, check.id):
                raise CheckNotFound(f"no health check {check_id}")
            await self.states.forget(check.id)

    # runs -----------------------------------------------------------------------------

    async def run(self, check_id: str, actor: Principal | str | None = None) -> RunOut:
        """Run the check now and record the result (the state may change: then the
        change is published). With an ``actor`` (a person asked), the run is audited."""
        if actor is None:
            return await self._run(await self._stored(check_id))
        async with self.audit.audited(actor, "checks.run", f"check:{check_id}"):
            out = await self._run(await self._stored(check_id))
        return out

    async def run_check(self, check: CheckDefinition) -> RunOut:
        """Run an already-read check (the scheduler's way): :meth:`run` without audit."""
        return await self._run(check)

    async def _run(self, check: CheckDefinition) -> RunOut:
        result = await self.prober.probe(check)
        before, after = await self.states.record(
            check.id,
            result,
            failures_to_down=check.failures_to_down,
            successes_to_up=check.successes_to_up,
            degraded_latency_ms=check.degraded_latency_ms,
        )
        changed = after.state != before.state
        if changed:
            await self._announce(check, before, after)
        return RunOut(result=result, previous=before.state, status=after, changed=changed)

    async def _announce(
        self, check: CheckDefinition, before: CheckState, after: CheckState
    ) -> None:
        """Publish the change once (its id names the transition)."""
        if self.publish is None:
            return
        assert after.last_result is not None
        event = HealthChanged(
            check_id=check.id,
            check_name=check.name,
            subject=check.subject,
            previous=before.state,
            state=after.state,
            detail=after.last_result.detail,
            at=after.last_result.at,
        )
        since = round(after.last_result.at.timestamp() * 1000)
        event_id = f"health:{check.id}:{after.transitions}:{since}"
        try:
            await self.publish(event, id=event_id, subject=check.subject)
        except Exception as exc:  # Redis unreachable: the change stands, in the history
            log.warning("servers: could not publish health change %s: %r", event_id, exc)

    async def history(self, check_id: str, limit: int) -> list[Transition]:
        """The check's newest state changes, newest first."""
        check = await self._stored(check_id)
        return await self.states.history(check.id, limit)

    # summary --------------------------------------------------------------------------

    async def summary(self) -> HealthSummary:
        """Every check's state, counts by state (enabled checks), a rollup per subject."""
        checks = [c async for c in self.store.scan(CheckDefinition, sort=[Sort("id")])]
        states = await self.states.get_many(c.id for c in checks)
        counts: Counter[HealthState] = Counter()
        by_subject: dict[str, list[HealthState]] = {}
        rows = []
        for check in checks:
            status = states[check.id]
            rows.append(
                CheckSummary(
                    id=check.id,
                    name=check.name,
                    subject=check.subject,
                    enabled=check.enabled,
                    state=status.state,
                    since=status.since,
                    detail=status.last_result.detail if status.last_result else None,
                )
            )
            if check.enabled:
                counts[status.state] += 1
                by_subject.setdefault(check.subject, []).append(status.state)
        subjects = [
            SubjectSummary(
                subject=subject,
                state=rollup(found),
                checks={state: found.count(state) for state in STATES},
            )
            for subject, found in sorted(by_subject.items())
        ]
        return HealthSummary(
            counts={state: counts[state] for state in STATES}, checks=rows, subjects=subjects
        )


def _may_run_commands(actor: Principal | str, kind: str) -> None:
    """A ``command`` probe runs commands on hosts: defining one needs what running a
    command needs (``servers:jobs.run``), not only ``servers:checks.manage``."""
    if kind == "command" and isinstance(actor, Principal) and not actor.has_permission(JOBS_RUN):
        raise Forbidden(
            f"a command check runs commands on the host: this needs the permission {JOBS_RUN!r}",
            extensions={"required_permission": JOBS_RUN},
        )
