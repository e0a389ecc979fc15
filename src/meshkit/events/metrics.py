"""Prometheus collectors of the event bus, created once per registry.

A service's buses and consumers all count into the service's own registry; a
registry accepts each metric name once, hence :meth:`EventMetrics.of`.
"""

from __future__ import annotations

import weakref
from typing import ClassVar, Literal

from prometheus_client import CollectorRegistry, Counter, Histogram

from meshkit.observability import LATENCY_BUCKETS

Outcome = Literal["ok", "failed", "duplicate", "dead_lettered", "skipped", "malformed"]
"""What happened to one delivery: ``failed`` counts every failed handler run (retries
included); ``dead_lettered`` the events given up on; ``malformed`` entries that could not
be decoded (also dead-lettered); ``skipped`` types the group has no handler for."""


class EventMetrics:
    """``meshkit_events_published_total``, ``meshkit_events_handled_total`` and the
    handler duration histogram of one registry."""

    _by_registry: ClassVar[weakref.WeakKeyDictionary[CollectorRegistry, EventMetrics]] = (
        weakref.WeakKeyDictionary()
    )

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        self.published = Counter(
            "meshkit_events_published",
            "Events published, by topic and type.",
            ["topic", "type"],
            registry=registry,
        )
        self.handled = Counter(
            "meshkit_events_handled",
            "Event deliveries processed by a consumer group, by type and outcome.",
            ["group", "type", "outcome"],
            registry=registry,
        )
        self.duration = Histogram(
            "meshkit_event_handler_duration_seconds",
            "Time spent in event handlers (each attempt), by group and type.",
            ["group", "type"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )

    @classmethod
    def of(cls, registry: CollectorRegistry) -> EventMetrics:
        """The collectors of ``registry``, created on first use."""
        found = cls._by_registry.get(registry)
        if found is None:
            found = cls._by_registry[registry] = cls(registry)
        return found

    def count(self, group: str, type_name: str, outcome: Outcome) -> None:
        """Count one delivery's outcome."""
        self.handled.labels(group, type_name, outcome).inc()
