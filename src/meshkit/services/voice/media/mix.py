"""A room's mix: every sending source decoded and summed, 20 ms at a time.

The SFU never decodes; the mix does, and so it exists only while someone consumes it:
the HTTP listen stream and recordings take the summed frames (:meth:`Mixer.subscribe`),
the plugins' audio hook takes each source's decoded frames before they are summed
(:meth:`Mixer.listen_sources`), and both share one decoder per source. The first
consumer of a room adds a tap to its :class:`~meshkit.services.voice.media.room.MediaRoom`
and starts a clock; the last one leaving removes both, so a room nobody listens to pays
nothing.

On the event loop the tap only queues each Opus payload (per source, a small jitter
queue: a source is mixed once two packets wait, and a backlog past :data:`MAX_QUEUE`
drops its oldest packets, so a sender whose clock runs fast cannot add delay). Every
20 ms the clock takes one packet per source and hands them to a worker thread, which
decodes them (one decoder per source: Opus is stateful) and sums them with clipping,
then runs the optional noise suppressor over the sum. Consumers get 960 mono samples of
16-bit PCM at 48 kHz per tick, silence included, in order; a consumer that falls more
than :data:`DEPTH` frames behind loses the oldest. Source listeners are called in the
worker thread, once per tick, with the :class:`SourceFrame` of every source decoded in
it (none while nobody speaks): they must only hand the frames on, never block.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import av
import numpy as np
import numpy.typing as npt

from meshkit.services.voice.media.room import MediaRoom

log = logging.getLogger("meshkit.voice.media")

RATE = 48_000
FRAME = 960
"""Samples per 20 ms mixing tick."""
TICK = FRAME / RATE
PREFILL = 2
"""Packets a source must have queued before it is mixed (40 ms of jitter absorbed)."""
MAX_QUEUE = 8
"""Packets queued per source at most (160 ms): older ones are dropped."""
IDLE = 5.0
"""Seconds without a packet after which a source's decoder is dropped."""
DEPTH = 50
"""Frames (one second) a consumer may fall behind before it loses the oldest."""
RESYNC = 0.2
"""Seconds late after which the clock stops catching up and starts afresh."""

Pcm = npt.NDArray[np.int16]
Locate = Callable[[], MediaRoom | None]
"""The room's media on this instance now (it is dropped when empty and made again on
the next join, so the mix looks it up on every tick)."""
Denoiser = Callable[[Pcm], Pcm]
"""Noise suppression of the summed frames: one per mix (it may keep state), called in
the worker thread with each 960-sample frame, returning the cleaned frame."""


@dataclass(frozen=True, slots=True)
class SourceFrame:
    """20 ms of one source's decoded audio, before it is mixed."""

    user_id: str
    """Who sent it (a participant's user id, or ``bot:<playback id>``)."""
    pcm: Pcm
    """960 mono samples of 16-bit PCM at 48 kHz."""
    timestamp: float
    """When the mix took the packet (UNIX seconds): frames of one tick share it."""
    rtp_timestamp: int
    """The packet's RTP timestamp (48 kHz clock of its sender): gaps show losses."""


SourceListener = Callable[[list[SourceFrame]], None]


class _Source:
    """One source's jitter queue and decoder (used by the worker thread only)."""

    __slots__ = ("decoder", "last_seen", "primed", "queue", "user_id")

    def __init__(self, user_id: str) -> None:
        self.user_id = user_id
        self.queue: deque[tuple[bytes, int]] = deque(maxlen=MAX_QUEUE)
        self.primed = False
        self.last_seen = time.monotonic()
        self.decoder: Any = None


def _decoder() -> Any:
    decoder = av.CodecContext.create("opus", "r")
    decoder.sample_rate = RATE
    decoder.layout = "mono"
    return decoder


def _mono(frame: av.AudioFrame) -> npt.NDArray[np.float32]:
    """A decoded frame as mono float samples in [-1, 1]."""
    data = frame.to_ndarray()
    channels = frame.layout.nb_channels
    if not frame.format.is_planar:
        data = data.reshape(-1, channels).T
    samples = data.astype(np.float32)
    if frame.format.name.startswith("s16"):
        samples /= 32768.0
    mono: npt.NDArray[np.float32] = samples.mean(axis=0) if channels > 1 else samples[0]
    return mono


def _to_pcm(samples: npt.NDArray[np.float32]) -> Pcm:
    pcm: Pcm = (np.clip(samples, -1.0, 1.0) * 32767.0).astype(np.int16)
    return pcm


def decode_packet(source: _Source, payload: bytes) -> npt.NDArray[np.float32] | None:
    """One source's packet as :data:`FRAME` float samples (None: it did not decode)."""
    if source.decoder is None:
        source.decoder = _decoder()
    try:
        frames = source.decoder.decode(av.Packet(payload))
    except (av.FFmpegError, ValueError):
        return None  # a corrupt packet is a 20 ms gap for that source
    out = np.zeros(FRAME, dtype=np.float32)
    offset = 0
    for frame in frames:
        samples = _mono(frame)[: FRAME - offset]
        out[offset : offset + samples.size] = samples
        offset += samples.size
    return out


Batch = list[tuple[_Source, bytes, int]]


def mix_packets(
    batch: Batch, *, each: bool = False, denoise: Denoiser | None = None, now: float = 0.0
) -> tuple[Pcm, list[SourceFrame]]:
    """Decode one packet per source and sum them, clipped, then denoise the sum (runs in
    a worker thread); with ``each``, also every source's own frame."""
    total = np.zeros(FRAME, dtype=np.float32)
    frames: list[SourceFrame] = []
    for source, payload, rtp_timestamp in batch:
        samples = decode_packet(source, payload)
        if samples is None:
            continue
        total += samples
        if each:
            frames.append(SourceFrame(source.user_id, _to_pcm(samples), now, rtp_timestamp))
    pcm = _to_pcm(total)
    if denoise is not None:
        pcm = denoise(pcm)
    return pcm, frames


class Subscription:
    """One consumer's frames of a room's mix; iterate it, and close it when done
    (:meth:`Mixer.subscribe` does both in a context)."""

    def __init__(self, mix: Mix) -> None:
        self._mix = mix
        self._queue: asyncio.Queue[Pcm | None] = asyncio.Queue()
        self.dropped = 0

    def put(self, pcm: Pcm | None) -> None:
        """Queue a frame (None: the mix ended); the oldest is dropped past :data:`DEPTH`."""
        while self._queue.qsize() >= DEPTH:
            self._queue.get_nowait()
            self.dropped += 1
        self._queue.put_nowait(pcm)

    def __aiter__(self) -> AsyncIterator[Pcm]:
        return self._frames()

    async def _frames(self) -> AsyncIterator[Pcm]:
        while True:
            pcm = await self._queue.get()
            if pcm is None:
                return
            yield pcm

    def close(self) -> None:
        """Stop receiving (the mix stops with its last consumer)."""
        self._mix.unsubscribe(self)


class Mix:
    """The mix of one room while it has consumers (module docstring)."""

    def __init__(
        self,
        room_id: str,
        locate: Locate,
        on_idle: Callable[[Mix], None],
        denoiser: Denoiser | None = None,
    ) -> None:
        self.room_id = room_id
        self._locate = locate
        self._on_idle = on_idle
        self._denoiser = denoiser
        self._room: MediaRoom | None = None
        self._sources: dict[str, _Source] = {}
        self.consumers: set[Subscription] = set()
        self.source_listeners: list[SourceListener] = []
        self._task: asyncio.Task[None] | None = None
        self.ticks = 0

    # the tap: on the event loop, for every accepted packet of a sending source
    def _tap(self, user_id: str, payload: bytes, timestamp: int) -> None:
        source = self._sources.get(user_id)
        if source is None:
            source = self._sources[user_id] = _Source(user_id)
        source.queue.append((payload, timestamp))
        source.last_seen = time.monotonic()

    def subscribe(self) -> Subscription:
        """A new consumer; the first one starts the mix."""
        subscription = Subscription(self)
        self.consumers.add(subscription)
        self._start()
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        """Remove a consumer; without consumers the mix stops (tap removed at once)."""
        self.consumers.discard(subscription)
        self._stop_if_idle()

    def add_source_listener(self, listener: SourceListener) -> None:
        """Hand each tick's decoded sources to ``listener`` (module docstring)."""
        self.source_listeners.append(listener)
        self._start()

    def remove_source_listener(self, listener: SourceListener) -> None:
        """Stop calling ``listener``; the mix stops with its last consumer of any kind."""
        with contextlib.suppress(ValueError):
            self.source_listeners.remove(listener)
        self._stop_if_idle()

    def unsubscribe_all(self) -> None:
        """Stop now if nobody consumes (the instance stops)."""
        if self._task is not None:
            self._stop_if_idle()

    def _start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=f"voice-mix-{self.room_id}")

    def _stop_if_idle(self) -> None:
        if not self.consumers and not self.source_listeners:
            self._stop()

    def _stop(self) -> None:
        self._attach(None)
        if self._task is not None:
            self._task.cancel()
            self._task = None
        self._sources.clear()
        self._on_idle(self)

    def _attach(self, room: MediaRoom | None) -> None:
        if room is self._room:
            return
        if self._room is not None:
            with contextlib.suppress(ValueError):
                self._room.taps.remove(self._tap)
        self._room = room
        if room is not None:
            room.taps.append(self._tap)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        start = loop.time()
        tick = 0
        try:
            while True:
                self._attach(self._locate())
                listeners = list(self.source_listeners)
                pcm = await loop.run_in_executor(None, self._work, self._take(), listeners)
                self.ticks += 1
                for consumer in list(self.consumers):
                    consumer.put(pcm)
                tick += 1
                delay = start + tick * TICK - loop.time()
                if delay < -RESYNC:  # stalled (a busy loop): start afresh, do not burst
                    start, tick, delay = loop.time(), 0, 0.0
                await asyncio.sleep(max(0.0, delay))
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("voice room %s: the mix failed", self.room_id)
            self._failed()

    def _failed(self) -> None:
        """The clock died: its consumers see the end of their frames and its source
        listeners are dropped; the mix forgets the room, so the next consumer starts a
        fresh one instead of joining a mix that never ticks again."""
        self._task = None
        consumers, self.consumers = list(self.consumers), set()
        self.source_listeners.clear()
        for consumer in consumers:
            consumer.put(None)
        self._attach(None)
        self._sources.clear()
        self._on_idle(self)

    def _work(self, batch: Batch, listeners: list[SourceListener]) -> Pcm:
        """The worker thread's part of a tick: decode, sum, denoise, hand sources on."""
        denoise = self._denoiser if self.consumers else None
        pcm, frames = mix_packets(batch, each=bool(listeners), denoise=denoise, now=time.time())
        if frames:
            for listener in listeners:
                try:
                    listener(frames)
                except Exception:  # a listener's bug must not stop the room's mix
                    log.exception("voice room %s: a source listener failed", self.room_id)
        return pcm

    def _take(self) -> Batch:
        """One packet per source that is ready (on the loop: no decoding here)."""
        batch: Batch = []
        now = time.monotonic()
        for user_id, source in list(self._sources.items()):
            if not source.primed:
                if len(source.queue) < PREFILL:
                    if not source.queue and now - source.last_seen > IDLE:
                        del self._sources[user_id]
                    continue
                source.primed = True
            if source.queue:
                batch.append((source, *source.queue.popleft()))
            else:
                source.primed = False  # ran dry: wait for the queue to refill
        return batch


class Mixer:
    """The mixes of the rooms this instance hosts, made on demand."""

    def __init__(
        self,
        locate: Callable[[str], MediaRoom | None],
        denoiser: Callable[[], Denoiser] | None = None,
    ) -> None:
        self._locate = locate
        self.denoiser = denoiser
        """Makes each new mix's noise suppressor (None: no suppression)."""
        self.mixes: dict[str, Mix] = {}
        self.closed = False
        """Set by :meth:`close`: a consumer whose frames end knows the instance stops."""

    def _mix(self, room_id: str) -> Mix:
        mix = self.mixes.get(room_id)
        if mix is None:
            denoiser = self.denoiser() if self.denoiser is not None else None
            mix = self.mixes[room_id] = Mix(
                room_id, lambda: self._locate(room_id), self._forget, denoiser
            )
        return mix

    @contextlib.contextmanager
    def subscribe(self, room_id: str) -> Iterator[Subscription]:
        """``with mixer.subscribe(room_id) as frames: async for pcm in frames: ...``;
        leaving the block (a client gone, an error) removes the consumer."""
        subscription = self._mix(room_id).subscribe()
        try:
            yield subscription
        finally:
            subscription.close()

    def listen_sources(self, room_id: str, listener: SourceListener) -> Callable[[], None]:
        """Call ``listener`` (in the worker thread) with each tick's decoded sources of
        ``room_id`` until the returned function is called."""
        mix = self._mix(room_id)
        mix.add_source_listener(listener)
        return lambda: mix.remove_source_listener(listener)

    def _forget(self, mix: Mix) -> None:
        if self.mixes.get(mix.room_id) is mix:
            del self.mixes[mix.room_id]

    def close(self) -> None:
        """End every mix (the instance stops): consumers see the end of their frames,
        and :attr:`closed` tells them why."""
        self.closed = True
        for mix in list(self.mixes.values()):
            for consumer in list(mix.consumers):
                consumer.put(None)
                consumer.close()
            mix.source_listeners.clear()
            mix.unsubscribe_all()
