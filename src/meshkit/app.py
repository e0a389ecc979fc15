"""The app factory: one ``web.Application`` per service, with everything it gets for free.

``create_app`` wires the edge middleware, the service's and plugins' routes, the
framework endpoints (``/healthz``, ``/readyz``, ``/metrics``, ``/openapi.json``) and the
``cleanup_ctx`` chain that connects the store and Redis, runs the service's lifespan
and calls the startup/shutdown hooks — in that order, and the reverse on the way down.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
from collections.abc import AsyncIterator, Awaitable
from typing import Any, cast

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from redis.asyncio import Redis

from meshkit.errors import ServiceUnavailable
from meshkit.http.binding import Binding, bind, compile_handler
from meshkit.http.middleware import Middleware, edge_middleware
from meshkit.http.openapi import build_openapi
from meshkit.http.problems import problem_response
from meshkit.http.routing import RouteSpec, get, route_of
from meshkit.observability import HttpMetrics
from meshkit.plugins import PluginManager
from meshkit.redis import open_redis
from meshkit.service import Service
from meshkit.store import open_store

SERVICE_KEY = web.AppKey("meshkit.service", Service)
OPENAPI_KEY = web.AppKey("meshkit.openapi", dict)
READINESS_TIMEOUT = 2.0

log = logging.getLogger("meshkit.app")


def _framework_routes(service: Service, document: dict[str, Any]) -> list[RouteSpec]:
    """``/healthz``, ``/readyz``, ``/metrics``, ``/openapi.json`` for ``service``."""

    @get("/healthz", include_in_schema=False)
    async def healthz() -> web.Response:
        """Liveness: the process answers."""
        return web.json_response({"status": "ok", "service": service.name})

    @get("/readyz", include_in_schema=False)
    async def readyz() -> web.Response:
        """Readiness: the store and Redis this service needs answer, and it is not draining."""
        checks = await readiness(service)
        if service.draining:
            checks["draining"] = "stopping: not accepting new work"
        if all(value == "ok" for value in checks.values()):
            return web.json_response({"status": "ready", "service": service.name, "checks": checks})
        problem = ServiceUnavailable(f"{service.name} is not ready", extensions={"checks": checks})
        return problem_response(problem, "/readyz")

    @get("/metrics", include_in_schema=False)
    async def metrics() -> web.Response:
        """Prometheus text exposition of this service's registry."""
        payload = generate_latest(service.metrics.registry)
        return web.Response(body=payload, headers={"Content-Type": CONTENT_TYPE_LATEST})

    @get("/openapi.json", include_in_schema=False)
    async def openapi() -> web.Response:
        """The service's OpenAPI 3.1 document."""
        return web.json_response(document)

    return [route_of(handler) for handler in (healthz, readyz, metrics, openapi)]


async def _check(name: str, probe: Awaitable[Any]) -> tuple[str, str]:
    try:
        await asyncio.wait_for(probe, READINESS_TIMEOUT)
    except TimeoutError:
        return name, f"timed out after {READINESS_TIMEOUT}s"
    except Exception as exc:
        return name, f"unreachable: {type(exc).__name__}"
    return name, "ok"


async def readiness(service: Service) -> dict[str, str]:
    """Probe each dependency the service declared, concurrently and with a timeout."""
    probes = []
    if "store" in service.needs:
        probes.append(_check("store", service.store.ping()))
    if "redis" in service.needs:
        probes.append(_check("redis", service.redis.ping()))
    return dict(await asyncio.gather(*probes))


def _plugin_routes(service: Service, pm: PluginManager) -> list[RouteSpec]:
    specs: list[RouteSpec] = []
    for handlers in pm.hook.meshkit_routes(service=service):
        specs.extend(route_of(handler) for handler in handlers or ())
    return specs


def service_bindings(service: Service, pm: PluginManager | None) -> list[Binding]:
    """Bindings of the service's own and plugin-added routes (not framework routes)."""
    specs = service.routes() + (_plugin_routes(service, pm) if pm is not None else [])
    return [bind(spec, (Service,)) for spec in specs]


def openapi_document(service: Service, pm: PluginManager | None = None) -> dict[str, Any]:
    """The service's OpenAPI document, built without starting anything."""
    return build_openapi(
        service=service.name,
        title=service.title or f"meshkit {service.name}",
        version=service.version,
        description=service.description,
        bindings=service_bindings(service, pm),
    )


async def _maybe_await(value: Awaitable[None] | None) -> None:
    if inspect.isawaitable(value):
        await value


def create_app(
    service: Service,
    *,
    pm: PluginManager | None = None,
    redis: Redis | None = None,
) -> web.Application:
    """Build the aiohttp application serving ``service``.

    :param pm: plugin manager whose route, middleware and lifecycle hooks apply.
    :param redis: a shared client (the runtime passes one per process); when ``None``
        and the service needs Redis, the app opens its own on start.
    """
    settings = service.settings
    metrics = HttpMetrics(service.name)
    service.inject(metrics=metrics)
    extra_middlewares: list[Middleware] = []
    if pm is not None:
        for group in pm.hook.meshkit_middlewares(service=service):
            extra_middlewares.extend(group or ())
    app = web.Application(
        middlewares=[edge_middleware(service.name, metrics), *extra_middlewares],
        client_max_size=settings.max_body_size,
    )
    app[SERVICE_KEY] = service
    bindings = service_bindings(service, pm)
    document = openapi_document(service, pm)
    app[OPENAPI_KEY] = document
    context = {type(service): service}
    framework = [bind(spec) for spec in _framework_routes(service, document)]
    for binding in [*framework, *bindings]:
        app.router.add_route(
            binding.spec.method,
            binding.spec.path,
            compile_handler(binding, settings.max_body_size, context),
            name=f"{binding.spec.method.lower()}:{binding.spec.operation_id or binding.spec.name}",
        )

    async def resources(app: web.Application) -> AsyncIterator[None]:
        async with contextlib.AsyncExitStack() as stack:
            if "redis" in service.needs:
                client = redis
                if client is None:
                    client = await stack.enter_async_context(open_redis(settings))
                service.inject(redis=client)
            if "store" in service.needs:
                store = await open_store(settings, service=service.name)
                stack.push_async_callback(store.close)
                if service.documents:
                    await store.ensure_indexes(list(service.documents))
                service.inject(store=store)
            yield

    async def lifespan(app: web.Application) -> AsyncIterator[None]:
        async with contextlib.asynccontextmanager(service.lifespan)():
            yield

    async def hooks(app: web.Application) -> AsyncIterator[None]:
        if pm is not None:
            for result in pm.hook.meshkit_startup(service=service):
                await _maybe_await(result)
        log.info("service %s started", service.name, extra={"service": service.name})
        yield
        service.draining = True
        if pm is not None:
            for impl in pm.hook.meshkit_shutdown.get_hookimpls():
                try:
                    await _maybe_await(cast(Awaitable[None] | None, impl.function(service=service)))
                except Exception:
                    log.exception("shutdown hook of plugin %s failed", impl.plugin_name)

    app.cleanup_ctx.extend([resources, lifespan, hooks])
    return app
