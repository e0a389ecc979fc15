"""The audit log: who did what to which host, deployment, configuration or check.

Every action of the service lands here (the REST adapters record it after the core
function returns or raises), with its outcome. Details are masked
(:func:`~meshkit.services.servers.redact.mask_mapping`) before they are stored, so the log
never holds a secret. Entries are append-only; ids are ULIDs, so id order is time order.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, Field

from meshkit.errors import Problem
from meshkit.services.servers.redact import mask_mapping
from meshkit.store import Desc, Document, Index, Store
from meshkit.tokens import Principal

Outcome = Literal["ok", "failed"]
SYSTEM = "system"
"""The actor of what the service does by itself (schedules, rollbacks, recovery)."""


class AuditEntry(Document):
    """One action, as stored."""

    collection: ClassVar[str] = "servers_audit"
    indexes: ClassVar[tuple[Index, ...]] = (Index("target"), Index("actor"), Index("action"))
    at: datetime
    actor: str
    action: str
    target: str
    outcome: Outcome = "ok"
    detail: dict[str, Any] = Field(default_factory=dict)


class AuditEntryOut(BaseModel):
    """One action in the audit log."""

    id: str
    at: datetime
    actor: str = Field(description="The user id (token subject), or `system`.")
    action: str = Field(examples=["hosts.create", "deployments.rollback"])
    target: str = Field(examples=["host:01JD…", "deployment:01JD…"])
    outcome: Outcome
    detail: dict[str, Any] = Field(description="What the action was given; secrets masked.")


class AuditQuery(BaseModel):
    """A page of the audit log, newest first, optionally narrowed."""

    before: Annotated[
        str | None, Field(default=None, max_length=128, description="Entries older than this id.")
    ] = None
    actor: Annotated[str | None, Field(default=None, max_length=128)] = None
    action: Annotated[str | None, Field(default=None, max_length=64)] = None
    target: Annotated[str | None, Field(default=None, max_length=160)] = None
    limit: Annotated[int, Field(ge=1, le=200)] = 50


def actor_of(principal: Principal | str) -> str:
    """The actor name recorded for ``principal`` (a token's subject, or a given name)."""
    return principal if isinstance(principal, str) else principal.subject


@dataclass
class AuditNote:
    """What an :meth:`AuditLog.audited` block records; the block may add to ``detail``,
    name the ``target`` once it knows it (a created id), or mark the action ``failed``
    without raising (some hosts of a push failed)."""

    target: str
    detail: dict[str, Any] = field(default_factory=dict)
    failed: bool = False


def failure_reason(exc: BaseException) -> str:
    """What the audit log says about a failure: a problem's detail (written for clients,
    so free of secrets), else only the exception's type (its text might hold anything)."""
    return exc.detail if isinstance(exc, Problem) else type(exc).__name__


class AuditLog:
    """Append and read audit entries."""

    def __init__(self, store: Store) -> None:
        self.store = store

    async def record(
        self,
        actor: Principal | str,
        action: str,
        target: str,
        *,
        outcome: Outcome = "ok",
        detail: dict[str, Any] | None = None,
    ) -> AuditEntry:
        """Append one entry; ``detail`` is masked before it is stored."""
        entry = AuditEntry(
            at=datetime.now(UTC),
            actor=actor_of(actor),
            action=action,
            target=target,
            outcome=outcome,
            detail=mask_mapping(detail or {}),
        )
        return await self.store.insert(entry)

    @contextlib.asynccontextmanager
    async def audited(
        self,
        actor: Principal | str,
        action: str,
        target: str,
        detail: dict[str, Any] | None = None,
    ) -> AsyncIterator[AuditNote]:
        """Record ``action`` when the block ends: ``ok``, ``failed`` if the block marked
        it so, or ``failed`` with :func:`failure_reason` when it raised (re-raised)."""
        note = AuditNote(target, dict(detail or {}))
        try:
            yield note
        except Exception as exc:
            note.detail["error"] = failure_reason(exc)
            await self.record(actor, action, note.target, outcome="failed", detail=note.detail)
            raise
        outcome: Outcome = "failed" if note.failed else "ok"
        await self.record(actor, action, note.target, outcome=outcome, detail=note.detail)

    async def page(self, query: AuditQuery) -> list[AuditEntryOut]:
        """Entries newest first, narrowed by ``query``."""
        where: dict[str, Any] = {}
        if query.before:
            where["id"] = {"$lt": query.before}
        for name in ("actor", "action", "target"):
            value = getattr(query, name)
            if value is not None:
                where[name] = value
        found = await self.store.find(AuditEntry, where, sort=[Desc("id")], limit=query.limit)
        return [AuditEntryOut.model_validate(e.model_dump()) for e in found.items]
