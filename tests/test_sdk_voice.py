"""The SDK's voice client (sdk/meshkit_sdk/voice.py) end to end: auth + voice + gateway,
a bot on the SDK and test callers on real WebRTC (aiortc on loopback), tones told apart
by FFT."""

from __future__ import annotations

import asyncio
import contextlib
import math
import struct
import time
import wave
from pathlib import Path

import numpy as np
import pytest
from meshkit_sdk import MeshkitClient, NotFound
from meshkit_sdk.voice import CallEnded, ParticipantEvent, SpeakingEvent, VoiceCall

from meshkit.testing import eventually
from tests.voice_peers import peak_hz, rms
from tests.voice_stack import PASSWORD, Caller, VoiceStack, voice

__all__ = ["voice"]  # the fixture

pytestmark = pytest.mark.slow

MISSING = "01ARZ3NDEKTSV4RRFFQ69G5FAV"  # a well-formed ULID no room has
LOOPBACK = ["127.0.0.1"]


def tone_wav(path: Path, hz: float = 440.0, seconds: float = 2.0, rate: int = 16_000) -> Path:
    """A mono 16-bit WAV of a sine tone (another rate than Opus's: the SDK resamples)."""
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(
            b"".join(
                struct.pack("<h", int(16000 * math.sin(2 * math.pi * hz * i / rate)))
                for i in range(int(seconds * rate))
            )
        )
    return path


async def a_bot(stack: VoiceStack, name: str = "bot") -> tuple[MeshkitClient, str]:
    """An SDK client logged in as a new user; its user id."""
    caller = await stack.person(name)
    client = MeshkitClient(stack.gateway)
    await client.login(name, PASSWORD)
    return client, caller.user_id


async def a_room(owner: Caller) -> str:
    room = await owner.call("POST", "/v1/voice/rooms", json={"name": "lounge"})
    return str(room["id"])


async def hears(listener: Caller, speaker: str, hz: float = 440.0) -> bool:
    assert listener.media is not None
    start = time.monotonic()
    await asyncio.sleep(0.6)
    return abs(peak_hz(listener.media.heard_from(speaker, start)) - hz) < 15


async def silent(listener: Caller, speaker: str) -> bool:
    assert listener.media is not None
    await asyncio.sleep(0.3)
    start = time.monotonic()
    await asyncio.sleep(0.6)
    return rms(listener.media.heard_from(speaker, start)) < 50


async def received(call: VoiceCall, user_id: str, seconds: float = 0.6) -> np.ndarray:
    """What ``call.audio()`` gives of ``user_id`` for ``seconds`` (left channel)."""
    parts: list[np.ndarray] = []

    async def collect() -> None:
        async for who, frame in call.audio():
            if who == user_id:
                parts.append(frame.to_ndarray().reshape(-1, 2)[:, 0].astype(np.float64))

    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(collect(), seconds)
    return np.concatenate(parts) if parts else np.zeros(0)


async def test_a_bot_plays_a_file_a_caller_hears_and_mute_stops_it(
    voice: VoiceStack, tmp_path: Path
) -> None:
    ada = await voice.person("ada")
    room = await a_room(ada)
    await ada.join(room, tone=None)
    client, bot_id = await a_bot(voice)
    greeting = tone_wav(tmp_path / "greeting.wav", seconds=1.0)
    long_tone = tone_wav(tmp_path / "long.wav", seconds=30.0)
    speaking: list[SpeakingEvent] = []
    async with client, client.voice(room, listen_ips=LOOPBACK) as call:
        call.on_speaking(speaking.append)
        assert call.user_id == bot_id
        assert set(call.participants) == {ada.user_id, bot_id}
        started = time.monotonic()
        await call.play(greeting)  # returns once played: about its length
        assert 0.9 < time.monotonic() - started < 5
        playing = asyncio.create_task(call.play(long_tone))
        await eventually(lambda: hears(ada, bot_id), within=15, what="ada hears the bot")
        await eventually(
            lambda: any(e.user_id == bot_id and e.speaking for e in speaking),
            what="the bot is speaking",
        )
        assert call.participants[bot_id].speaking is True
        me = await call.mute()
        assert me.muted is True
        assert await silent(ada, bot_id)
        await call.mute(False)
        await eventually(lambda: hears(ada, bot_id), within=10, what="heard again")
        playing.cancel()  # cancelling a play stops the sound
        with pytest.raises(asyncio.CancelledError):
            await playing
        assert await silent(ada, bot_id)
        await call.play(greeting)  # and the next one plays
        with pytest.raises(FileNotFoundError):
            await call.play(tmp_path / "missing.ogg")
        with pytest.raises(ValueError, match="Invalid data"):
            await call.play(Path(__file__))
    assert call.ended is not None
    assert call.ended.reason == "left"
    await eventually(
        lambda: bool(ada.events("voice.participant.left")),
        what="ada sees the bot leave",
    )
    people = await ada.call("GET", f"/v1/voice/rooms/{room}/participants")
    assert [p["user_id"] for p in people] == [ada.user_id]


async def test_the_sdk_hears_a_caller_and_sees_who_comes_and_goes(voice: VoiceStack) -> None:
    ada, bob = await voice.person("ada"), await voice.person("bob")
    room = await a_room(ada)
    client, bot_id = await a_bot(voice)
    events: list[ParticipantEvent] = []
    async with client, client.voice(room, listen_ips=LOOPBACK) as call:
        call.on_participant(events.append)
        assert set(call.participants) == {bot_id}
        # nothing but loopback: the ticket's (empty) ICE servers, host candidates on 127.0.0.1
        pc = call._pc
        assert pc is not None
        ice = pc.getTransceivers()[0].receiver.transport.transport.iceGatherer._connection
        assert ice.stun_server is None  # not aiortc's default Google STUN
        assert ice.turn_server is None
        candidates = [
            line.split()[4]
            for line in pc.localDescription.sdp.splitlines()
            if line.startswith("a=candidate:")
        ]
        assert candidates
        assert set(candidates) == {"127.0.0.1"}
        await ada.join(room, tone=440.0)  # joining renegotiates: the bot answers
        await eventually(lambda: ada.user_id in call.participants, what="ada is seen")

        async def hears_ada() -> bool:
            return abs(peak_hz(await received(call, ada.user_id)) - 440.0) < 15

        await eventually(hears_ada, within=15, what="the bot hears ada")
        await bob.join(room, tone=660.0)  # a third: another m-line, told apart by streams

        async def hears_bob() -> bool:
            return abs(peak_hz(await received(call, bob.user_id)) - 660.0) < 15

        await eventually(hears_bob, within=15, what="the bot hears bob")
        assert await hears_ada()
        # deafened, the bot receives nothing
        assert (await call.deafen()).deafened is True
        await asyncio.sleep(0.3)
        assert rms(await received(call, ada.user_id)) < 50
        await call.deafen(False)
        await eventually(hears_ada, within=10, what="hears again")
        assert await ada.sio.call("voice.leave", {}, timeout=5) == {"ok": True, "left": True}
        await eventually(lambda: ada.user_id not in call.participants, what="ada left")
        # carol takes the m-line ada freed: the bot follows the new mid -> user map
        carol = await voice.person("carol")
        await carol.join(room, tone=550.0)

        async def hears_carol() -> bool:
            return abs(peak_hz(await received(call, carol.user_id)) - 550.0) < 15

        await eventually(hears_carol, within=15, what="the bot hears carol")
        assert peak_hz(await received(call, ada.user_id)) == 0.0
    kinds = [(e.kind, e.participant.user_id) for e in events]
    assert ("joined", ada.user_id) in kinds
    assert ("joined", bob.user_id) in kinds
    assert ("left", ada.user_id) in kinds
    assert any(k == "updated" and who == bot_id for k, who in kinds)  # deafened


async def test_unknown_and_malformed_rooms_are_typed_errors(voice: VoiceStack) -> None:
    client, _ = await a_bot(voice)
    async with client:
        call = client.voice(MISSING, listen_ips=LOOPBACK)
        with pytest.raises(NotFound) as missing:
            await call.join()
        assert missing.value.detail == "no such voice room"
        with pytest.raises(NotFound):  # not an id at all: no such room either
            await client.voice("not a room id").join()
        with pytest.raises(RuntimeError):
            await call.mute()  # never joined


async def test_a_kick_ends_the_call_cleanly(voice: VoiceStack, tmp_path: Path) -> None:
    ada = await voice.person("ada")
    admin = await voice.person("admin", register=False)
    room = await a_room(ada)
    await ada.join(room, tone=440.0)
    client, bot_id = await a_bot(voice)
    ended: list[CallEnded] = []
    async with client:
        call = client.voice(room, listen_ips=LOOPBACK)
        await call.join()
        call.on_ended(ended.append)
        listening: list[str] = []

        async def listen() -> None:
            async for who, _ in call.audio():
                listening.append(who)

        listener = asyncio.create_task(listen())
        playing = asyncio.create_task(call.play(tone_wav(tmp_path / "long.wav", seconds=30)))
        await eventually(lambda: hears(ada, bot_id), within=15, what="ada hears the bot")
        await admin.call("DELETE", f"/v1/voice/rooms/{room}/participants/{bot_id}", expect=204)
        why = await asyncio.wait_for(call.wait(), 10)
        assert why.reason == "kicked"
        assert ended == [why]
        await asyncio.wait_for(listener, 5)  # the audio iterator ends
        assert ada.user_id in listening
        with pytest.raises(CallEnded) as raised:
            await asyncio.wait_for(playing, 5)
        assert raised.value.reason == "kicked"
        with pytest.raises(CallEnded):
            await call.mute()
        await call.leave()  # after the end: nothing left to do, no error
        assert await silent(ada, bot_id)
    people = await ada.call("GET", f"/v1/voice/rooms/{room}/participants")
    assert [p["user_id"] for p in people] == [ada.user_id]


async def test_a_revoked_session_ends_the_call(voice: VoiceStack) -> None:
    ada = await voice.person("ada")
    room = await a_room(ada)
    await ada.join(room, tone=None)
    client, bot_id = await a_bot(voice)
    async with client, client.voice(room, listen_ips=LOOPBACK) as call:
        await client.logout()  # the session ends on the server: its tokens stop working
        why = await asyncio.wait_for(call.wait(), 10)
        assert why.reason == "session-ended"
        assert why.error is not None
        assert why.error.status == 401
    await eventually(
        lambda: any(
            e["participant"]["user_id"] == bot_id for e in ada.events("voice.participant.left")
        ),
        what="the room sees the bot go",
    )


async def test_a_handler_may_play_a_greeting_while_the_room_changes(
    voice: VoiceStack, tmp_path: Path
) -> None:
    ada, bob = await voice.person("ada"), await voice.person("bob")
    room = await a_room(ada)
    client, bot_id = await a_bot(voice)
    greeting = tone_wav(tmp_path / "greeting.wav", seconds=30.0)
    async with client, client.voice(room, listen_ips=LOOPBACK) as call:

        @call.on_participant
        async def greet(event: ParticipantEvent) -> None:
            if event.kind == "joined" and event.participant.user_id == ada.user_id:
                await call.play(greeting)  # holds later events back, never the offers

        await ada.join(room, tone=None)
        await eventually(lambda: hears(ada, bot_id), within=15, what="ada is greeted")
        await bob.join(room, tone=660.0)  # an offer to the bot, mid-greeting

        async def hears_bob() -> bool:
            return abs(peak_hz(await received(call, bob.user_id)) - 660.0) < 15

        await eventually(hears_bob, within=15, what="the bot hears bob mid-greeting")
        assert bob.user_id not in call.participants  # its joined event waits its turn
    assert call.ended is not None
    assert call.ended.reason == "left"
