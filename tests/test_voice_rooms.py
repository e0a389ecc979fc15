"""The voice service's REST API with auth beside it: stored rooms, join tickets, live
participants, moderation, the events and commands each publishes, and typed problems."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from meshkit.app import openapi_document
from meshkit.errors import Forbidden, NotFound
from meshkit.plugins import get_plugin_manager
from meshkit.runtime import Runtime
from meshkit.services.voice.calls import CONTROL, ROOM_EVENTS, Calls
from meshkit.services.voice.errors import NotInRoom, RoomFull
from meshkit.services.voice.service import VoiceService
from meshkit.testing import make_settings
from meshkit.tokens import Principal

PASSWORD = "correct horse battery staple"
ADMIN_PASSWORD = "trusty operator passphrase 42"
PROBLEM = "application/problem+json"
TURN_SECRET = "coturn-shared-secret"
UNKNOWN = "01HZX3Y8ZP7Q4V2N6M5K9J1T0Z"


class Client:
    """One user talking to the voice service over HTTP."""

    def __init__(self, http: aiohttp.ClientSession, base: str, token: str, user_id: str):
        self.http, self.base, self.user_id = http, base, user_id
        self.headers = {"Authorization": f"Bearer {token}"}

    async def call(self, method: str, path: str, **kwargs: Any) -> tuple[int, Any]:
        headers = {**self.headers, **kwargs.pop("headers", {})}
        async with self.http.request(
            method, self.base + path, headers=headers, **kwargs
        ) as response:
            body = None if response.status == 204 else await response.json(content_type=None)
            if response.status >= 400:
                assert response.content_type == PROBLEM, body
            assert response.status != 500, body
            return response.status, body


def principal(user_id: str, *permissions: str) -> Principal:
    """The principal signaling would have for ``user_id`` (a socket's verified token)."""
    return Principal(
        user_id,
        frozenset({"user"}),
        frozenset(permissions or ("voice:room.join",)),
        "jti",
        None,
        datetime.now(UTC) + timedelta(minutes=5),
    )


class Bus:
    """What the voice service publishes on its two Redis channels."""

    def __init__(self, redis: Any) -> None:
        self.pubsub = redis.pubsub()

    async def start(self) -> None:
        await self.pubsub.subscribe(ROOM_EVENTS, CONTROL)
        for _ in range(2):  # the subscribe confirmations
            await self.pubsub.get_message(timeout=1.0)

    async def drain(self, settle: float = 0.2) -> list[tuple[str, dict[str, Any]]]:
        found = []
        while True:
            message = await self.pubsub.get_message(ignore_subscribe_messages=True, timeout=settle)
            if message is None:
                return found
            channel = message["channel"].decode()
            found.append((channel, json.loads(message["data"])))


@pytest.fixture
async def voice(tmp_path: Path, meshkit_redis_url: str, meshkit_redis: Any) -> AsyncIterator[Any]:
    settings = make_settings(
        tmp_path,
        MESHKIT_REDIS_URL=meshkit_redis_url,
        MESHKIT_AUTH_BCRYPT_COST="4",
        MESHKIT_AUTH_BOOTSTRAP_ADMIN_EMAIL="root@example.test",
        MESHKIT_AUTH_BOOTSTRAP_ADMIN_PASSWORD=ADMIN_PASSWORD,
        MESHKIT_VOICE_TURN_URLS="turn:127.0.0.1:3478?transport=udp",
        MESHKIT_VOICE_TURN_SECRET=TURN_SECRET,
        MESHKIT_VOICE_TURN_TTL="600",
    )
    pm = get_plugin_manager(settings)
    runtime = Runtime(settings, pm, ["auth", "voice"], ports={"auth": 0, "voice": 0})
    started = {r.service.name: r for r in await runtime.start()}
    auth = started["auth"].url
    bus = Bus(meshkit_redis)
    await bus.start()
    async with aiohttp.ClientSession() as http:

        async def login(name: str, password: str = PASSWORD) -> Client:
            async with http.post(
                f"{auth}/v1/auth/login", json={"login": name, "password": password}
            ) as response:
                assert response.status == 200, await response.text()
                token = (await response.json())["access_token"]
            async with http.get(
                f"{auth}/v1/users/me", headers={"Authorization": f"Bearer {token}"}
            ) as response:
                user_id = (await response.json())["id"]
            return Client(http, started["voice"].url, token, user_id)

        async def user(name: str) -> Client:
            async with http.post(
                f"{auth}/v1/auth/register",
                json={"email": f"{name}@example.test", "username": name, "password": PASSWORD},
            ) as response:
                assert response.status == 201
            return await login(name)

        async def admin() -> Client:
            return await login("root@example.test", ADMIN_PASSWORD)

        async def grant(name: str, *permissions: str) -> Client:
            """A role with ``permissions`` for ``name``, and a fresh login that has it."""
            root = await admin()
            me = await login(name)
            role = f"voice-{name}"
            async with http.post(
                f"{auth}/v1/roles",
                headers=root.headers,
                json={"name": role, "permissions": list(permissions)},
            ) as response:
                assert response.status in (201, 409), await response.text()
            async with http.post(
                f"{auth}/v1/roles/{role}/members/{me.user_id}", headers=root.headers
            ) as response:
                assert response.status == 201, await response.text()
            return await login(name)

        service = started["voice"].service
        assert isinstance(service, VoiceService)
        yield {
            "user": user,
            "admin": admin,
            "grant": grant,
            "calls": service.calls,
            "bus": bus,
            "http": http,
            "auth": auth,
        }
    await bus.pubsub.aclose()
    await runtime.stop()


async def room_of(client: Client, **fields: Any) -> dict[str, Any]:
    status, room = await client.call("POST", "/v1/voice/rooms", json={"name": "Lounge", **fields})
    assert status == 201, room
    return room


async def test_rooms_are_created_listed_read_changed_and_deleted(voice):
    ada, bob = await voice["user"]("ada"), await voice["user"]("bob")
    room = await room_of(ada, max_participants=3)
    assert room["owner_id"] == ada.user_id
    assert (room["max_participants"], room["bitrate"], room["participant_count"]) == (3, 32000, 0)
    assert room["channel_id"] is None
    second = await room_of(bob, name="Stage", bitrate=64000)
    status, listed = await bob.call("GET", "/v1/voice/rooms")
    assert [r["id"] for r in listed] == [room["id"], second["id"]]
    status, page = await bob.call("GET", "/v1/voice/rooms", params={"after": room["id"]})
    assert [r["id"] for r in page] == [second["id"]]
    # linking is checked by messaging (tests/test_voice_channel_link.py); none here
    status, linked = await bob.call("GET", "/v1/voice/rooms", params={"channel_id": UNKNOWN})
    assert (status, linked) == (200, [])
    status, limited = await bob.call("GET", "/v1/voice/rooms", params={"limit": "1"})
    assert len(limited) == 1
    status, got = await bob.call("GET", f"/v1/voice/rooms/{room['id']}")
    assert (status, got) == (200, room)

    rid = room["id"]
    status, problem = await bob.call("PATCH", f"/v1/voice/rooms/{rid}", json={"name": "Mine"})
    assert status == 403
    assert problem["required_permission"] == "voice:room.manage"
    status, changed = await ada.call("PATCH", f"/v1/voice/rooms/{rid}", json={"name": "Den"})
    assert (status, changed["name"]) == (200, "Den")
    status, changed = await ada.call("PATCH", f"/v1/voice/rooms/{rid}", json={"bitrate": 48000})
    assert (changed["name"], changed["bitrate"]) == ("Den", 48000)
    status, changed = await ada.call("PATCH", f"/v1/voice/rooms/{rid}", json={"channel_id": None})
    assert (status, changed["channel_id"]) == (200, None)  # null unlinks; asks nobody
    root = await voice["admin"]()
    status, changed = await root.call(
        "PATCH", f"/v1/voice/rooms/{rid}", json={"max_participants": 10}
    )
    assert (status, changed["max_participants"]) == (200, 10)  # voice:room.manage (admin: *)

    assert (await bob.call("DELETE", f"/v1/voice/rooms/{rid}"))[0] == 403
    assert (await ada.call("DELETE", f"/v1/voice/rooms/{rid}"))[0] == 204
    assert (await ada.call("GET", f"/v1/voice/rooms/{rid}"))[0] == 404
    assert (await ada.call("DELETE", f"/v1/voice/rooms/{rid}"))[0] == 404
    assert (await root.call("DELETE", f"/v1/voice/rooms/{second['id']}"))[0] == 204


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "name"),
        ({"name": ""}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"name": "tab\there"}, "name"),
        ({"name": "ok", "max_participants": 0}, "max_participants"),
        ({"name": "ok", "max_participants": 501}, "max_participants"),
        ({"name": "ok", "bitrate": 5999}, "bitrate"),
        ({"name": "ok", "bitrate": 510001}, "bitrate"),
        ({"name": "ok", "channel_id": "general"}, "channel_id"),
        ({"name": "ok", "owner_id": "someone"}, "owner_id"),
        ({"name": 7}, "name"),
    ],
)
async def test_bad_rooms_are_422_problems_naming_the_field(voice, body, field):
    ada = await voice["user"]("ada")
    status, problem = await ada.call("POST", "/v1/voice/rooms", json=body)
    assert status == 422
    assert problem["type"] == "urn:meshkit:problem:validation-error"
    assert [e["field"] for e in problem["errors"]] == [field]


async def test_bad_patches_queries_and_bodies_are_refused_with_problems(voice):
    ada = await voice["user"]("ada")
    rid = (await room_of(ada))["id"]
    for body in ({"max_participants": 0}, {"bitrate": 1}, {"name": ""}, {"topic": "x"}):
        status, problem = await ada.call("PATCH", f"/v1/voice/rooms/{rid}", json=body)
        assert status == 422, body
    for params in ({"limit": "0"}, {"limit": "101"}, {"after": "nope"}):
        assert (await ada.call("GET", "/v1/voice/rooms", params=params))[0] == 422
    status, problem = await ada.call(
        "POST", "/v1/voice/rooms", data=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert (status, problem["type"]) == (400, "urn:meshkit:problem:malformed-body")
    status, problem = await ada.call("POST", "/v1/voice/rooms", data=b"name=x")
    assert status == 415
    status, problem = await ada.call("PATCH", f"/v1/voice/rooms/{UNKNOWN}", json={"name": "Ghost"})
    assert (status, problem["type"]) == (404, "urn:meshkit:problem:not-found")
    async with voice["http"].get(ada.base + "/v1/voice/rooms") as anonymous:
        assert anonymous.status == 401


async def test_join_answers_a_ticket_with_signaling_and_time_limited_turn(voice):
    ada = await voice["user"]("ada")
    room = await room_of(ada)
    before = int(datetime.now(UTC).timestamp())
    status, ticket = await ada.call("POST", f"/v1/voice/rooms/{room['id']}/join")
    assert status == 200, ticket
    assert ticket["signaling_path"] == "/voice/socket.io"
    assert ticket["room"]["id"] == room["id"]
    assert ticket["participants"] == []
    [turn] = ticket["ice_servers"]  # no STUN by default: only the configured TURN
    assert turn["urls"] == ["turn:127.0.0.1:3478?transport=udp"]
    expiry, user_id = turn["username"].split(":")
    assert user_id == ada.user_id
    assert before + 600 <= int(expiry) <= before + 602
    assert TURN_SECRET not in json.dumps(ticket)
    assert datetime.fromisoformat(ticket["ice_servers_expire_at"]).timestamp() == int(expiry)
    # joining over REST reserves nothing
    assert (await ada.call("GET", f"/v1/voice/rooms/{room['id']}/participants"))[1] == []
    status, problem = await ada.call("POST", f"/v1/voice/rooms/{UNKNOWN}/join")
    assert (status, problem["type"]) == (404, "urn:meshkit:problem:not-found")


async def test_a_full_room_refuses_with_room_full(voice):
    ada, bob = await voice["user"]("ada"), await voice["user"]("bob")
    calls: Calls = voice["calls"]
    room = await room_of(ada, max_participants=1)
    await calls.enter(principal(ada.user_id), room["id"], "i1")
    status, problem = await bob.call("POST", f"/v1/voice/rooms/{room['id']}/join")
    assert status == 409
    assert problem["type"] == "urn:meshkit:problem:room-full"
    assert problem["limit"] == 1
    with pytest.raises(RoomFull):
        await calls.enter(principal(bob.user_id), room["id"], "i1")
    # the one inside may still ask for a ticket (a reconnect)
    assert (await ada.call("POST", f"/v1/voice/rooms/{room['id']}/join"))[0] == 200
    status, rooms = await bob.call("GET", "/v1/voice/rooms")
    assert rooms[0]["participant_count"] == 1


async def test_participants_with_their_state_and_the_events(voice):
    ada, bob = await voice["user"]("ada"), await voice["user"]("bob")
    calls: Calls = voice["calls"]
    bus: Bus = voice["bus"]
    rid = (await room_of(ada))["id"]
    await calls.enter(principal(ada.user_id), rid, "i1")
    await calls.enter(principal(bob.user_id), rid, "i1")
    await calls.set_self(rid, bob.user_id, muted=True, deafened=True)
    await calls.set_speaking(rid, ada.user_id, True)
    await calls.set_speaking(rid, ada.user_id, True)  # no change: no event
    status, people = await ada.call("GET", f"/v1/voice/rooms/{rid}/participants")
    assert status == 200
    assert [(p["user_id"], p["muted"], p["deafened"], p["speaking"]) for p in people] == [
        (ada.user_id, False, False, True),
        (bob.user_id, True, True, False),
    ]
    assert "instance" not in people[0]
    await calls.enter(principal(bob.user_id), rid, "i1")  # a reconnect: an update
    await calls.leave(rid, bob.user_id)
    assert await calls.leave(rid, bob.user_id) is None
    events = [(m["event"], m["participant"]["user_id"]) for _, m in await bus.drain()]
    assert events == [
        ("voice.participant.joined", ada.user_id),
        ("voice.participant.joined", bob.user_id),
        ("voice.participant.updated", bob.user_id),
        ("voice.speaking", ada.user_id),
        ("voice.participant.updated", bob.user_id),
        ("voice.participant.left", bob.user_id),
    ]
    with pytest.raises(NotInRoom):
        await calls.set_self(rid, bob.user_id, muted=False)
    assert await calls.set_speaking(rid, bob.user_id, True) is None
    assert (await ada.call("GET", f"/v1/voice/rooms/{UNKNOWN}/participants"))[0] == 404


async def test_moderators_mute_kick_and_move_with_their_permissions(voice):
    ada, bob = await voice["user"]("ada"), await voice["user"]("bob")
    await voice["user"]("mod")
    calls: Calls = voice["calls"]
    bus: Bus = voice["bus"]
    rid = (await room_of(ada))["id"]
    other = (await room_of(ada, name="Other", max_participants=1))["id"]
    await calls.enter(principal(bob.user_id), rid, "i1")
    base = f"/v1/voice/rooms/{rid}/participants/{bob.user_id}"

    # a plain user holds none of voice:member.*: 403 before the body is even read
    for method, path, body in (
        ("PATCH", base, {"server_muted": True}),
        ("DELETE", base, None),
        ("POST", base + "/move", {"room_id": other}),
        ("PATCH", base, {"bogus": 1}),
    ):
        status, problem = await ada.call(method, path, json=body)
        assert status == 403, (method, path)
        assert problem["required_permission"].startswith("voice:member.")
    await bus.drain()

    mod = await voice["grant"]("mod", "voice:member.mute", "voice:member.kick", "voice:member.move")
    status, participant = await mod.call("PATCH", base, json={"server_muted": True})
    assert (status, participant["server_muted"]) == (200, True)
    assert (await mod.call("PATCH", base, json={}))[0] == 422
    assert (await mod.call("PATCH", base, json={"server_muted": "loud"}))[0] == 422
    published = await bus.drain()
    assert (CONTROL, {"room_id": rid, "command": "server_mute", "user_id": bob.user_id,
                      "server_muted": True}) in published  # fmt: skip
    assert [m["event"] for c, m in published if c == ROOM_EVENTS] == ["voice.participant.updated"]
    # the mute holds when they come back
    await calls.leave(rid, bob.user_id)
    again = await calls.enter(principal(bob.user_id), rid, "i1")
    assert again.server_muted

    # move: the other room is full, then has room
    await calls.enter(principal(ada.user_id), other, "i1")
    status, problem = await mod.call("POST", base + "/move", json={"room_id": other})
    assert (status, problem["type"]) == (409, "urn:meshkit:problem:room-full")
    await calls.leave(other, ada.user_id)
    assert (await mod.call("POST", base + "/move", json={"room_id": "x"}))[0] == 422
    status, problem = await mod.call("POST", base + "/move", json={"room_id": UNKNOWN})
    assert status == 404
    await bus.drain()
    assert (await mod.call("POST", base + "/move", json={"room_id": other}))[0] == 204
    published = await bus.drain()
    assert (CONTROL, {"room_id": rid, "command": "move", "user_id": bob.user_id,
                      "to_room_id": other, "by": mod.user_id}) in published  # fmt: skip
    left = [m for c, m in published if c == ROOM_EVENTS]
    assert [(m["event"], m["reason"], m["to_room_id"]) for m in left] == [
        ("voice.participant.left", "moved", other)
    ]
    assert (await mod.call("GET", f"/v1/voice/rooms/{rid}/participants"))[1] == []

    # kick
    await calls.enter(principal(bob.user_id), rid, "i1")
    await bus.drain()
    assert (await mod.call("DELETE", base))[0] == 204
    published = await bus.drain()
    assert (CONTROL, {"room_id": rid, "command": "kick", "user_id": bob.user_id,
                      "by": mod.user_id}) in published  # fmt: skip
    assert [m["reason"] for c, m in published if c == ROOM_EVENTS] == ["kicked"]
    status, problem = await mod.call("DELETE", base)
    assert (status, problem["type"]) == (404, "urn:meshkit:problem:not-in-room")
    status, problem = await mod.call("PATCH", base, json={"server_muted": False})
    assert (status, problem["type"]) == (404, "urn:meshkit:problem:not-in-room")
    status, problem = await mod.call(
        "DELETE", f"/v1/voice/rooms/{UNKNOWN}/participants/{bob.user_id}"
    )
    assert (status, problem["type"]) == (404, "urn:meshkit:problem:not-found")


async def test_without_voice_room_join_there_is_no_ticket(voice):
    ada = await voice["user"]("ada")
    rid = (await room_of(ada))["id"]
    root = await voice["admin"]()
    async with voice["http"].patch(
        f"{voice['auth']}/v1/roles/user",
        headers=root.headers,
        json={"permissions": ["voice:room.create"]},
    ) as response:
        assert response.status == 200, await response.text()
    status, problem = await root.call("POST", f"/v1/voice/rooms/{rid}/join")
    assert status == 200  # admin: *
    # ada's current token was issued with voice:room.join; a new one has only room.create
    async with voice["http"].post(
        f"{voice['auth']}/v1/auth/login", json={"login": "ada", "password": PASSWORD}
    ) as response:
        token = (await response.json())["access_token"]
    ada = Client(voice["http"], ada.base, token, ada.user_id)
    status, problem = await ada.call("POST", f"/v1/voice/rooms/{rid}/join")
    assert (status, problem["required_permission"]) == (403, "voice:room.join")
    with pytest.raises(Forbidden):
        await voice["calls"].enter(principal(ada.user_id, "voice:room.create"), rid, "i1")


async def test_deleting_a_room_drops_everyone_in_it(voice):
    ada, bob = await voice["user"]("ada"), await voice["user"]("bob")
    calls: Calls = voice["calls"]
    bus: Bus = voice["bus"]
    rid = (await room_of(ada))["id"]
    await calls.enter(principal(ada.user_id), rid, "i1")
    await calls.enter(principal(bob.user_id), rid, "i1")
    await bus.drain()
    assert (await ada.call("DELETE", f"/v1/voice/rooms/{rid}"))[0] == 204
    published = await bus.drain()
    assert (CONTROL, {"room_id": rid, "command": "close"}) in published
    left = sorted(
        (m["participant"]["user_id"], m["reason"]) for c, m in published if c == ROOM_EVENTS
    )
    assert left == sorted([(ada.user_id, "closed"), (bob.user_id, "closed")])
    assert await calls.state.participants(rid) == []
    with pytest.raises(NotFound):
        await calls.enter(principal(ada.user_id), rid, "i1")


async def test_a_crashed_hosts_participants_are_announced_gone_after_the_ttl(voice):
    from meshkit.services.voice.state import VoiceState

    ada = await voice["user"]("ada")
    calls: Calls = voice["calls"]
    bus: Bus = voice["bus"]
    rid = (await room_of(ada))["id"]
    crashed = Calls(calls.rooms, VoiceState(calls.state.redis, 0.3), calls.bus, calls.ice)
    await crashed.enter(principal(ada.user_id), rid, "dead")  # no heartbeat ever runs
    assert len((await ada.call("GET", f"/v1/voice/rooms/{rid}/participants"))[1]) == 1
    await bus.drain()
    await asyncio.sleep(0.5)
    assert (await ada.call("GET", f"/v1/voice/rooms/{rid}/participants"))[1] == []
    published = await bus.drain()
    assert [(m["event"], m["reason"]) for _, m in published] == [
        ("voice.participant.left", "timeout")
    ]


def test_the_document_declares_every_rule(tmp_path):
    document = openapi_document(VoiceService(make_settings(tmp_path)))
    schemas = document["components"]["schemas"]
    room_in = schemas["VoiceRoomIn"]
    assert room_in["required"] == ["name"]
    assert room_in["additionalProperties"] is False
    props = room_in["properties"]
    assert (props["name"]["minLength"], props["name"]["maxLength"]) == (1, 100)
    assert "pattern" in props["name"]
    assert (props["max_participants"]["minimum"], props["max_participants"]["maximum"]) == (1, 500)
    assert (props["bitrate"]["minimum"], props["bitrate"]["maximum"]) == (6000, 510000)
    assert props["max_participants"]["default"] == 25
    assert props["bitrate"]["default"] == 32000
    assert schemas["ParticipantPatch"]["required"] == ["server_muted"]
    assert schemas["MoveIn"]["required"] == ["room_id"]
    assert schemas["MoveIn"]["properties"]["room_id"]["pattern"]
    paths = document["paths"]
    assert set(paths) == {
        "/v1/voice/rooms",
        "/v1/voice/rooms/{room_id}",
        "/v1/voice/rooms/{room_id}/join",
        "/v1/voice/rooms/{room_id}/participants",
        "/v1/voice/rooms/{room_id}/participants/{user_id}",
        "/v1/voice/rooms/{room_id}/participants/{user_id}/move",
        "/v1/voice/rooms/{room_id}/listen",
        "/v1/voice/rooms/{room_id}/playback",
        "/v1/voice/rooms/{room_id}/playback/{playback_id}",
        "/v1/voice/rooms/{room_id}/recordings",
        "/v1/voice/rooms/{room_id}/recordings/{recording_id}",
        "/v1/voice/rooms/{room_id}/recordings/{recording_id}/stop",
        "/v1/voice/rooms/{room_id}/recordings/{recording_id}/audio",
    }
    join = paths["/v1/voice/rooms/{room_id}/join"]["post"]
    assert {"403", "404", "409", "422"} <= set(join["responses"])
    limit = next(p for p in paths["/v1/voice/rooms"]["get"]["parameters"] if p["name"] == "limit")
    assert (limit["schema"]["minimum"], limit["schema"]["maximum"]) == (1, 100)
