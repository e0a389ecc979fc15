"""What the gateway reports about its upstreams, in the service's Prometheus registry.

Per instance: how proxied requests ended, how many are in flight, whether the instance
passes its health checks, and its circuit (``meshkit_circuit_state``, shared with gRPC
clients); per service: how long instances took and how often a request was retried on
another instance. Operators find a sick instance here before clients notice.
"""

from __future__ import annotations

import contextlib
from typing import Literal

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from meshkit.observability import LATENCY_BUCKETS, RpcMetrics
from meshkit.resilience import CircuitState

Outcome = Literal["ok", "error", "aborted"]


class UpstreamMetrics:
    """The gateway's collectors for its upstream instances."""

    def __init__(self, service: str, registry: CollectorRegistry) -> None:
        self.rpc = RpcMetrics.of(service, registry)
        self.requests = Counter(
            "meshkit_gateway_upstream_requests",
            "Requests proxied to an upstream instance, by outcome: ok (answered below "
            "500), error (5xx, refused, reset or timed out: counts against its circuit), "
            "aborted (the client went away first).",
            ["service", "instance", "outcome"],
            registry=registry,
        )
        self.duration = Histogram(
            "meshkit_gateway_upstream_duration_seconds",
            "Time an instance held a proxied HTTP request, until the response was relayed "
            "or failed (WebSocket upgrades are not timed).",
            ["service"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.outstanding = Gauge(
            "meshkit_gateway_upstream_outstanding",
            "Requests (and WebSocket upgrades until accepted) in flight to an instance.",
            ["service", "instance"],
            registry=registry,
        )
        self.healthy = Gauge(
            "meshkit_gateway_upstream_healthy",
            "1 while an instance passes its /readyz checks, 0 once it is taken out.",
            ["service", "instance"],
            registry=registry,
        )
        self.retries = Counter(
            "meshkit_gateway_upstream_retries",
            "Idempotent requests retried on another instance after the first failed.",
            ["service"],
            registry=registry,
        )

    def forget(self, service: str, instance: str) -> None:
        """Drop the series of an instance discovery no longer lists (deploys would
        otherwise leave a trail of dead instances, some still shown healthy)."""
        for outcome in ("ok", "error", "aborted"):
            with contextlib.suppress(KeyError):
                self.requests.remove(service, instance, outcome)
        for gauge in (self.outstanding, self.healthy):
            with contextlib.suppress(KeyError):
                gauge.remove(service, instance)
        self.rpc.forget_instance(instance)

    def finished(
        self,
        service: str,
        instance: str,
        outcome: Outcome | None,
        *,
        in_flight: int,
        circuit: CircuitState,
        seconds: float | None,
    ) -> None:
        """One lease on ``instance`` ended. ``outcome`` is None for the gateway's own
        calls (not counted), ``seconds`` None for what is not timed (WebSocket upgrades)."""
        if outcome is not None:
            self.requests.labels(service, instance, outcome).inc()
        self.outstanding.labels(service, instance).set(in_flight)
        self.rpc.record_circuit(instance, circuit)
        if seconds is not None:
            self.duration.labels(service).observe(seconds)
