"""The storage contract: one suite, every backend.

SQLite always; MongoDB when ``MESHKIT_TEST_MONGODB_URL`` points at a real server (each
test uses its own database and drops it).
"""

import asyncio
import os
import uuid
from datetime import UTC, datetime, timedelta
from typing import ClassVar

import pytest
from pydantic import BaseModel, Field

from meshkit.errors import PROBLEM_TYPE_PREFIX
from meshkit.store import (
    Asc,
    Desc,
    Document,
    DocumentNotFound,
    DuplicateKey,
    Index,
    InvalidQuery,
    StaleVersion,
    Store,
    StoreError,
    new_id,
    open_store,
)
from meshkit.store.sqlite import SQLiteStore
from meshkit.testing import make_settings

MONGO_URL = os.environ.get("MESHKIT_TEST_MONGODB_URL")
T0 = datetime(2026, 1, 1, tzinfo=UTC)


class Address(BaseModel):
    city: str
    zip: str | None = None


class Item(Document):
    collection: ClassVar[str] = "items"
    indexes: ClassVar[tuple[Index, ...]] = (
        Index("owner", "created_at"),
        Index("slug", unique=True),
        Index("rank"),
    )
    owner: str
    slug: str
    created_at: datetime
    rank: int = 0
    score: float = 0.0
    active: bool = True
    note: str | None = None
    tags: list[str] = Field(default_factory=list)
    address: Address | None = None


def item(n, **fields):
    values = {
        "owner": "ada",
        "slug": f"item-{n}",
        "created_at": T0 + timedelta(minutes=n),
        "rank": n,
    }
    values.update(fields)
    return Item(**values)


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param(
            "mongo",
            marks=[
                pytest.mark.mongo,
                pytest.mark.skipif(
                    not MONGO_URL, reason="MESHKIT_TEST_MONGODB_URL is not set (no MongoDB here)"
                ),
            ],
        ),
    ]
)
async def store(request, tmp_path):
    if request.param == "sqlite":
        settings = make_settings(tmp_path)
    else:
        settings = make_settings(
            tmp_path,
            MESHKIT_MONGODB_URL=MONGO_URL,
            MESHKIT_MONGODB_DATABASE_PREFIX=f"meshkit_test_{uuid.uuid4().hex[:8]}_",
        )
    opened = await open_store(settings, service="contract")
    await opened.ensure_indexes([Item])
    yield opened
    if request.param == "mongo":
        await opened.engine.client.drop_database(opened.engine.database_name)
    await opened.close()


async def test_insert_get_round_trips_every_field_type(store: Store):
    original = item(
        1,
        score=2.5,
        active=False,
        note=None,
        tags=["a", "b"],
        address=Address(city="Paris"),
        created_at=datetime(2026, 3, 4, 5, 6, 7, 123456, tzinfo=UTC),
    )
    assert original.version == 0
    stored = await store.insert(original)
    assert stored.version == 1
    fetched = await store.get(Item, original.id)
    assert fetched == stored
    assert fetched.created_at.tzinfo is not None
    assert await store.get(Item, "missing") is None
    with pytest.raises(DocumentNotFound):
        await store.get_or_raise(Item, "missing")


async def test_timezones_are_normalised_to_utc(store: Store):
    paris = datetime(2026, 1, 1, 12, 0, tzinfo=UTC).astimezone(
        __import__("zoneinfo").ZoneInfo("Europe/Paris")
    )
    stored = await store.insert(item(1, created_at=paris))
    fetched = await store.get_or_raise(Item, stored.id)
    assert fetched.created_at == datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


async def test_duplicate_id_and_unique_index(store: Store):
    first = await store.insert(item(1))
    with pytest.raises(DuplicateKey) as caught:
        await store.insert(item(2, id=first.id))
    assert caught.value.fields == ["id"]
    with pytest.raises(DuplicateKey) as caught:
        await store.insert(item(3, slug="item-1"))
    assert caught.value.fields == ["slug"]
    assert caught.value.to_dict()["fields"] == ["slug"]
    assert await store.count(Item) == 1


async def test_update_breaking_a_unique_index(store: Store):
    await store.insert(item(1))
    second = await store.insert(item(2))
    with pytest.raises(DuplicateKey):
        await store.update(second.model_copy(update={"slug": "item-1"}))
    assert (await store.get_or_raise(Item, second.id)).slug == "item-2"


async def test_find_operators(store: Store):
    for n in range(10):
        await store.insert(item(n, note="x" if n % 2 else None, owner="bob" if n > 6 else "ada"))

    async def ranks(where):
        page = await store.find(Item, where, sort=[Asc("rank")], limit=100)
        return [i.rank for i in page.items]

    assert await ranks({"owner": "bob"}) == [7, 8, 9]
    assert await ranks({"rank": {"$eq": 3}}) == [3]
    assert await ranks({"rank": {"$ne": 3}, "owner": "bob"}) == [7, 8, 9]
    assert await ranks({"rank": {"$gt": 7}}) == [8, 9]
    assert await ranks({"rank": {"$gte": 7, "$lt": 9}}) == [7, 8]
    assert await ranks({"rank": {"$lte": 1}}) == [0, 1]
    assert await ranks({"rank": {"$in": [2, 4, 99]}}) == [2, 4]
    assert await ranks({"rank": {"$nin": [0, 1, 2, 3, 4, 5, 6]}}) == [7, 8, 9]
    assert await ranks({"note": None}) == [0, 2, 4, 6, 8]
    assert await ranks({"note": {"$ne": None}}) == [1, 3, 5, 7, 9]
    assert await ranks({"note": {"$ne": "x"}}) == [0, 2, 4, 6, 8]
    assert await ranks({"active": True, "rank": {"$lt": 2}}) == [0, 1]
    since = T0 + timedelta(minutes=8)
    assert await ranks({"created_at": {"$gte": since}}) == [8, 9]
    assert await store.count(Item, {"owner": "ada"}) == 7
    assert await store.count(Item) == 10


async def test_sort_directions_and_multiple_keys(store: Store):
    for n in range(6):
        await store.insert(item(n, score=float(n % 2), rank=n))
    page = await store.find(Item, sort=[Desc("rank")])
    assert [i.rank for i in page.items] == [5, 4, 3, 2, 1, 0]
    page = await store.find(Item, sort=[Asc("score"), Desc("rank")])
    assert [i.rank for i in page.items] == [4, 2, 0, 5, 3, 1]
    page = await store.find(Item, sort=[Desc("created_at")])
    assert [i.rank for i in page.items] == [5, 4, 3, 2, 1, 0]
    page = await store.find(Item, sort=[Desc("id")])  # newest first, by id alone
    assert [i.rank for i in page.items] == [5, 4, 3, 2, 1, 0]
    page = await store.find(Item, sort=[Desc("id")], limit=2)
    more = await store.find(Item, sort=[Desc("id")], limit=2, after=page.next_cursor)
    assert [i.rank for i in page.items + more.items] == [5, 4, 3, 2]


async def test_scan_yields_every_match_across_pages_even_while_deleting(store: Store):
    for n in range(23):
        await store.insert(item(n, rank=n % 2))
    seen = []
    async for found in store.scan(Item, {"rank": 1}, sort=[Desc("id")], page_size=5):
        seen.append(found.id)
        await store.delete(Item, found.id)  # what was yielded may go
    assert len(seen) == 11
    assert seen == sorted(seen, reverse=True)
    assert await store.count(Item, {"rank": 1}) == 0


@pytest.mark.parametrize("descending", [False, True])
async def test_pagination_visits_every_document_once(store: Store, descending):
    inserted = []
    for n in range(53):
        inserted.append(await store.insert(item(n, rank=n % 3, note=None if n % 5 else "n")))
    seen = []
    after = None
    pages = 0
    key = Desc("rank") if descending else Asc("rank")
    while True:
        page = await store.find(Item, sort=[key], limit=7, after=after)
        seen.extend(page.items)
        pages += 1
        if page.next_cursor is None:
            break
        after = page.next_cursor
    assert pages == 8
    assert sorted(i.id for i in seen) == sorted(i.id for i in inserted)
    assert len({i.id for i in seen}) == 53
    keys = [(i.rank, i.id) for i in seen]
    assert keys == sorted(keys, reverse=descending)


async def test_pagination_over_nullable_sort_key(store: Store):
    for n in range(12):
        await store.insert(item(n, note=None if n % 3 == 0 else f"n{n % 4}"))
    for key in (Asc("note"), Desc("note")):
        seen, after = [], None
        while True:
            page = await store.find(Item, sort=[key], limit=5, after=after)
            seen.extend(i.id for i in page.items)
            if not (after := page.next_cursor):
                break
        assert len(seen) == len(set(seen)) == 12


async def test_pagination_is_stable_under_concurrent_inserts(store: Store):
    originals = [await store.insert(item(n)) for n in range(20)]
    seen, after = [], None
    n = 100
    while True:
        page = await store.find(
            Item, where={"owner": "ada"}, sort=[Asc("created_at")], limit=6, after=after
        )
        seen.extend(page.items)
        await asyncio.gather(
            *(store.insert(item(n + k, created_at=T0 - timedelta(days=1))) for k in range(3))
        )
        n += 3
        if not (after := page.next_cursor):
            break
    assert [i.id for i in seen] == [i.id for i in originals]


async def test_cursor_misuse_is_an_invalid_query(store: Store):
    for n in range(5):
        await store.insert(item(n))
    page = await store.find(Item, sort=[Asc("rank")], limit=2)
    assert page.next_cursor
    with pytest.raises(InvalidQuery, match="different query"):
        await store.find(Item, sort=[Desc("rank")], limit=2, after=page.next_cursor)
    with pytest.raises(InvalidQuery, match="different query"):
        await store.find(Item, {"owner": "x"}, sort=[Asc("rank")], after=page.next_cursor)
    with pytest.raises(InvalidQuery, match="malformed"):
        await store.find(Item, sort=[Asc("rank")], after="not-a-cursor!!")


@pytest.mark.parametrize(
    ("where", "sort", "limit", "match"),
    [
        ({"nope": 1}, None, 10, "no field 'nope'"),
        ({"rank": {"$regex": "x"}}, None, 10, "unknown operator"),
        ({"rank": {"$in": 3}}, None, 10, "needs a list"),
        ({"rank": {"$gt": None}}, None, 10, "null"),
        ({"owner": "x; DROP TABLE items"}, [Asc("nope")], 10, "no field 'nope'"),
        (None, ["rank"], 10, "Asc"),
        (None, None, 0, "limit"),
        (None, None, 1001, "limit"),
    ],
)
async def test_invalid_queries(store: Store, where, sort, limit, match):
    with pytest.raises(InvalidQuery, match=match):
        await store.find(Item, where, sort=sort, limit=limit)


async def test_values_are_bound_never_injected(store: Store):
    hostile = "x') OR 1=1 --"
    await store.insert(item(1, owner=hostile))
    await store.insert(item(2))
    page = await store.find(Item, {"owner": hostile})
    assert [i.owner for i in page.items] == [hostile]


async def test_update_uses_optimistic_concurrency(store: Store):
    stored = await store.insert(item(1))
    changed = await store.update(stored.model_copy(update={"note": "edited"}))
    assert changed.version == 2
    assert (await store.get_or_raise(Item, stored.id)).note == "edited"
    with pytest.raises(StaleVersion) as caught:
        await store.update(stored.model_copy(update={"note": "late"}))
    assert caught.value.extensions["current_version"] == 2
    assert (await store.get_or_raise(Item, stored.id)).note == "edited"
    await store.delete(Item, stored.id)
    with pytest.raises(DocumentNotFound):
        await store.update(changed)


async def test_modify_retries_until_every_concurrent_change_lands(store: Store):
    stored = await store.insert(item(1, rank=0))

    async def bump(current: Item) -> Item:
        await asyncio.sleep(0)
        return current.model_copy(update={"rank": current.rank + 1})

    results = await asyncio.gather(
        *(store.modify(Item, stored.id, bump, attempts=50) for _ in range(20))
    )
    final = await store.get_or_raise(Item, stored.id)
    assert final.rank == 20, "no increment was lost"
    assert final.version == 21
    assert sorted(r.rank for r in results) == list(range(1, 21))


async def test_modify_gives_up_after_its_attempts(store: Store):
    stored = await store.insert(item(1))
    seen = []

    async def always_raced(current: Item) -> Item:
        seen.append(current.version)
        await store.update(current.model_copy(update={"note": "someone else"}))
        return current.model_copy(update={"note": "mine"})

    with pytest.raises(StaleVersion):
        await store.modify(Item, stored.id, always_raced, attempts=3)
    assert seen == [1, 2, 3]
    assert (await store.get_or_raise(Item, stored.id)).note == "someone else"
    with pytest.raises(DocumentNotFound):
        await store.modify(Item, "missing", lambda doc: doc)


async def test_concurrent_updates_from_one_version_have_one_winner(store: Store):
    stored = await store.insert(item(1))
    results = await asyncio.gather(
        *(store.update(stored.model_copy(update={"rank": k})) for k in range(20)),
        return_exceptions=True,
    )
    winners = [r for r in results if isinstance(r, Item)]
    assert len(winners) == 1
    assert all(isinstance(r, StaleVersion) for r in results if not isinstance(r, Item))
    final = await store.get_or_raise(Item, stored.id)
    assert final.version == 2
    assert final.rank == winners[0].rank


async def test_delete(store: Store):
    stored = await store.insert(item(1))
    with pytest.raises(StaleVersion):
        await store.delete(Item, stored.id, version=7)
    assert await store.delete(Item, stored.id, version=1) is True
    assert await store.delete(Item, stored.id) is False
    assert await store.delete(Item, stored.id, version=1) is False
    again = await store.insert(item(2))
    assert await store.delete(Item, again.id) is True


async def test_ensure_indexes_is_idempotent_and_collections_appear_on_use(store: Store):
    await store.ensure_indexes([Item])
    await store.ensure_indexes([Item])

    class Other(Document):
        collection: ClassVar[str] = "others_" + uuid.uuid4().hex[:6]
        name: str

    stored = await store.insert(Other(name="x"))
    assert (await store.get_or_raise(Other, stored.id)).name == "x"


async def test_ping_and_errors_are_problems(store: Store):
    await store.ping()
    cases = {
        DocumentNotFound("x"): (404, "not-found"),
        StaleVersion("x"): (409, "stale-version"),
        DuplicateKey(["slug"]): (409, "duplicate-key"),
        InvalidQuery("x"): (400, "invalid-query"),
        StoreError("x"): (503, "store-unavailable"),
    }
    for error, (status, slug) in cases.items():
        body = error.to_dict()
        assert body["status"] == status
        assert body["type"] == PROBLEM_TYPE_PREFIX + slug


def test_ids_sort_in_creation_order():
    ids = [new_id() for _ in range(5000)]
    assert ids == sorted(ids)
    assert len(set(ids)) == 5000
    assert all(len(i) == 26 for i in ids)


# SQLite specifics


async def test_sqlite_file_wal_and_closed_store(tmp_path):
    store = await open_store(make_settings(tmp_path), service="billing")
    assert isinstance(store, SQLiteStore)
    assert store.path == tmp_path / "billing.sqlite3"
    await store.ensure_indexes([Item])
    cursor = await store._db.execute("PRAGMA journal_mode")
    assert (await cursor.fetchone())[0] == "wal"
    await store.close()
    await store.close()
    with pytest.raises(StoreError):
        await store.ping()


@pytest.mark.parametrize(
    ("where", "sort", "index", "sorted_by_index"),
    [
        ({"owner": "ada"}, [Desc("created_at")], "items_ix_owner_created_at", True),
        (
            {"owner": "ada", "created_at": {"$gt": T0}},
            [Asc("created_at")],
            "items_ix_owner_created_at",
            True,
        ),
        ({"slug": "item-3"}, None, "items_ux_slug", True),
        ({"rank": {"$in": [1, 2]}}, None, "items_ix_rank", False),
    ],
)
async def test_sqlite_queries_use_the_declared_indexes(
    tmp_path, where, sort, index, sorted_by_index
):
    store = await open_store(make_settings(tmp_path), service="plans")
    try:
        await store.ensure_indexes([Item])
        for n in range(50):
            await store.insert(item(n, owner=f"user{n % 10}"))
        sql, params, *_ = store.select(Item, where, sort, 10, None)
        cursor = await store._db.execute("EXPLAIN QUERY PLAN " + sql, params)
        plan = " | ".join(row[3] for row in await cursor.fetchall())
        assert f"USING INDEX {index}" in plan, plan
        assert "SCAN items " not in plan + " ", plan
        assert ("TEMP B-TREE" not in plan) == sorted_by_index, plan
    finally:
        await store.close()


async def test_sqlite_cursor_query_uses_the_index(tmp_path):
    store = await open_store(make_settings(tmp_path), service="plans")
    try:
        await store.ensure_indexes([Item])
        for n in range(30):
            await store.insert(item(n))
        page = await store.find(Item, {"owner": "ada"}, sort=[Desc("created_at")], limit=5)
        sql, params, *_ = store.select(
            Item, {"owner": "ada"}, [Desc("created_at")], 5, page.next_cursor
        )
        cursor = await store._db.execute("EXPLAIN QUERY PLAN " + sql, params)
        plan = " | ".join(row[3] for row in await cursor.fetchall())
        assert "items_ix_owner_created_at" in plan, plan
    finally:
        await store.close()


def test_mongo_queries_are_compiled_from_the_shared_predicates():
    """Without a MongoDB here, at least pin what the adapter sends for each operator."""
    from meshkit.store.mongo import compile_predicate
    from meshkit.store.query import cursor_predicate, make_cursor, sort_keys, where_predicate

    where = where_predicate(Item, {"owner": "ada", "rank": {"$gte": 2, "$in": [2, 3]}})
    assert compile_predicate(where) == {
        "$and": [
            {"owner": {"$eq": "ada"}},
            {"rank": {"$gte": 2}},
            {"rank": {"$in": [2, 3]}},
        ]
    }
    keys = sort_keys(Item, [Desc("created_at")])
    cursor = make_cursor(
        Item, where, keys, {"created_at": "2026-01-01T00:00:00.000000Z", "id": "X"}
    )
    after = compile_predicate(cursor_predicate(Item, where, keys, cursor))
    assert after == {
        "$or": [
            {
                "$and": [
                    {
                        "$or": [
                            {"created_at": {"$lt": "2026-01-01T00:00:00.000000Z"}},
                            {"created_at": {"$eq": None}},
                        ]
                    }
                ]
            },
            {
                "$and": [
                    {"created_at": {"$eq": "2026-01-01T00:00:00.000000Z"}},
                    {"$or": [{"_id": {"$lt": "X"}}, {"_id": {"$eq": None}}]},
                ]
            },
        ]
    }
