"""Real time over Socket.IO: two messaging instances on one Redis, token checks, acks,
typed errors, membership-driven rooms and resume — real clients over real sockets."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiohttp
import pytest
import socketio

from meshkit import hookimpl
from meshkit.plugins import get_plugin_manager
from meshkit.runtime import Runtime
from meshkit.services.messaging.messages import MessageRejected
from meshkit.testing import make_settings, require_executable
from meshkit.tokens import deny

PASSWORD = "correct horse battery staple"


class NoSecrets:
    @hookimpl
    def meshkit_message_before_create(self, service: Any, draft: Any) -> None:
        if "secret" in draft.content:
            raise MessageRejected("no secrets here")


class Person:
    """A user with a token, REST access and Socket.IO clients."""

    def __init__(self, http: aiohttp.ClientSession, rest: str, token: str, user_id: str):
        self.http, self.rest, self.token, self.user_id = http, rest, token, user_id
        self.clients: list[socketio.AsyncClient] = []

    async def call(self, method: str, path: str, **kwargs: Any) -> Any:
        headers = {"Authorization": f"Bearer {self.token}"}
        async with self.http.request(method, self.rest + path, headers=headers, **kwargs) as r:
            assert r.status < 400, await r.text()
            return None if r.status == 204 else await r.json()

    async def connect(self, url: str) -> tuple[socketio.AsyncClient, asyncio.Queue[Any]]:
        client = socketio.AsyncClient(reconnection=False)
        inbox: asyncio.Queue[Any] = asyncio.Queue()
        for event in (
            "message.created",
            "message.updated",
            "message.deleted",
            "typing",
            "presence",
            "notification",
            "reaction.added",
            "reaction.removed",
            "session.ended",
            "channel.joined",
            "channel.left",
            "member.joined",
            "member.left",
        ):
            client.on(event, lambda data, event=event: inbox.put_nowait((event, data)))
        await client.connect(
            url, auth={"token": self.token}, transports=["websocket"], wait_timeout=5
        )
        self.clients.append(client)
        return client, inbox


class Stack(tuple):  # type: ignore[type-arg]
    """What two_instances yields: unpacks as (person, one, two); more as attributes."""

    def __new__(cls, person, one, two, data_dir, redis_url, auth_url):  # type: ignore[no-untyped-def]
        stack = super().__new__(cls, (person, one, two))
        stack.data_dir, stack.redis_url, stack.auth_url = data_dir, redis_url, auth_url
        return stack


@pytest.fixture
async def two_instances(
    tmp_path: Path, meshkit_redis_url: str, meshkit_redis: Any
) -> AsyncIterator[Any]:
    settings = make_settings(
        tmp_path,
        MESHKIT_REDIS_URL=meshkit_redis_url,
        MESHKIT_AUTH_BCRYPT_COST="4",
        MESHKIT_SHUTDOWN_TIMEOUT="2",
        MESHKIT_MESSAGING_PRESENCE_TTL="2",
        MESHKIT_MESSAGING_SESSION_CHECK_INTERVAL="300",  # tests end sessions by hand here
    )
    plugins = [("no-secrets", NoSecrets())]
    first = Runtime(
        settings,
        get_plugin_manager(settings, plugins=plugins),
        ["auth", "messaging"],
        ports={"auth": 0, "messaging": 0},
    )
    started = {r.service.name: r for r in await first.start()}
    other = make_settings(
        tmp_path,
        MESHKIT_REDIS_URL=meshkit_redis_url,
        MESHKIT_SHUTDOWN_TIMEOUT="2",
        MESHKIT_MESSAGING_PRESENCE_TTL="2",
        MESHKIT_MESSAGING_SESSION_CHECK_INTERVAL="0.2",  # here the periodic check ends them
        MESHKIT_AUTH_URLS=started["auth"].url,
    )
    second = Runtime(
        other, get_plugin_manager(other, plugins=plugins), ["messaging"], ports={"messaging": 0}
    )
    started_second = await second.start()
    people: list[Person] = []
    async with aiohttp.ClientSession() as http:

        async def person(name: str) -> Person:
            auth = started["auth"].url
            async with http.post(
                f"{auth}/v1/auth/register",
                json={"email": f"{name}@example.test", "username": name, "password": PASSWORD},
            ) as response:
                user_id = (await response.json())["id"]
            async with http.post(
                f"{auth}/v1/auth/login", json={"login": name, "password": PASSWORD}
            ) as response:
                token = (await response.json())["access_token"]
            found = Person(http, started["messaging"].url, token, user_id)
            people.append(found)
            return found

        try:
            stack = Stack(
                person,
                started["messaging"].url,
                started_second[0].url,
                tmp_path,
                meshkit_redis_url,
                started["auth"].url,
            )
            stack.realtime_one = started["messaging"].service.realtime
            yield stack
        finally:
            for someone in people:
                for client in someone.clients:
                    if client.connected:
                        await client.disconnect()
    await second.stop()
    await first.stop()


async def next_event(inbox: asyncio.Queue[Any], event: str) -> Any:
    while True:
        name, data = await asyncio.wait_for(inbox.get(), 5)
        if name == event:
            return data


async def test_clients_on_two_instances_see_each_others_messages(two_instances):
    person, one, two = two_instances
    ada, bob = await person("ada"), await person("bob")
    channel = await ada.call("POST", "/v1/channels", json={"name": "general"})
    await bob.call("PUT", f"/v1/channels/{channel['id']}/members/me")
    ada_client, ada_inbox = await ada.connect(one)
    bob_client, bob_inbox = await bob.connect(two)
    ack = await ada_client.call(
        "message.send", {"channel_id": channel["id"], "content": "hello bob"}, timeout=5
    )
    assert ack["ok"] is True
    received = await next_event(bob_inbox, "message.created")
    assert received["id"] == ack["message"]["id"]
    assert received["content"] == "hello bob"
    echoed = await next_event(ada_inbox, "message.created")  # the sender's devices too
    assert echoed["id"] == ack["message"]["id"]
    reply = await bob_client.call(
        "message.send", {"channel_id": channel["id"], "content": "hi ada"}, timeout=5
    )
    assert (await next_event(ada_inbox, "message.created"))["id"] == reply["message"]["id"]
    # REST writes are pushed too
    edited = await ada.call(
        "PATCH",
        f"/v1/channels/{channel['id']}/messages/{ack['message']['id']}",
        json={"content": "hello, bob"},
    )
    assert (await next_event(bob_inbox, "message.updated"))["content"] == edited["content"]


async def test_joining_later_moves_connected_sockets_into_the_room(two_instances):
    person, _, two = two_instances
    ada, bob = await person("ada"), await person("bob")
    channel = await ada.call("POST", "/v1/channels", json={"name": "later"})
    _, bob_inbox = await bob.connect(two)
    await bob.call("PUT", f"/v1/channels/{channel['id']}/members/me")
    assert (await next_event(bob_inbox, "channel.joined"))["id"] == channel["id"]  # in the room
    posted = await ada.call(
        "POST", f"/v1/channels/{channel['id']}/messages", json={"content": "welcome"}
    )
    assert (await next_event(bob_inbox, "message.created"))["id"] == posted["id"]


async def test_a_reconnecting_client_resumes_without_gap_or_duplicate(two_instances):
    person, one, two = two_instances
    ada, bob = await person("ada"), await person("bob")
    channel = await ada.call("POST", "/v1/channels", json={"name": "busy"})
    await bob.call("PUT", f"/v1/channels/{channel['id']}/members/me")
    bob_client, bob_inbox = await bob.connect(two)
    first = await ada.call(
        "POST", f"/v1/channels/{channel['id']}/messages", json={"content": "before"}
    )
    last_seen = (await next_event(bob_inbox, "message.created"))["id"]
    assert last_seen == first["id"]
    await bob_client.disconnect()
    sent = []
    for n in range(50):
        posted = await ada.call(
            "POST", f"/v1/channels/{channel['id']}/messages", json={"content": f"m{n}"}
        )
        sent.append(posted["id"])
    again, _ = await bob.connect(one)
    ack = await again.call("resume", {"last_seen_id": last_seen}, timeout=5)
    assert ack["ok"] is True
    assert [m["id"] for m in ack["messages"]] == sent
    assert ack["more"] is False
    page = await again.call("resume", {"last_seen_id": last_seen, "limit": 20}, timeout=5)
    assert [m["id"] for m in page["messages"]] == sent[:20]
    assert page["more"] is True


async def test_malformed_emits_get_error_acks_and_the_socket_stays_up(two_instances):
    person, one, two = two_instances
    ada, bob = await person("ada"), await person("bob")
    channel = await ada.call("POST", "/v1/channels", json={"name": "general"})
    await bob.call("PUT", f"/v1/channels/{channel['id']}/members/me")
    _, bob_inbox = await bob.connect(two)
    client, _ = await ada.connect(one)
    for payload in (
        None,
        "just text",
        [1, 2],
        {},
        {"channel_id": "not-an-id", "content": "x"},
        {"channel_id": channel["id"], "content": ""},
        {"channel_id": channel["id"], "content": "x" * 5000},
        {"channel_id": "01ARZ3NDEKTSV4RRFFQ69G5FAV", "content": "nowhere"},
    ):
        ack = await client.call("message.send", payload, timeout=5)
        assert ack["ok"] is False, payload
        assert ack["error"]["type"].startswith("urn:meshkit:problem:")
        assert ack["error"]["status"] in (403, 404, 422), ack
    rejected = await client.call(
        "message.send", {"channel_id": channel["id"], "content": "a secret"}, timeout=5
    )
    assert rejected["error"]["type"].endswith(":message-rejected")
    assert rejected["error"]["detail"] == "no secrets here"
    for event, payload in (("typing", {}), ("read", {"channel_id": 1}), ("resume", {})):
        ack = await client.call(event, payload, timeout=5)
        assert ack["ok"] is False
        assert ack["error"]["status"] == 422
    assert client.connected
    ok = await client.call(
        "message.send", {"channel_id": channel["id"], "content": "still here"}, timeout=5
    )
    assert ok["ok"] is True
    history = await ada.call("GET", f"/v1/channels/{channel['id']}/messages")
    assert [m["content"] for m in history] == ["still here"]
    # the rejected message reached nobody: the first thing bob hears is the next one
    assert (await next_event(bob_inbox, "message.created"))["content"] == "still here"


async def test_connect_needs_a_valid_token(two_instances):
    person, one, _ = two_instances
    ada = await person("ada")
    for auth, slug in (
        (None, "token-missing"),
        ({}, "token-missing"),
        ({"token": "garbage"}, "invalid-token"),
        ({"token": ada.token[:-4] + "AAAA"}, "invalid-token"),
    ):
        client = socketio.AsyncClient(reconnection=False)
        reasons: list[Any] = []
        client.on("connect_error", reasons.append)
        with pytest.raises(socketio.exceptions.ConnectionError):
            await client.connect(one, auth=auth, transports=["websocket"], wait_timeout=5)
        assert reasons, auth
        problem = reasons[0]["data"]
        assert problem["status"] == 401
        assert problem["type"].endswith(f":{slug}")
        assert reasons[0]["message"] == problem["detail"]


async def test_typing_and_read_markers(two_instances):
    person, one, two = two_instances
    ada, bob = await person("ada"), await person("bob")
    channel = await ada.call("POST", "/v1/channels", json={"name": "general"})
    await bob.call("PUT", f"/v1/channels/{channel['id']}/members/me")
    ada_client, _ = await ada.connect(one)
    _, bob_inbox = await bob.connect(two)
    assert (await ada_client.call("typing", {"channel_id": channel["id"]}, timeout=5))["ok"]
    typing = await next_event(bob_inbox, "typing")
    assert typing == {"channel_id": channel["id"], "user_id": ada.user_id}
    posted = await ada.call(
        "POST", f"/v1/channels/{channel['id']}/messages", json={"content": "read me"}
    )
    listed = await bob.call("GET", "/v1/channels")
    assert listed[0]["unread"] == 1
    bob_client = bob.clients[0]
    ack = await bob_client.call(
        "read", {"channel_id": channel["id"], "message_id": posted["id"]}, timeout=5
    )
    assert ack == {"ok": True, "last_read_id": posted["id"]}
    listed = await bob.call("GET", "/v1/channels")
    assert listed[0]["unread"] == 0


async def test_new_channels_and_members_reach_connected_sockets(two_instances):
    person, one, two = two_instances
    ada, bob, cy = await person("ada"), await person("bob"), await person("cyd")
    ada_client, ada_inbox = await ada.connect(one)
    _, bob_inbox = await bob.connect(two)
    # a DM opened while both are connected: both devices get the channel and its messages
    dm = await ada.call("POST", "/v1/channels", json={"kind": "dm", "members": [bob.user_id]})
    joined = await next_event(bob_inbox, "channel.joined")  # once the socket is in the room
    assert joined["id"] == dm["id"]
    assert joined["kind"] == "dm"
    assert (await next_event(ada_inbox, "channel.joined"))["id"] == dm["id"]
    ack = await ada_client.call(
        "message.send", {"channel_id": dm["id"], "content": "psst"}, timeout=5
    )
    assert ack["ok"] is True
    assert (await next_event(bob_inbox, "message.created"))["content"] == "psst"
    assert (await next_event(ada_inbox, "message.created"))["content"] == "psst"
    # opening the same DM again adds nobody: nothing is announced
    again = await ada.call("POST", "/v1/channels", json={"kind": "dm", "members": [bob.user_id]})
    assert again["id"] == dm["id"]
    # a channel created with members, then someone joining and leaving
    room = await ada.call("POST", "/v1/channels", json={"name": "room", "members": [bob.user_id]})
    assert (await next_event(bob_inbox, "channel.joined"))["id"] == room["id"]
    _, cy_inbox = await cy.connect(two)
    await cy.call("PUT", f"/v1/channels/{room['id']}/members/me")
    seen = await next_event(cy_inbox, "channel.joined")
    assert (seen["id"], seen["name"]) == (room["id"], "room")
    member = await next_event(bob_inbox, "member.joined")
    while member["user_id"] != cy.user_id:  # those put in at the creation are announced too
        member = await next_event(bob_inbox, "member.joined")
    assert member["channel_id"] == room["id"]
    assert (member["user_id"], member["role"]) == (cy.user_id, "member")
    await cy.call("DELETE", f"/v1/channels/{room['id']}/members/me")
    assert await next_event(cy_inbox, "channel.left") == {"channel_id": room["id"]}
    left = await next_event(ada_inbox, "member.left")
    assert left == {"channel_id": room["id"], "user_id": cy.user_id}
    await ada.call("POST", f"/v1/channels/{room['id']}/messages", json={"content": "bye cy"})
    assert (await next_event(bob_inbox, "message.created"))["content"] == "bye cy"
    with pytest.raises(TimeoutError):  # cy left: the message does not reach her
        await asyncio.wait_for(next_event(cy_inbox, "message.created"), 0.5)


JS = Path(__file__).parent / "js"


@pytest.fixture(scope="session")
def socketio_js_client(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The official socket.io client from npm (pinned by tests/js/package-lock.json)."""
    node, npm = require_executable("node"), require_executable("npm")
    assert node
    place = tmp_path_factory.mktemp("js")
    for name in ("package.json", "package-lock.json", "chat_client.js"):
        shutil.copy(JS / name, place / name)
    result = subprocess.run(
        [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
        cwd=place,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return place / "chat_client.js"


async def test_the_official_javascript_client_talks_to_us(two_instances, socketio_js_client):
    person, one, _ = two_instances
    ada, bob = await person("ada"), await person("bob")
    channel = await ada.call("POST", "/v1/channels", json={"name": "interop"})
    await bob.call("PUT", f"/v1/channels/{channel['id']}/members/me")
    renewal = await log_in(two_instances, bob, "bob")  # the connection's next token
    node = require_executable("node")
    process = await asyncio.create_subprocess_exec(
        node,
        str(socketio_js_client),
        one,
        bob.token,
        channel["id"],
        renewal,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stdout is not None
    try:
        line = await asyncio.wait_for(process.stdout.readline(), 20)
        assert line.strip() == b"READY", line + await process.stdout.read()
        await ada.call(
            "POST", f"/v1/channels/{channel['id']}/messages", json={"content": "from python"}
        )
        line = await asyncio.wait_for(process.stdout.readline(), 20)
        assert line.strip() == b"RECEIVED", line + await process.stdout.read()
        # the connection lives by the renewed token now: ending that session ends it
        headers = {"Authorization": f"Bearer {renewal}"}
        logout = f"{two_instances.auth_url}/v1/auth/logout"
        async with bob.http.post(logout, headers=headers) as response:
            assert response.status == 204
        output, errors = await asyncio.wait_for(process.communicate(), 20)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode == 0, (output, errors)
    summary = json.loads(output.decode().strip().splitlines()[-1])
    assert summary["ack"]["ok"] is True
    assert summary["ack"]["message"]["content"] == "from node"
    assert summary["bad_ack"]["ok"] is False
    assert summary["bad_ack"]["error"]["status"] == 422
    assert summary["received"]["content"] == "from python"
    assert summary["transport"] == "websocket"  # started on polling, upgraded
    assert summary["renewed"]["ok"] is True
    assert summary["renewed"]["expires_at"]
    assert summary["session_ended"]["type"].endswith(":invalid-token")
    assert summary["session_ended"]["detail"] == "token revoked"
    assert summary["disconnect_reason"] == "io server disconnect"
    history = await ada.call("GET", f"/v1/channels/{channel['id']}/messages")
    assert [m["content"] for m in history] == ["from node", "from python"]


async def next_presence(inbox: asyncio.Queue[Any], user_id: str, within: float = 5) -> str:
    while True:
        name, data = await asyncio.wait_for(inbox.get(), within)
        if name == "presence" and data["user_id"] == user_id:
            return str(data["status"])


async def test_presence_follows_every_device_and_the_chosen_status(two_instances):
    person, one, two = two_instances
    ada, bob = await person("ada"), await person("bob")
    channel = await ada.call("POST", "/v1/channels", json={"name": "general"})
    await bob.call("PUT", f"/v1/channels/{channel['id']}/members/me")
    _, bob_inbox = await bob.connect(two)
    phone, _ = await ada.connect(one)
    assert await next_presence(bob_inbox, ada.user_id) == "online"
    laptop, _ = await ada.connect(two)
    ack = await laptop.call("presence.set", {"status": "dnd"}, timeout=5)
    assert ack == {"ok": True, "status": "dnd"}
    assert await next_presence(bob_inbox, ada.user_id) == "dnd"
    bad = await laptop.call("presence.set", {"status": "asleep"}, timeout=5)
    assert bad["ok"] is False
    await phone.disconnect()
    await laptop.call("presence.set", {"status": "online"}, timeout=5)
    assert await next_presence(bob_inbox, ada.user_id) == "online"  # still on the laptop
    await laptop.disconnect()
    assert await next_presence(bob_inbox, ada.user_id) == "offline"


async def test_users_of_a_killed_instance_go_offline_after_the_ttl(two_instances, tmp_path):
    person, one, _ = two_instances
    ada, bob = await person("ada"), await person("bob")
    channel = await ada.call("POST", "/v1/channels", json={"name": "general"})
    await bob.call("PUT", f"/v1/channels/{channel['id']}/members/me")
    _, bob_inbox = await bob.connect(one)
    meshkit = str(Path(sys.executable).parent / "meshkit")
    env = {
        **os.environ,
        "MESHKIT_DATA_DIR": str(two_instances.data_dir),
        "MESHKIT_REDIS_URL": two_instances.redis_url,
        "MESHKIT_AUTH_URLS": two_instances.auth_url,
        "MESHKIT_MESSAGING_PRESENCE_TTL": "2",
        "MESHKIT_LOG_FORMAT": "json",
    }
    doomed = await asyncio.create_subprocess_exec(
        meshkit,
        "run",
        "messaging",
        "--port",
        "messaging=0",
        env=env,
        stderr=asyncio.subprocess.PIPE,
    )
    assert doomed.stderr is not None
    try:
        url = None
        while url is None:
            line = await asyncio.wait_for(doomed.stderr.readline(), 30)
            assert line, "the messaging process exited"
            with contextlib.suppress(ValueError):
                message = json.loads(line).get("message", "")
                if " listening on " in message:
                    url = message.partition(" listening on ")[2]
        await ada.connect(url)
        assert await next_presence(bob_inbox, ada.user_id) == "online"
        doomed.send_signal(signal.SIGKILL)
        await doomed.wait()
        # no disconnect ever happens: the surviving instance notices the silence
        assert await next_presence(bob_inbox, ada.user_id, within=15) == "offline"
    finally:
        if doomed.returncode is None:
            doomed.kill()
            await doomed.wait()


async def test_mentions_and_dms_notify_in_real_time_and_over_rest(two_instances):
    person, one, two = two_instances
    ada, bob = await person("ada"), await person("bob")
    channel = await ada.call("POST", "/v1/channels", json={"name": "general"})
    await bob.call("PUT", f"/v1/channels/{channel['id']}/members/me")
    _, bob_inbox = await bob.connect(two)
    ada_client, _ = await ada.connect(one)
    await ada_client.call(
        "message.send",
        {"channel_id": channel["id"], "content": f"look <@{bob.user_id}>"},
        timeout=5,
    )
    pushed = await next_event(bob_inbox, "notification")
    assert pushed["notification"]["kind"] == "mention"
    assert pushed["unread"] == 1
    dm = await ada.call("POST", "/v1/channels", json={"kind": "dm", "members": [bob.user_id]})
    await ada.call("POST", f"/v1/channels/{dm['id']}/messages", json={"content": "psst"})
    assert (await next_event(bob_inbox, "notification"))["notification"]["kind"] == "dm"
    listed = await bob.call("GET", "/v1/notifications")
    assert [n["kind"] for n in listed["items"]] == ["dm", "mention"]
    assert listed["unread"] == 2
    assert (await bob.call("POST", "/v1/notifications/read", json={"all": True})) == {"unread": 0}
    assert (await ada.call("GET", "/v1/notifications"))["items"] == []


async def test_reactions_count_per_emoji_and_are_pushed(two_instances):
    person, one, _ = two_instances
    ada, bob = await person("ada"), await person("bob")
    channel = await ada.call("POST", "/v1/channels", json={"name": "general"})
    await bob.call("PUT", f"/v1/channels/{channel['id']}/members/me")
    _, ada_inbox = await ada.connect(one)
    posted = await ada.call(
        "POST", f"/v1/channels/{channel['id']}/messages", json={"content": "ship it?"}
    )
    base = f"/v1/channels/{channel['id']}/messages/{posted['id']}/reactions"
    thumbs = quote("👍")
    await bob.call("PUT", f"{base}/{thumbs}")
    await bob.call("PUT", f"{base}/{thumbs}")  # idempotent
    await ada.call("PUT", f"{base}/{thumbs}")
    await ada.call("PUT", f"{base}/:rocket:")
    added = await next_event(ada_inbox, "reaction.added")
    assert added == {
        "channel_id": channel["id"],
        "message_id": posted["id"],
        "emoji": "👍",
        "user_id": bob.user_id,
        "count": 1,
    }
    page = await ada.call("GET", f"/v1/channels/{channel['id']}/messages")
    assert page[0]["reactions"] == {"👍": 2, ":rocket:": 1}
    await bob.call("DELETE", f"{base}/{thumbs}")
    removed = await next_event(ada_inbox, "reaction.removed")
    assert removed["count"] == 1
    headers = {"Authorization": f"Bearer {ada.token}"}
    for bad in ("abc", quote("a b"), ":NO SPACES:"):
        async with ada.http.put(f"{ada.rest}{base}/{bad}", headers=headers) as response:
            assert response.status == 422, bad


def claims_of(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))))


async def log_in(stack: Any, person: Person, name: str) -> str:
    """A token of a new session of ``person``."""
    body = {"login": name, "password": PASSWORD}
    async with person.http.post(f"{stack.auth_url}/v1/auth/login", json=body) as response:
        assert response.status == 200, await response.text()
        return str((await response.json())["access_token"])


async def wait_disconnected(client: socketio.AsyncClient) -> None:
    for _ in range(250):
        if not client.connected:
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the server did not disconnect the client")


async def test_a_connection_lives_as_long_as_its_token_and_renews_over_the_socket(
    two_instances,
):
    person, one, _ = two_instances
    realtime = two_instances.realtime_one
    ada, bob = await person("ada"), await person("bob")
    channel = await ada.call("POST", "/v1/channels", json={"name": "general"})
    client, inbox = await ada.connect(one)
    await asyncio.sleep(1.1)  # exp has whole seconds: the next token outlives this one
    renewed = await log_in(two_instances, ada, "ada")
    bobs = await log_in(two_instances, bob, "bob")
    tokens = realtime.service.tokens
    first_exp, renewed_exp = claims_of(ada.token)["exp"], claims_of(renewed)["exp"]
    assert renewed_exp > first_exp
    # the server's clock stops just past the first token's expiry (and the leeway)
    tokens.clock = lambda: first_exp + tokens.leeway + 0.05
    send = {"channel_id": channel["id"], "content": "too late"}
    refused = await client.call("message.send", send, timeout=5)
    assert refused["ok"] is False
    assert refused["error"]["type"].endswith(":invalid-token")
    assert "expired" in refused["error"]["detail"]
    # renewal: the same user's fresh token, over the open connection
    for bad, slug in (({}, "validation-error"), ({"token": "garbage"}, "invalid-token")):
        ack = await client.call("auth", bad, timeout=5)
        assert ack["error"]["type"].endswith(f":{slug}"), ack
    other = await client.call("auth", {"token": bobs}, timeout=5)
    assert other["error"]["status"] == 403  # a connection cannot change user
    ack = await client.call("auth", {"token": renewed}, timeout=5)
    assert ack["ok"] is True
    assert datetime.fromisoformat(ack["expires_at"]).timestamp() == renewed_exp
    assert (await client.call("message.send", send, timeout=5))["ok"] is True
    assert await realtime.end_stale_sessions() == 0  # renewed: nothing to end
    # once the renewed token runs out too, the check ends the connection
    tokens.clock = lambda: renewed_exp + tokens.leeway + 0.05
    assert await realtime.end_stale_sessions() == 1
    ended = await next_event(inbox, "session.ended")
    assert ended["type"].endswith(":invalid-token")
    assert ended["status"] == 401
    assert "expired" in ended["detail"]
    await wait_disconnected(client)
    assert not realtime.principals  # the server forgot the connection


async def test_logging_out_ends_the_sessions_open_connections_at_once(two_instances):
    person, one, two = two_instances
    ada, bob = await person("ada"), await person("bob")
    channel = await ada.call("POST", "/v1/channels", json={"name": "general"})
    await bob.call("PUT", f"/v1/channels/{channel['id']}/members/me")
    # instance one never checks by itself here (every 300 s): only auth's SessionsRevoked
    # event can end its socket within the test
    doomed = [await ada.connect(url) for url in (one, two)]
    other_session = await log_in(two_instances, ada, "ada")
    kept = socketio.AsyncClient(reconnection=False)
    await kept.connect(one, auth={"token": other_session}, transports=["websocket"])
    ada.clients.append(kept)
    _, bob_inbox = await bob.connect(one)
    headers = {"Authorization": f"Bearer {ada.token}"}
    async with ada.http.post(f"{two_instances.auth_url}/v1/auth/logout", headers=headers) as r:
        assert r.status == 204
    for client, inbox in doomed:  # both instances end the session's sockets, saying why
        ended = await next_event(inbox, "session.ended")
        assert ended["type"].endswith(":invalid-token")
        assert ended["detail"] == "token revoked"
        await wait_disconnected(client)
    # the other session's connection carries on
    ack = await kept.call("message.send", {"channel_id": channel["id"], "content": "hi"}, timeout=5)
    assert ack["ok"] is True
    assert (await next_event(bob_inbox, "message.created"))["content"] == "hi"
    history = await bob.call("GET", f"/v1/channels/{channel['id']}/messages")
    assert [m["content"] for m in history] == ["hi"]


async def test_a_revoked_token_is_refused_on_every_emit_and_ended_by_the_check(
    two_instances, meshkit_redis
):
    person, one, two = two_instances
    realtime = two_instances.realtime_one  # instance one checks only when told to
    ada = await person("ada")
    channel = await ada.call("POST", "/v1/channels", json={"name": "general"})
    swept, swept_inbox = await ada.connect(two)  # instance two checks every 0.2 s
    stale, stale_inbox = await ada.connect(one)
    # the token alone is denylisted (no event is published, as by a verifier's deny())
    claim = claims_of(ada.token)
    await deny(meshkit_redis, claim["jti"], datetime.fromtimestamp(claim["exp"], UTC))
    ended = await next_event(swept_inbox, "session.ended")  # the periodic check
    assert ended["detail"] == "token revoked"
    await wait_disconnected(swept)
    # before any check runs, every emit of a revoked connection is refused
    send = {"channel_id": channel["id"], "content": "after revocation"}
    refused = await stale.call("message.send", send, timeout=5)
    assert refused["error"]["type"].endswith(":invalid-token")
    assert refused["error"]["detail"] == "token revoked"
    assert await realtime.end_stale_sessions() == 1
    assert (await next_event(stale_inbox, "session.ended"))["detail"] == "token revoked"
    await wait_disconnected(stale)


async def test_one_sockets_messages_are_stored_in_the_order_it_sent_them(two_instances):
    """200 emits back to back, no waiting for acks: ids and history follow the send
    order (python-socketio would otherwise run each emit in its own task)."""
    person, one, _ = two_instances
    ada = await person("ada")
    channel = await ada.call("POST", "/v1/channels", json={"name": "ordered"})
    client, _ = await ada.connect(one)
    loop = asyncio.get_running_loop()
    acks: list[asyncio.Future[Any]] = []
    for n in range(200):
        done: asyncio.Future[Any] = loop.create_future()
        acks.append(done)
        await client.emit(
            "message.send",
            {"channel_id": channel["id"], "content": f"m{n}"},
            callback=lambda ack, done=done: done.set_result(ack),
        )
    replies = await asyncio.wait_for(asyncio.gather(*acks), 30)
    assert all(reply["ok"] for reply in replies), [r for r in replies if not r["ok"]][:1]
    contents = [reply["message"]["content"] for reply in replies]
    assert contents == [f"m{n}" for n in range(200)]
    ids = [reply["message"]["id"] for reply in replies]
    assert ids == sorted(ids), "ids are given in the order the emits were sent"
    stored: list[str] = []
    path = f"/v1/channels/{channel['id']}/messages?limit=100"
    page = await ada.call("GET", path)
    while page:
        stored = [m["content"] for m in page] + stored
        page = await ada.call("GET", f"{path}&before={page[0]['id']}") if len(page) == 100 else []
    assert stored == [f"m{n}" for n in range(200)], "history is in the order they were sent"
