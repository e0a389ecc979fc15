"""A voice room's link to a messaging channel is checked by messaging: ``GetChannel``
over real gRPC (through the client stack and a bare grpclib channel), and voice's create
and PATCH asking it for the acting user, with auth, messaging and voice in one runtime
on a real Redis."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from grpclib.client import Channel as GrpcChannel
from grpclib.const import Status
from grpclib.exceptions import GRPCError

from meshkit.app import GRPC_KEY
from meshkit.plugins import get_plugin_manager
from meshkit.proto.messaging.v1 import messaging_pb2
from meshkit.proto.messaging.v1.messaging_grpc import MessagingServiceStub
from meshkit.rpc import is_idempotent
from meshkit.runtime import Runtime
from meshkit.security import local_service_key
from meshkit.store import new_id
from meshkit.testing import make_settings

PASSWORD = "correct horse battery staple"
ADMIN = "root@example.test"
PROBLEM = "application/problem+json"
VALIDATION = "urn:meshkit:problem:validation-error"


class User:
    """One user talking to messaging and voice over HTTP."""

    def __init__(self, mesh: Mesh, token: str, user_id: str) -> None:
        self.mesh, self.id = mesh, user_id
        self.headers = {"Authorization": f"Bearer {token}"}

    async def call(
        self, method: str, path: str, expect: int, service: str = "voice", **kw: Any
    ) -> Any:
        url = self.mesh.urls[service] + path
        async with self.mesh.http.request(method, url, headers=self.headers, **kw) as response:
            body = None if response.status == 204 else await response.json(content_type=None)
            assert response.status == expect, (method, path, response.status, body)
            if response.status >= 400:
                assert response.content_type == PROBLEM, body
            return body

    async def channel(self, name: str, kind: str = "public", **fields: Any) -> str:
        body = {"name": name, "kind": kind, **fields}
        return str((await self.call("POST", "/v1/channels", 201, "messaging", json=body))["id"])

    async def room(self, expect: int = 201, **fields: Any) -> Any:
        return await self.call("POST", "/v1/voice/rooms", expect, json={"name": "Den", **fields})

    async def relink(self, room_id: str, channel_id: str | None, expect: int = 200) -> Any:
        body = {"channel_id": channel_id}
        return await self.call("PATCH", f"/v1/voice/rooms/{room_id}", expect, json=body)


class Mesh:
    def __init__(self, started: dict[str, Any], http: aiohttp.ClientSession, settings: Any):
        self.started, self.http, self.settings = started, http, settings
        self.urls = {name: running.url for name, running in started.items()}
        self.voice = started["voice"].service
        # Called as voice calls it: its client stack, discovery, service API key.
        self.stub = self.voice.rpc.stub(MessagingServiceStub, "messaging")

    async def login(self, login: str, password: str = PASSWORD) -> User:
        auth = self.urls["auth"]
        body = {"login": login, "password": password}
        async with self.http.post(f"{auth}/v1/auth/login", json=body) as response:
            assert response.status == 200, await response.text()
            token = (await response.json())["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        async with self.http.get(f"{auth}/v1/users/me", headers=headers) as response:
            return User(self, token, (await response.json())["id"])

    async def user(self, name: str) -> User:
        body = {"email": f"{name}@example.test", "username": name, "password": PASSWORD}
        async with self.http.post(self.urls["auth"] + "/v1/auth/register", json=body) as response:
            assert response.status == 201, await response.text()
        return await self.login(name)

    async def get_channel(self, channel_id: str, user_id: str) -> messaging_pb2.GetChannelResponse:
        request = messaging_pb2.GetChannelRequest(channel_id=channel_id, user_id=user_id)
        return await self.stub.GetChannel(request)

    async def refusal(self, channel_id: str, user_id: str) -> GRPCError:
        with pytest.raises(GRPCError) as raised:
            await self.get_channel(channel_id, user_id)
        return raised.value

    async def stop_messaging(self) -> None:
        """Messaging's gRPC server goes away (its HTTP side is not what voice calls)."""
        server = self.started["messaging"].runner.app[GRPC_KEY].server
        await server.stop()


@pytest.fixture
async def mesh(tmp_path: Path, meshkit_redis_url: str, meshkit_redis: Any) -> AsyncIterator[Mesh]:
    settings = make_settings(
        tmp_path,
        MESHKIT_REDIS_URL=meshkit_redis_url,
        MESHKIT_AUTH_BCRYPT_COST="4",
        MESHKIT_AUTH_BOOTSTRAP_ADMIN_EMAIL=ADMIN,
        MESHKIT_AUTH_BOOTSTRAP_ADMIN_PASSWORD=PASSWORD,
        MESHKIT_SHUTDOWN_TIMEOUT="2",
    )
    names = ["auth", "messaging", "voice"]
    runtime = Runtime(settings, get_plugin_manager(settings), names, ports=dict.fromkeys(names, 0))
    started = {r.service.name: r for r in await runtime.start()}
    assert started["voice"].service.calls.rooms.channel_exists is not None
    try:
        async with aiohttp.ClientSession() as http:
            yield Mesh(started, http, settings)
    finally:
        await runtime.stop()


def comparable(problem: dict[str, Any]) -> dict[str, Any]:
    """A problem without what names the request (so two refusals can be compared)."""
    return {k: v for k, v in problem.items() if k not in {"instance", "request_id"}}


# --- GetChannel ---------------------------------------------------------------------------


async def test_get_channel_answers_the_channel_as_the_user_sees_it(mesh: Mesh) -> None:
    assert is_idempotent("/meshkit.messaging.v1.MessagingService/GetChannel")  # retried safely
    ada, bob = await mesh.user("ada"), await mesh.user("bob")
    team = await ada.channel("team")
    found = await mesh.get_channel(team, ada.id)
    assert (found.id, found.name, found.kind, found.archived, found.member) == (
        team,
        "team",
        "public",
        False,
        True,
    )
    assert not (await mesh.get_channel(team, bob.id)).member  # public: visible to anyone
    await ada.call("PATCH", f"/v1/channels/{team}", 200, "messaging", json={"archived": True})
    assert (await mesh.get_channel(team, bob.id)).archived

    dm = await ada.call(
        "POST", "/v1/channels", 201, "messaging", json={"kind": "dm", "members": [bob.id]}
    )
    seen = await mesh.get_channel(dm["id"], bob.id)
    assert (seen.kind, seen.name, seen.member) == ("dm", "", True)


async def test_a_private_channel_is_not_found_exactly_like_an_unknown_one(mesh: Mesh) -> None:
    ada, bob = await mesh.user("ada"), await mesh.user("bob")
    secret = await ada.channel("secret", "private")
    dm = await ada.call(
        "POST", "/v1/channels", 201, "messaging", json={"kind": "dm", "members": [bob.id]}
    )
    cyd = await mesh.user("cyd")
    unknown = await mesh.refusal(new_id(), cyd.id)
    assert unknown.status is Status.NOT_FOUND
    for hidden in (secret, dm["id"]):
        refused = await mesh.refusal(hidden, cyd.id)
        assert (refused.status, refused.message) == (unknown.status, unknown.message)
        assert hidden not in (refused.message or "")
    # a member sees it; an invited one too
    assert (await mesh.get_channel(secret, ada.id)).member
    await ada.call("PUT", f"/v1/channels/{secret}/members/{cyd.id}", 204, "messaging")
    assert (await mesh.get_channel(secret, cyd.id)).kind == "private"
    # judged without the token's permissions: the admin (who holds *) is not a member
    root = await mesh.login(ADMIN)
    assert (await mesh.refusal(secret, root.id)).status is Status.NOT_FOUND


@pytest.mark.parametrize(
    ("channel_id", "user_id"),
    [
        ("", "u1"),
        ("general", "u1"),
        ("01hzx3y8zp7q4v2n6m5k9j1t0a", "u1"),  # ULIDs are upper case
        ("01HZX3Y8ZP7Q4V2N6M5K9J1T0A", ""),
        ("01HZX3Y8ZP7Q4V2N6M5K9J1T0A", "bad user"),
        ("01HZX3Y8ZP7Q4V2N6M5K9J1T0A", "x" * 65),
    ],
)
async def test_malformed_ids_are_invalid_arguments(
    mesh: Mesh, channel_id: str, user_id: str
) -> None:
    refused = await mesh.refusal(channel_id, user_id)
    assert refused.status is Status.INVALID_ARGUMENT
    field = "channel_id" if channel_id != "01HZX3Y8ZP7Q4V2N6M5K9J1T0A" else "user_id"
    assert field in (refused.message or "")


async def test_get_channel_over_a_bare_grpc_channel_needs_the_service_key(mesh: Mesh) -> None:
    ada = await mesh.user("ada")
    team = await ada.channel("team")
    channel = GrpcChannel("127.0.0.1", mesh.started["messaging"].grpc_port)
    request = messaging_pb2.GetChannelRequest(channel_id=team, user_id=ada.id)
    try:
        stub = MessagingServiceStub(channel)
        with pytest.raises(GRPCError) as raised:
            await stub.GetChannel(request, timeout=5)
        assert raised.value.status is Status.UNAUTHENTICATED
        key = {"x-meshkit-api-key": local_service_key(mesh.settings)}
        found = await stub.GetChannel(request, metadata=key, timeout=5)
        assert (found.id, found.name, found.member) == (team, "team", True)
    finally:
        channel.close()


# --- voice: linking a room ----------------------------------------------------------------


async def test_a_room_links_only_to_a_channel_its_user_can_see(mesh: Mesh) -> None:
    ada, bob = await mesh.user("ada"), await mesh.user("bob")
    team = await ada.channel("team")
    room = await ada.room(channel_id=team)
    assert room["channel_id"] == team
    other = await bob.room(channel_id=team)  # public: no membership needed
    listed = await bob.call("GET", "/v1/voice/rooms", 200, params={"channel_id": team})
    assert [r["id"] for r in listed] == [room["id"], other["id"]]

    unknown = await ada.room(422, channel_id=new_id())
    assert unknown["type"] == VALIDATION
    assert unknown["errors"] == [
        {
            "loc": ["body", "channel_id"],
            "field": "channel_id",
            "message": "no such messaging channel",
            "code": "unknown_channel",
        }
    ]
    # someone else's private channel: refused exactly as an unknown one
    secret = await bob.channel("secret", "private")
    hidden = await ada.room(422, channel_id=secret)
    assert comparable(hidden) == comparable(unknown)
    rooms = await ada.call("GET", "/v1/voice/rooms", 200)
    assert len(rooms) == 2  # nothing was created by the refusals

    # PATCH: the same rule; the room is left as it was
    rid = room["id"]
    refused = await ada.relink(rid, secret, 422)
    assert comparable(refused) == comparable(unknown)
    assert comparable(await ada.relink(rid, new_id(), 422)) == comparable(unknown)
    assert (await ada.call("GET", f"/v1/voice/rooms/{rid}", 200))["channel_id"] == team
    # who may not change the room is told so before any channel is looked up
    assert (await bob.relink(rid, secret, 403))["required_permission"] == "voice:room.manage"

    # invited into the private channel, ada may link it
    await bob.call("PUT", f"/v1/channels/{secret}/members/{ada.id}", 204, "messaging")
    assert (await ada.relink(rid, secret))["channel_id"] == secret
    # after leaving it, re-sending the current link changes nothing and asks nothing...
    await ada.call("DELETE", f"/v1/channels/{secret}/members/me", 204, "messaging")
    body = {"name": "Den 2", "channel_id": secret}
    same = await ada.call("PATCH", f"/v1/voice/rooms/{rid}", 200, json=body)
    assert (same["name"], same["channel_id"]) == ("Den 2", secret)
    # ...but linking it anew is refused, and null unlinks
    assert (await ada.relink(rid, None))["channel_id"] is None
    assert comparable(await ada.relink(rid, secret, 422)) == comparable(unknown)

    # a DM links for its members only
    dm = await ada.call(
        "POST", "/v1/channels", 201, "messaging", json={"kind": "dm", "members": [bob.id]}
    )
    assert (await bob.room(channel_id=dm["id"]))["channel_id"] == dm["id"]
    cyd = await mesh.user("cyd")
    assert comparable(await cyd.room(422, channel_id=dm["id"])) == comparable(unknown)
    # malformed ids are refused by voice itself, as before
    assert (await ada.room(422, channel_id="general"))["errors"][0]["field"] == "channel_id"


async def test_messaging_unreachable_is_a_503_and_changes_nothing(mesh: Mesh) -> None:
    ada = await mesh.user("ada")
    team = await ada.channel("team")
    room = await ada.room(channel_id=team)
    await mesh.stop_messaging()

    began = time.monotonic()
    problem = await ada.room(503, channel_id=team)
    assert problem["type"] == "urn:meshkit:problem:upstream-unavailable"
    assert time.monotonic() - began < 10
    unreachable = {
        f"urn:meshkit:problem:{slug}" for slug in ("upstream-unavailable", "circuit-open")
    }
    assert (await ada.relink(room["id"], new_id(), 503))["type"] in unreachable
    # failures open messaging's circuit: still a 503, then without trying
    kinds = [(await ada.room(503, channel_id=team))["type"] for _ in range(5)]
    assert set(kinds) <= unreachable
    assert kinds[-1] == "urn:meshkit:problem:circuit-open"
    assert [r["id"] for r in await ada.call("GET", "/v1/voice/rooms", 200)] == [room["id"]]
    assert (await ada.call("GET", f"/v1/voice/rooms/{room['id']}", 200))["channel_id"] == team
    # what needs no channel check still works without messaging
    assert (await ada.room(name="Unlinked"))["channel_id"] is None
    assert (await ada.relink(room["id"], None))["channel_id"] is None
    assert (await ada.relink(room["id"], None))["channel_id"] is None
