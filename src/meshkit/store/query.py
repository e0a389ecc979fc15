"""Backend-neutral query logic: value encoding, filters, sort keys and keyset cursors.

Both backends compile the same predicate tree, so the behaviour the contract suite
checks (operators, null handling, pagination order) is decided here once.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic_core import to_jsonable_python

from meshkit.store.document import Document
from meshkit.store.errors import InvalidQuery

MAX_LIMIT = 1000
OPERATORS = frozenset({"$eq", "$ne", "$gt", "$gte", "$lt", "$lte", "$in", "$nin"})
DATETIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


def encode_value(value: Any) -> Any:
    """The stored form of a value: JSON types, datetimes in one fixed-width UTC format.

    Naive datetimes are taken as UTC. The fixed width makes text order equal time
    order, which both the SQLite indexes and Mongo's string comparison rely on.
    """
    if isinstance(value, datetime):
        aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        return aware.astimezone(UTC).strftime(DATETIME_FORMAT)
    if isinstance(value, Mapping):
        return {str(k): encode_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [encode_value(v) for v in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return to_jsonable_python(value)


def encode_document(document: Document) -> dict[str, Any]:
    """A document's stored fields (all but ``id`` and ``version``), encoded."""
    data = document.model_dump(mode="python", exclude={"id", "version"})
    encoded = encode_value(data)
    assert isinstance(encoded, dict)
    return encoded


@dataclass(frozen=True)
class Sort:
    """One sort key: a field and its direction."""

    field: str
    descending: bool = False


def Asc(field: str) -> Sort:
    """Ascending sort on ``field``."""
    return Sort(field, False)


def Desc(field: str) -> Sort:
    """Descending sort on ``field``."""
    return Sort(field, True)


@dataclass(frozen=True)
class Compare:
    """``field <op> value``; ``op`` is one of :data:`OPERATORS` (``None`` means null)."""

    field: str
    op: str
    value: Any


@dataclass(frozen=True)
class All:
    """Every part holds (an empty ``All`` is true)."""

    parts: tuple[Predicate, ...]


@dataclass(frozen=True)
class AnyOf:
    """At least one part holds (an empty ``AnyOf`` is false)."""

    parts: tuple[Predicate, ...]


Predicate = Compare | All | AnyOf


def _check_field(model: type[Document], field: str) -> None:
    if field not in model.field_names():
        known = ", ".join(sorted(model.field_names()))
        raise InvalidQuery(f"{model.__name__} has no field {field!r} (fields: {known})")


def where_predicate(model: type[Document], where: Mapping[str, Any] | None) -> All:
    """Validate a ``where`` mapping and turn it into a predicate."""
    parts: list[Predicate] = []
    for field, condition in (where or {}).items():
        _check_field(model, field)
        if isinstance(condition, Mapping) and any(str(k).startswith("$") for k in condition):
            for op, value in condition.items():
                if op not in OPERATORS:
                    raise InvalidQuery(f"unknown operator {op!r} on {field!r}")
                if op in ("$in", "$nin"):
                    if not isinstance(value, list | tuple | set | frozenset):
                        raise InvalidQuery(f"{op} on {field!r} needs a list")
                    parts.append(Compare(field, op, [encode_value(v) for v in value]))
                else:
                    if value is None and op not in ("$eq", "$ne"):
                        raise InvalidQuery(f"{op} on {field!r} cannot compare with null")
                    parts.append(Compare(field, op, encode_value(value)))
        else:
            parts.append(Compare(field, "$eq", encode_value(condition)))
    return All(tuple(parts))


def sort_keys(model: type[Document], sort: Sequence[Sort] | None) -> tuple[Sort, ...]:
    """Validated sort keys with ``id`` appended as the tie-breaker (total, stable order)."""
    keys: list[Sort] = []
    for key in sort or ():
        if not isinstance(key, Sort):
            raise InvalidQuery(f"sort keys are Asc(field)/Desc(field), got {key!r}")
        _check_field(model, key.field)
        if key.field == "id":  # unique: whatever follows it cannot matter
            keys.append(Sort("id", key.descending))
            return tuple(keys)
        keys.append(key)
    last = keys[-1].descending if keys else False
    keys.append(Sort("id", last))
    return tuple(keys)


def check_limit(limit: int) -> int:
    """``limit`` if it is in 1..MAX_LIMIT, else :class:`InvalidQuery`."""
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        raise InvalidQuery(f"limit must be an integer from 1 to {MAX_LIMIT}, got {limit!r}")
    return limit


def _fingerprint(model: type[Document], where: All, keys: Sequence[Sort]) -> str:
    shape = json.dumps(
        [model.collection, repr(where), [(k.field, k.descending) for k in keys]],
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(shape.encode()).hexdigest()[:16]


def make_cursor(
    model: type[Document], where: All, keys: Sequence[Sort], last: Mapping[str, Any]
) -> str:
    """An opaque cursor after ``last`` (its encoded values of the sort keys)."""
    payload = {"q": _fingerprint(model, where, keys), "k": [last.get(k.field) for k in keys]}
    raw = json.dumps(payload, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def cursor_predicate(
    model: type[Document], where: All, keys: Sequence[Sort], cursor: str
) -> Predicate:
    """The predicate selecting what sorts strictly after ``cursor``'s position.

    Nulls sort first ascending and last descending on both backends, and the predicate
    follows that order.
    """
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        payload = json.loads(base64.urlsafe_b64decode(padded.encode()))
        fingerprint, values = payload["q"], payload["k"]
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise InvalidQuery("the cursor is malformed") from None
    if fingerprint != _fingerprint(model, where, keys) or len(values) != len(keys):
        raise InvalidQuery("the cursor belongs to a different query or sort order")
    branches: list[Predicate] = []
    for i, key in enumerate(keys):
        prefix = [Compare(k.field, "$eq", values[j]) for j, k in enumerate(keys[:i])]
        after = _after(key, values[i])
        if after is not None:
            branches.append(All((*prefix, after)))
    return AnyOf(tuple(branches))


def _after(key: Sort, value: Any) -> Predicate | None:
    """What sorts strictly after ``value`` on one key (``None``: nothing does)."""
    if not key.descending:
        return (
            Compare(key.field, "$ne", None) if value is None else Compare(key.field, "$gt", value)
        )
    if value is None:
        return None
    return AnyOf((Compare(key.field, "$lt", value), Compare(key.field, "$eq", None)))
