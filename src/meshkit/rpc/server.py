"""A service's gRPC server: its servicers plus health and reflection, on its own port.

Every call goes through one wrapper that checks the caller's service API key (health
checks excepted, so orchestrators can probe without one), refuses new calls with
UNAVAILABLE while draining (clients retry elsewhere), turns a servicer's
:class:`~meshkit.errors.Problem` into the matching status, and counts the call in
``/metrics``. Stopping drains in-flight calls up to the shutdown timeout, then cancels.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from typing import Any, cast

from grpclib.const import Status
from grpclib.events import RecvRequest, listen
from grpclib.exceptions import GRPCError
from grpclib.health.check import ServiceStatus
from grpclib.health.service import OVERALL, Health
from grpclib.reflection.service import ServerReflection
from grpclib.server import Server, Stream

from meshkit.errors import Problem
from meshkit.observability import RpcMetrics
from meshkit.rpc.errors import DRAINING, grpc_error_of
from meshkit.security import API_KEY_METADATA, KeyRing

log = logging.getLogger("meshkit.rpc")
UNAUTHENTICATED_PREFIXES = ("/grpc.health.v1.Health/",)
CLOSE_TIMEOUT = 1.0


class RpcServer:
    """The grpclib server of one service."""

    def __init__(
        self,
        service: str,
        servicers: Sequence[Any],
        *,
        keyring: KeyRing,
        metrics: RpcMetrics,
        drain_timeout: float = 10.0,
    ) -> None:
        self.service = service
        self.keyring = keyring
        self.metrics = metrics
        self.drain_timeout = drain_timeout
        self.status = ServiceStatus()
        checks: dict[Any, list[ServiceStatus]] = {s: [self.status] for s in servicers}
        checks[OVERALL] = [self.status]
        self.servicers = list(servicers)
        handlers = ServerReflection.extend([*self.servicers, Health(checks)])
        self._server = Server(handlers)
        listen(self._server, RecvRequest, self._on_request)
        self._draining = False
        self._in_flight = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self.port: int | None = None

    async def start(self, host: str, port: int) -> int:
        """Listen on ``host:port`` (0 picks a free port); return the bound port."""
        await self._server.start(host, port)
        listening = cast(asyncio.Server | None, self._server._server)
        sockets = listening.sockets if listening is not None else ()
        self.port = int(sockets[0].getsockname()[1]) if sockets else port
        self.status.set(True)
        return self.port

    async def stop(self) -> None:
        """Refuse new calls, wait for in-flight ones (bounded), then close. Idempotent."""
        if self._draining:
            return
        self._draining = True
        self.status.set(False)
        try:
            await asyncio.wait_for(self._idle.wait(), self.drain_timeout)
        except TimeoutError:
            log.warning(
                "%s: %d gRPC calls still running after %.1fs; cancelling them",
                self.service,
                self._in_flight,
                self.drain_timeout,
                extra={"service": self.service},
            )
        self._server.close()
        try:
            # Since Python 3.12.1 this also waits for client connections to go away,
            # which a peer holding an idle HTTP/2 connection never does by itself.
            await asyncio.wait_for(self._server.wait_closed(), CLOSE_TIMEOUT)
        except TimeoutError:
            listening = cast(asyncio.Server | None, self._server._server)
            close_clients = getattr(listening, "close_clients", None)
            if close_clients is not None:
                close_clients()
            log.info("%s: closed the gRPC server with client connections still open", self.service)

    async def _on_request(self, event: RecvRequest) -> None:
        method = event.method_name
        if method.startswith(UNAUTHENTICATED_PREFIXES):
            return
        presented = event.metadata.get(API_KEY_METADATA)
        identity = self.keyring.identify(presented if isinstance(presented, str) else None)
        key = identity.key_id if identity is not None and identity.allows(self.service) else None
        inner = event.method_func

        async def handle(stream: Stream[Any, Any]) -> None:
            await self._serve(method, key, inner, stream)

        event.method_func = handle

    async def _serve(
        self, method: str, key: str | None, inner: Any, stream: Stream[Any, Any]
    ) -> None:
        started = time.perf_counter()
        status = Status.OK
        self._in_flight += 1
        self._idle.clear()
        try:
            if key is None:
                raise GRPCError(
                    Status.UNAUTHENTICATED,
                    f"missing or invalid service API key, or not scoped for {self.service}",
                )
            if self._draining:
                raise GRPCError(
                    Status.UNAVAILABLE, f"{DRAINING}: {self.service} is shutting down; not run"
                )
            try:
                await inner(stream)
            except Problem as problem:
                raise grpc_error_of(problem) from None
        except GRPCError as error:
            status = error.status
            raise
        except TimeoutError:
            status = Status.DEADLINE_EXCEEDED
            raise
        except asyncio.CancelledError:
            status = Status.CANCELLED
            raise
        except Exception:
            status = Status.INTERNAL
            raise
        finally:
            self._in_flight -= 1
            if self._in_flight == 0:
                self._idle.set()
            self.metrics.observe(method, status.name, time.perf_counter() - started)
