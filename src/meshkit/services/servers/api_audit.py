"""The audit log over REST: ``GET /v1/servers/audit`` (``servers:audit.read``)."""

from __future__ import annotations

from meshkit import Service, get
from meshkit.services.servers.audit import AuditEntryOut, AuditLog, AuditQuery
from meshkit.services.servers.permissions import AUDIT_READ
from meshkit.tokens import Principal

TAGS = ("servers",)


class AuditApi(Service):
    """Route handlers of the audit log; the service builds :attr:`audit` in its lifespan."""

    audit: AuditLog

    @get("/v1/servers/audit", tags=TAGS, errors=(401, 403), permission=AUDIT_READ)
    async def list_audit(self, principal: Principal, query: AuditQuery) -> list[AuditEntryOut]:
        """The audit log, newest first: every action on hosts, jobs, deployments,
        configuration and checks, by whom, with what outcome (secrets masked)."""
        return await self.audit.page(query)
