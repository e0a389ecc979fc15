"""The messaging service's REST API with auth beside it: channels, membership,
permissions, messages, nonces, plugin hooks and history paging."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from meshkit import hookimpl
from meshkit.plugins import get_plugin_manager
from meshkit.runtime import Runtime
from meshkit.services.messaging.messages import MessageRejected, mentions_in
from meshkit.testing import make_settings

PASSWORD = "correct horse battery staple"
PROBLEM = "application/problem+json"


class Moderation:
    """A test plugin: refuses one word, fixes a typo, records what was created."""

    def __init__(self) -> None:
        self.created: list[Any] = []

    @hookimpl
    def meshkit_message_before_create(self, service: Any, draft: Any) -> None:
        if "forbidden" in draft.content:
            raise MessageRejected("that word is not allowed here")
        draft.content = draft.content.replace("teh", "the")

    @hookimpl
    async def meshkit_message_created(self, service: Any, message: Any) -> None:
        self.created.append(message)


class Client:
    """One user talking to the messaging service over HTTP."""

    def __init__(self, http: aiohttp.ClientSession, base: str, token: str, user_id: str):
        self.http, self.base, self.user_id = http, base, user_id
        self.headers = {"Authorization": f"Bearer {token}"}

    async def call(self, method: str, path: str, **kwargs: Any) -> tuple[int, Any]:
        async with self.http.request(
            method, self.base + path, headers=self.headers, **kwargs
        ) as response:
            body = None if response.status == 204 else await response.json()
            if response.status >= 400:
                assert response.content_type == PROBLEM
            return response.status, body


@pytest.fixture
async def chat(tmp_path: Path, meshkit_redis_url: str, meshkit_redis: Any) -> AsyncIterator[Any]:
    moderation = Moderation()
    settings = make_settings(
        tmp_path, MESHKIT_REDIS_URL=meshkit_redis_url, MESHKIT_AUTH_BCRYPT_COST="4"
    )
    pm = get_plugin_manager(settings, plugins=[("moderation", moderation)])
    runtime = Runtime(settings, pm, ["auth", "messaging"], ports={"auth": 0, "messaging": 0})
    started = {r.service.name: r for r in await runtime.start()}
    async with aiohttp.ClientSession() as http:

        async def user(name: str) -> Client:
            auth = started["auth"].url
            async with http.post(
                f"{auth}/v1/auth/register",
                json={"email": f"{name}@example.test", "username": name, "password": PASSWORD},
            ) as response:
                assert response.status == 201
                user_id = (await response.json())["id"]
            async with http.post(
                f"{auth}/v1/auth/login", json={"login": name, "password": PASSWORD}
            ) as response:
                token = (await response.json())["access_token"]
            return Client(http, started["messaging"].url, token, user_id)

        yield user, moderation
    await runtime.stop()


async def test_a_public_channel_is_joined_without_invite_and_read_by_members(chat):
    user, _ = chat
    ada, bob = await user("ada"), await user("bob")
    status, channel = await ada.call("POST", "/v1/channels", json={"name": "general"})
    assert status == 201
    assert channel["role"] == "owner"
    cid = channel["id"]
    assert (await bob.call("GET", f"/v1/channels/{cid}"))[0] == 200  # visible to all
    assert (await bob.call("GET", f"/v1/channels/{cid}/messages"))[0] == 403
    assert (await bob.call("POST", f"/v1/channels/{cid}/messages", json={"content": "hi"}))[
        0
    ] == 403
    assert (await bob.call("PUT", f"/v1/channels/{cid}/members/me"))[0] == 204
    assert (await bob.call("PUT", f"/v1/channels/{cid}/members/me"))[0] == 204  # idempotent
    status, message = await bob.call(
        "POST", f"/v1/channels/{cid}/messages", json={"content": f"hi <@{ada.user_id}> @channel"}
    )
    assert status == 201
    assert message["mentions"] == [ada.user_id]
    assert message["mentions_channel"] is True
    status, page = await ada.call("GET", f"/v1/channels/{cid}/messages")
    assert [m["id"] for m in page] == [message["id"]]
    status, listed = await ada.call("GET", "/v1/channels")
    assert [(c["id"], c["member_count"], c["unread"]) for c in listed] == [(cid, 2, 1)]
    status, members = await ada.call("GET", f"/v1/channels/{cid}/members")
    assert {m["user_id"] for m in members} == {ada.user_id, bob.user_id}
    assert (await bob.call("DELETE", f"/v1/channels/{cid}/members/me"))[0] == 204
    assert (await bob.call("GET", f"/v1/channels/{cid}/messages"))[0] == 403


async def test_a_private_channel_does_not_exist_for_outsiders(chat):
    user, _ = chat
    ada, bob, eve = await user("ada"), await user("bob"), await user("eve")
    _, channel = await ada.call("POST", "/v1/channels", json={"name": "staff", "kind": "private"})
    cid = channel["id"]
    for method, path, kwargs in (
        ("GET", f"/v1/channels/{cid}", {}),
        ("GET", f"/v1/channels/{cid}/messages", {}),
        ("POST", f"/v1/channels/{cid}/messages", {"json": {"content": "let me in"}}),
        ("PUT", f"/v1/channels/{cid}/members/me", {}),
    ):
        assert (await eve.call(method, path, **kwargs))[0] == 404, (method, path)
    assert (await ada.call("PUT", f"/v1/channels/{cid}/members/{bob.user_id}"))[0] == 204
    assert (await bob.call("POST", f"/v1/channels/{cid}/messages", json={"content": "hi"}))[
        0
    ] == 201
    # a plain member may not invite into a private channel, nor remove others
    assert (await bob.call("PUT", f"/v1/channels/{cid}/members/{eve.user_id}"))[0] == 403
    assert (await bob.call("DELETE", f"/v1/channels/{cid}/members/{ada.user_id}"))[0] == 403
    assert (await ada.call("PUT", f"/v1/channels/{cid}/members/nobody-at-all"))[0] == 404
    assert (await ada.call("DELETE", f"/v1/channels/{cid}/members/{bob.user_id}"))[0] == 204
    assert (await bob.call("GET", f"/v1/channels/{cid}/messages"))[0] == 404


async def test_the_same_nonce_twice_makes_one_message(chat):
    user, moderation = chat
    ada = await user("ada")
    _, channel = await ada.call("POST", "/v1/channels", json={"name": "general"})
    path = f"/v1/channels/{channel['id']}/messages"
    first = await ada.call("POST", path, json={"content": "once", "nonce": "n-1"})
    again = await ada.call("POST", path, json={"content": "once", "nonce": "n-1"})
    assert first[0] == again[0] == 201  # the retry gets the first send's answer
    assert again[1]["id"] == first[1]["id"]
    assert again[1]["nonce"] == "n-1"
    _, page = await ada.call("GET", path)
    assert len(page) == 1
    assert len(moderation.created) == 1


async def test_plugins_can_change_or_refuse_a_message(chat):
    user, moderation = chat
    ada = await user("ada")
    _, channel = await ada.call("POST", "/v1/channels", json={"name": "general"})
    path = f"/v1/channels/{channel['id']}/messages"
    status, problem = await ada.call("POST", path, json={"content": "a forbidden word"})
    assert status == 422
    assert problem["type"].endswith(":message-rejected")
    assert problem["detail"] == "that word is not allowed here"
    status, fixed = await ada.call("POST", path, json={"content": "teh end"})
    assert fixed["content"] == "the end"
    _, page = await ada.call("GET", path)
    assert [m["content"] for m in page] == ["the end"]  # the refused one never existed
    assert [m.content for m in moderation.created] == ["the end"]


async def test_history_pages_before_after_and_around(chat):
    user, _ = chat
    ada = await user("ada")
    _, channel = await ada.call("POST", "/v1/channels", json={"name": "general"})
    path = f"/v1/channels/{channel['id']}/messages"
    ids = []
    for n in range(25):
        ids.append((await ada.call("POST", path, json={"content": f"m{n}"}))[1]["id"])
    _, newest = await ada.call("GET", path, params={"limit": "10"})
    assert [m["id"] for m in newest] == ids[15:]
    _, older = await ada.call("GET", path, params={"limit": "10", "before": ids[15]})
    assert [m["id"] for m in older] == ids[5:15]
    _, newer = await ada.call("GET", path, params={"limit": "10", "after": ids[4]})
    assert [m["id"] for m in newer] == ids[5:15]
    _, around = await ada.call("GET", path, params={"limit": "5", "around": ids[12]})
    assert [m["id"] for m in around] == ids[10:15]
    _, last = await ada.call("GET", path, params={"after": ids[-1]})
    assert last == []
    status, _ = await ada.call("GET", path, params={"before": ids[3], "after": ids[1]})
    assert status == 422
    for bad in ({"before": "nope"}, {"limit": "0"}, {"limit": "101"}):
        assert (await ada.call("GET", path, params=bad))[0] == 422, bad


async def test_edit_and_delete_follow_authorship(chat):
    user, _ = chat
    ada, bob = await user("ada"), await user("bob")
    _, channel = await ada.call("POST", "/v1/channels", json={"name": "general"})
    cid = channel["id"]
    await bob.call("PUT", f"/v1/channels/{cid}/members/me")
    _, message = await ada.call("POST", f"/v1/channels/{cid}/messages", json={"content": "draft"})
    one = f"/v1/channels/{cid}/messages/{message['id']}"
    assert (await bob.call("PATCH", one, json={"content": "mine now"}))[0] == 403
    assert (await bob.call("DELETE", one))[0] == 403
    status, edited = await ada.call("PATCH", one, json={"content": f"final <@{bob.user_id}>"})
    assert status == 200
    assert edited["edited_at"] is not None
    assert edited["mentions"] == [bob.user_id]
    _, reply = await bob.call(
        "POST", f"/v1/channels/{cid}/messages", json={"content": "ok", "reply_to": message["id"]}
    )
    assert reply["reply_to"] == message["id"]
    assert (await ada.call("DELETE", one))[0] == 204
    _, page = await bob.call("GET", f"/v1/channels/{cid}/messages")
    tombstone = page[0]
    assert tombstone["deleted"] is True
    assert tombstone["content"] == ""
    assert (await ada.call("PATCH", one, json={"content": "again"}))[0] == 409


async def test_dms_are_one_conversation_per_set_of_people(chat):
    user, _ = chat
    ada, bob = await user("ada"), await user("bob")
    status, dm = await ada.call(
        "POST", "/v1/channels", json={"kind": "dm", "members": [bob.user_id]}
    )
    assert status == 201
    status, again = await bob.call(
        "POST", "/v1/channels", json={"kind": "dm", "members": [ada.user_id]}
    )
    assert status == 201
    assert again["id"] == dm["id"]
    assert (await ada.call("POST", "/v1/channels", json={"kind": "dm", "members": []}))[0] == 422
    assert (await ada.call("POST", "/v1/channels", json={"kind": "dm", "members": ["ghost"]}))[
        0
    ] == 404
    assert (await ada.call("PUT", f"/v1/channels/{dm['id']}/members/me"))[0] == 409


async def test_archived_channels_are_read_only_and_only_owners_manage(chat):
    user, _ = chat
    ada, bob = await user("ada"), await user("bob")
    _, channel = await ada.call("POST", "/v1/channels", json={"name": "general"})
    cid = channel["id"]
    await bob.call("PUT", f"/v1/channels/{cid}/members/me")
    assert (await bob.call("PATCH", f"/v1/channels/{cid}", json={"topic": "x"}))[0] == 403
    status, patched = await ada.call(
        "PATCH", f"/v1/channels/{cid}", json={"topic": "news", "archived": True}
    )
    assert (status, patched["topic"], patched["archived"]) == (200, "news", True)
    assert (await bob.call("POST", f"/v1/channels/{cid}/messages", json={"content": "x"}))[0] == 409
    assert (await bob.call("GET", f"/v1/channels/{cid}/messages"))[0] == 200


async def test_bad_input_gets_problems_not_500s(chat):
    user, _ = chat
    ada = await user("ada")
    _, channel = await ada.call("POST", "/v1/channels", json={"name": "general"})
    path = f"/v1/channels/{channel['id']}/messages"
    for body in (
        {"content": ""},
        {"content": "x" * 4001},
        {"content": "hi", "reply_to": "not-an-id"},
        {"content": "hi", "attachments": [{"url": "javascript:alert(1)"}]},
        {"content": "\ud800"},
        [],
    ):
        status, _ = await ada.call("POST", path, json=body)
        assert status in (400, 422), body
    status, _ = await ada.call(
        "POST", path, json={"content": "hi", "reply_to": "01ARZ3NDEKTSV4RRFFQ69G5FAV"}
    )
    assert status == 404
    assert (await ada.call("POST", "/v1/channels", json={"kind": "public"}))[0] == 422
    assert (await ada.call("GET", "/v1/channels/nope"))[0] == 404
    async with ada.http.get(f"{ada.base}/v1/channels") as response:  # no token
        assert response.status == 401


def test_mentions_are_parsed_from_the_text():
    assert mentions_in("hi <@u1> and <@u2>, <@u1> again") == (["u1", "u2"], False)
    assert mentions_in("ping @channel") == ([], True)
    assert mentions_in("mail me at x@everyone.test") == ([], False)


async def test_a_channel_with_an_unknown_member_is_not_created_at_all(chat):
    user, _ = chat
    ada = await user("ada")
    status, _ = await ada.call(
        "POST", "/v1/channels", json={"name": "team", "kind": "private", "members": ["ghost"]}
    )
    assert status == 404
    assert (await ada.call("GET", "/v1/channels"))[1] == []
