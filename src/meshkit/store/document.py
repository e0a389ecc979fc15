"""Documents: backend-neutral pydantic models with a sortable id and a version."""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_lock = threading.Lock()
_last = [0, 0]


def _encode(value: int, length: int) -> str:
    chars = []
    for _ in range(length):
        value, digit = divmod(value, 32)
        chars.append(CROCKFORD[digit])
    return "".join(reversed(chars))


def new_id() -> str:
    """A 26-character ULID: time-ordered, and strictly increasing within a process.

    Within one millisecond the random part is incremented, so ids generated later in the
    same process always sort after earlier ones (monotonic ULIDs).
    """
    with _lock:
        now = time.time_ns() // 1_000_000
        if now <= _last[0]:
            now = _last[0]
            randomness = _last[1] + 1
        else:
            randomness = int.from_bytes(os.urandom(10), "big") >> 1
        _last[0], _last[1] = now, randomness
    return _encode(now, 10) + _encode(randomness, 16)


@dataclass(frozen=True)
class Index:
    """An index over one or more fields, optionally unique.

    Declared on the document class; ``store.ensure_indexes`` creates it. List the fields
    a query filters on by equality first, then the field it sorts or ranges on.
    """

    fields: tuple[str, ...]
    unique: bool = False

    def __init__(self, *fields: str, unique: bool = False) -> None:
        if not fields:
            raise ValueError("an index needs at least one field")
        object.__setattr__(self, "fields", tuple(fields))
        object.__setattr__(self, "unique", unique)

    @property
    def name(self) -> str:
        """Stable name derived from the fields."""
        return ("ux_" if self.unique else "ix_") + "_".join(self.fields)


class Document(BaseModel):
    """Base of every stored document.

    ``id`` is a ULID (time-sortable); ``version`` counts stored revisions (0 = never
    stored) and is what optimistic concurrency compares. Concrete classes set
    ``collection`` and may declare ``indexes``.
    """

    model_config = ConfigDict(validate_assignment=True)

    collection: ClassVar[str]
    indexes: ClassVar[tuple[Index, ...]] = ()

    id: str = Field(default_factory=new_id, min_length=1, max_length=128)
    version: int = Field(default=0, ge=0)

    @classmethod
    def field_names(cls) -> frozenset[str]:
        """Top-level field names, the only ones a query may name."""
        return frozenset(cls.model_fields)
