"""The service base: a plain class that declares what it serves and what it needs.

A service names itself, picks a default port, declares routes with the
:mod:`meshkit.http` decorators and lists the dependencies it needs (``store``,
``redis``). The runtime injects those before :meth:`Service.lifespan` runs, and the app
factory (:mod:`meshkit.app`) adds health, readiness, metrics and OpenAPI to every
service, so a service only writes its own domain.
"""

from __future__ import annotations

import inspect
import re
import uuid
from collections.abc import AsyncIterator, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from meshkit.affinity import Affinity
from meshkit.config import Settings
from meshkit.http.routing import ROUTE_ATTR, RouteSpec

if TYPE_CHECKING:
    from aiohttp import web
    from redis.asyncio import Redis

    from meshkit.events import EventBus
    from meshkit.observability import HttpMetrics
    from meshkit.plugins import PluginManager
    from meshkit.rpc import RpcClients
    from meshkit.security import KeyRing
    from meshkit.store import Document, Store
    from meshkit.tokens import JwksSource, TokenVerifier

Need = Literal["store", "redis"]
SERVICE_NAME = re.compile(r"^[a-z][a-z0-9_]{0,31}$")


class ServiceNotStarted(RuntimeError):
    """A dependency was used before the runtime injected it, or was never declared."""


class Service:
    """Base class of every meshkit service (built-in or from a plugin).

    Subclasses set the class attributes below and declare routes as decorated methods.
    One instance serves one process; its dependencies are available from
    :meth:`lifespan` on.
    """

    name: ClassVar[str]
    """Unique lower-case name; also the CLI name and the ``MESHKIT_<NAME>_PORT`` variable."""
    default_port: ClassVar[int]
    """Port used when ``MESHKIT_<NAME>_PORT`` is not set."""
    title: ClassVar[str] = ""
    """Human title of the OpenAPI document."""
    description: ClassVar[str] = ""
    """What the service does, for ``meshkit services`` and the OpenAPI document."""
    version: ClassVar[str] = "0.1.0"
    """Version of the service's API (OpenAPI ``info.version``)."""
    needs: ClassVar[frozenset[Need]] = frozenset({"store", "redis"})
    """Dependencies the runtime must provide; readiness checks exactly these."""
    documents: ClassVar[tuple[type[Document], ...]] = ()
    """Document classes whose collections and indexes are ensured at start."""
    gateway_prefixes: ClassVar[tuple[str, ...]] = ()
    """Path prefixes the gateway routes here besides the paths of the OpenAPI document
    (endpoints outside OpenAPI, such as ``/socket.io``)."""
    affinities: ClassVar[tuple[Affinity, ...]] = ()
    """Requests that must reach the instance owning what they are about (a voice room):
    the gateway routes them there (:mod:`meshkit.affinity`)."""
    start_last: ClassVar[bool] = False
    """Start after the other services of the same process (``meshkit run all``). For a
    service that calls the others from its first request on, like the gateway: by the
    time it listens, they do, and its first health checks find them up."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.instance_id = uuid.uuid4().hex
        """This process's instance of the service: in ``/healthz``, and what
        :mod:`meshkit.affinity` owner records name."""
        self.draining = False
        self._store: Store | None = None
        self._redis: Redis | None = None
        self._metrics: HttpMetrics | None = None
        self._rpc: RpcClients | None = None
        self._events: EventBus | None = None
        self._keyring: KeyRing | None = None
        self._plugins: PluginManager | None = None
        self._tokens: TokenVerifier | None = None

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        if inspect.isabstract(cls) or "name" not in cls.__dict__:
            return
        if not SERVICE_NAME.match(cls.name):
            raise ValueError(f"service name {cls.name!r} must match {SERVICE_NAME.pattern}")

    @property
    def port(self) -> int:
        """The port from ``MESHKIT_<NAME>_PORT`` or :attr:`default_port`."""
        return self.settings.port_for(self.name, self.default_port)

    @property
    def store(self) -> Store:
        """This service's own document store (its own SQLite file or Mongo database)."""
        if self._store is None:
            raise ServiceNotStarted(f"{self.name}: the store is not available (needs: store?)")
        return self._store

    @property
    def redis(self) -> Redis:
        """The process-wide Redis client."""
        if self._redis is None:
            raise ServiceNotStarted(f"{self.name}: Redis is not available (needs: redis?)")
        return self._redis

    @property
    def metrics(self) -> HttpMetrics:
        """The service's metrics; register further collectors on ``metrics.registry``."""
        if self._metrics is None:
            raise ServiceNotStarted(f"{self.name}: metrics exist once the app is built")
        return self._metrics

    @property
    def rpc(self) -> RpcClients:
        """Typed gRPC stubs to other services: ``self.rpc.stub(AuthServiceStub, "auth")``."""
        if self._rpc is None:
            raise ServiceNotStarted(f"{self.name}: RPC clients exist once the app is built")
        return self._rpc

    @property
    def events(self) -> EventBus:
        """The event bus: ``await self.events.publish(SomethingHappened(...))``."""
        if self._events is None:
            raise ServiceNotStarted(f"{self.name}: the event bus needs Redis (needs: redis?)")
        return self._events

    @property
    def keyring(self) -> KeyRing:
        """The service API keys this service accepts on internal calls."""
        if self._keyring is None:
            raise ServiceNotStarted(f"{self.name}: the key ring exists once the app is built")
        return self._keyring

    @property
    def plugins(self) -> PluginManager:
        """The plugin manager, for a service's own domain hooks."""
        if self._plugins is None:
            raise ServiceNotStarted(f"{self.name}: plugins are known once the app is built")
        return self._plugins

    @property
    def tokens(self) -> TokenVerifier:
        """Verifies access tokens (what a ``Principal`` handler parameter uses)."""
        if self._tokens is None:
            raise ServiceNotStarted(f"{self.name}: the token verifier exists once started")
        return self._tokens

    async def readiness_checks(self) -> dict[str, str]:
        """Checks ``/readyz`` runs besides the declared needs: name to ``"ok"`` or why not.

        The service is ready only when every value is ``"ok"``; the others are listed in
        the 503 problem document. Keep them quick and local (no call that can hang: the
        probe itself is bounded). The default adds none.
        """
        return {}

    def jwks_source(self) -> JwksSource | None:
        """Where this service gets the keys that verify access tokens.

        ``None`` (the default) means: ``MESHKIT_JWKS_URL``, or the auth service's JWKS
        found through discovery. The auth service answers with its own key set.
        """
        return None

    def inject(
        self,
        *,
        store: Store | None = None,
        redis: Redis | None = None,
        metrics: HttpMetrics | None = None,
        rpc: RpcClients | None = None,
        events: EventBus | None = None,
        keyring: KeyRing | None = None,
        plugins: PluginManager | None = None,
        tokens: TokenVerifier | None = None,
    ) -> None:
        """Called by the app factory and runtime; services do not call it."""
        if plugins is not None:
            self._plugins = plugins
        if tokens is not None:
            self._tokens = tokens
        if store is not None:
            self._store = store
        if redis is not None:
            self._redis = redis
        if metrics is not None:
            self._metrics = metrics
        if rpc is not None:
            self._rpc = rpc
        if events is not None:
            self._events = events
        if keyring is not None:
            self._keyring = keyring

    def servicers(self) -> Sequence[Any]:
        """gRPC servicers (generated ``...Base`` subclasses) served on :attr:`grpc_port`.

        The default serves none, and then no gRPC server is started.
        """
        return ()

    def grpc_port_for(self, http_port: int) -> int:
        """``MESHKIT_<NAME>_GRPC_PORT``, else ``http_port`` plus the gRPC port offset."""
        return self.settings.grpc_port_for(self.name, http_port)

    def setup_app(self, app: web.Application) -> None:
        """Last step of building the service's app: add what routes cannot express.

        Called once, after every route, middleware and ``cleanup_ctx`` entry is in place
        and before the app starts (a Socket.IO server attaching itself, CORS, catch-all
        routes). The default does nothing.
        """

    def routes(self) -> list[RouteSpec]:
        """The routes declared on this class and its bases, bound to this instance."""
        found: dict[str, RouteSpec] = {}
        for klass in reversed(type(self).__mro__):
            for attr, value in vars(klass).items():
                spec = getattr(value, ROUTE_ATTR, None)
                if isinstance(spec, RouteSpec):
                    found[attr] = spec.bound_to(getattr(self, attr))
        return list(found.values())

    async def lifespan(self) -> AsyncIterator[None]:
        """Set up before serving, ``yield``, tear down after the last request.

        Runs inside the app's ``cleanup_ctx`` after the store and Redis are injected.
        Override as an async generator; the default does nothing.
        """
        yield

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r} port={self.default_port}>"
