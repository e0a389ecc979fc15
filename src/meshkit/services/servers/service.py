"""The servers service (see the class docstring)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import ClassVar

from aiohttp import web

from meshkit.service import Need
from meshkit.services.servers.api_audit import AuditApi
from meshkit.services.servers.audit import AuditEntry, AuditLog
from meshkit.services.servers.operations import OperationsConsumers
from meshkit.services.servers.settings import ServersSettings
from meshkit.services.servers.ssh import SshPool
from meshkit.store import Document

# [imports: each part adds its imports on its own lines above this marker]


class ServersService(
    AuditApi,
    # [bases:hosts]
    # [bases:jobs]
    # [bases:deployments]
    # [bases:monitoring]
    # [bases:configs]
    # [bases:health]
    OperationsConsumers,
):
    """Hosts over SSH, provisioning jobs, Docker deployments, monitoring, configuration and
    health checks, each action in the audit log. ``docs/servers.md`` says what exists.

    Each part is a core object built in :meth:`lifespan` (one function per operation) with
    thin REST adapters mixed into this class.
    """

    name = "servers"
    default_port = 3004
    title = "meshkit servers"
    description = (
        "SSH provisioning, Docker deployments, monitoring, configuration and health checks."
    )
    needs: ClassVar[frozenset[Need]] = frozenset({"store", "redis"})
    documents: ClassVar[tuple[type[Document], ...]] = (
        AuditEntry,
        # [documents:hosts]
        # [documents:jobs]
        # [documents:deployments]
        # [documents:monitoring]
        # [documents:configs]
        # [documents:health]
    )

    def setup_app(self, app: web.Application) -> None:
        """Attach what routes cannot express (the jobs' Socket.IO stream)."""
        # [setup_app:jobs]

    async def lifespan(self) -> AsyncIterator[None]:
        """Build each part on the injected store and Redis; stop them in reverse order."""
        settings = self.settings.section(ServersSettings)
        self.audit = AuditLog(self.store)
        async with contextlib.AsyncExitStack() as stack:
            self.ssh = SshPool.from_settings(settings)
            stack.push_async_callback(self.ssh.close)
            # [lifespan:hosts]
            # [lifespan:jobs]
            # [lifespan:deployments]
            # [lifespan:monitoring]
            # [lifespan:configs]
            # [lifespan:health]
            yield
