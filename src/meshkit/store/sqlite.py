"""The embedded backend: one SQLite file per service, documents as JSON.

Each collection is a table ``(id TEXT PRIMARY KEY, version INTEGER, doc TEXT)``.
Declared indexes are expression indexes on ``json_extract(doc, '$.field')`` and queries
are compiled to the very same expressions, so SQLite's planner uses them (the contract
suite checks with ``EXPLAIN QUERY PLAN``). WAL mode lets readers and the writer proceed
together.

The file holds secrets (the auth service's signing keys and password hashes), so it is
created ``0600`` before SQLite opens it: SQLite gives the ``-wal``, ``-shm`` and
``-journal`` files it creates later the main file's mode, whatever the umask.
"""

from __future__ import annotations

import json
import logging
import re
import sqlite3
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import aiosqlite

from meshkit.files import private_dir, private_file, restrict
from meshkit.store.base import D, Page, Store, page_of
from meshkit.store.document import Document
from meshkit.store.errors import DuplicateKey, StaleVersion, StoreError
from meshkit.store.query import (
    All,
    AnyOf,
    Predicate,
    Sort,
    check_limit,
    cursor_predicate,
    encode_document,
    sort_keys,
    where_predicate,
)

# aiosqlite logs every statement with its parameters at DEBUG: documents (password
# hashes, token digests) would reach the logs whenever MESHKIT_LOG_LEVEL=DEBUG.
logging.getLogger("aiosqlite").setLevel(logging.INFO)

IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
COLUMNS = {"id": "id", "version": "version"}
SQL_OPS = {"$eq": "=", "$ne": "!=", "$gt": ">", "$gte": ">=", "$lt": "<", "$lte": "<="}
SIDE_FILES = ("-wal", "-shm", "-journal")  # what SQLite writes next to a database file
UNIQUE_FAILED = re.compile(r"UNIQUE constraint failed: (?:index '(\w+)'|(\w+)\.id)")


def _table(model: type[Document]) -> str:
    name = getattr(model, "collection", None)
    if not isinstance(name, str) or not IDENTIFIER.match(name):
        raise TypeError(f"{model.__name__}.collection must be an identifier, got {name!r}")
    return f'"{name}"'


def expression(field: str) -> str:
    """SQL for a field: a column for ``id``/``version``, else the indexed JSON path."""
    if field in COLUMNS:
        return COLUMNS[field]
    if not IDENTIFIER.match(field):
        raise ValueError(f"not a field name: {field!r}")
    return f"json_extract(doc, '$.{field}')"


def compile_predicate(predicate: Predicate, params: list[Any]) -> str:
    """SQL text for ``predicate``, appending its bound values to ``params``."""
    if isinstance(predicate, All):
        if not predicate.parts:
            return "1"
        return "(" + " AND ".join(compile_predicate(p, params) for p in predicate.parts) + ")"
    if isinstance(predicate, AnyOf):
        if not predicate.parts:
            return "0"
        return "(" + " OR ".join(compile_predicate(p, params) for p in predicate.parts) + ")"
    column = expression(predicate.field)
    op, value = predicate.op, predicate.value
    if op in ("$in", "$nin"):
        values = [v for v in value if v is not None]
        has_null = len(values) != len(value)
        params.extend(_param(v) for v in values)
        marks = ", ".join("?" for _ in values)
        if op == "$in":
            clause = f"{column} IN ({marks})" if values else "0"
            return f"({clause} OR {column} IS NULL)" if has_null else clause
        clause = f"{column} NOT IN ({marks})" if values else "1"
        return (
            f"({clause} AND {column} IS NOT NULL)"
            if has_null
            else f"({column} IS NULL OR {clause})"
        )
    if value is None:
        return f"{column} IS NULL" if op == "$eq" else f"{column} IS NOT NULL"
    params.append(_param(value))
    if op == "$ne":
        return f"({column} IS NULL OR {column} != ?)"
    return f"{column} {SQL_OPS[op]} ?"


def _param(value: Any) -> Any:
    """A bound parameter; lists and objects compare as their JSON text."""
    if isinstance(value, list | dict):
        return json.dumps(value, separators=(",", ":"))
    return value


class SQLiteStore(Store):
    """A :class:`Store` on one SQLite file (``aiosqlite``, autocommit, WAL)."""

    def __init__(self, connection: aiosqlite.Connection, path: Path) -> None:
        self._db = connection
        self.path = path
        self._unique: dict[str, tuple[str, ...]] = {}
        self._ready: set[type[Document]] = set()
        self._closed = False

    @classmethod
    async def open(cls, path: Path) -> SQLiteStore:
        """Open (creating) the database file at ``path``, private to this user.

        A missing parent directory is created ``0700``. The file is created ``0600``
        before SQLite opens it, and an existing file or an existing ``-wal``/``-shm``/
        ``-journal`` of it readable by others is tightened with a warning
        (:mod:`meshkit.files`).
        """
        try:
            if not path.parent.exists():
                private_dir(path.parent)
            for suffix in SIDE_FILES:
                restrict(path.with_name(path.name + suffix))
            private_file(path)
        except OSError as exc:
            raise StoreError(f"cannot open {path}: {exc}") from exc
        try:
            connection = await aiosqlite.connect(path, isolation_level=None)
            await connection.execute("PRAGMA journal_mode=WAL")
            await connection.execute("PRAGMA synchronous=NORMAL")
            await connection.execute("PRAGMA busy_timeout=5000")
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open {path}: {exc}") from exc
        return cls(connection, path)

    async def _execute(self, sql: str, params: Sequence[Any] = ()) -> aiosqlite.Cursor:
        if self._closed:
            raise StoreError("the store is closed")
        try:
            return await self._db.execute(sql, params)
        except sqlite3.IntegrityError as exc:
            raise self._duplicate(exc) from None
        except (sqlite3.Error, ValueError) as exc:
            raise StoreError(f"SQLite failed: {exc}") from exc

    def _duplicate(self, exc: sqlite3.IntegrityError) -> DuplicateKey:
        match = UNIQUE_FAILED.search(str(exc))
        if match and match.group(1):
            return DuplicateKey(self._unique.get(match.group(1), (match.group(1),)))
        return DuplicateKey(["id"])

    async def _prepare(self, model: type[Document]) -> str:
        """The model's table name, creating table and indexes on first use."""
        if model not in self._ready:
            await self.ensure_indexes([model])
        return _table(model)

    async def ensure_indexes(self, models: Sequence[type[Document]]) -> None:
        for model in models:
            self._ready.add(model)
            table = _table(model)
            await self._execute(
                f"CREATE TABLE IF NOT EXISTS {table} "
                "(id TEXT PRIMARY KEY, version INTEGER NOT NULL, doc TEXT NOT NULL)"
            )
            for index in model.indexes:
                name = f"{model.collection}_{index.name}"
                # id ends every non-unique index: it is the tie-breaker of every sort,
                # so ORDER BY <fields>, id is served by the index without a temp b-tree.
                fields = index.fields if index.unique else (*index.fields, "id")
                columns = ", ".join(expression(f) for f in fields)
                unique = "UNIQUE " if index.unique else ""
                await self._execute(
                    f'CREATE {unique}INDEX IF NOT EXISTS "{name}" ON {table} ({columns})'
                )
                if index.unique:
                    self._unique[name] = index.fields

    def _load(self, model: type[D], row: Sequence[Any]) -> D:
        data = json.loads(row[2])
        data["id"], data["version"] = row[0], row[1]
        return model.model_validate(data)

    async def insert(self, document: D) -> D:
        stored = document.model_copy(update={"version": 1})
        table = await self._prepare(type(document))
        await self._execute(
            f"INSERT INTO {table} (id, version, doc) VALUES (?, 1, ?)",
            (stored.id, json.dumps(encode_document(stored), separators=(",", ":"))),
        )
        return stored

    async def get(self, model: type[D], id: str) -> D | None:
        cursor = await self._execute(
            f"SELECT id, version, doc FROM {await self._prepare(model)} WHERE id = ?", (id,)
        )
        row = await cursor.fetchone()
        return None if row is None else self._load(model, row)

    def select(
        self,
        model: type[Document],
        where: Mapping[str, Any] | None,
        sort: Sequence[Sort] | None,
        limit: int,
        after: str | None,
    ) -> tuple[str, list[Any], All, tuple[Sort, ...]]:
        """The SQL of a ``find`` (exposed so tests can ``EXPLAIN QUERY PLAN`` it)."""
        predicate = where_predicate(model, where)
        keys = sort_keys(model, sort)
        check_limit(limit)
        params: list[Any] = []
        clauses = [compile_predicate(predicate, params)]
        if after is not None:
            clauses.append(
                compile_predicate(cursor_predicate(model, predicate, keys, after), params)
            )
        order = ", ".join(
            f"{expression(k.field)} {'DESC' if k.descending else 'ASC'}" for k in keys
        )
        sql = (
            f"SELECT id, version, doc FROM {_table(model)} WHERE {' AND '.join(clauses)} "
            f"ORDER BY {order} LIMIT ?"
        )
        params.append(limit + 1)
        return sql, params, predicate, keys

    async def find(
        self,
        model: type[D],
        where: Mapping[str, Any] | None = None,
        *,
        sort: Sequence[Sort] | None = None,
        limit: int = 100,
        after: str | None = None,
    ) -> Page[D]:
        await self._prepare(model)
        sql, params, predicate, keys = self.select(model, where, sort, limit, after)
        rows = await (await self._execute(sql, params)).fetchall()
        return page_of(model, [self._load(model, row) for row in rows], limit, predicate, keys)

    async def update(self, document: D) -> D:
        stored = document.model_copy(update={"version": document.version + 1})
        table = await self._prepare(type(document))
        cursor = await self._execute(
            f"UPDATE {table} SET version = ?, doc = ? WHERE id = ? AND version = ?",
            (
                stored.version,
                json.dumps(encode_document(stored), separators=(",", ":")),
                document.id,
                document.version,
            ),
        )
        if cursor.rowcount == 1:
            return stored
        current = await self.get_or_raise(type(document), document.id)
        raise StaleVersion.of(type(document), document.id, current.version, document.version)

    async def delete(self, model: type[Document], id: str, *, version: int | None = None) -> bool:
        table = await self._prepare(model)
        if version is None:
            cursor = await self._execute(f"DELETE FROM {table} WHERE id = ?", (id,))
            return cursor.rowcount == 1
        cursor = await self._execute(
            f"DELETE FROM {table} WHERE id = ? AND version = ?", (id, version)
        )
        if cursor.rowcount == 1:
            return True
        current = await self.get(model, id)
        if current is None:
            return False
        raise StaleVersion.of(model, id, current.version, version)

    async def count(self, model: type[Document], where: Mapping[str, Any] | None = None) -> int:
        params: list[Any] = []
        clause = compile_predicate(where_predicate(model, where), params)
        cursor = await self._execute(
            f"SELECT COUNT(*) FROM {await self._prepare(model)} WHERE {clause}", params
        )
        row = await cursor.fetchone()
        return int(row[0]) if row else 0

    async def ping(self) -> None:
        await self._execute("SELECT 1")

    async def close(self) -> None:
        if not self._closed:
            self._closed = True
            await self._db.close()
