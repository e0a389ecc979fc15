"""Voice rooms end to end: auth + voice + gateway in one runtime, Socket.IO signaling
through the gateway, real WebRTC (aiortc) on loopback, a tone detected by FFT."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
import socketio

from meshkit.testing import eventually
from tests.voice_peers import peak_hz, rms
from tests.voice_stack import Caller, VoiceStack, voice, voice_stack

__all__ = ["voice"]  # the fixture

pytestmark = pytest.mark.slow


async def a_room(owner: Caller, **extra: Any) -> str:
    room = await owner.call("POST", "/v1/voice/rooms", json={"name": "lounge", **extra})
    return str(room["id"])


def tone_check(
    listener: Caller, speaker: Caller, hz: float = 440.0
) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        assert listener.media is not None
        start = time.monotonic()
        await asyncio.sleep(0.6)
        return abs(peak_hz(listener.media.heard_from(speaker.user_id, start)) - hz) < 15

    return check


async def silent(listener: Caller, speaker: Caller) -> bool:
    assert listener.media is not None
    await asyncio.sleep(0.3)
    start = time.monotonic()
    await asyncio.sleep(0.6)
    return rms(listener.media.heard_from(speaker.user_id, start)) < 50


async def test_two_people_talk_through_the_gateway(voice: VoiceStack) -> None:
    ada, bob = await voice.person("ada"), await voice.person("bob")
    room = await a_room(ada, bitrate=24_000)
    ticket = await ada.call("POST", f"/v1/voice/rooms/{room}/join")
    assert ticket["signaling_path"] == "/voice/socket.io"
    assert ticket["ice_servers"] == []  # nothing public by default
    joined = await ada.join(room, tone=440.0)
    assert joined["participant"]["user_id"] == ada.user_id
    # the room's bitrate is asked of every client's Opus encoder (RFC 7587)
    assert "maxaveragebitrate=24000" in joined["offer"]["sdp"]
    await bob.join(room, tone=None)
    await eventually(tone_check(bob, ada), within=15, what="bob hears ada's tone")
    assert ada.media is not None
    assert ada.user_id not in ada.media.heard
    # everyone sees the room and its speaking indicator
    await eventually(
        lambda: any(
            e["user_id"] == ada.user_id and e["speaking"] for e in bob.events("voice.speaking")
        ),
        what="speaking event",
    )
    people = await bob.call("GET", f"/v1/voice/rooms/{room}/participants")
    assert {p["user_id"] for p in people} == {ada.user_id, bob.user_id}
    assert next(p for p in people if p["user_id"] == ada.user_id)["speaking"] is True
    # self mute and deafen stop the audio; speaking ends
    ack = await ada.sio.call("voice.state", {"muted": True}, timeout=5)
    assert ack["ok"]
    assert ack["participant"]["muted"] is True
    assert await silent(bob, ada)
    await eventually(
        lambda: any(
            e["user_id"] == ada.user_id and not e["speaking"] for e in bob.events("voice.speaking")
        ),
        what="speaking ends",
    )
    await ada.sio.call("voice.state", {"muted": False}, timeout=5)
    await eventually(tone_check(bob, ada), within=10)
    await bob.sio.call("voice.state", {"deafened": True}, timeout=5)
    assert await silent(bob, ada)
    updated = bob.events("voice.participant.updated")
    assert any(e["participant"]["deafened"] for e in updated)
    # leaving is announced and cleans up
    assert (await bob.sio.call("voice.leave", {}, timeout=5)) == {"ok": True, "left": True}
    await eventually(
        lambda: any(
            e["participant"]["user_id"] == bob.user_id for e in ada.events("voice.participant.left")
        ),
        what="left event",
    )
    people = await ada.call("GET", f"/v1/voice/rooms/{room}/participants")
    assert [p["user_id"] for p in people] == [ada.user_id]


async def test_moderators_kick_and_server_mute(voice: VoiceStack) -> None:
    ada, bob = await voice.person("ada"), await voice.person("bob")
    admin = await voice.person("admin", register=False)
    room = await a_room(ada)
    await ada.join(room, tone=440.0)
    await bob.join(room, tone=None)
    await eventually(tone_check(bob, ada), within=15)
    # a plain user may not moderate
    await bob.call(
        "PATCH",
        f"/v1/voice/rooms/{room}/participants/{ada.user_id}",
        expect=403,
        json={"server_muted": True},
    )
    muted = await admin.call(
        "PATCH", f"/v1/voice/rooms/{room}/participants/{ada.user_id}", json={"server_muted": True}
    )
    assert muted["server_muted"] is True
    assert await silent(bob, ada)
    await admin.call(
        "PATCH", f"/v1/voice/rooms/{room}/participants/{ada.user_id}", json={"server_muted": False}
    )
    await eventually(tone_check(bob, ada), within=10)
    await admin.call("DELETE", f"/v1/voice/rooms/{room}/participants/{ada.user_id}", expect=204)
    await eventually(lambda: bool(ada.events("voice.ended")), what="ada is told")
    assert ada.events("voice.ended")[0]["reason"] == "kicked"
    assert await silent(bob, ada)
    people = await bob.call("GET", f"/v1/voice/rooms/{room}/participants")
    assert [p["user_id"] for p in people] == [bob.user_id]


async def test_a_full_room_refuses_with_a_clear_error(voice: VoiceStack) -> None:
    ada, bob = await voice.person("ada"), await voice.person("bob")
    room = await a_room(ada, max_participants=1)
    await ada.join(room)
    problem = await bob.call("POST", f"/v1/voice/rooms/{room}/join", expect=409)
    assert problem["type"].endswith(":room-full")
    ack = await bob.join(room)
    assert ack["ok"] is False
    assert ack["error"]["type"].endswith(":room-full")
    assert ack["error"]["status"] == 409


async def test_a_revoked_token_drops_the_participant(voice: VoiceStack) -> None:
    ada, bob = await voice.person("ada"), await voice.person("bob")
    room = await a_room(ada)
    await ada.join(room, tone=None)
    await bob.join(room, tone=440.0)
    await eventually(tone_check(ada, bob), within=15)
    await bob.call("POST", "/v1/auth/logout", expect=204)
    await eventually(lambda: bool(bob.events("session.ended")), what="session ended")
    await eventually(
        lambda: any(
            e["participant"]["user_id"] == bob.user_id for e in ada.events("voice.participant.left")
        ),
        what="bob left",
    )
    assert await silent(ada, bob)


async def test_bad_signaling_gets_typed_errors(voice: VoiceStack) -> None:
    ada = await voice.person("ada")
    room = await a_room(ada)
    await ada.connect()
    cases: list[tuple[str, Any, int]] = [
        ("voice.join", {"room_id": "01ARZ3NDEKTSV4RRFFQ69G5FAV"}, 404),
        ("voice.join", {"room_id": "nope"}, 422),
        ("voice.join", None, 422),
        ("voice.answer", {"sdp": "v=0"}, 404),  # not in a room yet
        ("voice.candidate", {"candidate": "candidate:x"}, 404),
        ("voice.state", {"muted": "loud"}, 422),
        ("voice.nonsense", {}, 404),
    ]
    for event, payload, status in cases:
        ack = await ada.sio.call(event, payload, timeout=5)
        assert ack["ok"] is False, (event, ack)
        assert ack["error"]["status"] == status, (event, ack)
    await ada.join(room)
    for event, payload, slug in (
        ("voice.answer", {"sdp": "not sdp at all"}, "no-offer-pending"),
        ("voice.candidate", {"candidate": "candidate:garbage", "sdpMid": "0"}, "bad-candidate"),
        ("voice.answer", {"sdp": "x" * 800_000}, "validation-error"),
    ):
        ack = await ada.sio.call(event, payload, timeout=5)
        assert ack["ok"] is False
        assert ack["error"]["type"].endswith(f":{slug}"), ack
    assert ada.sio.connected
    people = await ada.call("GET", f"/v1/voice/rooms/{room}/participants")
    assert [p["user_id"] for p in people] == [ada.user_id]


async def test_signaling_connections_are_capped_per_user(
    tmp_path: Path, meshkit_redis_url: str
) -> None:
    """Each signaling connection can hold a media connection (ports, ICE, DTLS): a user
    gets at most MESHKIT_VOICE_MAX_CONNECTIONS_PER_USER of them at once."""
    async with voice_stack(
        tmp_path, meshkit_redis_url, MESHKIT_VOICE_MAX_CONNECTIONS_PER_USER="2"
    ) as stack:
        ada = await stack.person("ada")
        clients = []
        try:
            for _ in range(2):
                client = socketio.AsyncClient(reconnection=False)
                await client.connect(
                    stack.gateway,
                    socketio_path="voice/socket.io",
                    auth={"token": ada.token},
                    transports=["websocket"],
                    wait_timeout=5,
                )
                clients.append(client)
            refused = socketio.AsyncClient(reconnection=False)
            reasons: list[Any] = []
            refused.on("connect_error", reasons.append)
            with pytest.raises(socketio.exceptions.ConnectionError):
                await refused.connect(
                    stack.gateway,
                    socketio_path="voice/socket.io",
                    auth={"token": ada.token},
                    transports=["websocket"],
                    wait_timeout=5,
                )
            assert reasons[0]["data"]["status"] == 429
            assert reasons[0]["data"]["type"].endswith(":too-many-connections")
        finally:
            for client in clients:
                await client.disconnect()
