"""The event bus on Redis Streams: typed events, at-least-once, de-duplicated by id.

A service publishes what happened (:class:`Event` subclasses, one stream per topic) with
:meth:`EventBus.publish`, and listens with ``@on(SomeEvent)`` methods run by a
:class:`Consumer` of its own consumer group. See ``docs/events.md`` for the guarantees,
the envelope format, retries, dead letters and the metrics.
"""

from meshkit.events.bus import EventBus, PublishEvent
from meshkit.events.consumer import Consumer, default_name
from meshkit.events.handlers import Handler, handlers_of, on
from meshkit.events.metrics import EventMetrics, Outcome
from meshkit.events.model import (
    Envelope,
    Event,
    MalformedEvent,
    dead_letter_key,
    done_key,
    event_class,
    event_types,
    is_concrete,
    stream_key,
)

__all__ = [
    "Consumer",
    "Envelope",
    "Event",
    "EventBus",
    "EventMetrics",
    "Handler",
    "MalformedEvent",
    "Outcome",
    "PublishEvent",
    "dead_letter_key",
    "default_name",
    "done_key",
    "event_class",
    "event_types",
    "handlers_of",
    "is_concrete",
    "on",
    "stream_key",
]
