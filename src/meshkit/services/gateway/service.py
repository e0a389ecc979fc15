"""The gateway service: the one address clients talk to (see ``docs/gateway.md``)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any, ClassVar

import aiohttp
import aiohttp_cors
from aiohttp import web
from redis.exceptions import RedisError

from meshkit import Service, get
from meshkit.affinity import OWNER_PREFIX, Affinity, affinity_key
from meshkit.errors import MethodNotAllowed, NotFound
from meshkit.http.patterns import parse_classes, parse_patterns
from meshkit.observability import ThrottledLog
from meshkit.security import local_service_key
from meshkit.service import Need, ServiceNotStarted
from meshkit.services.gateway.access import AccessControl
from meshkit.services.gateway.docs import TITLE, ApiDocs, installed_documents
from meshkit.services.gateway.metrics import UpstreamMetrics
from meshkit.services.gateway.proxy import Placement, Proxy, ProxyPolicy, client_address
from meshkit.services.gateway.ratelimit import RateLimiter, parse_policies
from meshkit.services.gateway.routes import RouteTable
from meshkit.services.gateway.settings import GatewaySettings
from meshkit.services.gateway.swagger import swagger_routes
from meshkit.services.gateway.upstreams import Upstreams
from meshkit.services.gateway.websocket import is_websocket, proxy_websocket

log = logging.getLogger("meshkit.gateway")
PROXY_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}
STICKY_SEGMENT = "socket.io"


class GatewayService(Service):
    """Single entry point: routing, load balancing, JWT validation, rate limiting, OpenAPI docs."""

    name = "gateway"
    default_port = 3000
    title = "meshkit gateway"
    description = (
        "Single entry point: routing, load balancing, JWT validation, rate limiting, OpenAPI docs."
    )
    needs: ClassVar[frozenset[Need]] = frozenset({"redis"})
    start_last: ClassVar[bool] = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.config = self.settings.section(GatewaySettings)
        self.table = RouteTable()
        self._upstreams: Upstreams | None = None
        self._proxy: Proxy | None = None
        self._access: AccessControl | None = None
        self._docs: ApiDocs | None = None
        self._affinities: dict[str, tuple[Affinity, ...]] = {}
        self._owner_log = ThrottledLog(log, 30.0)

    def installed_documents(self) -> tuple[dict[str, dict[str, Any]], dict[str, tuple[str, ...]]]:
        """OpenAPI documents and extra prefixes of every installed service but this one."""
        return installed_documents(self.settings, self.plugins, exclude=self.name)

    @property
    def upstreams(self) -> Upstreams:
        """Instances and health of every routed service."""
        if self._upstreams is None:
            raise ServiceNotStarted("the gateway's upstreams exist once it started")
        return self._upstreams

    async def lifespan(self) -> AsyncIterator[None]:
        """Build the route table, open the upstream session, start checks and doc refresh."""

        config = self.config
        documents, prefixes = self.installed_documents()
        self.table = RouteTable.build(documents, prefixes, config.routes)
        self._affinities = {
            name: info.cls.affinities for name, info in self.plugins.services().items()
        }
        policies = parse_policies(config.rate_limits)
        self._access = AccessControl(
            verifier=self.tokens,
            public=parse_patterns(config.public_routes, setting="MESHKIT_GATEWAY_PUBLIC_ROUTES"),
            classes=parse_classes(
                config.rate_limit_routes, setting="MESHKIT_GATEWAY_RATE_LIMIT_ROUTES"
            ),
            policies=policies,
            limiter=RateLimiter(
                self.redis,
                fail_open=config.rate_limit_fail_open,
                registry=self.metrics.registry,
            )
            if policies
            else None,
            revocation_fail_open=config.revocation_fail_open,
            registry=self.metrics.registry,
        )
        connector = aiohttp.TCPConnector(limit=0, limit_per_host=0, keepalive_timeout=30)
        async with aiohttp.ClientSession(
            connector=connector, auto_decompress=False, cookie_jar=aiohttp.DummyCookieJar()
        ) as session:
            self._proxy = Proxy(
                session,
                ProxyPolicy(
                    connect_timeout=config.connect_timeout,
                    read_timeout=config.read_timeout,
                    max_body_size=config.max_body_size,
                    retry_body_limit=config.retry_body_limit,
                    api_key=local_service_key(self.settings),
                    trust_forwarded=config.trust_forwarded,
                ),
            )
            self._upstreams = Upstreams(
                self.rpc.directory,
                self.rpc.breakers,
                strategy=config.balancing,
                health_interval=config.health_interval,
                health_timeout=config.health_timeout,
                unhealthy_threshold=config.unhealthy_threshold,
                starting_interval=config.starting_interval,
                metrics=UpstreamMetrics(self.name, self.metrics.registry),
            )
            routed = self.table.services()
            await self._upstreams.start_health_checks(session, routed)
            self._docs = ApiDocs(
                self.upstreams,
                session,
                fallback=documents,
                routed=routed,
                interval=config.docs_refresh_interval,
                version=self.version,
            )
            refresher = asyncio.create_task(
                self._docs.refresh_forever() if self._docs else asyncio.sleep(0)
            )
            try:
                yield
            finally:
                refresher.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await refresher
                await self._upstreams.stop()

    async def readiness_checks(self) -> dict[str, str]:
        """``upstream:<service>`` per routed service: ``ok`` once one of its instances has
        been up since this gateway started (``docs/gateway.md`` says why only then)."""
        if self._upstreams is None:
            return {"upstreams": "not started"}
        return self._upstreams.readiness(self.table.services())

    @get("/openapi.json", include_in_schema=False)
    async def openapi(self) -> web.Response:
        """The merged OpenAPI 3.1 document of every routed service."""
        if self._docs is None:
            raise ServiceNotStarted("the gateway's documents exist once it started")
        return web.json_response(await self._docs.document())

    async def proxy(self, request: web.Request) -> web.StreamResponse:
        """Everything not served by the gateway itself: check, limit, forward.

        A method the route table knows the upstream route does not serve is answered
        405 with that route's ``Allow`` here, before any token check: the answer
        reveals nothing a client could not read in ``/openapi.json``, and a 401 would
        send it looking for a token that cannot help. ``OPTIONS`` on a documented path
        is answered 204 with the same ``Allow`` (a CORS preflight, when CORS is on,
        is aiohttp-cors's). On paths outside the documents (``/socket.io``) the
        standard methods are forwarded and the upstream answers.
        """
        if self._proxy is None or self._access is None:
            raise ServiceNotStarted("the gateway is not started")
        service = self.table.match(request.path, request.rel_url.raw_path)
        if service is None:
            raise NotFound(f"no service serves {request.path}")
        allowed = self.table.allowed_methods(service, request.path)
        if allowed is not None:
            allowed |= {"OPTIONS"}  # answered here, below
            if request.method == "OPTIONS":
                return web.Response(status=204, headers={"Allow": _allow(allowed)})
        elif request.method in PROXY_METHODS or request.method == "OPTIONS":
            allowed = None  # outside the documents: the upstream judges
        else:
            allowed = frozenset({*PROXY_METHODS, "OPTIONS"})
        if allowed is not None and request.method not in allowed:
            raise MethodNotAllowed(
                f"{request.method} is not allowed on {request.path}; allowed: {_allow(allowed)}",
                extensions={"allowed": sorted(allowed)},
                headers={"Allow": _allow(allowed)},
            )
        client = client_address(request, self.config.trust_forwarded)
        headers = await self._access.admit(request, client)
        pool = self.upstreams.pool(service)
        sticky = STICKY_SEGMENT in request.path.split("/")
        place = await self._placement(service, request)
        if is_websocket(request):
            return await proxy_websocket(request, pool, self._proxy, sticky=sticky, place=place)
        return await self._proxy.forward(
            request, pool, sticky=sticky, extra_headers=headers, place=place
        )

    async def _placement(self, service: str, request: web.Request) -> Placement | None:
        """Where a request about an owned thing must go (:mod:`meshkit.affinity`): the
        owner if Redis names one; without Redis, the hashed choice every gateway makes."""
        key = affinity_key(self._affinities.get(service, ()), request.path, request.query)
        if key is None:
            return None
        owner = None
        try:
            raw = await self.redis.get(f"{OWNER_PREFIX}{service}:{key}")
            owner = raw.decode() if isinstance(raw, bytes) else raw
        except (RedisError, OSError) as exc:
            self._owner_log.warning("cannot read who owns %s (%r): routing by hash", key, exc)
        return Placement(key, owner)

    def setup_app(self, app: web.Application) -> None:
        """Swagger UI, the catch-all proxy routes, CORS and security headers."""
        app.router.add_routes(swagger_routes(title=TITLE))
        for method in PROXY_METHODS:
            app.router.add_route(method, "/{path:.*}", self.proxy)
        origins = [o.strip() for o in self.config.cors_origins.split(",") if o.strip()]
        if origins:
            cors = aiohttp_cors.setup(
                app,
                defaults={
                    origin: aiohttp_cors.ResourceOptions(  # type: ignore[no-untyped-call]
                        allow_credentials=origin != "*",
                        expose_headers="*",
                        allow_headers="*",
                        max_age=600,
                    )
                    for origin in origins
                },
            )
            for route in list(app.router.routes()):
                cors.add(route)
        # any other method (OPTIONS without CORS, PROPFIND, TRACE, …) reaches the proxy
        # too, which answers with the upstream route's real Allow: aiohttp's own 405
        # would list the catch-all's methods
        app.router.add_route("*", "/{path:.*}", self.proxy)
        app.on_response_prepare.append(_security_headers)


def _allow(methods: frozenset[str] | set[str]) -> str:
    return ", ".join(sorted(methods))


async def _security_headers(request: web.Request, response: web.StreamResponse) -> None:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if request.secure:  # TLS here (a client-sent X-Forwarded-Proto proves nothing)
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
