"""Voice across services: calls start and end once (decided in Redis, race-free across
instances), voice publishes participant and call events on the event bus, posts "call
started/ended" into the linked channel over messaging's gRPC (once per call), and
messaging shows who is in voice (a Socket.IO push and ``GET /v1/channels/{id}/voice``).

The end-to-end tests run auth, messaging, voice and the gateway in one runtime on a real
Redis, with real WebRTC on loopback (``tests.voice_stack.Caller``)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import socketio

from meshkit.contracts.voice import (
    CallEnded,
    CallStarted,
    VoiceParticipantJoined,
    VoiceParticipantLeft,
)
from meshkit.events import Envelope, Event
from meshkit.events.model import stream_key
from meshkit.services.messaging.voice_presence import VoicePresence
from meshkit.services.voice.calls import Calls
from meshkit.services.voice.events import ended_text, format_duration
from meshkit.services.voice.models import VoiceRoom
from meshkit.services.voice.state import VoiceState
from meshkit.testing import eventually
from meshkit.tokens import Principal
from tests.voice_stack import Caller, VoiceStack, voice_stack

ROOM = "01HZX3Y8ZP7Q4V2N6M5K9J1T0A"
CHANNEL = "01HZX3Y8ZP7Q4V2N6M5K9J1T0C"
TTL = 0.4


# --- calls in the state: once each, under concurrency ---------------------------------


@pytest.fixture
def state(meshkit_redis: Any) -> VoiceState:
    return VoiceState(meshkit_redis, TTL)


async def test_a_call_starts_with_the_first_and_ends_with_the_last(state: VoiceState) -> None:
    first = await state.enter(
        ROOM, "ada", "i1", max_participants=5, room_name="Lounge", channel_id=CHANNEL
    )
    assert first.started
    assert first.call is not None
    assert first.ended is None
    assert (first.call.room_name, first.call.channel_id) == ("Lounge", CHANNEL)
    second = await state.enter(ROOM, "bob", "i1", max_participants=5, room_name="Renamed")
    assert not second.started
    assert second.call == first.call  # the call keeps what it started with
    again = await state.enter(ROOM, "ada", "i1", max_participants=5)  # a reconnect
    assert not again.started
    assert not again.new
    out = await state.depart(ROOM, "ada")
    assert out.participant is not None
    assert out.ended is None
    assert out.call == first.call
    last = await state.depart(ROOM, "bob")
    assert last.ended is not None
    assert last.ended.call == first.call
    assert last.ended.ended_at >= first.call.started_at
    assert (await state.depart(ROOM, "bob")).ended is None  # once
    assert await state.stale_calls() == []
    assert not await state.redis.exists(state.call_key(ROOM))
    fresh = await state.enter(ROOM, "ada", "i1", max_participants=5)
    assert fresh.started
    assert fresh.call is not None
    assert fresh.call.call_id != first.call.call_id


async def test_concurrent_joins_and_leaves_start_and_end_one_call(state: VoiceState) -> None:
    people = [f"user{i}" for i in range(20)]
    entered = await asyncio.gather(
        *(state.enter(ROOM, who, "i1", max_participants=50) for who in people)
    )
    assert sum(e.started for e in entered) == 1
    assert len({e.call.call_id for e in entered if e.call}) == 1
    departed = await asyncio.gather(*(state.depart(ROOM, who) for who in people))
    assert sum(d.ended is not None for d in departed) == 1


async def test_a_lapsed_call_ends_once_at_its_deadline_when_swept(meshkit_redis: Any) -> None:
    dead = VoiceState(meshkit_redis, TTL)  # an instance that stops beating
    reader = VoiceState(meshkit_redis, TTL)
    entered = await dead.enter(ROOM, "ada", "dead", max_participants=5)
    await dead.enter(ROOM, "bob", "dead", max_participants=5)
    assert entered.call is not None
    assert await reader.stale_calls() == []
    await asyncio.sleep(TTL * 2.5)
    assert await reader.stale_calls() == [ROOM]
    rosters = await asyncio.gather(reader.roster(ROOM), reader.roster(ROOM))
    endings = [r.ended for r in rosters if r.ended is not None]
    assert len(endings) == 1  # two readers, one ending
    ending = endings[0]
    assert sorted(p.user_id for r in rosters for p in r.gone) == ["ada", "bob"]
    lasted = (ending.ended_at - entered.call.started_at).total_seconds()
    assert TTL * 0.8 < lasted < TTL * 2  # when liveness ran out, not when noticed
    assert await reader.stale_calls() == []


async def test_entering_after_everyone_lapsed_ends_the_old_call_first(
    meshkit_redis: Any,
) -> None:
    dead = VoiceState(meshkit_redis, TTL)
    old = await dead.enter(ROOM, "ada", "dead", max_participants=5)
    await asyncio.sleep(TTL * 1.5)
    alive = VoiceState(meshkit_redis, TTL)
    new = await alive.enter(ROOM, "bob", "alive", max_participants=5)
    assert [p.user_id for p in new.gone] == ["ada"]
    assert new.ended is not None
    assert old.call is not None
    assert new.ended.call.call_id == old.call.call_id
    assert new.started
    assert new.call is not None
    assert new.call.call_id != old.call.call_id


async def test_heartbeats_keep_a_call_off_the_sweep_and_closing_ends_it(
    state: VoiceState,
) -> None:
    await state.enter(ROOM, "ada", "i1", max_participants=5)
    for _ in range(4):
        await asyncio.sleep(TTL / 2)
        assert await state.heartbeat() == []
        assert await state.stale_calls() == []
    closed = await state.close_room(ROOM)
    assert [p.user_id for p in closed.live] == ["ada"]
    assert closed.ended is not None
    assert await state.stale_calls() == []
    assert (await state.close_room(ROOM)).ended is None


# --- Calls publishes; the sweep ends calls of dead instances -----------------------------


class Recorder:
    def __init__(self) -> None:
        self.events: list[tuple[Event, str]] = []

    async def __call__(self, event: Event, *, subject: str | None = None, id: str | None = None):
        assert id is not None
        assert subject == f"voice-room/{ROOM}"
        self.events.append((event, id))

    def of(self, cls: type[Event]) -> list[Any]:
        return [event for event, _ in self.events if isinstance(event, cls)]


class FakeRooms:
    """Stands in for the document store's rooms (a lookup is all Calls needs here)."""

    async def get(self, room_id: str) -> VoiceRoom:
        return VoiceRoom(
            id=room_id,
            name="Lounge",
            channel_id=CHANNEL,
            owner_id="ada",
            created_at=datetime.now(UTC),
        )


def principal(user: str) -> Principal:
    return Principal(
        subject=user,
        roles=frozenset({"user"}),
        permissions=frozenset({"voice:*"}),
        token_id="t",
        session_id=None,
        expires_at=datetime.now(UTC) + timedelta(hours=1),
    )


async def test_calls_publish_participants_and_calls_and_the_sweep_ends_lapsed_ones(
    meshkit_redis: Any,
) -> None:
    published = Recorder()

    def calls() -> Calls:
        state = VoiceState(meshkit_redis, TTL)
        return Calls(FakeRooms(), state, meshkit_redis, ice=None, events=published)  # type: ignore[arg-type]

    dead, survivor = calls(), calls()
    await dead.enter(principal("ada"), ROOM, "dead")
    await dead.enter(principal("bob"), ROOM, "dead")
    [started] = published.of(CallStarted)
    assert (started.user_id, started.room_name, started.channel_id) == ("ada", "Lounge", CHANNEL)
    joined = published.of(VoiceParticipantJoined)
    assert [(e.user_id, e.call_id, e.channel_id) for e in joined] == [
        ("ada", started.call_id, CHANNEL),
        ("bob", started.call_id, CHANNEL),
    ]
    await dead.leave(ROOM, "bob")
    [left] = published.of(VoiceParticipantLeft)
    assert (left.user_id, left.reason) == ("bob", "left")
    assert published.of(CallEnded) == []
    await asyncio.sleep(TTL * 2)  # ada's instance died: nobody beats for her
    assert sum(await asyncio.gather(survivor.sweep(), survivor.sweep())) == 1
    [ended] = published.of(CallEnded)
    assert (ended.call_id, ended.reason) == (started.call_id, "timeout")
    assert 0 < ended.duration_seconds < TTL * 2
    assert [(e.user_id, e.reason) for e in published.of(VoiceParticipantLeft)] == [
        ("bob", "left"),
        ("ada", "timeout"),
    ]
    ids = [id for _, id in published.events]
    assert len(ids) == len(set(ids))
    assert f"{started.call_id}:started" in ids
    assert f"{started.call_id}:ended" in ids


def test_durations_read_like_a_person_wrote_them() -> None:
    assert format_duration(0.4) == "0 s"
    assert format_duration(42) == "42 s"
    assert format_duration(185) == "3 min 5 s"
    assert format_duration(3720) == "1 h 2 min"
    moment = datetime.now(UTC)
    event = CallEnded(
        call_id="c",
        room_id=ROOM,
        room_name="Lounge",
        started_at=moment,
        ended_at=moment,
        duration_seconds=65,
        reason="left",
    )
    assert ended_text(event) == "Voice call ended (1 min 5 s)"


# --- messaging's voice presence ---------------------------------------------------------


async def test_voice_presence_ignores_late_and_repeated_events(meshkit_redis: Any) -> None:
    presence = VoicePresence(meshkit_redis)
    t0 = datetime.now(UTC)
    assert await presence.record(CHANNEL, ROOM, "ada", t0, joined=True)
    assert not await presence.record(CHANNEL, ROOM, "ada", t0, joined=True)  # repeated
    assert await presence.record(CHANNEL, ROOM, "bob", t0, joined=True)
    assert (await presence.of_channel(CHANNEL)).user_ids == ["ada", "bob"]
    assert await presence.record(CHANNEL, ROOM, "ada", t0 + timedelta(seconds=5), joined=False)
    # the join of before arrives again, late: it does not bring ada back
    assert not await presence.record(CHANNEL, ROOM, "ada", t0, joined=True)
    now = await presence.of_channel(CHANNEL)
    assert now.user_ids == ["bob"]
    assert [(p.room_id, p.user_id) for p in now.participants] == [(ROOM, "bob")]
    # a join older than the TTL has expired; the keys themselves expire too
    old = VoicePresence(meshkit_redis, ttl=1)
    assert await old.record(CHANNEL, ROOM, "cyd", t0 - timedelta(seconds=5), joined=True)
    assert (await presence.of_channel(CHANNEL)).user_ids == ["bob"]
    assert 0 < await meshkit_redis.ttl(presence.key(CHANNEL)) <= 1


# --- end to end: auth + messaging + voice + gateway --------------------------------------


class MessagingSocket:
    """A messaging Socket.IO connection (through the gateway) that records pushes."""

    def __init__(self, stack: VoiceStack, caller: Caller) -> None:
        self.stack, self.caller = stack, caller
        self.sio = socketio.AsyncClient(reconnection=False)
        self.inbox: list[tuple[str, Any]] = []
        self.sio.on("*", lambda event, data: self.inbox.append((event, data)))

    async def connect(self) -> None:
        await self.sio.connect(
            self.stack.gateway,
            socketio_path="socket.io",
            auth={"token": self.caller.token},
            transports=["websocket"],
            wait_timeout=5,
        )

    def pushes(self, name: str) -> list[Any]:
        return [data for event, data in self.inbox if event == name]


@pytest.fixture
async def mesh(
    tmp_path: Path, meshkit_redis_url: str, meshkit_redis: Any
) -> AsyncIterator[VoiceStack]:
    names = ("auth", "messaging", "voice", "gateway")
    sockets: list[MessagingSocket] = []
    async with voice_stack(
        tmp_path, meshkit_redis_url, names, MESHKIT_VOICE_STATE_TTL="1"
    ) as stack:
        stack.sockets = sockets  # type: ignore[attr-defined]
        try:
            yield stack
        finally:
            for sock in sockets:
                if sock.sio.connected:
                    await sock.sio.disconnect()


async def socket_of(stack: VoiceStack, caller: Caller) -> MessagingSocket:
    sock = MessagingSocket(stack, caller)
    await sock.connect()
    stack.sockets.append(sock)  # type: ignore[attr-defined]
    return sock


async def system_messages(caller: Caller, channel_id: str) -> list[str]:
    page = await caller.call("GET", f"/v1/channels/{channel_id}/messages")
    return [m["content"] for m in page if m["system"] and m["author_id"] == "system:voice"]


async def stream(stack: VoiceStack, topic: str) -> list[Envelope]:
    redis = stack.services["voice"].redis
    return [Envelope.from_fields(f) for _, f in await redis.xrange(stream_key(topic))]


async def test_a_linked_room_posts_its_call_and_shows_who_is_in_voice(mesh: VoiceStack) -> None:
    ada, bob = await mesh.person("ada"), await mesh.person("bob")
    channel = await ada.call("POST", "/v1/channels", json={"name": "team", "kind": "public"})
    cid = channel["id"]
    await bob.call("PUT", f"/v1/channels/{cid}/members/me")
    watcher = await socket_of(mesh, bob)
    room = await ada.call("POST", "/v1/voice/rooms", json={"name": "Stand-up", "channel_id": cid})
    assert (await ada.join(room["id"]))["ok"]
    assert (await bob.join(room["id"]))["ok"]

    async def started() -> bool:
        return await system_messages(ada, cid) == ["Voice call started in Stand-up"]

    await eventually(started, what="the call-started message")
    await eventually(
        lambda: any(
            p["user_ids"] == sorted([ada.user_id, bob.user_id])
            for p in watcher.pushes("voice.participants")
        ),
        what="the voice presence push",
    )
    shown = await bob.call("GET", f"/v1/channels/{cid}/voice")
    assert shown["user_ids"] == sorted([ada.user_id, bob.user_id])
    assert {p["room_id"] for p in shown["participants"]} == {room["id"]}
    for push in watcher.pushes("voice.participants"):
        assert push["channel_id"] == cid

    # the events other services read
    calls = await stream(mesh, "voice.calls")
    assert [e.type for e in calls] == [CallStarted.type]
    call = CallStarted.model_validate(calls[0].data)
    assert (call.room_id, call.channel_id, call.user_id) == (room["id"], cid, ada.user_id)
    people = await stream(mesh, "voice.participants")
    assert [(e.type, e.data["user_id"]) for e in people] == [
        (VoiceParticipantJoined.type, ada.user_id),
        (VoiceParticipantJoined.type, bob.user_id),
    ]

    # ada leaves: the call goes on; bob disconnects: it ends
    assert (await ada.sio.call("voice.leave", {}, timeout=5))["ok"]
    await eventually(
        lambda: watcher.pushes("voice.participants")[-1]["user_ids"] == [bob.user_id],
        what="ada out of voice",
    )
    assert await system_messages(ada, cid) == ["Voice call started in Stand-up"]
    await bob.sio.disconnect()

    async def ended() -> bool:
        texts = await system_messages(ada, cid)
        return len(texts) == 2 and texts[1].startswith("Voice call ended (")

    await eventually(ended, what="the call-ended message")
    await eventually(
        lambda: watcher.pushes("voice.participants")[-1]["user_ids"] == [],
        what="nobody in voice",
    )
    assert (await ada.call("GET", f"/v1/channels/{cid}/voice"))["user_ids"] == []
    calls = await stream(mesh, "voice.calls")
    assert [e.type for e in calls] == [CallStarted.type, CallEnded.type]
    end = CallEnded.model_validate(calls[1].data)
    assert (end.call_id, end.reason) == (call.call_id, "disconnected")
    reasons = [
        (e.data["user_id"], e.data["reason"])
        for e in await stream(mesh, "voice.participants")
        if e.type == VoiceParticipantLeft.type
    ]
    assert reasons == [(ada.user_id, "left"), (bob.user_id, "disconnected")]

    # exactly once: a second voice instance handling the same events posts nothing more
    voice = mesh.services["voice"]
    await voice.on_call_started(call, calls[0])
    await voice.on_call_ended(end, calls[1])
    await asyncio.sleep(0.3)
    texts = await system_messages(ada, cid)
    assert texts[0] == "Voice call started in Stand-up"
    assert len(texts) == 2


async def test_a_room_without_a_channel_posts_nothing_and_a_gone_channel_is_no_retry(
    mesh: VoiceStack,
) -> None:
    ada = await mesh.person("ada")
    plain = await ada.call("POST", "/v1/voice/rooms", json={"name": "Plain"})
    assert (await ada.join(plain["id"]))["ok"]
    await eventually(
        lambda: _types(mesh, "voice.calls"), what="the call started"
    )  # published, handled
    voice = mesh.services["voice"]
    # a channel messaging does not know: NOT_FOUND is final, the handler returns
    ghost = CallStarted(
        call_id="c1",
        room_id=plain["id"],
        room_name="Plain",
        channel_id=CHANNEL,
        started_at=datetime.now(UTC),
        user_id=ada.user_id,
    )
    await voice.on_call_started(ghost, Envelope.wrap(ghost, source="voice", id="c1:started"))


async def _types(stack: VoiceStack, topic: str) -> bool:
    return bool(await stream(stack, topic))
