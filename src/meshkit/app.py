"""The app factory: one ``web.Application`` per service, with everything it gets for free.

``create_app`` wires the edge middleware, the service's and plugins' routes, the
framework endpoints (``/healthz``, ``/readyz``, ``/metrics``, ``/openapi.json``) and the
``cleanup_ctx`` chain that connects the store, Redis and the event bus, runs the
service's lifespan, starts its event consumer, calls the startup hooks and starts its
gRPC server — in that order, and the reverse on the way down (the runtime drains gRPC
earlier, once every service of the process has drained its HTTP requests).
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from redis.asyncio import Redis

from meshkit.discovery import Directory
from meshkit.errors import ServiceUnavailable
from meshkit.events import Consumer, EventBus, handlers_of
from meshkit.http.binding import Binding, PerRequest, bind, compile_handler
from meshkit.http.middleware import Middleware, edge_middleware
from meshkit.http.openapi import build_openapi
from meshkit.http.problems import problem_response
from meshkit.http.routing import RouteSpec, get, route_of
from meshkit.observability import HttpMetrics, RpcMetrics
from meshkit.plugins import PluginManager, each_result, get_plugin_manager
from meshkit.redis import open_redis
from meshkit.resilience import BreakerRegistry
from meshkit.rpc import RpcClients, RpcServer
from meshkit.security import API_KEY_HEADER, SYNC_EVERY, KeyRing, keyring_for
from meshkit.service import Service
from meshkit.store import open_store
from meshkit.tokens import (
    CallableJwks,
    HttpJwks,
    JwksSource,
    Principal,
    TokenVerifier,
    bearer_token,
)

SERVICE_KEY = web.AppKey("meshkit.service", Service)
OPENAPI_KEY = web.AppKey("meshkit.openapi", dict)


@dataclass
class GrpcEndpoint:
    """The service's gRPC server once started (``port`` is the bound port)."""

    server: RpcServer | None = None
    port: int | None = None


GRPC_KEY = web.AppKey("meshkit.grpc", GrpcEndpoint)
READINESS_TIMEOUT = 2.0

log = logging.getLogger("meshkit.app")


def _framework_routes(service: Service, document: dict[str, Any]) -> list[RouteSpec]:
    """``/healthz``, ``/readyz``, ``/metrics``, ``/openapi.json`` for ``service``."""

    @get("/healthz", include_in_schema=False)
    async def healthz() -> web.Response:
        """Liveness: the process answers."""
        return web.json_response(
            {"status": "ok", "service": service.name, "instance": service.instance_id}
        )

    @get("/readyz", include_in_schema=False)
    async def readyz() -> web.Response:
        """Readiness: the store and Redis this service needs answer, the service's own
        :meth:`~meshkit.service.Service.readiness_checks` pass, and it is not draining."""
        checks = await readiness(service)
        if service.draining:
            checks["draining"] = "stopping: not accepting new work"
        not_ready = sorted(name for name, value in checks.items() if value != "ok")
        if not not_ready:
            return web.json_response(
                {
                    "status": "ready",
                    "service": service.name,
                    "instance": service.instance_id,
                    "checks": checks,
                }
            )
        problem = ServiceUnavailable(
            f"{service.name} is not ready: {', '.join(not_ready)}",
            extensions={"checks": checks, "not_ready": not_ready},
        )
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
    """Probe each dependency the service declared, concurrently and with a timeout, then
    the service's own checks (bounded by the same timeout)."""
    probes = []
    if "store" in service.needs:
        probes.append(_check("store", service.store.ping()))
    if "redis" in service.needs:
        probes.append(_check("redis", service.redis.ping()))
    checks = dict(await asyncio.gather(*probes))
    try:
        async with asyncio.timeout(READINESS_TIMEOUT):
            checks.update(await service.readiness_checks())
    except Exception as exc:  # a broken check must read "not ready", not answer 500
        checks[service.name] = f"readiness check failed: {type(exc).__name__}"
    return checks


def _plugin_routes(service: Service, pm: PluginManager) -> list[RouteSpec]:
    specs: list[RouteSpec] = []
    for handlers in pm.hook.meshkit_routes(service=service):
        specs.extend(route_of(handler) for handler in handlers or ())
    return specs


def service_bindings(service: Service, pm: PluginManager | None) -> list[Binding]:
    """Bindings of the service's own and plugin-added routes (not framework routes)."""
    specs = service.routes() + (_plugin_routes(service, pm) if pm is not None else [])
    return [bind(spec, (Service, Principal)) for spec in specs]


def openapi_document(service: Service, pm: PluginManager | None = None) -> dict[str, Any]:
    """The service's OpenAPI document, built without starting anything."""
    return build_openapi(
        service=service.name,
        title=service.title or f"meshkit {service.name}",
        version=service.version,
        description=service.description,
        bindings=service_bindings(service, pm),
    )


def _require_service_key(
    service: Service, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """Guard an internal route: the caller must present an accepted service API key."""

    async def guarded(request: web.Request) -> web.StreamResponse:
        service.keyring.require(request.headers.get(API_KEY_HEADER), service.name)
        return await handler(request)

    guarded.__name__ = getattr(handler, "__name__", "internal")
    return guarded


def rpc_clients_for(
    service: Service,
    metrics: HttpMetrics,
    *,
    pm: PluginManager | None,
    directory: Directory | None = None,
    breakers: BreakerRegistry | None = None,
) -> RpcClients:
    """The client stack of ``service``: shared discovery/breakers when given."""
    if directory is None:
        known = pm.services() if pm is not None else {}
        directory = Directory(service.settings, {n: i.cls.default_port for n, i in known.items()})
    return RpcClients.for_settings(
        service.settings,
        caller=service.name,
        registry=metrics.registry,
        directory=directory,
        breakers=breakers,
    )


def default_jwks_source(service: Service) -> JwksSource:
    """``MESHKIT_JWKS_URL``, else the auth service's JWKS through discovery."""
    if service.settings.jwks_url:
        return HttpJwks(service.settings.jwks_url)

    async def from_auth() -> dict[str, Any]:
        answer = await service.rpc.rest("auth").request("GET", "/.well-known/jwks.json")
        document: dict[str, Any] = answer.raise_for_status().json()
        return document

    return CallableJwks(from_auth)


async def _keep_keyring_synced(service: Service) -> None:
    """Follow the API keys the auth service issues and revokes (see meshkit.security)."""
    while True:
        await asyncio.sleep(SYNC_EVERY)
        try:
            await service.keyring.sync(service.redis)
        except Exception as exc:  # Redis away: keep the last known keys, try again
            log.warning("could not refresh service API keys: %s", exc)


async def _maybe_await(value: Awaitable[None] | None) -> None:
    if inspect.isawaitable(value):
        await value


def create_app(
    service: Service,
    *,
    pm: PluginManager | None = None,
    redis: Redis | None = None,
    grpc: tuple[str, int] | None = None,
    directory: Directory | None = None,
    breakers: BreakerRegistry | None = None,
    keyring: KeyRing | None = None,
) -> web.Application:
    """Build the aiohttp application serving ``service``.

    :param pm: plugin manager whose route, middleware and lifecycle hooks apply.
    :param redis: a shared client (the runtime passes one per process); when ``None``
        and the service needs Redis, the app opens its own on start.
    :param grpc: ``(host, port)`` for the service's gRPC server when it has servicers;
        ``None`` serves no gRPC (an in-process test client, for instance).
    :param directory: shared discovery, :param breakers: shared circuit breakers,
        :param keyring: shared accepted API keys; each is created when not given.
    """
    settings = service.settings
    metrics = HttpMetrics(service.name)
    clients = rpc_clients_for(service, metrics, pm=pm, directory=directory, breakers=breakers)
    service.inject(
        metrics=metrics,
        keyring=keyring or keyring_for(settings),
        rpc=clients,
        plugins=pm or get_plugin_manager(settings, load_entry_points=False),
    )
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

    async def authenticate(request: web.Request) -> Principal:
        return await service.tokens.verify(bearer_token(request.headers.get("Authorization")))

    context: dict[type, object] = {type(service): service, Principal: PerRequest(authenticate)}
    own = {(b.spec.method, b.spec.path) for b in bindings}
    framework = [
        bind(spec)
        for spec in _framework_routes(service, document)
        if (spec.method, spec.path) not in own  # a service may serve e.g. its own /openapi.json
    ]
    declared = own | {(b.spec.method, b.spec.path) for b in framework}
    for binding in [*framework, *bindings]:
        handler = compile_handler(binding, settings.max_body_size, context)
        if binding.spec.internal:
            handler = _require_service_key(service, handler)
        name = binding.spec.operation_id or binding.spec.name
        method, path = binding.spec.method, binding.spec.path
        app.router.add_route(method, path, handler, name=f"{method.lower()}:{name}")
        if method == "GET" and ("HEAD", path) not in declared:
            # RFC 9110 9.3.2: HEAD is GET without the body (aiohttp drops the body)
            app.router.add_route("HEAD", path, handler, name=f"head:{name}")

    async def resources(app: web.Application) -> AsyncIterator[None]:
        async with contextlib.AsyncExitStack() as stack:
            if "redis" in service.needs:
                client = redis
                if client is None:
                    client = await stack.enter_async_context(open_redis(settings))
                service.inject(
                    redis=client,
                    events=EventBus(
                        client, source=service.name, settings=settings, registry=metrics.registry
                    ),
                )
            stack.push_async_callback(clients.close)
            service.inject(
                tokens=TokenVerifier.for_settings(
                    settings,
                    service.jwks_source() or default_jwks_source(service),
                    redis=service.redis if "redis" in service.needs else None,
                )
            )
            if "redis" in service.needs:
                await service.keyring.sync(service.redis)
                syncing = asyncio.create_task(_keep_keyring_synced(service))
                stack.callback(syncing.cancel)
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

    async def consumer(app: web.Application) -> AsyncIterator[None]:
        handlers = handlers_of(service)
        if not handlers:
            yield
            return
        async with Consumer(service.events, group=service.name, handlers=handlers):
            yield

    endpoint = app[GRPC_KEY] = GrpcEndpoint()

    async def rpc_server(app: web.Application) -> AsyncIterator[None]:
        servicers = list(service.servicers())
        if grpc is None or not servicers:
            yield
            return
        server = RpcServer(
            service.name,
            servicers,
            keyring=service.keyring,
            metrics=RpcMetrics.of(service.name, metrics.registry),
            drain_timeout=settings.shutdown_timeout,
        )
        endpoint.port = await server.start(*grpc)
        endpoint.server = server
        log.info(
            "%s serving gRPC on %s:%d",
            service.name,
            grpc[0],
            endpoint.port,
            extra={"service": service.name, "grpc_port": endpoint.port},
        )
        yield
        await server.stop()
        endpoint.server = None

    async def hooks(app: web.Application) -> AsyncIterator[None]:
        if pm is not None:
            for result in pm.hook.meshkit_startup(service=service):
                await _maybe_await(result)
        log.info("service %s started", service.name, extra={"service": service.name})
        yield
        service.draining = True
        if pm is not None:
            await each_result(pm.hook.meshkit_shutdown, service=service)

    app.cleanup_ctx.extend([resources, lifespan, consumer, hooks, rpc_server])
    service.setup_app(app)
    return app
