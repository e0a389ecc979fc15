"""JSON logs that carry request ids, and the Prometheus metrics every service exports.

Logging is configured once per process (:func:`configure_logging`); every record gets
the current request id and service from context variables, so a line written deep in
a handler can be joined with the access-log line of its request. Nothing here ever
logs bodies, headers or settings marked secret.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import sys
import time
import weakref
from collections.abc import Callable
from typing import Any, ClassVar, TextIO

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from pythonjsonlogger.json import JsonFormatter

from meshkit.resilience import CircuitState

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "meshkit_request_id", default=None
)
service_var: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "meshkit_service", default=None
)

REDACTED = "[redacted]"
SENSITIVE_KEYS = frozenset(
    {"password", "token", "access_token", "refresh_token", "authorization", "secret", "api_key"}
)
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
CIRCUIT_VALUE = {CircuitState.CLOSED: 0, CircuitState.HALF_OPEN: 1, CircuitState.OPEN: 2}


class ContextFilter(logging.Filter):
    """Adds ``request_id`` and ``service`` to every record and redacts sensitive extras."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Annotate ``record``; never drops it."""
        if getattr(record, "request_id", None) is None:
            record.request_id = request_id_var.get()
        if getattr(record, "service", None) is None:
            record.service = service_var.get()
        for key in SENSITIVE_KEYS & set(vars(record)):
            setattr(record, key, REDACTED)
        return True


def configure_logging(level: str = "INFO", fmt: str = "json", stream: TextIO | None = None) -> None:
    """Send every ``meshkit`` and ``aiohttp`` record to ``stream`` as JSON or text lines.

    Idempotent: calling it again replaces the handler (the CLI calls it once the
    settings are known).
    """
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.addFilter(ContextFilter())
    if fmt == "json":
        handler.setFormatter(
            JsonFormatter(
                "{asctime}{levelname}{name}{message}",
                style="{",
                rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
                datefmt="%Y-%m-%dT%H:%M:%S%z",
            )
        )
    else:
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)-7s %(service)s %(name)s: %(message)s")
        )
    root = logging.getLogger()
    for existing in list(root.handlers):
        if getattr(existing, "_meshkit", False):
            root.removeHandler(existing)
    handler._meshkit = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)


class ThrottledLog:
    """At most one record per ``interval`` seconds for one recurring condition.

    For a warning that a failing dependency would otherwise repeat on every request
    (Redis down: every token check, every rate-limit check): the first one is logged at
    once, the ones within the next ``interval`` are counted, and the next one logged
    says how many were held back. One instance per condition; not thread-safe (one
    event loop owns it).
    """

    def __init__(
        self,
        logger: logging.Logger,
        interval: float,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.logger = logger
        self.interval = interval
        self.clock = clock
        self.last: float | None = None
        self.suppressed = 0

    def open(self) -> int | None:
        """How many were held back since the last record, if one may be logged now;
        ``None`` (and one more held back) otherwise."""
        now = self.clock()
        if self.last is not None and now - self.last < self.interval:
            self.suppressed += 1
            return None
        held, self.last, self.suppressed = self.suppressed, now, 0
        return held

    def log(self, level: int, msg: str, *args: object, **kwargs: Any) -> bool:
        """Log ``msg % args`` at ``level`` unless held back; whether it was logged.

        A record that follows held-back ones ends with "(N similar not logged)".
        """
        held = self.open()
        if held is None:
            return False
        if held:
            msg, args = f"{msg} (%d similar not logged)", (*args, held)
        self.logger.log(level, msg, *args, **kwargs)
        return True

    def warning(self, msg: str, *args: object, **kwargs: Any) -> bool:
        """:meth:`log` at WARNING."""
        return self.log(logging.WARNING, msg, *args, **kwargs)


class HttpMetrics:
    """Request count, latency and in-flight gauge of one service, in its own registry.

    Each service has its own :class:`CollectorRegistry` so that several services in one
    process export only their own figures on their own ``/metrics``.
    """

    def __init__(self, service: str, registry: CollectorRegistry | None = None) -> None:
        self.service = service
        self.registry = registry or CollectorRegistry()
        self.requests = Counter(
            "meshkit_http_requests",
            "HTTP requests served, by route template and status.",
            ["service", "method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "meshkit_http_request_duration_seconds",
            "Time from receiving a request to its response, by route template.",
            ["service", "method", "route"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.in_flight = Gauge(
            "meshkit_http_requests_in_flight",
            "Requests being handled right now.",
            ["service"],
            registry=self.registry,
        )

        self._active = 0
        self._idle = asyncio.Event()
        self._idle.set()

    def begin(self) -> None:
        """A request started."""
        self._active += 1
        self._idle.clear()
        self.in_flight.labels(self.service).inc()

    def end(self) -> None:
        """A request finished (answered, failed or cancelled)."""
        self._active -= 1
        self.in_flight.labels(self.service).dec()
        if self._active == 0:
            self._idle.set()

    async def wait_idle(self) -> None:
        """Return once no request is in flight (used to drain before stopping gRPC)."""
        await self._idle.wait()

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        """Count one finished request."""
        self.requests.labels(self.service, method, route, str(status)).inc()
        self.latency.labels(self.service, method, route).observe(seconds)


class RpcMetrics:
    """gRPC calls served and made by one service, in the service's registry.

    Created once per registry (:meth:`of`), so the server and every client of a
    service share the same collectors.
    """

    _by_registry: ClassVar[weakref.WeakKeyDictionary[CollectorRegistry, RpcMetrics]] = (
        weakref.WeakKeyDictionary()
    )

    def __init__(self, service: str, registry: CollectorRegistry) -> None:
        self.service = service
        self.registry = registry
        self.served = Counter(
            "meshkit_grpc_server_calls",
            "gRPC calls served, by method and status.",
            ["service", "method", "status"],
            registry=registry,
        )
        self.latency = Histogram(
            "meshkit_grpc_server_call_duration_seconds",
            "Time spent serving a gRPC call, by method.",
            ["service", "method"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.calls = Counter(
            "meshkit_grpc_client_calls",
            "gRPC calls made to other services, by target, method and final status.",
            ["service", "target", "method", "status"],
            registry=registry,
        )
        self.attempts = Counter(
            "meshkit_grpc_client_attempts",
            "Attempts of outgoing gRPC calls (retries included), by target and outcome.",
            ["service", "target", "outcome"],
            registry=registry,
        )
        self.circuit = Gauge(
            "meshkit_circuit_state",
            "Circuit of each upstream instance: 0 closed, 1 half-open, 2 open.",
            ["service", "instance"],
            registry=registry,
        )

    @classmethod
    def of(cls, service: str, registry: CollectorRegistry) -> RpcMetrics:
        """The collectors of ``registry``, created on first use."""
        found = cls._by_registry.get(registry)
        if found is None:
            found = cls._by_registry[registry] = cls(service, registry)
        return found

    def record_circuit(self, instance: str, state: CircuitState) -> None:
        """Set the ``meshkit_circuit_state`` of one upstream instance."""
        self.circuit.labels(self.service, instance).set(CIRCUIT_VALUE[state])

    def forget_instance(self, url: str) -> None:
        """Drop the circuit series of an instance that is gone."""
        with contextlib.suppress(KeyError):
            self.circuit.remove(self.service, url)

    def observe(self, method: str, status: str, seconds: float) -> None:
        """Count one served call."""
        self.served.labels(self.service, method, status).inc()
        self.latency.labels(self.service, method).observe(seconds)


def log_fields(**fields: Any) -> dict[str, Any]:
    """``extra=`` for a log call, with sensitive keys redacted."""
    return {key: REDACTED if key in SENSITIVE_KEYS else value for key, value in fields.items()}
