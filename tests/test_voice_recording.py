"""Room recordings end to end: a participant's tone recorded through the gateway,
downloaded, decoded and measured; the REST life cycle and its refusals; a crashed
instance's partial file recovered at the next start."""

from __future__ import annotations

import asyncio
import contextlib
import fractions
import os
import stat
import threading
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import av
import numpy as np
import pytest

from meshkit.services.voice import recordings as recordings_module
from meshkit.services.voice.errors import AlreadyRecording
from meshkit.services.voice.media.recorder import PartWriter, normalise, salvage
from meshkit.services.voice.models import Recording
from meshkit.services.voice.recordings import Recordings
from meshkit.testing import eventually
from tests.voice_peers import peak_hz
from tests.voice_stack import Caller, VoiceStack, voice, voice_stack

__all__ = ["voice"]  # the fixture

pytestmark = pytest.mark.slow
MISSING = "01ARZ3NDEKTSV4RRFFQ69G5FAV"
TARGET = -16.0  # MESHKIT_VOICE_RECORDING_LOUDNESS's default


def decode(data: bytes, path: Path) -> np.ndarray:
    """An Ogg/Opus file's samples, int16 mono 48 kHz (through PyAV)."""
    path.write_bytes(data)
    resampler = av.AudioResampler(format="s16", layout="mono", rate=48_000)
    with av.open(str(path)) as container:
        assert container.streams.audio[0].codec_context.name == "opus"
        chunks = [
            out.to_ndarray().reshape(-1)
            for frame in container.decode(audio=0)
            for out in resampler.resample(frame)
        ]
    return np.concatenate(chunks)


def loudness(samples: np.ndarray) -> float:
    """Integrated loudness (LUFS) by FFmpeg's ebur128 meter."""
    graph = av.filter.Graph()
    source = graph.add_abuffer(
        format="s16", sample_rate=48_000, layout="mono", time_base=fractions.Fraction(1, 48_000)
    )
    meter = graph.add("ebur128", "metadata=1")
    sink = graph.add("abuffersink")
    source.link_to(meter)
    meter.link_to(sink)
    graph.configure()
    measured = None
    for start in range(0, samples.size, 960):
        frame = av.AudioFrame.from_ndarray(
            samples[start : start + 960].reshape(1, -1).copy(), format="s16", layout="mono"
        )
        frame.sample_rate, frame.pts = 48_000, start
        graph.push(frame)
        while True:
            try:
                out = graph.pull()
            except (av.BlockingIOError, av.EOFError):
                break
            measured = out.metadata.get("lavfi.r128.I", measured)
    assert measured is not None
    return float(measured)


async def download(caller: Caller, room: str, recording: str, expect: int = 200) -> Any:
    url = f"{caller.stack.gateway}/v1/voice/rooms/{room}/recordings/{recording}/audio"
    headers = {"Authorization": f"Bearer {caller.token}"}
    async with caller.stack.http.get(url, headers=headers) as response:
        if expect != 200:
            body = await response.json()
            assert response.status == expect, body
            return body
        assert response.status == 200, await response.text()
        assert response.headers["Content-Type"] == "audio/ogg"
        return await response.read()


def voice_service(stack: VoiceStack) -> Any:
    return next(r.service for r in stack.runtime.running if r.service.name == "voice")


async def test_a_participant_is_recorded_normalised_and_downloaded(
    voice: VoiceStack, tmp_path: Path
) -> None:
    ada = await voice.person("ada")
    admin = await voice.person("admin", register=False)
    room = (await ada.call("POST", "/v1/voice/rooms", json={"name": "studio"}))["id"]
    base = f"/v1/voice/rooms/{room}/recordings"
    # nobody in the room: nothing to record
    empty = await admin.call("POST", base, expect=409)
    assert empty["type"].endswith("room-empty")
    # a plain user may not record, list or fetch (voice:room.record)
    denied = await ada.call("POST", base, expect=403)
    assert denied["required_permission"] == "voice:room.record"
    await ada.call("GET", base, expect=403)
    # unknown rooms and recordings
    await admin.call("POST", f"/v1/voice/rooms/{MISSING}/recordings", expect=404)
    await admin.call("GET", f"{base}/{MISSING}", expect=404)
    await admin.call("POST", f"{base}/{MISSING}/stop", expect=404)
    await admin.call("DELETE", f"{base}/{MISSING}", expect=404)

    await ada.join(room)  # a 440 Hz tone
    assert ada.media is not None
    started = await admin.call("POST", base, expect=201)
    assert started["state"] == "recording"
    assert started["started_by"] == admin.user_id
    again = await admin.call("POST", base, expect=409)
    assert again["type"].endswith("already-recording")
    assert again["recording_id"] == started["id"]
    not_yet = await download(admin, room, started["id"], expect=409)
    assert not_yet["state"] == "recording"
    await asyncio.sleep(4.0)
    stopped = await admin.call("POST", f"{base}/{started['id']}/stop")
    assert stopped["state"] == "ready", stopped
    assert stopped["stop_reason"] == "stopped"
    assert 3.5 <= stopped["duration"] <= 5.0, stopped
    assert stopped["size"] > 1000
    assert abs(stopped["loudness"] - TARGET) < 1.5, stopped

    data = await download(admin, room, started["id"])
    assert len(data) == stopped["size"]
    samples = decode(data, tmp_path / "got.ogg")
    assert abs(samples.size / 48_000 - stopped["duration"]) < 0.1
    assert abs(peak_hz(samples[48_000:]) - 440) < 10
    measured = loudness(samples)
    assert abs(measured - TARGET) < 1.5, measured

    # the file and its directory are private
    path = voice_service(voice).recordings.path(started["id"])
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    listed = await admin.call("GET", base)
    assert [r["id"] for r in listed] == [started["id"]]
    assert (await admin.call("GET", f"{base}/{started['id']}"))["state"] == "ready"
    # stopping again answers it as it is
    assert (await admin.call("POST", f"{base}/{started['id']}/stop"))["state"] == "ready"

    await admin.call("DELETE", f"{base}/{started['id']}", expect=204)
    assert not path.exists()
    assert await admin.call("GET", base) == []
    await download(admin, room, started["id"], expect=404)


async def test_a_recording_stops_when_its_room_empties_and_keeps_the_file(
    voice: VoiceStack,
) -> None:
    ada = await voice.person("ada")
    admin = await voice.person("admin", register=False)
    room = (await ada.call("POST", "/v1/voice/rooms", json={"name": "short"}))["id"]
    base = f"/v1/voice/rooms/{room}/recordings"
    await ada.join(room)
    started = await admin.call("POST", base, expect=201)
    await asyncio.sleep(1.5)
    await ada.hang_up()

    async def finished() -> bool:
        got = await admin.call("GET", f"{base}/{started['id']}")
        return bool(got["state"] == "ready")

    await eventually(finished, within=15, what="the recording ends with its room")
    done = await admin.call("GET", f"{base}/{started['id']}")
    assert done["stop_reason"] == "empty"
    assert done["duration"] >= 1.0
    assert len(await download(admin, room, started["id"])) == done["size"]


def test_a_torn_part_file_is_cut_at_its_last_whole_page(tmp_path: Path) -> None:
    part = tmp_path / "r.ogg.part"
    writer = PartWriter(part, 32_000)
    tone = (0.2 * 32767 * np.sin(2 * np.pi * 440 * np.arange(48_000 * 2) / 48_000)).astype(np.int16)
    for start in range(0, tone.size, 960):
        writer.write(tone[start : start + 960])
    writer.sync()
    whole = part.read_bytes()
    writer.close()
    part.write_bytes(whole[:-50])  # a crash in the middle of a page
    assert salvage(part)
    assert part.stat().st_size < len(whole) - 50
    done = normalise(part, tmp_path / "r.ogg", TARGET, 32_000)
    assert 1.5 < done.duration < 2.0
    samples = decode((tmp_path / "r.ogg").read_bytes(), tmp_path / "check.ogg")
    assert abs(peak_hz(samples) - 440) < 10
    # nothing but headers: nothing to keep
    empty = tmp_path / "e.ogg.part"
    PartWriter(empty, 32_000).close()
    assert not salvage(empty)


async def test_a_crashed_instances_recording_is_recovered_at_the_next_start(
    voice: VoiceStack, tmp_path: Path
) -> None:
    admin = await voice.person("admin", register=False)
    room = (await admin.call("POST", "/v1/voice/rooms", json={"name": "crash"}))["id"]
    service = voice_service(voice)
    recordings = service.recordings

    # what a crash leaves: documents still "recording", no liveness key, part files
    when = datetime.now(UTC)
    kept = await service.store.insert(
        Recording(room_id=room, started_by=admin.user_id, started_at=when, instance="gone")
    )
    lost = await service.store.insert(
        Recording(room_id=room, started_by=admin.user_id, started_at=when, instance="gone")
    )
    os.makedirs(recordings.config.directory, mode=0o700, exist_ok=True)
    writer = PartWriter(recordings.config.directory / f"{kept.id}.ogg.part", 32_000)
    tone = (0.2 * 32767 * np.sin(2 * np.pi * 440 * np.arange(48_000) / 48_000)).astype(np.int16)
    for start in range(0, tone.size, 960):
        writer.write(tone[start : start + 960])
    writer.sync()
    crashed = writer.path.read_bytes()  # what a crash leaves: no last page
    writer.close()
    writer.path.write_bytes(crashed)

    assert await recordings.recover() == 2
    base = f"/v1/voice/rooms/{room}/recordings"
    got = await admin.call("GET", f"{base}/{kept.id}")
    assert got["state"] == "ready", got
    assert got["stop_reason"] == "recovered"
    samples = decode(await download(admin, room, kept.id), tmp_path / "kept.ogg")
    assert abs(peak_hz(samples) - 440) < 10
    failed = await admin.call("GET", f"{base}/{lost.id}")
    assert failed["state"] == "failed", failed
    assert "instance stopped" in failed["error"]
    await download(admin, room, lost.id, expect=409)
    assert not (recordings.config.directory / f"{kept.id}.ogg.part").exists()
    assert await recordings.recover() == 0  # settled


def a_part(path: Path, seconds: float = 1.0, whole: bool = True) -> None:
    """A part file of a 440 Hz tone (``whole``: closed, as a shutdown leaves it)."""
    writer = PartWriter(path, 32_000)
    tone = 0.2 * 32767 * np.sin(2 * np.pi * 440 * np.arange(int(48_000 * seconds)) / 48_000)
    tone = tone.astype(np.int16)
    for start in range(0, tone.size, 960):
        writer.write(tone[start : start + 960])
    if whole:
        writer.close()
    else:
        writer.sync()


async def test_two_starts_at_once_record_the_room_once_and_a_failed_start_leaves_nothing(
    voice: VoiceStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    ada = await voice.person("ada")
    admin = await voice.person("admin", register=False)
    room = (await ada.call("POST", "/v1/voice/rooms", json={"name": "twice"}))["id"]
    await ada.join(room)
    recordings = voice_service(voice).recordings
    await eventually(lambda: not recordings._empty(room), what="ada's media is there")

    # the liveness key cannot be set: the start fails, and leaves nothing recording
    async def redis_down(*args: Any, **kwargs: Any) -> None:
        raise ConnectionError("redis away")

    with monkeypatch.context() as patch:
        patch.setattr(recordings.redis, "set", redis_down)
        with pytest.raises(ConnectionError):
            await recordings.start(room, admin.user_id)
    assert [r for r in await recordings.list(room) if r.state == "recording"] == []

    # two starts at once: one records, the other is told which recording runs
    results = await asyncio.gather(
        recordings.start(room, admin.user_id),
        recordings.start(room, admin.user_id),
        return_exceptions=True,
    )
    started = [r for r in results if isinstance(r, Recording)]
    refused = [r for r in results if isinstance(r, AlreadyRecording)]
    assert len(started) == 1, results
    assert len(refused) == 1, results
    assert refused[0].extensions["recording_id"] == started[0].id
    assert [r.id for r in await recordings.list(room) if r.state == "recording"] == [started[0].id]
    await asyncio.sleep(1.0)
    stopped = await recordings.stop(room, started[0].id)
    assert stopped.state == "ready", stopped


class Silent:
    """A mixer whose mix never ticks (a dead clock)."""

    closed = False

    @contextlib.contextmanager
    def subscribe(self, room_id: str) -> Iterator[Any]:
        class Never:
            async def __aiter__(self) -> AsyncIterator[Any]:
                await asyncio.Event().wait()
                yield None

        yield Never()


async def test_a_recording_stops_even_when_its_mix_sends_nothing(voice: VoiceStack) -> None:
    service = voice_service(voice)
    busy = SimpleNamespace(peers={"someone": object()}, sources={})
    recordings = Recordings(
        service.store,
        service.redis,
        Silent(),  # type: ignore[arg-type]
        lambda room_id: busy,  # type: ignore[arg-type,return-value]
        "test",
        service.recordings.config,
    )
    recording = await recordings.start("01ARZ3NDEKTSV4RRFFQ69G5FAA", "someone")
    await asyncio.sleep(0.2)
    done = await asyncio.wait_for(recordings.stop(recording.room_id, recording.id), 10)
    assert done.state == "failed", done
    assert done.error == "it ended before any audio came"
    assert not recordings.running


async def test_the_liveness_key_lives_while_normalising_and_writers_never_share_a_file(
    voice: VoiceStack, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    service = voice_service(voice)
    mine = service.recordings
    other = Recordings(
        service.store, service.redis, service.mixer, lambda room_id: None, "other", mine.config
    )
    monkeypatch.setattr(recordings_module, "ALIVE_TTL", 1)
    monkeypatch.setattr(recordings_module, "KEEPALIVE", 0.2)
    written: list[Path] = []
    real = recordings_module.normalise

    def slow(part: Path, final: Path, target: float, bitrate: int) -> Any:
        written.append(final)
        time.sleep(2.0)  # a long recording: minutes
        return real(part, final, target, bitrate)

    monkeypatch.setattr(recordings_module, "normalise", slow)
    left = await service.store.insert(
        Recording(
            room_id=MISSING,
            started_by="someone",
            started_at=datetime.now(UTC),
            instance="gone",
            state="processing",
            stop_reason="stopped",
        )
    )
    os.makedirs(mine.config.directory, mode=0o700, exist_ok=True)
    a_part(mine.config.directory / f"{left.id}.ogg.part")

    # one instance recovers it; past the key's TTL, another starting finds it alive
    recovering = asyncio.create_task(mine.recover())
    await asyncio.sleep(1.5)
    assert await service.redis.exists(recordings_module.ALIVE.format(left.id))
    assert await other.recover() == 0
    assert await recovering == 1
    done = await service.store.get(Recording, left.id)
    assert done is not None
    assert done.state == "ready", done
    assert done.stop_reason == "stopped"  # it had ended whole: not "recovered"
    assert len(written) == 1
    assert written[0] != mine.path(left.id)

    # two writers at once (a recovery racing a slow instance) write files of their own
    written.clear()
    part = mine.config.directory / "race.ogg.part"
    a_part(part)
    results = await asyncio.gather(mine._normalise("race", part), other._normalise("race", part))
    assert len(set(written)) == 2
    assert mine.path("race") not in written
    samples = decode(mine.path("race").read_bytes(), tmp_path / "race.ogg")
    assert abs(samples.size / 48_000 - results[0].duration) < 0.1
    assert abs(peak_hz(samples) - 440) < 10
    assert sorted(p.name for p in mine.config.directory.glob("race*")) == [
        "race.ogg",
        "race.ogg.part",
    ]


async def test_shutdown_leaves_recordings_to_the_next_start_and_is_quick(
    tmp_path: Path, meshkit_redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    gate = threading.Event()
    slow = threading.Event()
    real = recordings_module.normalise

    def normalise_maybe_slowly(part: Path, final: Path, target: float, bitrate: int) -> Any:
        if slow.is_set():  # the first instance: normalising takes minutes
            gate.wait(60)
            raise RuntimeError("abandoned at shutdown")
        return real(part, final, target, bitrate)

    monkeypatch.setattr(recordings_module, "normalise", normalise_maybe_slowly)
    first = voice_stack(tmp_path, meshkit_redis_url)
    stack = await first.__aenter__()
    try:
        ada = await stack.person("ada")
        admin = await stack.person("admin", register=False)
        running = (await ada.call("POST", "/v1/voice/rooms", json={"name": "on"}))["id"]
        finishing = (await ada.call("POST", "/v1/voice/rooms", json={"name": "off"}))["id"]
        await ada.join(running)
        bob = await stack.person("bob")
        await bob.join(finishing)
        recording = await admin.call("POST", f"/v1/voice/rooms/{running}/recordings", expect=201)
        normalised = await admin.call("POST", f"/v1/voice/rooms/{finishing}/recordings", expect=201)
        await asyncio.sleep(2.0)
        slow.set()
        recordings = voice_service(stack).recordings
        stopping = asyncio.create_task(recordings.stop(finishing, normalised["id"]))
        await asyncio.sleep(0.5)  # it is being normalised
        assert not stopping.done()
    finally:
        started = time.monotonic()
        await first.__aexit__(None, None, None)
        took = time.monotonic() - started
    # MESHKIT_SHUTDOWN_TIMEOUT is 2 s in the stack: a minutes-long normalising is not waited
    assert took < 6.0, took
    left = await stopping
    assert left.state == "processing", left
    assert left.stop_reason == "stopped"
    slow.clear()
    gate.set()  # the abandoned normalising ends (its own file is removed)

    async with voice_stack(tmp_path, meshkit_redis_url) as again:
        admin = await again.person("admin", register=False)

        async def ready(room: str, recording_id: str) -> bool:
            got = await admin.call("GET", f"/v1/voice/rooms/{room}/recordings/{recording_id}")
            return bool(got["state"] == "ready")

        await eventually(lambda: ready(running, recording["id"]), within=20, what="finished")
        await eventually(lambda: ready(finishing, normalised["id"]), within=20, what="finished")
        got = await admin.call("GET", f"/v1/voice/rooms/{running}/recordings/{recording['id']}")
        assert got["stop_reason"] == "shutdown"
        assert got["duration"] >= 1.5, got
        samples = decode(await download(admin, running, recording["id"]), tmp_path / "a.ogg")
        assert abs(peak_hz(samples[24_000:]) - 440) < 10
        directory = voice_service(again).recordings.config.directory
        await eventually(
            lambda: sorted(p.suffix for p in directory.iterdir()) == [".ogg", ".ogg"],
            what="nothing but the two files is left",
        )
