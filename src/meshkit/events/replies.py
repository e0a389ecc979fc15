"""Redis replies turned into deliveries, whatever the client's decoding and protocol.

A service may hand the bus a client with ``decode_responses`` on or off, speaking RESP2
or RESP3; the consumer works on one shape: entry ids as ``str``, fields as ``bytes``
(kept raw, so a malformed entry reaches the dead-letter stream byte for byte).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from meshkit.events.model import event_class


@dataclass(slots=True)
class Delivery:
    """One pending entry a consumer holds; ``fields`` is None when it was trimmed away."""

    stream: str
    entry_id: str
    fields: dict[bytes, bytes] | None
    deliveries: int


def text(value: object) -> str:
    """A reply element as ``str``."""
    return value.decode() if isinstance(value, bytes) else str(value)


def _raw(value: object) -> bytes:
    return value if isinstance(value, bytes) else str(value).encode()


def entry_fields(raw: object) -> dict[bytes, bytes]:
    """Entry fields as bytes, from redis-py's dict or a script's flat list."""
    if isinstance(raw, Mapping):
        return {_raw(k): _raw(v) for k, v in raw.items()}
    items = list(raw) if isinstance(raw, Iterable) else []
    return {_raw(k): _raw(v) for k, v in zip(items[::2], items[1::2], strict=False)}


def read_batches(reply: Any) -> list[list[Delivery]]:
    """XREADGROUP's reply as one batch per stream (first deliveries, all of them)."""
    if not reply:
        return []
    batches = []
    for stream, entries in reply.items() if isinstance(reply, Mapping) else reply:
        if entries and isinstance(entries[0], list):  # RESP3, wrapped in one more list
            entries = entries[0]
        name = text(stream)
        batches.append(
            [
                Delivery(name, text(eid), None if f is None else entry_fields(f), 1)
                for eid, f in entries
                if eid is not None
            ]
        )
    return batches


def taken_over(stream: str, reply: Any) -> tuple[str, list[Delivery]]:
    """The TAKE_OVER script's reply: the next cursor and the entries now held."""
    batch = [
        Delivery(stream, text(eid), None if f is None else entry_fields(f), int(count))
        for eid, count, f in reply[1:]
    ]
    return text(reply[0]), batch


def lease_counts(reply: Any) -> dict[str, int]:
    """The LEASE script's reply: delivery count by entry id, for the entries still held."""
    return {text(reply[i]): int(reply[i + 1]) for i in range(0, len(reply), 2)}


def type_label(fields: Mapping[bytes, bytes]) -> str:
    """The metrics label of a malformed entry: its type if registered, else "unknown",
    so garbage cannot mint unbounded label values."""
    try:
        name = fields.get(b"type", b"").decode()
    except UnicodeDecodeError:
        return "unknown"
    return name if event_class(name) is not None else "unknown"
