"""The messaging service's internal side: ``PostSystemMessage`` over real gRPC (called by
another service through its client stack) and the consumers of auth's user events,
with auth and messaging running in one runtime on a real Redis."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from grpclib.client import Channel as GrpcChannel
from grpclib.const import Status
from grpclib.exceptions import GRPCError

import meshkit.services.auth as auth_plugin
from meshkit import Service, hookimpl
from meshkit.contracts.auth import UserDeleted, UserUpdated
from meshkit.contracts.messaging import MessagePosted
from meshkit.events import Envelope
from meshkit.events.model import stream_key
from meshkit.plugins import get_plugin_manager
from meshkit.proto.messaging.v1 import messaging_pb2
from meshkit.proto.messaging.v1.messaging_grpc import MessagingServiceStub
from meshkit.runtime import Runtime
from meshkit.services.messaging.consumers import MessagingConsumers
from meshkit.services.messaging.models import Membership, Message, ReactionMark, UserProfile
from meshkit.services.messaging.notifications import Notification
from meshkit.services.messaging.rpc import MessagingRpc
from meshkit.services.messaging.service import MessagingService
from meshkit.store import new_id
from meshkit.testing import make_settings

PASSWORD = "correct horse battery staple"

if issubclass(MessagingService, MessagingConsumers) and (
    MessagingService.servicers is not Service.servicers
):
    Messaging: type[MessagingService] = MessagingService  # wired in: test the real class
else:

    class WiredMessaging(MessagingService, MessagingConsumers):
        """The service with this step's servicer and handlers, until service.py has them."""

        def servicers(self) -> Sequence[Any]:
            return [MessagingRpc(self)]

    Messaging = WiredMessaging


class MessagingPlugin:
    @hookimpl
    def meshkit_services(self) -> Sequence[type[Service]]:
        return [Messaging]


async def until(check: Callable[[], Awaitable[bool]], within: float = 10.0) -> None:
    """Poll ``check`` until it holds; fail after ``within`` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not await check():
        assert loop.time() < deadline, "timed out waiting"
        await asyncio.sleep(0.02)


class User:
    """One user talking to messaging (and auth) over HTTP."""

    def __init__(self, http: aiohttp.ClientSession, urls: dict[str, str], token: str, uid: str):
        self.http, self.urls, self.id = http, urls, uid
        self.headers = {"Authorization": f"Bearer {token}"}

    async def call(self, method: str, path: str, service: str = "messaging", **kw: Any) -> Any:
        async with self.http.request(
            method, self.urls[service] + path, headers=self.headers, **kw
        ) as response:
            body = None if response.status == 204 else await response.json()
            assert response.status < 400, (method, path, response.status, body)
            return body


class Mesh:
    """Auth and messaging running; helpers to make users and call PostSystemMessage."""

    def __init__(self, started: dict[str, Any], http: aiohttp.ClientSession) -> None:
        self.started, self.http = started, http
        self.urls = {name: running.url for name, running in started.items()}
        self.messaging: MessagingConsumers = started["messaging"].service
        # Called as another service would: auth's own client stack, discovery, API key.
        self.stub = started["auth"].service.rpc.stub(MessagingServiceStub, "messaging")

    async def user(self, name: str) -> User:
        async with self.http.post(
            self.urls["auth"] + "/v1/auth/register",
            json={"email": f"{name}@example.test", "username": name, "password": PASSWORD},
        ) as response:
            assert response.status == 201
            uid = (await response.json())["id"]
        async with self.http.post(
            self.urls["auth"] + "/v1/auth/login", json={"login": name, "password": PASSWORD}
        ) as response:
            token = (await response.json())["access_token"]
        return User(self.http, self.urls, token, uid)

    async def post(
        self, channel_id: str, text: str, source: str = "deploy", key: str = ""
    ) -> messaging_pb2.PostSystemMessageResponse:
        return await self.stub.PostSystemMessage(
            messaging_pb2.PostSystemMessageRequest(
                channel_id=channel_id, text=text, source=source, idempotency_key=key
            )
        )

    async def status_of(self, channel_id: str, text: str, **kw: str) -> Status:
        with pytest.raises(GRPCError) as raised:
            await self.post(channel_id, text, **kw)
        return raised.value.status


@pytest.fixture
async def mesh(tmp_path: Path, meshkit_redis_url: str, meshkit_redis: Any) -> AsyncIterator[Mesh]:
    settings = make_settings(
        tmp_path, MESHKIT_REDIS_URL=meshkit_redis_url, MESHKIT_AUTH_BCRYPT_COST="4"
    )
    pm = get_plugin_manager(
        settings,
        plugins=[("auth", auth_plugin), ("messaging", MessagingPlugin())],
        load_entry_points=False,
    )
    runtime = Runtime(settings, pm, ["auth", "messaging"], ports={"auth": 0, "messaging": 0})
    started = {r.service.name: r for r in await runtime.start()}
    try:
        async with aiohttp.ClientSession() as http:
            yield Mesh(started, http)
    finally:
        await runtime.stop()


# --- PostSystemMessage ---------------------------------------------------------------


async def test_a_system_message_appears_in_history_flagged_system(mesh: Mesh) -> None:
    ada = await mesh.user("ada")
    channel = await ada.call("POST", "/v1/channels", json={"name": "ops", "kind": "private"})
    await ada.call("POST", f"/v1/channels/{channel['id']}/messages", json={"content": "hi"})
    answer = await mesh.post(channel["id"], "deploy of **v1.2** finished", source="deploy")
    assert len(answer.message_id) == 26
    page = await ada.call("GET", f"/v1/channels/{channel['id']}/messages")
    assert [m["content"] for m in page] == ["hi", "deploy of **v1.2** finished"]
    last = page[-1]
    assert last["id"] == answer.message_id
    assert last["system"] is True
    assert last["author_id"] == "system:deploy"
    assert answer.created_at.ToDatetime().isoformat() == last["created_at"][:26]
    assert page[0]["system"] is False
    # announced like any send: @channel in a system message notifies the members (the
    # fan-out runs in the consumer group, on MessagePosted)
    await mesh.post(channel["id"], "maintenance at 22:00 @channel", source="ops")

    async def notified() -> bool:
        notes = await ada.call("GET", "/v1/notifications")
        return [(n["kind"], n["author_id"]) for n in notes["items"]] == [
            ("channel_mention", "system:ops")
        ]

    await until(notified)


async def test_channel_mentions_fan_out_in_the_consumer_group(mesh: Mesh) -> None:
    ada, bob, cyd = await mesh.user("ada"), await mesh.user("bob"), await mesh.user("cyd")
    cid = (await ada.call("POST", "/v1/channels", json={"name": "standup"}))["id"]
    for someone in (bob, cyd):
        await someone.call("PUT", f"/v1/channels/{cid}/members/me")
    posted = await ada.call(
        "POST", f"/v1/channels/{cid}/messages", json={"content": f"@channel now, <@{bob.id}>"}
    )
    # the event other services read: ids, no text
    [(_, fields)] = await mesh.messaging.redis.xrevrange(stream_key(MessagePosted.topic), count=1)
    envelope = Envelope.from_fields(fields)
    assert (envelope.type, envelope.id, envelope.source) == (
        MessagePosted.type,
        posted["id"],
        "messaging",
    )
    event = MessagePosted.model_validate(envelope.data)
    assert (event.channel_id, event.author_id, event.mentions_channel) == (cid, ada.id, True)

    async def kinds() -> dict[str, list[str]]:
        found = {}
        for someone in (ada, bob, cyd):
            notes = await someone.call("GET", "/v1/notifications")
            found[someone.id] = [n["kind"] for n in notes["items"]]
        return found

    async def fanned_out() -> bool:
        return await kinds() == {ada.id: [], bob.id: ["mention"], cyd.id: ["channel_mention"]}

    await until(fanned_out)
    # at least once: a redelivery notifies nobody twice
    await mesh.messaging.on_message_posted(event, envelope)
    assert await fanned_out()
    # a message deleted before its event is handled notifies nobody (stored directly,
    # so that no event of its own races the one handled here)
    now = datetime.now(UTC)
    gone_id = new_id()
    gone = await mesh.messaging.store.insert(
        Message(
            id=gone_id,
            nonce_key=f"id:{gone_id}",
            channel_id=cid,
            author_id=ada.id,
            content="@channel gone",
            mentions_channel=True,
            created_at=now,
            deleted_at=now,
        )
    )
    late = MessagePosted(
        message_id=gone.id,
        channel_id=cid,
        author_id=ada.id,
        mentions_channel=True,
        created_at=now,
    )
    await mesh.messaging.on_message_posted(late, Envelope.wrap(late, source="messaging"))
    assert await mesh.messaging.store.count(Notification, {"message_id": gone.id}) == 0
    # so does an event older than a day (a replayed stream)
    alive_id = new_id()
    alive = await mesh.messaging.store.insert(
        gone.model_copy(
            update={"id": alive_id, "nonce_key": f"id:{alive_id}", "deleted_at": None, "version": 0}
        )
    )
    old = Envelope.wrap(late, source="messaging").model_copy(
        update={"time": now - timedelta(days=2)}
    )
    stale = late.model_copy(update={"message_id": alive.id})
    await mesh.messaging.on_message_posted(stale, old)
    assert await mesh.messaging.store.count(Notification, {"message_id": alive.id}) == 0
    fresh = Envelope.wrap(stale, source="messaging")
    await mesh.messaging.on_message_posted(stale, fresh)  # the same, in time: notifies
    assert await mesh.messaging.store.count(Notification, {"message_id": alive.id}) == 2


async def test_the_same_idempotency_key_posts_once(mesh: Mesh) -> None:
    ada = await mesh.user("ada")
    cid = (await ada.call("POST", "/v1/channels", json={"name": "ops"}))["id"]
    first = await mesh.post(cid, "build 42 green", key="build-42")
    again = await mesh.post(cid, "build 42 green", key="build-42")
    assert again.message_id == first.message_id
    assert again.created_at == first.created_at
    racing = await asyncio.gather(*(mesh.post(cid, "build 43", key="build-43") for _ in range(5)))
    assert len({r.message_id for r in racing}) == 1
    other_source = await mesh.post(cid, "build 42 green", source="ci", key="build-42")
    no_key = [await mesh.post(cid, "tick") for _ in range(2)]
    page = await ada.call("GET", f"/v1/channels/{cid}/messages")
    assert [m["id"] for m in page] == [
        first.message_id,
        racing[0].message_id,
        other_source.message_id,
        *(r.message_id for r in no_key),
    ]
    assert len({m["id"] for m in page}) == 5  # keys are per source; no key, no dedupe
    other = (await ada.call("POST", "/v1/channels", json={"name": "elsewhere"}))["id"]
    assert await mesh.status_of(other, "build 42 green", key="build-42") is Status.ABORTED


async def test_bad_requests_get_grpc_statuses(mesh: Mesh) -> None:
    ada = await mesh.user("ada")
    cid = (await ada.call("POST", "/v1/channels", json={"name": "ops"}))["id"]
    assert await mesh.status_of("01HZZZZZZZZZZZZZZZZZZZZZZZ", "hello") is Status.NOT_FOUND
    assert await mesh.status_of("", "hello") is Status.INVALID_ARGUMENT
    assert await mesh.status_of(cid, "") is Status.INVALID_ARGUMENT
    assert await mesh.status_of(cid, "  \n ") is Status.INVALID_ARGUMENT
    assert await mesh.status_of(cid, "x" * 4001) is Status.INVALID_ARGUMENT
    assert await mesh.status_of(cid, "hello", source="") is Status.INVALID_ARGUMENT
    assert await mesh.status_of(cid, "hello", source="Not A Name") is Status.INVALID_ARGUMENT
    assert await mesh.status_of(cid, "hello", key="k" * 65) is Status.INVALID_ARGUMENT
    with pytest.raises(GRPCError) as raised:
        await mesh.post(cid, "x" * 4001)
    assert raised.value.message == "urn:meshkit:problem:validation-error: text: " + (
        "String should have at most 4000 characters"
    )
    assert (await mesh.post(cid, "x" * 4000)).message_id
    before = await mesh.post(cid, "nightly backup done", key="backup-1")
    await ada.call("PATCH", f"/v1/channels/{cid}", json={"archived": True})
    assert await mesh.status_of(cid, "too late") is Status.FAILED_PRECONDITION
    assert await mesh.status_of(cid, "too late", key="backup-2") is Status.FAILED_PRECONDITION
    # a retry of a post made before archiving still gets its first message
    assert (await mesh.post(cid, "nightly backup done", key="backup-1")) == before
    page = await ada.call("GET", f"/v1/channels/{cid}/messages")
    assert len(page) == 2


async def test_calls_without_a_service_key_are_refused(mesh: Mesh) -> None:
    channel = GrpcChannel("127.0.0.1", mesh.started["messaging"].grpc_port)
    try:
        with pytest.raises(GRPCError) as raised:
            await MessagingServiceStub(channel).PostSystemMessage(
                messaging_pb2.PostSystemMessageRequest(channel_id="x", text="hi", source="evil")
            )
        assert raised.value.status is Status.UNAUTHENTICATED
    finally:
        channel.close()


# --- consumers of auth's user events --------------------------------------------------


async def _memberships(mesh: Mesh, user_id: str) -> list[Membership]:
    return (await mesh.messaging.store.find(Membership, {"user_id": user_id})).items


async def _messages_by(mesh: Mesh, user_id: str) -> list[Message]:
    return (await mesh.messaging.store.find(Message, {"author_id": user_id})).items


async def test_user_deleted_removes_memberships_and_tombstones_messages(mesh: Mesh) -> None:
    ada, bob = await mesh.user("ada"), await mesh.user("bob")
    cid = (await ada.call("POST", "/v1/channels", json={"name": "general"}))["id"]
    await bob.call("PUT", f"/v1/channels/{cid}/members/me")
    dm = (await bob.call("POST", "/v1/channels", json={"kind": "dm", "members": [ada.id]}))["id"]
    sent = [
        await bob.call(
            "POST",
            f"/v1/channels/{cid}/messages",
            json={
                "content": f"hi <@{ada.id}> @channel",
                "attachments": [{"url": "https://example.test/a.png"}],
            },
        ),
        await bob.call("POST", f"/v1/channels/{dm}/messages", json={"content": "psst"}),
    ]
    assert len(await _memberships(mesh, bob.id)) == 2

    async def notified(user: User, count: int) -> bool:
        return len((await user.call("GET", "/v1/notifications"))["items"]) == count

    await until(lambda: notified(ada, 2))  # recorded in the consumer group
    notes = await ada.call("GET", "/v1/notifications")
    assert {n["author_id"] for n in notes["items"]} == {bob.id}  # they quote bob
    reply = await ada.call(
        "POST",
        f"/v1/channels/{cid}/messages",
        json={"content": f"hey <@{bob.id}>", "reply_to": sent[0]["id"]},
    )
    await until(lambda: notified(bob, 1))
    reactions = f"/v1/channels/{cid}/messages/{reply['id']}/reactions"
    for who, emoji in ((bob, "%F0%9F%91%8D"), (bob, ":rocket:"), (ada, "%F0%9F%91%8D")):
        await who.call("PUT", f"{reactions}/{emoji}")
    assert await mesh.messaging.store.count(ReactionMark, {"user_id": bob.id}) == 1

    auth = mesh.started["auth"].service
    await auth.events.publish(UserDeleted(user_id=bob.id, version=7), subject=f"user/{bob.id}")

    async def erased() -> bool:
        if await _memberships(mesh, bob.id):
            return False
        if await mesh.messaging.store.count(ReactionMark, {"user_id": bob.id}):
            return False
        return all(m.deleted_at is not None for m in await _messages_by(mesh, bob.id))

    await until(erased)
    page = await ada.call("GET", f"/v1/channels/{cid}/messages")
    assert [(m["id"], m["author_id"], m["deleted"], m["content"]) for m in page] == [
        (sent[0]["id"], bob.id, True, ""),
        (reply["id"], ada.id, False, f"hey <@{bob.id}>"),
    ]
    assert page[1]["reply_to"] == sent[0]["id"]  # the reply chain keeps its place
    assert page[1]["reactions"] == {"👍": 1}  # bob's reactions were taken back, ada's stay
    assert (await ada.call("GET", "/v1/notifications"))["items"] == []
    assert await mesh.messaging.store.count(Notification, {"user_id": bob.id}) == 0
    stored = await mesh.messaging.store.get(Message, sent[0]["id"])
    assert stored is not None
    assert (stored.content, stored.mentions, stored.attachments) == ("", [], [])
    members = await ada.call("GET", f"/v1/channels/{cid}/members")
    assert [m["user_id"] for m in members] == [ada.id]
    dm_page = await ada.call("GET", f"/v1/channels/{dm}/messages")
    assert [(m["deleted"], m["content"]) for m in dm_page] == [(True, "")]
    profile = await mesh.messaging.store.get(UserProfile, bob.id)
    assert profile is not None
    assert (profile.deleted, profile.username, profile.account_version) == (True, "", 7)

    # at least once: a redelivery (or a second publish) changes nothing
    versions = {m.id: m.version for m in await _messages_by(mesh, bob.id)}
    envelope = Envelope.wrap(UserDeleted(user_id=bob.id, version=7), source="auth")
    await mesh.messaging.on_user_deleted(UserDeleted(user_id=bob.id, version=7), envelope)
    assert {m.id: m.version for m in await _messages_by(mesh, bob.id)} == versions
    assert await mesh.messaging.remove_memberships(bob.id) == 0
    assert await mesh.messaging.anonymise_messages(bob.id) == 0
    assert await mesh.messaging.drop_notifications(bob.id) == 0
    assert await mesh.messaging.take_back_reactions(bob.id) == 0


async def test_deleting_an_account_in_auth_reaches_messaging(mesh: Mesh) -> None:
    ada, bob = await mesh.user("ada"), await mesh.user("bob")
    cid = (await ada.call("POST", "/v1/channels", json={"name": "general"}))["id"]
    await bob.call("PUT", f"/v1/channels/{cid}/members/me")
    await bob.call("POST", f"/v1/channels/{cid}/messages", json={"content": "bye"})

    async def registered() -> bool:
        profile = await mesh.messaging.store.get(UserProfile, bob.id)
        return profile is not None and profile.username == "bob"

    await until(registered)  # UserRegistered filled the profile cache
    members = await ada.call("GET", f"/v1/channels/{cid}/members")
    names = {m["user_id"]: (m["username"], m["display_name"]) for m in members}
    assert names[bob.id] == ("bob", None)  # what clients show, with no call to auth
    await bob.call("DELETE", "/v1/users/me", service="auth", json={"password": PASSWORD})

    async def gone() -> bool:
        messages = await _messages_by(mesh, bob.id)
        return not await _memberships(mesh, bob.id) and messages[0].deleted_at is not None

    await until(gone)
    profile = await mesh.messaging.store.get(UserProfile, bob.id)
    assert profile is not None
    assert (profile.deleted, profile.username) == (True, "")


async def test_profiles_only_move_to_newer_versions(mesh: Mesh) -> None:
    service = mesh.messaging
    uid = "01HZX3K8W6R8V2T1N4J5Q7S9AB"

    async def deliver(event: UserUpdated | UserDeleted) -> None:
        envelope = Envelope.wrap(event, source="auth")
        if isinstance(event, UserDeleted):
            await service.on_user_deleted(event, envelope)
        else:
            await service.on_user_updated(event, envelope)

    def updated(version: int, name: str) -> UserUpdated:
        return UserUpdated(user_id=uid, version=version, username="eve", display_name=name)

    async def profile() -> UserProfile:
        found = await service.store.get(UserProfile, uid)
        assert found is not None
        return found

    await deliver(updated(3, "Eve"))
    await deliver(updated(2, "Old Eve"))  # overtaken: ignored
    await deliver(updated(3, "Eve"))  # redelivered: no write
    assert ((await profile()).display_name, (await profile()).version) == ("Eve", 1)
    await deliver(updated(4, "Eve N."))
    assert (await profile()).display_name == "Eve N."
    await deliver(UserDeleted(user_id=uid, version=5))
    await deliver(updated(4, "Eve N."))  # late update after the deletion: stays deleted
    final = await profile()
    assert (final.deleted, final.username, final.display_name) == (True, "", None)
