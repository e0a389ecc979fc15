"""The servers service (see the class docstring)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import ClassVar

from aiohttp import web

from meshkit.service import Need
from meshkit.services.servers.api_audit import AuditApi
from meshkit.services.servers.audit import AuditEntry, AuditLog
from meshkit.services.servers.configs import Config, Configs, ConfigsApi, ConfigVersion
from meshkit.services.servers.deploy.api import DeploymentsApi
from meshkit.services.servers.deploy.deployments import Deployments
from meshkit.services.servers.deploy.engines import Engines
from meshkit.services.servers.deploy.images import Images
from meshkit.services.servers.deploy.leases import Leases
from meshkit.services.servers.deploy.models import Deployment, DeploymentVersion
from meshkit.services.servers.health import (
    CheckDefinition,
    Checks,
    HealthApi,
    HealthScheduler,
    HealthStates,
    Prober,
    subjects_of,
)
from meshkit.services.servers.hosts.api import HostsApi
from meshkit.services.servers.hosts.models import Host
from meshkit.services.servers.hosts.registry import Hosts
from meshkit.services.servers.hosts.vault import KeyVault
from meshkit.services.servers.jobs import (
    JOBS_SOCKET_PATH,
    Job,
    Jobs,
    JobsApi,
    JobsConfig,
    JobSockets,
    Recipe,
    Recipes,
)
from meshkit.services.servers.monitoring.api import MonitoringApi
from meshkit.services.servers.monitoring.core import start_monitoring
from meshkit.services.servers.monitoring.models import Alert, AlertRule
from meshkit.services.servers.monitoring.sampler import engine_stats, ssh_probe
from meshkit.services.servers.operations import OperationsConsumers
from meshkit.services.servers.settings import ServersSettings
from meshkit.services.servers.ssh import SshPool
from meshkit.store import Document


class ServersService(
    AuditApi,
    HostsApi,
    JobsApi,
    DeploymentsApi,
    MonitoringApi,
    ConfigsApi,
    HealthApi,
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
    gateway_prefixes: ClassVar[tuple[str, ...]] = (JOBS_SOCKET_PATH,)
    documents: ClassVar[tuple[type[Document], ...]] = (
        AuditEntry,
        Host,
        Recipe,
        Job,
        Deployment,
        DeploymentVersion,
        AlertRule,
        Alert,
        Config,
        ConfigVersion,
        CheckDefinition,
    )

    def setup_app(self, app: web.Application) -> None:
        """Attach what routes cannot express (the jobs' Socket.IO stream)."""
        self.job_sockets = JobSockets(self)
        self.job_sockets.attach(app)

    async def lifespan(self) -> AsyncIterator[None]:
        """Build each part on the injected store and Redis; stop them in reverse order."""
        settings = self.settings.section(ServersSettings)
        self.audit = AuditLog(self.store)
        async with contextlib.AsyncExitStack() as stack:
            self.ssh = SshPool.from_settings(settings)
            stack.push_async_callback(self.ssh.close)
            self.hosts = Hosts(
                self.store,
                KeyVault.from_settings(settings, self.settings.data_dir),
                self.ssh,
                self.audit,
                engine_socket=settings.remote_engine_socket,
            )
            self.ssh.on_pin = self.hosts.pin
            self.recipes = Recipes(self.store, self.audit, self.hosts.vault)
            self.jobs = Jobs(
                self.store,
                self.redis,
                self.ssh,
                self.hosts,
                self.recipes,
                self.audit,
                instance=self.instance_id,
                config=JobsConfig(
                    parallelism=settings.job_parallelism,
                    log_max_bytes=settings.job_log_max_bytes,
                    heartbeat_ttl=settings.job_heartbeat_ttl,
                ),
                publish=self.events.publish,
            )
            await self.jobs.start()
            stack.push_async_callback(self.jobs.stop)
            await self.job_sockets.start(self.jobs)
            stack.push_async_callback(self.job_sockets.stop)
            self.engines = Engines(
                local_engine=settings.local_engine,
                remote_socket=settings.remote_engine_socket,
                socket_dir=self.settings.data_dir / "servers",
                ssh=self.ssh,
                target_of=self.hosts.target,
                linger=settings.engine_forward_linger,
            )
            stack.push_async_callback(self.engines.close)
            self.deployments = Deployments(
                self.store,
                self.engines,
                self.hosts.get,
                self.audit,
                Leases(self.store, self.redis, self.instance_id, ttl=settings.job_heartbeat_ttl),
                self.hosts.vault,
                self.events.publish,
                ready_seconds=settings.deploy_ready_seconds,
                stop_timeout=settings.deploy_stop_timeout,
            )
            stack.push_async_callback(self.deployments.close)
            self.deployments.start_background()
            self.images = Images(self.engines, self.hosts.get, self.audit)
            self.monitoring = await stack.enter_async_context(
                start_monitoring(
                    settings,
                    redis=self.redis,
                    store=self.store,
                    audit=self.audit,
                    publish=self.events.publish,
                    registry=self.metrics.registry,
                    hosts=lambda: self.hosts.select(None, None),
                    host_exists=self.hosts.get,
                    probe=ssh_probe(self.ssh, self.hosts.target, settings.monitoring_timeout),
                    containers=engine_stats(self.engines.client),
                )
            )
            self.configs = Configs(
                self.store,
                self.audit,
                self.hosts.vault,
                redis=self.redis,
                ssh=self.ssh,
                select_hosts=self.hosts.select,
                target_of=self.hosts.target,
                update_env=self.deployments.update_env,
                parallelism=settings.config_push_parallelism,
            )
            self.checks = Checks(
                self.store,
                HealthStates(self.redis, settings.health_history_size),
                Prober(
                    subjects_of(self.hosts, self.deployments),
                    lambda target, command, limit: self.ssh.run(target, command, time_limit=limit),
                ),
                self.audit,
                self.events.publish,
            )
            stack.push_async_callback(self.checks.prober.close)
            health = HealthScheduler(
                self.checks,
                self.redis,
                every=settings.health_tick_interval,
                concurrency=settings.health_concurrency,
            )
            health.start()
            stack.push_async_callback(health.stop)
            yield
