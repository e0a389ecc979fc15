"""Typed events, the envelope that carries them, and how both map onto stream entries.

An :class:`Event` subclass is a contract between services: its ``topic`` picks the Redis
stream, its ``type`` is the stable name a consumer decodes by, so it is checked when the
class is created rather than when the first event is lost to a typo.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from meshkit.store.document import new_id

STREAM_PREFIX = "meshkit:events:"
DEAD_SUFFIX = ":dead"
TOPIC = re.compile(r"^[a-z0-9][a-z0-9._-]{0,127}$")
TYPE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/-]{0,199}$")
GROUP_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
EVENT_ID = re.compile(r"^\S{1,200}$")
DEAD_LETTER_FIELDS = (b"error", b"failed_group", b"attempts", b"stream_id")
"""Fields the dead-letter stream adds to an entry; dropped again when it is replayed."""

_registry: dict[str, type[Event]] = {}


class MalformedEvent(ValueError):
    """A stream entry that is not a valid envelope; the message is the reason, no data."""


def stream_key(topic: str) -> str:
    """The stream of ``topic``: ``meshkit:events:<topic>``."""
    return f"{STREAM_PREFIX}{topic}"


def dead_letter_key(topic: str) -> str:
    """The dead-letter stream of ``topic``: ``meshkit:events:<topic>:dead``."""
    return f"{STREAM_PREFIX}{topic}{DEAD_SUFFIX}"


def done_key(group: str, event_id: str) -> str:
    """The key that remembers, for the dedupe window, that ``group`` handled an event."""
    return f"{STREAM_PREFIX}done:{group}:{event_id}"


def event_class(type_name: str) -> type[Event] | None:
    """The concrete :class:`Event` subclass registered under ``type_name``, if any."""
    return _registry.get(type_name)


def is_concrete(event_cls: type) -> bool:
    """Whether ``event_cls`` is a registered event class (not ``abstract=True``)."""
    name = vars(event_cls).get("type")
    return isinstance(name, str) and _registry.get(name) is event_cls


def event_types() -> dict[str, type[Event]]:
    """A copy of the registry: every concrete event type known to this process."""
    return dict(_registry)


class Event(BaseModel):
    """Base of every event payload: an immutable fact that a service publishes.

    Concrete subclasses set two class variables, checked when the class is created:

    - ``topic``: which stream carries it (``meshkit:events:<topic>``); events that must
      stay in order relative to each other share a topic;
    - ``type``: a stable name, unique in the process (``"meshkit.auth.user.registered.v1"``).
      Consumers decode by it, so renaming it is a breaking change: publish a ``.v2``.

    An intermediate base that only fixes the topic says so: ``class AuthEvent(Event,
    abstract=True)``. Unknown fields in received data are ignored, so a publisher may add
    optional fields before its consumers know them.
    """

    model_config = ConfigDict(frozen=True, extra="ignore")

    topic: ClassVar[str]
    type: ClassVar[str]

    def __init_subclass__(cls, *, abstract: bool = False, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)  # `abstract` reaches the hook below too

    @classmethod
    def __pydantic_init_subclass__(cls, *, abstract: bool = False, **kwargs: Any) -> None:
        """Check ``topic`` and ``type`` and register the class, once it is fully built."""
        super().__pydantic_init_subclass__(**kwargs)
        if abstract:
            return
        topic = getattr(cls, "topic", None)
        if not isinstance(topic, str) or not TOPIC.fullmatch(topic):
            raise TypeError(
                f"{cls.__qualname__}: set topic: ClassVar[str] matching {TOPIC.pattern} "
                f"(or declare the class with abstract=True); got {topic!r}"
            )
        name = cls.__dict__.get("type")
        if not isinstance(name, str) or not TYPE_NAME.fullmatch(name):
            raise TypeError(
                f"{cls.__qualname__}: set its own type: ClassVar[str] matching "
                f"{TYPE_NAME.pattern}; got {name!r}"
            )
        existing = _registry.get(name)
        if existing is not None and (existing.__module__, existing.__qualname__) != (
            cls.__module__,
            cls.__qualname__,
        ):
            raise TypeError(
                f"{cls.__qualname__}: event type {name!r} is already declared by "
                f"{existing.__module__}.{existing.__qualname__}"
            )
        _registry[name] = cls  # the same class again (a module reload) replaces itself


class Envelope(BaseModel):
    """What travels with every event, CloudEvents-style: who, when, which, and the data.

    ``id`` is the event's identity for de-duplication: a publisher that retries with the
    same id has its event handled once per consumer group (within the dedupe window).
    ``data`` is the event's JSON object; handlers get it decoded as their event class.
    """

    model_config = ConfigDict(frozen=True)

    id: str
    type: str
    source: str
    time: datetime
    subject: str | None = None
    specversion: Literal["1.0"] = "1.0"
    data: dict[str, Any]

    @classmethod
    def wrap(
        cls, event: Event, *, source: str, subject: str | None = None, id: str | None = None
    ) -> Envelope:
        """The envelope of ``event``, published now by ``source``; a fresh ULID by default."""
        if not is_concrete(type(event)):
            raise TypeError(f"{type(event).__qualname__} is abstract: publish a concrete event")
        if id is not None and not EVENT_ID.fullmatch(id):
            raise ValueError(f"event id must be 1 to 200 non-blank characters, got {id!r}")
        return cls.model_construct(
            id=id or new_id(),
            type=event.type,
            source=source,
            time=datetime.now(UTC),
            subject=subject,
            specversion="1.0",
            data=event.model_dump(mode="json"),
        )

    def to_fields(self) -> dict[bytes, bytes]:
        """The stream entry: one string field per attribute, ``data`` as compact JSON."""
        fields = {
            b"specversion": self.specversion.encode(),
            b"id": self.id.encode(),
            b"type": self.type.encode(),
            b"source": self.source.encode(),
            b"time": self.time.astimezone(UTC).isoformat().replace("+00:00", "Z").encode(),
            b"data": json.dumps(self.data, separators=(",", ":"), ensure_ascii=False).encode(),
        }
        if self.subject is not None:
            fields[b"subject"] = self.subject.encode()
        return fields

    @classmethod
    def from_fields(cls, fields: Mapping[bytes, bytes]) -> Envelope:
        """Decode a stream entry; raise :class:`MalformedEvent` saying what is wrong.

        Fields the envelope does not know (dead-letter annotations, say) are ignored.
        """
        text: dict[str, str] = {}
        for key in (b"specversion", b"id", b"type", b"source", b"time", b"data", b"subject"):
            raw = fields.get(key)
            if raw is None:
                continue
            try:
                text[key.decode()] = raw.decode()
            except UnicodeDecodeError:
                raise MalformedEvent(f"field {key.decode()!r} is not UTF-8") from None
        required = ("specversion", "id", "type", "source", "time", "data")
        missing = [name for name in required if not text.get(name)]
        if missing:
            raise MalformedEvent(f"missing field(s): {', '.join(missing)}")
        if text["specversion"] != "1.0":
            raise MalformedEvent(f"unsupported specversion {text['specversion']!r}")
        try:
            when = datetime.fromisoformat(text["time"])
        except ValueError:
            raise MalformedEvent("field 'time' is not an ISO 8601 timestamp") from None
        if when.tzinfo is None:
            raise MalformedEvent("field 'time' has no time zone")
        try:
            data = json.loads(text["data"])
        except json.JSONDecodeError as exc:
            raise MalformedEvent(f"field 'data' is not JSON ({exc.msg} at {exc.pos})") from None
        if not isinstance(data, dict):
            raise MalformedEvent("field 'data' is not a JSON object")
        return cls.model_construct(
            id=text["id"],
            type=text["type"],
            source=text["source"],
            time=when.astimezone(UTC),
            subject=text.get("subject"),
            specversion="1.0",
            data=data,
        )


def decode_data(event_cls: type[Event], envelope: Envelope) -> Event:
    """``envelope.data`` as ``event_cls``; :class:`MalformedEvent` names the bad fields
    (locations and messages only: input values may be personal data)."""
    try:
        return event_cls.model_validate(envelope.data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc']) or '<root>'}: {error['msg']}"
            for error in exc.errors(include_input=False, include_url=False)
        )
        raise MalformedEvent(f"data does not match {envelope.type}: {problems}") from None
