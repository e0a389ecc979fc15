"""Running services: several in one event loop, or one per process, with the same code.

Services start one after the other, each listening before the next is built, and those
marked :attr:`~meshkit.service.Service.start_last` (the gateway) after all others: so
``meshkit run all`` never has a gateway that answers while the services behind it do
not listen yet.

:func:`serve` opens one Redis client for the process (shared by every service that
needs it), builds each service's app, listens, and on SIGINT/SIGTERM stops accepting,
drains in-flight requests (bounded by ``MESHKIT_SHUTDOWN_TIMEOUT``), runs every
service's tear-down, closes stores and Redis, and returns.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from aiohttp import web

from meshkit.app import GRPC_KEY, create_app
from meshkit.config import Settings
from meshkit.discovery import Directory
from meshkit.http.server import app_runner
from meshkit.plugins import PluginManager
from meshkit.redis import open_redis
from meshkit.resilience import BreakerPolicy, BreakerRegistry
from meshkit.security import keyring_for
from meshkit.service import Service

log = logging.getLogger("meshkit.runtime")


@dataclass
class Running:
    """A started service: its instance, runner and the address it listens on."""

    service: Service
    runner: web.AppRunner
    host: str
    port: int
    grpc_port: int | None = None

    @property
    def url(self) -> str:
        """Base URL of the service."""
        return f"http://{self.host}:{self.port}"


def resolve(pm: PluginManager, names: Sequence[str]) -> list[str]:
    """Expand ``all`` and check every name (``UnknownService`` otherwise); keep order."""
    known = pm.services()
    chosen: list[str] = []
    for name in names:
        expanded = (
            sorted(known, key=lambda n: known[n].cls.default_port) if name == "all" else [name]
        )
        for one in expanded:
            pm.service(one)
            if one not in chosen:
                chosen.append(one)
    return chosen


class Runtime:
    """Starts and stops a set of services in the current event loop."""

    def __init__(
        self,
        settings: Settings,
        pm: PluginManager,
        names: Sequence[str],
        *,
        host: str | None = None,
        ports: Mapping[str, int] | None = None,
    ) -> None:
        self.settings = settings
        self.pm = pm
        self.names = resolve(pm, names)
        self.host = host or settings.host
        overrides = dict(ports or {})
        self.ports = {
            name: overrides.get(name, settings.port_for(name, pm.service(name).cls.default_port))
            for name in self.names
        }
        self.running: list[Running] = []
        self._runners: list[web.AppRunner] = []
        self._stack = contextlib.AsyncExitStack()

    async def start(self) -> list[Running]:
        """Open shared resources and start every service; on failure undo what started."""
        try:
            services = [self.pm.service(name).cls(self.settings) for name in self.names]
            # those that front the others (the gateway) listen last: see Service.start_last
            services.sort(key=lambda service: service.start_last)
            redis = None
            if any("redis" in service.needs for service in services):
                redis = await self._stack.enter_async_context(open_redis(self.settings))
            defaults = {name: info.cls.default_port for name, info in self.pm.services().items()}
            directory = Directory(self.settings, defaults)
            breakers = BreakerRegistry(BreakerPolicy.from_settings(self.settings))
            keyring = keyring_for(self.settings)
            for service in services:
                port = self.ports[service.name]
                app = create_app(
                    service,
                    pm=self.pm,
                    redis=redis,
                    grpc=(self.host, service.grpc_port_for(port)),
                    directory=directory,
                    breakers=breakers,
                    keyring=keyring,
                )
                runner = app_runner(
                    app,
                    access_log=None,
                    handle_signals=False,
                    shutdown_timeout=self.settings.shutdown_timeout,
                )
                await runner.setup()
                self._runners.append(runner)
                site = web.TCPSite(runner, self.host, port, reuse_address=True)
                await site.start()
                bound = _bound_port(runner, port)
                grpc_port = app[GRPC_KEY].port
                directory.register_local(service.name, "http", self.host, bound)
                if grpc_port is not None:
                    directory.register_local(service.name, "grpc", self.host, grpc_port)
                self.running.append(Running(service, runner, self.host, bound, grpc_port))
                log.info(
                    "%s listening on http://%s:%d",
                    service.name,
                    self.host,
                    bound,
                    extra={"service": service.name, "port": bound, "grpc_port": grpc_port},
                )
        except BaseException:
            await self.stop()
            raise
        return self.running

    async def stop(self) -> None:
        """Stop accepting, drain, tear down every service, close shared resources.

        In phases, across all services of the process at once: stop accepting HTTP;
        wait for in-flight HTTP requests; then drain the gRPC servers. A request that is
        draining can still call a service in the same process, whose gRPC server only
        refuses new calls once no HTTP request of the process is left.
        """
        for item in self.running:
            item.service.draining = True
        runners, self._runners = self._runners, []
        timeout = self.settings.shutdown_timeout
        await asyncio.gather(
            *(site.stop() for runner in runners for site in list(runner.sites)),
            return_exceptions=True,
        )
        try:
            await asyncio.wait_for(
                asyncio.gather(*(item.service.metrics.wait_idle() for item in self.running)),
                timeout,
            )
        except TimeoutError:
            log.warning("HTTP requests still running after %.1fs; stopping anyway", timeout)
        servers = [
            server
            for runner in runners
            if isinstance(runner, web.AppRunner)
            and (server := runner.app[GRPC_KEY].server) is not None
        ]
        await asyncio.gather(*(server.stop() for server in servers), return_exceptions=True)
        results = await asyncio.gather(
            *(runner.cleanup() for runner in runners), return_exceptions=True
        )
        for result in results:
            if isinstance(result, BaseException):
                log.error("a service failed to stop cleanly", exc_info=result)
        self.running.clear()
        await self._stack.aclose()


def _bound_port(runner: web.AppRunner, requested: int) -> int:
    """The port actually bound (differs from ``requested`` when it was 0)."""
    for address in runner.addresses:
        if isinstance(address, tuple) and len(address) >= 2:
            return int(address[1])
    return requested


async def serve(
    settings: Settings,
    pm: PluginManager,
    names: Sequence[str],
    *,
    host: str | None = None,
    ports: Mapping[str, int] | None = None,
    stop: asyncio.Event | None = None,
) -> None:
    """Run ``names`` until SIGINT/SIGTERM (or ``stop`` is set), then shut down cleanly."""
    runtime = Runtime(settings, pm, names, host=host, ports=ports)
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    installed: list[signal.Signals] = []
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signum, stop.set)
            installed.append(signum)
    try:
        await runtime.start()
        # What start-up built (settings, schemas, OpenAPI documents, plugins) lives as long
        # as the process: move it out of the collector's sight, so full collections scan
        # only what requests allocate and stay short (tail latency).
        gc.collect()
        gc.freeze()
        await stop.wait()
        log.info("stopping: draining in-flight requests", extra={"services": runtime.names})
    finally:
        for signum in installed:
            loop.remove_signal_handler(signum)
        await runtime.stop()
        log.info("stopped")
