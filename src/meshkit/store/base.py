"""The document-store port every service uses; backends implement it."""

from __future__ import annotations

import asyncio
import inspect
import random
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from meshkit.store.document import Document
from meshkit.store.errors import DocumentNotFound, StaleVersion
from meshkit.store.query import All, Sort, encode_document, make_cursor

D = TypeVar("D", bound=Document)


@dataclass
class Page(Generic[D]):
    """One page of a ``find``; pass ``next_cursor`` as ``after`` for the next page."""

    items: list[D] = field(default_factory=list)
    next_cursor: str | None = None


def page_of(
    model: type[D], fetched: list[D], limit: int, where: All, keys: tuple[Sort, ...]
) -> Page[D]:
    """The page for ``fetched`` (up to ``limit + 1`` documents: one more means more follow)."""
    items = fetched[:limit]
    if len(fetched) <= limit:
        return Page(items)
    last = items[-1]
    position = {**encode_document(last), "id": last.id, "version": last.version}
    return Page(items, make_cursor(model, where, keys, position))


class Store(ABC):
    """Typed documents in collections, with unique indexes and optimistic concurrency.

    Every method is a coroutine; errors are the :mod:`meshkit.store.errors` problems.
    """

    @abstractmethod
    async def ensure_indexes(self, models: Sequence[type[Document]]) -> None:
        """Create the collections and declared indexes (idempotent)."""

    @abstractmethod
    async def insert(self, document: D) -> D:
        """Store a new document; returns it with ``version`` 1.

        :raises DuplicateKey: the id or a unique field is taken.
        """

    @abstractmethod
    async def get(self, model: type[D], id: str) -> D | None:
        """The document with ``id``, or ``None``."""

    async def get_or_raise(self, model: type[D], id: str) -> D:
        """The document with ``id``; :class:`DocumentNotFound` if there is none."""
        found = await self.get(model, id)
        if found is None:
            raise DocumentNotFound(f"no {model.__name__} with id {id!r}")
        return found

    @abstractmethod
    async def find(
        self,
        model: type[D],
        where: Mapping[str, Any] | None = None,
        *,
        sort: Sequence[Sort] | None = None,
        limit: int = 100,
        after: str | None = None,
    ) -> Page[D]:
        """Documents matching ``where``, in ``sort`` order (``id`` breaks ties).

        ``where`` maps fields to a value (equality) or to operators ``$eq $ne $gt $gte
        $lt $lte $in $nin``. Keyset pagination: ``after`` is a previous page's
        ``next_cursor`` for the same query.

        :raises InvalidQuery: unknown field, bad operator, limit outside 1..1000, or a
            cursor from another query.
        """

    @abstractmethod
    async def update(self, document: D) -> D:
        """Replace a stored document if it is still at ``document.version``.

        :return: the document with its version incremented.
        :raises StaleVersion: it was changed since it was read.
        :raises DocumentNotFound: it no longer exists.
        :raises DuplicateKey: the change breaks a unique index.
        """

    async def scan(
        self,
        model: type[D],
        where: Mapping[str, Any] | None = None,
        *,
        sort: Sequence[Sort] | None = None,
        page_size: int = 500,
    ) -> AsyncIterator[D]:
        """Every document matching ``where``, in ``sort`` order, fetched page by page.

        For sets that are bounded but may exceed a page (a user's sessions or
        memberships). Keyset paging makes it safe to update or delete what was already
        yielded while iterating.
        """
        after = None
        while True:
            page = await self.find(model, where, sort=sort, limit=page_size, after=after)
            for document in page.items:
                yield document
            if page.next_cursor is None:
                return
            after = page.next_cursor

    async def modify(
        self,
        model: type[D],
        id: str,
        change: Callable[[D], D | Awaitable[D]],
        *,
        attempts: int = 5,
    ) -> D:
        """Read, apply ``change``, write back; on a concurrent write, re-read and retry.

        The optimistic-concurrency loop every read-modify-write needs. ``change`` gets
        the current document and returns the new one (``doc.model_copy(update=...)``);
        it may be async, and must not have side effects outside the document, since it
        can run more than once. Between attempts it waits a short jittered pause so
        that writers racing for a hot document spread out.

        :raises StaleVersion: still conflicting after ``attempts`` tries.
        :raises DocumentNotFound: the document does not (or no longer) exist(s).
        """
        if attempts < 1:
            raise ValueError("attempts must be at least 1")
        for attempt in range(1, attempts + 1):
            current = await self.get_or_raise(model, id)
            changed = change(current)
            if inspect.isawaitable(changed):
                changed = await changed
            updated = changed.model_copy(update={"version": current.version})
            try:
                return await self.update(updated)
            except StaleVersion:
                if attempt == attempts:
                    raise
                await asyncio.sleep(random.uniform(0, min(0.1, 0.005 * 2**attempt)))
        raise AssertionError("unreachable")  # pragma: no cover

    @abstractmethod
    async def delete(self, model: type[Document], id: str, *, version: int | None = None) -> bool:
        """Delete by id; ``False`` if there was nothing to delete.

        :raises StaleVersion: ``version`` is given and the stored one differs.
        """

    @abstractmethod
    async def count(self, model: type[Document], where: Mapping[str, Any] | None = None) -> int:
        """How many documents match ``where``."""

    @abstractmethod
    async def ping(self) -> None:
        """Return if the backend answers; raise :class:`StoreError` otherwise."""

    @abstractmethod
    async def close(self) -> None:
        """Release connections; idempotent."""
