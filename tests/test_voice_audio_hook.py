"""The plugins' audio hook (meshkit_voice_audio): a plugin that asks for a room gets
each participant's decoded audio; a room nobody asks for decodes nothing; a slow or
failing sink never stalls the room."""

from __future__ import annotations

import asyncio
import inspect
import logging
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from meshkit import hookimpl
from meshkit.plugins import each_result, get_plugin_manager
from meshkit.services.voice.audio import QUEUE, AudioSink, AudioTap
from meshkit.services.voice.media.mix import SourceFrame
from meshkit.testing import eventually
from tests.voice_peers import peak_hz
from tests.voice_stack import VoiceStack, voice_stack

pytestmark = pytest.mark.slow


class Collect:
    """A sink that keeps every frame, by user."""

    def __init__(self) -> None:
        self.frames: dict[str, list[np.ndarray]] = {}
        self.threads: set[str] = set()
        self.closed = threading.Event()

    def audio(self, frames: list[SourceFrame]) -> None:
        self.threads.add(threading.current_thread().name)
        for frame in frames:
            assert frame.pcm.dtype == np.int16
            assert frame.pcm.size == 960
            self.frames.setdefault(frame.user_id, []).append(frame.pcm)

    def close(self) -> None:
        self.closed.set()


class Transcriber:
    """A plugin that asks for the rooms named ``transcribe…``."""

    def __init__(self) -> None:
        self.asked: list[str] = []
        self.sinks: dict[str, Collect] = {}
        self.wanted: set[str] = set()

    @hookimpl
    def meshkit_voice_audio(self, service: Any, room_id: str) -> AudioSink | None:
        self.asked.append(room_id)
        if room_id not in self.wanted:
            return None
        sink = self.sinks[room_id] = Collect()
        return sink


@pytest.fixture
async def stack(tmp_path: Path, meshkit_redis_url: str) -> AsyncIterator[tuple[VoiceStack, Any]]:
    plugin = Transcriber()
    plugins = [("transcriber", plugin)]
    async with voice_stack(tmp_path, meshkit_redis_url, plugins=plugins) as voice:
        yield voice, plugin


def service_of(voice: VoiceStack) -> Any:
    return next(r.service for r in voice.runtime.running if r.service.name == "voice")


async def test_a_plugin_gets_the_decoded_audio_of_the_rooms_it_asks_for(
    stack: tuple[VoiceStack, Transcriber],
) -> None:
    voice, plugin = stack
    ada = await voice.person("ada")
    wanted = (await ada.call("POST", "/v1/voice/rooms", json={"name": "minutes"}))["id"]
    other = (await ada.call("POST", "/v1/voice/rooms", json={"name": "private"}))["id"]
    plugin.wanted.add(wanted)
    service = service_of(voice)

    # a room no plugin asks for: asked, declined, nothing decoded
    bob = await voice.person("bob")
    await bob.join(other)
    await eventually(lambda: other in plugin.asked, what="the plugin is asked about the room")
    await asyncio.sleep(0.3)
    assert other not in service.mixer.mixes
    assert service.audio_taps.taps.get(other) is None

    await ada.join(wanted)
    await eventually(lambda: wanted in plugin.sinks, what="the plugin's sink is taken")
    sink = plugin.sinks[wanted]
    await eventually(
        lambda: len(sink.frames.get(ada.user_id, [])) >= 100, within=15, what="2 s of ada"
    )
    assert set(sink.frames) == {ada.user_id}  # bob is in another room
    heard = np.concatenate(sink.frames[ada.user_id][-100:])
    assert abs(peak_hz(heard) - 440) < 10
    assert all(name.startswith("voice-audio-transcriber") for name in sink.threads)
    assert other not in service.mixer.mixes  # still nothing decoded there

    # the room's media ends: the sink is closed, and the mix goes with it
    await ada.hang_up()
    await eventually(sink.closed.is_set, what="the sink is closed with the room's media")
    await eventually(lambda: wanted not in service.mixer.mixes, what="the mix stops")


def test_a_slow_or_failing_sink_loses_frames_instead_of_stalling() -> None:
    release = threading.Event()

    class Slow:
        def audio(self, frames: list[SourceFrame]) -> None:
            release.wait(5)

        def close(self) -> None:
            pass

    class Failing:
        calls = 0

        def audio(self, frames: list[SourceFrame]) -> None:
            Failing.calls += 1
            raise RuntimeError("plugin bug")

        def close(self) -> None:
            pass

    frame = [SourceFrame("u", np.zeros(960, dtype=np.int16), 0.0, 0)]
    slow, failing = AudioTap("r", "slow", Slow()), AudioTap("r", "failing", Failing())
    started = time.monotonic()
    for _ in range(1000):
        slow.offer(frame)
        failing.offer(frame)
    assert time.monotonic() - started < 0.5  # offering never waits
    assert slow.dropped > 0
    release.set()
    slow.end()
    failing.end()
    slow.thread.join(5)
    failing.thread.join(5)
    assert Failing.calls == 1  # one failure, then its frames are discarded


def test_ending_a_tap_never_waits_for_a_stuck_sink() -> None:
    """``end`` runs on the event loop: a full queue must not stall it."""
    release = threading.Event()
    closed = threading.Event()

    class Stuck:
        def audio(self, frames: list[SourceFrame]) -> None:
            release.wait(10)

        def close(self) -> None:
            closed.set()

    frame = [SourceFrame("u", np.zeros(960, dtype=np.int16), 0.0, 0)]
    tap = AudioTap("r", "stuck", Stuck())
    for _ in range(QUEUE + 10):
        tap.offer(frame)
    assert tap.queue.full()
    started = time.monotonic()
    tap.end()
    assert time.monotonic() - started < 0.05
    release.set()
    tap.thread.join(5)
    assert closed.is_set()  # the end was queued: the sink is closed after its frames


async def test_the_hook_is_asked_in_pluggys_order_awaited_and_each_plugin_isolated(
    caplog: pytest.LogCaptureFixture,
) -> None:
    class Sync:
        @hookimpl
        def meshkit_voice_audio(self, service: Any, room_id: str) -> Any:
            return "sync"

    class Async:
        @hookimpl
        async def meshkit_voice_audio(self, service: Any, room_id: str) -> Any:
            await asyncio.sleep(0)
            return "async"

    class Broken:
        @hookimpl
        def meshkit_voice_audio(self, service: Any, room_id: str) -> Any:
            raise RuntimeError("plugin bug")

    class Declines:
        @hookimpl
        def meshkit_voice_audio(self, room_id: str) -> Any:  # a plugin may take fewer
            return None

    class First:
        @hookimpl(tryfirst=True)
        def meshkit_voice_audio(self, room_id: str) -> Any:
            return f"first:{room_id}"

    pm = get_plugin_manager(
        plugins=[
            ("first", First()),
            ("sync", Sync()),
            ("async", Async()),
            ("broken", Broken()),
            ("declines", Declines()),
        ]
    )
    hook = pm.hook.meshkit_voice_audio
    with caplog.at_level(logging.ERROR, logger="meshkit.plugins"):
        got = await each_result(hook, service=None, room_id="r")
    # pluggy's order: tryfirst, then the last registered first; None left out
    assert got == [("first", "first:r"), ("async", "async"), ("sync", "sync")]
    assert "meshkit_voice_audio of plugin broken failed" in caplog.text
    # the same order pluggy itself calls them in (without the failing plugin)
    pm.unregister(name="broken")
    called = [await r if inspect.isawaitable(r) else r for r in hook(service=None, room_id="r")]
    assert called == [result for _, result in got]
