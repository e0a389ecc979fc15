"""Health checks over REST (thin: parse, call :class:`Checks`, answer)::

POST   /v1/servers/checks                    create (servers:checks.manage)
GET    /v1/servers/checks                    list (?after, subject, limit; checks.read)
GET    /v1/servers/checks/{check_id}         one check and its state (checks.read)
PATCH  /v1/servers/checks/{check_id}         change (checks.manage)
DELETE /v1/servers/checks/{check_id}         delete (checks.manage)
POST   /v1/servers/checks/{check_id}/run     run now, the result (checks.manage)
GET    /v1/servers/checks/{check_id}/history state changes, newest first (checks.read)
GET    /v1/servers/health                    summary (checks.read)
"""

from __future__ import annotations

from meshkit import Service, delete, get, patch, post
from meshkit.services.servers.health.checks import Checks
from meshkit.services.servers.health.models import (
    CheckHistoryQuery,
    CheckIn,
    CheckOut,
    CheckPatch,
    CheckQuery,
    HealthSummary,
    RunOut,
    Transition,
)
from meshkit.services.servers.permissions import CHECKS_MANAGE, CHECKS_READ
from meshkit.services.servers.types import Id
from meshkit.tokens import Principal

TAGS = ("servers",)


class HealthApi(Service):
    """Route handlers of health checks; the service builds :attr:`checks` in its lifespan."""

    checks: Checks

    @post(
        "/v1/servers/checks",
        status=201,
        tags=TAGS,
        errors=(401, 403, 409),
        permission=CHECKS_MANAGE,
    )
    async def create_check(self, principal: Principal, body: CheckIn) -> CheckOut:
        """Create a health check on a host or deployment; it is scheduled at once (if enabled).

        422 when the subject does not exist; 409 ``duplicate-key`` when the name is taken.
        """
        return await self.checks.create(principal, body)

    @get("/v1/servers/checks", tags=TAGS, errors=(401, 403), permission=CHECKS_READ)
    async def list_checks(self, principal: Principal, query: CheckQuery) -> list[CheckOut]:
        """A page of health checks, oldest first, each with its current state."""
        return await self.checks.page(query)

    @get(
        "/v1/servers/checks/{check_id}",
        tags=TAGS,
        errors=(401, 403, 404),
        permission=CHECKS_READ,
    )
    async def get_check(self, principal: Principal, check_id: Id) -> CheckOut:
        """One health check and its current state."""
        return await self.checks.get(check_id)

    @patch(
        "/v1/servers/checks/{check_id}",
        tags=TAGS,
        errors=(401, 403, 404, 409),
        permission=CHECKS_MANAGE,
    )
    async def patch_check(self, principal: Principal, check_id: Id, body: CheckPatch) -> CheckOut:
        """Change a health check; its state and history are kept."""
        return await self.checks.patch(principal, check_id, body)

    @delete(
        "/v1/servers/checks/{check_id}",
        status=204,
        tags=TAGS,
        errors=(401, 403, 404),
        permission=CHECKS_MANAGE,
    )
    async def delete_check(self, principal: Principal, check_id: Id) -> None:
        """Delete a health check with its state and history."""
        await self.checks.delete(principal, check_id)

    @post(
        "/v1/servers/checks/{check_id}/run",
        tags=TAGS,
        errors=(401, 403, 404),
        permission=CHECKS_MANAGE,
    )
    async def run_check(self, principal: Principal, check_id: Id) -> RunOut:
        """Run a health check now and record its result (a change of state is published
        and posted like a scheduled one); the result and the state after it."""
        return await self.checks.run(check_id, principal)

    @get(
        "/v1/servers/checks/{check_id}/history",
        tags=TAGS,
        errors=(401, 403, 404),
        permission=CHECKS_READ,
    )
    async def check_history(
        self, principal: Principal, check_id: Id, query: CheckHistoryQuery
    ) -> list[Transition]:
        """A health check's state changes, newest first (the newest
        ``MESHKIT_SERVERS_HEALTH_HISTORY_SIZE`` are kept)."""
        return await self.checks.history(check_id, query.limit)

    @get("/v1/servers/health", tags=TAGS, errors=(401, 403), permission=CHECKS_READ)
    async def health_summary(self, principal: Principal) -> HealthSummary:
        """Health at a glance: counts by state, every check's state, and a rollup per
        host and deployment (down if any of its checks is down, then degraded, then up)."""
        return await self.checks.summary()
