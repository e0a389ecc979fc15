"""Notifications of the messaging service: who is told, paging, the unread badge, marking
read, the ``meshkit_notify`` hook and the real-time push callback.

A small service made of the notification routes alone is served in-process (real
store, real Redis, real HTTP) and called with real signed access tokens; messages are
the messaging service's own ``MessageOut``, with mentions parsed by its own parser.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

import pytest
from joserfc import jws
from joserfc.jwk import OKPKey

from meshkit import hookimpl
from meshkit.service import Need
from meshkit.services.messaging.messages import mentions_in
from meshkit.services.messaging.models import MessageOut
from meshkit.services.messaging.notifications import (
    EXCERPT,
    Notification,
    Notifications,
    NotificationsApi,
    excerpt_of,
)
from meshkit.store import Document, new_id
from meshkit.testing import make_settings
from meshkit.tokens import JwksSource, StaticJwks, jws_registry

KEY = OKPKey.generate_key("Ed25519", parameters={"kid": "test-ed"})
PROBLEM = "application/problem+json"


def token_for(user_id: str) -> str:
    """An access token for ``user_id``, signed like the auth service signs them."""
    now = int(time.time())
    claims = {
        "iss": "meshkit",
        "aud": "meshkit",
        "sub": user_id,
        "iat": now,
        "nbf": now,
        "exp": now + 300,
        "jti": secrets.token_hex(8),
        "typ": "access",
    }
    header = {"alg": "EdDSA", "kid": "test-ed", "typ": "at+jwt"}
    return jws.serialize_compact(header, json.dumps(claims), KEY, registry=jws_registry(["EdDSA"]))


class NotesTest(NotificationsApi):
    """Just the notification routes, on their own store."""

    name = "notes_test"
    default_port = 3998
    needs: ClassVar[frozenset[Need]] = frozenset({"store", "redis"})
    documents: ClassVar[tuple[type[Document], ...]] = (Notification,)

    pushed: list[tuple[str, dict[str, Any]]]
    push_fails = False

    def jwks_source(self) -> JwksSource:
        return StaticJwks({"keys": [{**KEY.as_dict(private=False), "alg": "EdDSA"}]})

    async def push(self, user_id: str, payload: dict[str, Any]) -> None:
        if self.push_fails:
            raise ConnectionError("socket.io is away")
        self.pushed.append((user_id, payload))

    async def lifespan(self) -> AsyncIterator[None]:
        self.pushed = []
        self.notifications = Notifications(self.store, self.plugins, self, push=self.push)
        yield


class Recorder:
    """A delivery plugin that remembers what it was asked to deliver."""

    def __init__(self) -> None:
        self.delivered: list[Notification] = []

    @hookimpl
    async def meshkit_notify(self, service: Any, notification: Any) -> None:
        assert service.name == "notes_test"
        self.delivered.append(notification)


class Broken:
    """A delivery plugin whose mail server is down."""

    @hookimpl
    def meshkit_notify(self, service: Any, notification: Any) -> None:
        raise OSError("smtp is down")


class User:
    """One user calling the service with their own token."""

    def __init__(self, client: Any, user_id: str) -> None:
        self.client, self.id = client, user_id
        self.headers = {"Authorization": f"Bearer {token_for(user_id)}"}

    async def call(self, method: str, path: str, **kwargs: Any) -> tuple[int, Any]:
        response = await self.client.request(method, path, headers=self.headers, **kwargs)
        body = await response.json()
        if response.status >= 400:
            assert response.content_type == PROBLEM
        return response.status, body

    async def page(self, **params: str) -> dict[str, Any]:
        status, body = await self.call("GET", "/v1/notifications", params=params)
        assert status == 200, body
        return dict(body)

    async def read(self, **body: Any) -> int:
        status, answer = await self.call("POST", "/v1/notifications/read", json=body)
        assert status == 200, answer
        return int(answer["unread"])


def message(author: str, content: str, channel_id: str = "C1") -> MessageOut:
    """A stored message as the messaging service answers it (mentions parsed its way)."""
    mentions, everyone = mentions_in(content)
    return MessageOut(
        id=new_id(),
        channel_id=channel_id,
        author_id=author,
        content=content,
        created_at=datetime.now(UTC),
        edited_at=None,
        deleted=False,
        reply_to=None,
        mentions=mentions,
        mentions_channel=everyone,
        attachments=[],
        reactions={},
        system=False,
    )


@pytest.fixture
async def notes(
    tmp_path: Path, meshkit_redis_url: str, meshkit_redis: Any, service_client: Any
) -> Any:
    """Serve ``NotesTest`` with the given plugins; answers (service, user factory)."""

    async def start(*plugins: tuple[str, object]) -> tuple[NotesTest, Any]:
        settings = make_settings(
            tmp_path, MESHKIT_REDIS_URL=meshkit_redis_url, MESHKIT_JWT_ALGORITHMS="EdDSA"
        )
        service = NotesTest(settings)
        client = await service_client(service, plugins=plugins, settings=settings)
        return service, lambda user_id: User(client, user_id)

    return start


MEMBERS = ["ada", "bob", "cat"]


async def test_a_mention_notifies_the_mentioned_member_only(notes):
    service, user = await notes()
    sent = message("ada", "hi <@bob>, <@eve> and <@ada>: lunch?")  # eve is no member
    created = await service.notifications.for_message(sent, "public", MEMBERS)
    assert [(n.user_id, n.kind, n.message_id) for n in created] == [("bob", "mention", sent.id)]
    page = await user("bob").page()
    assert page["unread"] == 1
    [item] = page["items"]
    assert item["kind"] == "mention"
    assert (item["channel_id"], item["message_id"], item["author_id"]) == ("C1", sent.id, "ada")
    assert item["excerpt"] == sent.content
    assert item["read"] is False
    assert item["read_at"] is None
    for nobody in ("ada", "cat", "eve"):
        assert (await user(nobody).page()) == {"items": [], "next_cursor": None, "unread": 0}
    # pushed in real time, with the badge the client shows
    assert [(to, p["notification"]["id"], p["unread"]) for to, p in service.pushed] == [
        ("bob", item["id"], 1)
    ]


async def test_channel_mention_notifies_every_member_but_the_author(notes):
    service, _ = await notes()
    sent = message("ada", "@channel standup in 5, <@cat> you lead")
    created = await service.notifications.for_message(sent, "private", [*MEMBERS, "dan"])
    kinds = {n.user_id: n.kind for n in created}
    assert kinds == {"cat": "mention", "bob": "channel_mention", "dan": "channel_mention"}
    plain = message("ada", "no mentions here")
    assert await service.notifications.for_message(plain, "public", MEMBERS) == []


async def test_a_dm_notifies_the_other_people(notes):
    service, user = await notes()
    sent = message("bob", "psst <@ada>", channel_id="D1")
    created = await service.notifications.for_message(sent, "dm", ["ada", "bob", "cat"])
    assert sorted((n.user_id, n.kind) for n in created) == [("ada", "dm"), ("cat", "dm")]
    assert (await user("bob").page())["unread"] == 0


async def test_the_same_message_twice_notifies_nobody_twice(notes):
    recorder = Recorder()
    service, user = await notes(("recorder", recorder))
    sent = message("ada", "@everyone <@bob>")
    first = await service.notifications.for_message(sent, "public", MEMBERS)
    again = await service.notifications.for_message(sent, "public", MEMBERS)
    assert len(first) == 2
    assert again == []
    assert (await user("bob").page())["unread"] == 1
    assert len(recorder.delivered) == 2
    assert len(service.pushed) == 2


async def test_listing_is_newest_first_with_cursor_paging(notes):
    service, user = await notes()
    ids = []
    for n in range(5):
        [made] = await service.notifications.for_message(
            message("ada", f"<@bob> number {n}"), "public", MEMBERS
        )
        ids.append(made.id)
    bob = user("bob")
    first = await bob.page(limit="2")
    assert [i["id"] for i in first["items"]] == [ids[4], ids[3]]
    assert first["unread"] == 5
    second = await bob.page(limit="2", cursor=first["next_cursor"])
    assert [i["id"] for i in second["items"]] == [ids[2], ids[1]]
    last = await bob.page(limit="2", cursor=second["next_cursor"])
    assert [i["id"] for i in last["items"]] == [ids[0]]
    assert last["next_cursor"] is None
    everything = await bob.page()
    assert [i["excerpt"] for i in everything["items"]] == [f"<@bob> number {n}" for n in range(5)][
        ::-1
    ]


async def test_marking_read_by_id_then_all_updates_the_badge(notes):
    service, user = await notes()
    ids = [
        (await service.notifications.for_message(message("ada", f"<@bob> {n}"), "public", MEMBERS))[
            0
        ].id
        for n in range(4)
    ]
    bob = user("bob")
    assert await bob.read(ids=ids[:2]) == 2
    assert await bob.read(ids=ids[:2]) == 2  # again: nothing changes
    unread = await bob.page(unread_only="true")
    assert [i["id"] for i in unread["items"]] == [ids[3], ids[2]]
    assert unread["unread"] == 2
    listed = {i["id"]: i for i in (await bob.page())["items"]}
    assert listed[ids[0]]["read"] is True
    assert listed[ids[0]]["read_at"] is not None
    assert listed[ids[3]]["read"] is False
    assert await bob.read(all=True) == 0
    assert (await bob.page(unread_only="true"))["items"] == []
    # a notification arriving afterwards is unread again
    await service.notifications.for_message(message("cat", "<@bob> later"), "public", MEMBERS)
    assert (await bob.page())["unread"] == 1


async def test_nobody_reads_or_marks_another_users_notifications(notes):
    service, user = await notes()
    sent = message("ada", "@channel hello")
    created = {
        n.user_id: n.id for n in await service.notifications.for_message(sent, "public", MEMBERS)
    }
    cat = user("cat")
    assert await cat.read(ids=[created["bob"]]) == 1  # bob's id: ignored
    assert [i["id"] for i in (await cat.page())["items"]] == [created["cat"]]
    assert await cat.read(all=True) == 0
    assert (await user("bob").page())["unread"] == 1  # untouched by cat
    assert await service.notifications.mark_read("cat", [new_id()]) == 0  # unknown id


async def test_every_notify_plugin_is_called_and_failures_break_nothing(notes, caplog):
    recorder = Recorder()
    service, user = await notes(("broken", Broken()), ("recorder", recorder))
    service.push_fails = True
    sent = message("ada", "@channel <@bob>")
    with caplog.at_level(logging.ERROR, logger="meshkit.messaging.notifications"):
        created = await service.notifications.for_message(sent, "public", MEMBERS)
    assert sorted(n.user_id for n in created) == ["bob", "cat"]
    assert [n.id for n in recorder.delivered] == [n.id for n in created]
    assert {n.kind for n in recorder.delivered} == {"mention", "channel_mention"}
    assert recorder.delivered[0].user_id == created[0].user_id
    failures = [r.getMessage() for r in caplog.records]
    assert sum("meshkit_notify of plugin broken failed" in m for m in failures) == 2
    assert sum(m.startswith("pushing notification") for m in failures) == 2
    assert (await user("bob").page())["unread"] == 1  # stored all the same


async def test_without_a_plugin_nothing_but_the_record_happens(notes):
    service, _ = await notes()
    created = await service.notifications.for_message(message("ada", "<@bob>"), "public", MEMBERS)
    assert len(created) == 1  # the default meshkit_notify does nothing (and cannot fail)


async def test_bad_input_is_a_422_and_no_token_a_401(notes):
    _, user = await notes()
    bob = user("bob")
    for body in (
        {},
        {"all": False},
        {"ids": []},
        {"ids": ["not-an-id"]},
        {"ids": [new_id()], "all": True},
        {"ids": [new_id()] * 101},
        ["all"],
    ):
        status, problem = await bob.call("POST", "/v1/notifications/read", json=body)
        assert status == 422, body
        assert problem["type"].endswith(":validation-error")
    response = await bob.client.post(
        "/v1/notifications/read",
        data=b"{not json",
        headers={**bob.headers, "Content-Type": "application/json"},
    )
    assert response.status == 400  # the framework's malformed-body problem
    for params in ({"limit": "0"}, {"limit": "101"}, {"cursor": "x"}, {"unread_only": "maybe"}):
        assert (await bob.call("GET", "/v1/notifications", params=params))[0] == 422, params
    response = await bob.client.get("/v1/notifications")
    assert response.status == 401
    document = await (await bob.client.get("/openapi.json")).json()
    assert {"/v1/notifications", "/v1/notifications/read"} <= set(document["paths"])


def test_the_excerpt_is_one_line_of_at_most_140_characters():
    assert excerpt_of("  hello\n\n  world  ") == "hello world"
    long = excerpt_of("word " * 100)
    assert len(long) <= EXCERPT
    assert long.endswith("…")
    assert excerpt_of("x" * EXCERPT) == "x" * EXCERPT


async def test_concurrent_marking_counts_each_notification_once(notes):
    service, user = await notes()
    for n in range(6):
        await service.notifications.for_message(message("ada", f"<@bob> {n}"), "public", MEMBERS)
    ids = [i["id"] for i in (await user("bob").page())["items"]]
    marked = await asyncio.gather(
        service.notifications.mark_read("bob", None),
        service.notifications.mark_read("bob", ids[:3]),
        service.notifications.mark_read("bob", ids),
    )
    assert sum(marked) == 6
    assert await service.notifications.unread_count("bob") == 0
