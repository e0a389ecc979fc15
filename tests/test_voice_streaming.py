"""Audio streaming end to end: a file played into a room as a bot, and a room's mix
listened to over HTTP (Ogg/Opus), through the gateway, with real WebRTC on loopback."""

from __future__ import annotations

import asyncio
import contextlib
import io
import time
import wave
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest

from meshkit.services.voice.media.mix import Mixer
from meshkit.services.voice.media.ogg import Listening, pages
from meshkit.services.voice.media.player import AudioFile, audio_level
from meshkit.testing import eventually
from tests.voice_peers import peak_hz
from tests.voice_stack import Caller, VoiceStack, voice, voice_stack

__all__ = ["voice"]  # the fixture

pytestmark = pytest.mark.slow
MISSING = "01ARZ3NDEKTSV4RRFFQ69G5FAV"


def tone_wav(hz: float, seconds: float, rate: int = 44_100, channels: int = 2) -> bytes:
    """A sine tone as a WAV file (resampled and down-mixed by the player)."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(2)
        out.setframerate(rate)
        t = np.arange(int(rate * seconds)) / rate
        samples = (0.5 * 32767 * np.sin(2 * np.pi * hz * t)).astype(np.int16)
        out.writeframes(np.repeat(samples, channels).tobytes())
    return buffer.getvalue()


async def a_room(owner: Caller) -> str:
    room = await owner.call("POST", "/v1/voice/rooms", json={"name": "stage"})
    return str(room["id"])


async def upload(caller: Caller, room: str, data: bytes, expect: int, **headers: str) -> Any:
    """POST a file as the raw body, through the gateway."""
    url = f"{caller.stack.gateway}/v1/voice/rooms/{room}/playback"
    headers = {"Authorization": f"Bearer {caller.token}", **headers}
    async with caller.stack.http.post(url, data=io.BytesIO(data), headers=headers) as response:
        body = await response.json()
        assert response.status == expect, body
        return body


def voice_service(stack: VoiceStack) -> Any:
    return next(r.service for r in stack.runtime.running if r.service.name == "voice")


def joined(caller: Caller, user_id: str) -> bool:
    return any(
        e["participant"]["user_id"] == user_id for e in caller.events("voice.participant.joined")
    )


def left(caller: Caller, user_id: str) -> bool:
    return any(
        e["participant"]["user_id"] == user_id for e in caller.events("voice.participant.left")
    )


async def test_a_played_file_is_heard_by_the_room_and_the_bot_comes_and_goes(
    voice: VoiceStack,
) -> None:
    bob = await voice.person("bob")
    admin = await voice.person("admin", register=False)
    room = await a_room(bob)
    await bob.join(room, tone=None)
    wav = {"Content-Type": "audio/wav"}
    # a plain user may not play (voice:room.play): refused before the body is read
    await upload(bob, room, tone_wav(440, 0.5), 403, **wav)
    playback = await upload(admin, room, tone_wav(440, 4.0), 202, **wav)
    bot = playback["user_id"]
    assert bot == f"bot:{playback['id']}"
    assert playback["duration"] == pytest.approx(4.0, abs=0.05)
    assert playback["started_by"] == admin.user_id
    await eventually(lambda: joined(bob, bot), what="bob sees the bot join")

    async def hears_440() -> bool:
        assert bob.media is not None
        start = time.monotonic()
        await asyncio.sleep(0.6)
        return abs(peak_hz(bob.media.heard_from(bot, start)) - 440) < 15

    await eventually(hears_440, within=10, what="bob hears the file")
    speaking = [e for e in bob.events("voice.speaking") if e["user_id"] == bot]
    assert speaking
    assert speaking[0]["speaking"] is True
    listed = await bob.call("GET", f"/v1/voice/rooms/{room}/playback")
    assert [p["id"] for p in listed] == [playback["id"]]
    assert 0 < listed[0]["position"] <= 4.0
    people = await bob.call("GET", f"/v1/voice/rooms/{room}/participants")
    assert bot in {p["user_id"] for p in people}
    # the end of the file: the bot leaves, nothing is left behind
    await eventually(lambda: left(bob, bot), within=10, what="the bot leaves at the end")
    assert await bob.call("GET", f"/v1/voice/rooms/{room}/playback") == []
    people = await bob.call("GET", f"/v1/voice/rooms/{room}/participants")
    assert [p["user_id"] for p in people] == [bob.user_id]
    assert bot not in voice_service(voice).sfu.rooms[room].sources


async def test_a_playback_is_stopped_and_plays_into_an_empty_room(voice: VoiceStack) -> None:
    admin = await voice.person("admin", register=False)
    room = await a_room(admin)
    wav = {"Content-Type": "audio/wav"}
    playback = await upload(admin, room, tone_wav(300, 30.0), 202, **wav)
    people = await admin.call("GET", f"/v1/voice/rooms/{room}/participants")
    assert [p["user_id"] for p in people] == [playback["user_id"]]
    path = f"/v1/voice/rooms/{room}/playback/{playback['id']}"
    await admin.call("DELETE", path, expect=204)
    assert await admin.call("GET", f"/v1/voice/rooms/{room}/playback") == []
    assert await admin.call("GET", f"/v1/voice/rooms/{room}/participants") == []
    assert room not in voice_service(voice).sfu.rooms  # the bot was all there was
    problem = await admin.call("DELETE", path, expect=404)
    assert problem["status"] == 404


async def test_uploads_that_break_the_rules_are_typed_problems(voice: VoiceStack) -> None:
    admin = await voice.person("admin", register=False)
    room = await a_room(admin)
    wav = {"Content-Type": "audio/wav"}
    limit = 20 * 1024 * 1024
    problem = await upload(admin, room, b"\0" * (limit + 1), 413, **wav)
    assert problem["type"].endswith(":upload-too-large")
    assert problem["limit"] == limit
    problem = await upload(admin, room, b"this is not audio at all " * 400, 415, **wav)
    assert problem["type"].endswith(":unsupported-audio")
    assert "audio/ogg" in problem["accepted"]
    problem = await upload(admin, room, tone_wav(440, 0.2), 415, **{"Content-Type": "text/plain"})
    assert problem["type"].endswith(":unsupported-audio")
    # playlists FFmpeg would follow (a file of the server's own, a URL) are not audio
    for playlist in (
        b"ffconcat version 1.0\nfile 'data/voice/recordings/x.ogg'\n",
        b"#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1,\nhttp://127.0.0.1:9/a.ts\n",
    ):
        problem = await upload(admin, room, playlist, 415, **wav)
        assert problem["type"].endswith(":unsupported-audio")
    problem = await upload(admin, room, b"", 400, **wav)
    assert problem["type"].endswith(":malformed-body")
    problem = await upload(admin, MISSING, tone_wav(440, 0.2), 404, **wav)
    assert problem["status"] == 404
    await admin.call("GET", f"/v1/voice/rooms/{MISSING}/playback", expect=404)
    await admin.call("GET", f"/v1/voice/rooms/{MISSING}/listen", expect=404)
    # nobody joined: the failed uploads left no bot behind
    assert await admin.call("GET", f"/v1/voice/rooms/{room}/participants") == []


async def test_the_listen_stream_carries_the_rooms_mix(voice: VoiceStack) -> None:
    ada = await voice.person("ada")
    room = await a_room(ada)
    await ada.join(room, tone=660.0)
    service = voice_service(voice)
    await eventually(lambda: bool(service.sfu.rooms[room].packets_in), what="ada's audio")
    url = f"{voice.gateway}/v1/voice/rooms/{room}/listen"
    # joining rights are not listening rights: a listener is neither counted nor seen
    refused = await ada.call("GET", f"/v1/voice/rooms/{room}/listen", expect=403)
    assert refused["required_permission"] == "voice:room.listen"
    admin = await voice.person("admin", register=False)
    headers = {"Authorization": f"Bearer {admin.token}"}
    data = b""
    async with voice.http.get(url, headers=headers) as response:
        assert response.status == 200
        assert response.content_type == "audio/ogg"
        assert service.mixer.mixes  # the mix runs while someone listens
        deadline = time.monotonic() + 3.0
        while time.monotonic() < deadline:
            data += await response.content.readany()
    assert next(flags for flags, *_ in pages(data)) == 0x02  # a fresh stream: headers first
    with av.open(io.BytesIO(data), format="ogg") as container:
        pcm = np.concatenate(
            [f.to_ndarray().reshape(-1) for f in container.decode(audio=0)]
        ).astype(np.float64)
    assert pcm.size > 48_000
    assert abs(peak_hz(pcm[-48_000:] * 32767) - 660) < 15
    # the client went away: its consumer, the encoder and the mix are gone (zero cost)
    await eventually(lambda: not service.mixer.mixes and not service.listening.feeds)
    assert service.sfu.rooms[room].taps == []


def test_audio_levels_and_the_cpu_cost_of_encoding_a_file() -> None:
    """RFC 6464 levels from PCM; and the bench figure: CPU per second of playback."""
    assert audio_level(np.zeros(960, dtype=np.int16)) == 127
    assert audio_level(np.full(960, 32767, dtype=np.int16)) == 0
    tone = (0.5 * 32767 * np.sin(np.arange(960) / 10)).astype(np.int16)
    assert audio_level(tone) == 9  # -9 dBov: a half-scale sine
    audio = AudioFile(tone_wav(440, 10.0), 32_000)
    started = time.process_time()
    packets = 0
    while batch := audio.batch():
        packets += len(batch)
    cost = (time.process_time() - started) / 10.0
    assert packets >= 500
    print(f"\nplayback: {cost * 100:.2f}% of a core per playing file (decode+resample+encode)")
    assert cost < 0.25


async def test_an_open_listen_stream_does_not_hold_up_shutdown(
    tmp_path: Path, meshkit_redis_url: str
) -> None:
    """Stopping ends listen streams at once instead of waiting the drain timeout out."""
    timeout = 5.0
    async with voice_stack(
        tmp_path, meshkit_redis_url, MESHKIT_SHUTDOWN_TIMEOUT=str(timeout)
    ) as stack:
        admin = await stack.person("admin", register=False)
        room = await a_room(admin)
        headers = {"Authorization": f"Bearer {admin.token}"}
        url = f"{stack.gateway}/v1/voice/rooms/{room}/listen"
        async with stack.http.get(url, headers=headers) as response:
            assert response.status == 200
            await response.content.readany()
            started = time.monotonic()
            await stack.runtime.stop()
            took = time.monotonic() - started
    assert took < timeout / 2, took


def failing_first() -> Any:
    """A denoiser factory whose first mix's suppressor raises (a bug in the mix)."""
    made = 0

    def factory() -> Any:
        nonlocal made
        made += 1
        broken = made == 1

        def denoise(pcm: np.ndarray) -> np.ndarray:
            if broken:
                raise RuntimeError("denoiser bug")
            return pcm

        return denoise

    return factory


async def test_a_failed_mix_ends_its_consumers_and_the_next_starts_a_fresh_one() -> None:
    mixer = Mixer(lambda room_id: None, failing_first())

    async def frames(subscription: Any, count: int) -> list[Any]:
        got = []
        async for pcm in subscription:
            got.append(pcm)
            if len(got) == count:
                break
        return got

    # a plugin's source listener holds the mix too
    stop_listening = mixer.listen_sources("r", lambda frames: None)
    with mixer.subscribe("r") as first:
        assert await asyncio.wait_for(frames(first, 1), 2) == []  # the mix failed: the end
    assert "r" not in mixer.mixes  # forgotten, not left half alive for the next consumer
    with mixer.subscribe("r") as second:
        again = await asyncio.wait_for(frames(second, 3), 2)  # a fresh mix ticks
    assert [pcm.size for pcm in again] == [960, 960, 960]
    stop_listening()
    await eventually(lambda: "r" not in mixer.mixes, what="the fresh mix stops with its consumer")


async def test_a_failed_listen_feed_ends_its_listeners_and_the_next_starts_afresh() -> None:
    mixer = Mixer(lambda room_id: None, failing_first())
    listening = Listening(mixer)

    async def chunks(count: int) -> list[bytes]:
        got = []
        async with listening.stream("r", 32_000) as stream:
            async for chunk in stream:
                got.append(chunk)
                if len(got) == count:
                    break
        return got

    async with contextlib.AsyncExitStack() as keeper:  # a listener still connected
        await keeper.enter_async_context(listening.stream("r", 32_000))
        ended = await asyncio.wait_for(chunks(10), 2)
        assert len(ended) == 2  # the headers, then the stream's last page
        assert [flags for flags, *_ in pages(ended[-1])] == [4]  # LAST: the stream ended
        assert "r" not in listening.feeds  # forgotten, not left half alive
        fresh = await asyncio.wait_for(chunks(3), 2)  # headers and two pages of audio
        assert len(fresh) == 3
        assert all(len(list(pages(chunk))) >= 1 for chunk in fresh)
    await eventually(lambda: not listening.feeds and not mixer.mixes, what="all stopped")
