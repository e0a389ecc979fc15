"""The MongoDB backend, through odmantic's engine.

meshkit documents are backend-neutral pydantic models with string (ULID) ids, so that
the same classes work on SQLite. odmantic's ``Model`` wants its own base class and
``ObjectId`` primary keys, so this adapter uses odmantic for what it is good at here —
the engine owning the motor client and database — and talks to the collections
directly. It stays thin on purpose: filters, sorting and cursors come from the shared
:mod:`meshkit.store.query` logic, and the one contract suite covers both backends.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from motor.motor_asyncio import AsyncIOMotorClient
from odmantic import AIOEngine
from pymongo import ASCENDING, DESCENDING
from pymongo.errors import DuplicateKeyError, PyMongoError

from meshkit.store.base import D, Page, Store, page_of
from meshkit.store.document import Document
from meshkit.store.errors import DuplicateKey, StaleVersion, StoreError
from meshkit.store.query import (
    All,
    AnyOf,
    Compare,
    Predicate,
    Sort,
    check_limit,
    cursor_predicate,
    encode_document,
    sort_keys,
    where_predicate,
)

SERVER_SELECTION_MS = 5000  # fail a call in 5 s when no server answers, not pymongo's 30 s


def mongo_field(field: str) -> str:
    """Mongo's name for a field (``id`` is ``_id``)."""
    return "_id" if field == "id" else field


def compile_predicate(predicate: Predicate) -> dict[str, Any]:
    """A Mongo query document for ``predicate``."""
    if isinstance(predicate, All):
        return {"$and": [compile_predicate(p) for p in predicate.parts]} if predicate.parts else {}
    if isinstance(predicate, AnyOf):
        if not predicate.parts:
            return {"_id": {"$in": []}}
        return {"$or": [compile_predicate(p) for p in predicate.parts]}
    assert isinstance(predicate, Compare)
    return {mongo_field(predicate.field): {predicate.op: predicate.value}}


class MongoStore(Store):
    """A :class:`Store` on one MongoDB database."""

    def __init__(self, engine: AIOEngine) -> None:
        self.engine = engine
        self._unique: dict[str, tuple[str, ...]] = {}

    @classmethod
    async def open(cls, url: str, database: str) -> MongoStore:
        """Connect to ``url`` and use ``database``."""
        client: AsyncIOMotorClient[Any] = AsyncIOMotorClient(
            url, tz_aware=True, serverSelectionTimeoutMS=SERVER_SELECTION_MS
        )
        return cls(AIOEngine(client=client, database=database))

    def _collection(self, model: type[Document]) -> Any:
        return self.engine.database[model.collection]

    @staticmethod
    def _row(document: Document, version: int) -> dict[str, Any]:
        return {"_id": document.id, "version": version, **encode_document(document)}

    @staticmethod
    def _load(model: type[D], row: Mapping[str, Any]) -> D:
        data = dict(row)
        data["id"] = data.pop("_id")
        return model.model_validate(data)

    def _duplicate(self, exc: DuplicateKeyError) -> DuplicateKey:
        details = exc.details or {}
        pattern = details.get("keyPattern") or {}
        fields = [("id" if k == "_id" else k) for k in pattern] or ["id"]
        return DuplicateKey(fields)

    async def ensure_indexes(self, models: Sequence[type[Document]]) -> None:
        try:
            for model in models:
                for index in model.indexes:
                    await self._collection(model).create_index(
                        [(mongo_field(f), ASCENDING) for f in index.fields],
                        unique=index.unique,
                        name=index.name,
                    )
        except PyMongoError as exc:
            raise StoreError(f"MongoDB failed: {exc}") from exc

    async def insert(self, document: D) -> D:
        stored = document.model_copy(update={"version": 1})
        try:
            await self._collection(type(document)).insert_one(self._row(stored, 1))
        except DuplicateKeyError as exc:
            raise self._duplicate(exc) from None
        except PyMongoError as exc:
            raise StoreError(f"MongoDB failed: {exc}") from exc
        return stored

    async def get(self, model: type[D], id: str) -> D | None:
        try:
            row = await self._collection(model).find_one({"_id": id})
        except PyMongoError as exc:
            raise StoreError(f"MongoDB failed: {exc}") from exc
        return None if row is None else self._load(model, row)

    async def find(
        self,
        model: type[D],
        where: Mapping[str, Any] | None = None,
        *,
        sort: Sequence[Sort] | None = None,
        limit: int = 100,
        after: str | None = None,
    ) -> Page[D]:
        predicate = where_predicate(model, where)
        keys = sort_keys(model, sort)
        check_limit(limit)
        query: Predicate = predicate
        if after is not None:
            query = All((predicate, cursor_predicate(model, predicate, keys, after)))
        order = [(mongo_field(k.field), DESCENDING if k.descending else ASCENDING) for k in keys]
        try:
            rows = await (
                self._collection(model).find(compile_predicate(query)).sort(order).limit(limit + 1)
            ).to_list(length=limit + 1)
        except PyMongoError as exc:
            raise StoreError(f"MongoDB failed: {exc}") from exc
        return page_of(model, [self._load(model, row) for row in rows], limit, predicate, keys)

    async def update(self, document: D) -> D:
        stored = document.model_copy(update={"version": document.version + 1})
        collection = self._collection(type(document))
        try:
            result = await collection.replace_one(
                {"_id": document.id, "version": document.version},
                self._row(stored, stored.version),
            )
        except DuplicateKeyError as exc:
            raise self._duplicate(exc) from None
        except PyMongoError as exc:
            raise StoreError(f"MongoDB failed: {exc}") from exc
        if result.matched_count == 1:
            return stored
        current = await self.get_or_raise(type(document), document.id)
        raise StaleVersion.of(type(document), document.id, current.version, document.version)

    async def delete(self, model: type[Document], id: str, *, version: int | None = None) -> bool:
        query: dict[str, Any] = {"_id": id}
        if version is not None:
            query["version"] = version
        try:
            result = await self._collection(model).delete_one(query)
        except PyMongoError as exc:
            raise StoreError(f"MongoDB failed: {exc}") from exc
        deleted = int(result.deleted_count) == 1
        if deleted or version is None:
            return deleted
        current = await self.get(model, id)
        if current is not None:
            raise StaleVersion.of(model, id, current.version, version)
        return False

    async def count(self, model: type[Document], where: Mapping[str, Any] | None = None) -> int:
        query = compile_predicate(where_predicate(model, where))
        try:
            return int(await self._collection(model).count_documents(query))
        except PyMongoError as exc:
            raise StoreError(f"MongoDB failed: {exc}") from exc

    async def ping(self) -> None:
        try:
            await self.engine.client.admin.command("ping")
        except PyMongoError as exc:
            raise StoreError(f"MongoDB does not answer: {exc}") from exc

    async def close(self) -> None:
        self.engine.client.close()
