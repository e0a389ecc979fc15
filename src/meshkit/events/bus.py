"""Publishing events: one XADD per event onto its topic's stream, trimmed approximately.

The bus is the one object a service holds for events: it knows the service's name (the
envelope's ``source``), the Redis client, the settings and the metrics registry, and
consumers are built on it (:class:`meshkit.events.Consumer`).
"""

from __future__ import annotations

import logging
from typing import Protocol

from prometheus_client import CollectorRegistry
from redis.asyncio import Redis

from meshkit.config import Settings
from meshkit.events import scripts
from meshkit.events.metrics import EventMetrics
from meshkit.events.model import Envelope, Event, dead_letter_key, stream_key

log = logging.getLogger("meshkit.events")


class PublishEvent(Protocol):
    """What a core that publishes takes: :meth:`EventBus.publish` (``service.events.publish``),
    or a test's recorder of the same shape."""

    async def __call__(
        self, event: Event, *, subject: str | None = None, id: str | None = None
    ) -> object: ...


class EventBus:
    """Publishes a service's events and lends its Redis, settings and metrics to consumers.

    ``source`` names the publishing service in every envelope. ``registry`` is the
    service's Prometheus registry (a private one when omitted); several buses may share
    one. Nothing is opened or closed here: the Redis client belongs to the caller.
    """

    def __init__(
        self,
        redis: Redis,
        *,
        source: str,
        settings: Settings,
        registry: CollectorRegistry | None = None,
    ) -> None:
        if not source:
            raise ValueError("source must name the publishing service")
        self.redis = redis
        self.source = source
        self.settings = settings
        self.registry = registry if registry is not None else CollectorRegistry()
        self.metrics = EventMetrics.of(self.registry)
        self._replay = redis.register_script(scripts.REPLAY)

    async def publish(
        self, event: Event, *, subject: str | None = None, id: str | None = None
    ) -> Envelope:
        """Append ``event`` to its topic's stream and return the envelope it travels in.

        When this returns, Redis has the event: every consumer group will get it at least
        once. Pass ``id`` to make a retried publish idempotent (each group handles one
        id once within the dedupe window); by default a new ULID. ``subject`` says what
        the event is about (a user id, say), for readers of the stream. The stream keeps
        about ``MESHKIT_EVENTS_MAXLEN`` entries: older ones are trimmed even if a group
        has not read them yet, so size it to cover the longest consumer outage.
        """
        envelope = Envelope.wrap(event, source=self.source, subject=subject, id=id)
        await self.redis.xadd(
            stream_key(event.topic),
            envelope.to_fields(),  # type: ignore[arg-type]  # redis-py's dict is invariant
            maxlen=self.settings.events_maxlen,
            approximate=True,
        )
        self.metrics.published.labels(event.topic, envelope.type).inc()
        return envelope

    async def replay_dead_letter(self, topic: str, entry_id: str) -> str | None:
        """Publish a dead-lettered event again and remove it from the dead-letter stream.

        The event keeps its id, so groups that already handled it skip it (within the
        dedupe window) and only the group that gave up runs its handler again. Returns
        the new stream entry id, or ``None`` when ``entry_id`` is not in the dead letters.
        """
        keys = [dead_letter_key(topic), stream_key(topic)]
        new_id = await self._replay(keys=keys, args=[entry_id])
        if new_id is None:
            return None
        log.info("replayed dead-lettered entry %s of topic %s", entry_id, topic)
        return new_id.decode() if isinstance(new_id, bytes) else str(new_id)
