"""The plugins' audio hook: decoded audio of the rooms a plugin asks for.

When a room's media starts on this instance, every ``meshkit_voice_audio`` implementation
is asked (:mod:`meshkit.services.voice.hookspecs`); each sink returned gets a bounded
queue and a thread of its own, and the room's mix gets one source listener that hands
each tick's decoded sources (:class:`~meshkit.services.voice.media.mix.SourceFrame`: the
same decoding the listen stream and recordings use) to every queue without waiting. A
full queue drops the frames (``AudioTap.dropped``, logged at most every
:data:`LOG_EVERY` seconds). When the media ends, each sink's :meth:`AudioSink.close` is
called after its last frame. When no plugin implements the hook, nothing here runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any, Protocol, runtime_checkable

from meshkit.services.voice.media.mix import Mixer, SourceFrame
from meshkit.services.voice.media.room import MediaRoom

log = logging.getLogger("meshkit.voice.audio")

QUEUE = 250
"""Ticks (5 s) a sink may fall behind before frames are dropped."""
LOG_EVERY = 10.0
WATCH = 0.1
"""Seconds between looks for rooms whose media started or ended."""

__all__ = ["AudioSink", "AudioTaps", "SourceFrame"]


@runtime_checkable
class AudioSink(Protocol):
    """What a plugin returns from ``meshkit_voice_audio``; both methods are called in the
    sink's own thread, never on the event loop."""

    def audio(self, frames: list[SourceFrame]) -> None:
        """20 ms of the room: the decoded frame of every source heard in it (user id,
        960 mono int16 samples at 48 kHz, timestamps). Not called while nobody speaks."""

    def close(self) -> None:
        """The room's media ended (or the instance stops): no more frames."""


class AudioTap:
    """One sink's queue and thread."""

    def __init__(self, room_id: str, name: str, sink: AudioSink) -> None:
        self.room_id, self.name, self.sink = room_id, name, sink
        self.queue: queue.Queue[list[SourceFrame] | None] = queue.Queue(QUEUE)
        self.dropped = 0
        self.delivered = 0
        self._logged = 0.0
        self.thread = threading.Thread(
            target=self._run, name=f"voice-audio-{name}-{room_id}", daemon=True
        )
        self.thread.start()

    def offer(self, frames: list[SourceFrame]) -> None:
        """Queue one tick without waiting (the mix's worker thread calls this)."""
        try:
            self.queue.put_nowait(frames)
        except queue.Full:
            self.dropped += 1
            now = time.monotonic()
            if now - self._logged >= LOG_EVERY:
                self._logged = now
                log.warning(
                    "voice room %s: plugin %s is too slow for its audio; %d ticks dropped",
                    self.room_id,
                    self.name,
                    self.dropped,
                )

    def end(self) -> None:
        """No more frames: the thread closes the sink after what is queued. Never waits
        (it runs on the event loop): with the queue full, the oldest frame makes room."""
        while True:
            try:
                self.queue.put_nowait(None)
                return
            except queue.Full:  # a slow or stuck sink: drop a frame for the end
                with contextlib.suppress(queue.Empty):
                    self.queue.get_nowait()
                    self.dropped += 1

    def _run(self) -> None:
        failed = False
        while (frames := self.queue.get()) is not None:
            if failed:
                continue
            try:
                self.sink.audio(frames)
                self.delivered += 1
            except Exception:
                failed = True  # one traceback, then its frames are discarded
                log.exception(
                    "voice room %s: plugin %s failed on its audio; it gets no more",
                    self.room_id,
                    self.name,
                )
        try:
            self.sink.close()
        except Exception:
            log.exception("voice room %s: plugin %s failed to close", self.room_id, self.name)


class AudioTaps:
    """Watches this instance's rooms, and asks the plugins about each new one."""

    def __init__(
        self,
        rooms: dict[str, MediaRoom],
        mixer: Mixer,
        ask: Callable[[str], Awaitable[list[tuple[str, Any]]]],
    ) -> None:
        self._rooms = rooms
        self._mixer = mixer
        self._ask = ask
        self.taps: dict[str, list[AudioTap]] = {}
        self._media: dict[str, MediaRoom] = {}
        self._stops: dict[str, Callable[[], None]] = {}
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Begin watching (call on the event loop)."""
        self._task = asyncio.create_task(self._watch(), name="voice-audio-taps")

    async def _watch(self) -> None:
        while True:
            try:
                await self.check()
            except Exception:
                log.exception("voice audio hook: watching rooms failed")
            await asyncio.sleep(WATCH)

    async def check(self) -> None:
        """Start taps for rooms whose media started, end those of rooms that ended."""
        for room_id, room in list(self._media.items()):
            if self._rooms.get(room_id) is not room:
                self._end(room_id)
        for room_id, room in list(self._rooms.items()):
            if room_id not in self._media:
                self._media[room_id] = room
                await self._begin(room_id)

    async def _begin(self, room_id: str) -> None:
        sinks = []
        for name, sink in await self._ask(room_id):
            if not isinstance(sink, AudioSink):
                log.error("plugin %s returned %r from meshkit_voice_audio: not a sink", name, sink)
                continue
            sinks.append(AudioTap(room_id, name, sink))
        if not sinks:
            return  # nobody asked: nothing is decoded
        self.taps[room_id] = sinks

        def hand_on(frames: list[SourceFrame]) -> None:
            for tap in sinks:
                tap.offer(frames)

        self._stops[room_id] = self._mixer.listen_sources(room_id, hand_on)

    def _end(self, room_id: str) -> None:
        self._media.pop(room_id, None)
        stop = self._stops.pop(room_id, None)
        if stop is not None:
            stop()
        for tap in self.taps.pop(room_id, []):
            tap.end()

    async def close(self) -> None:
        """Stop watching and close every sink (the instance stops)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        threads = [tap.thread for taps in self.taps.values() for tap in taps]
        for room_id in list(self._media):
            self._end(room_id)
        for thread in threads:
            await asyncio.to_thread(thread.join, 5.0)
