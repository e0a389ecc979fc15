"""Playing an audio file into a room: a bot source fed in real time.

A file (anything PyAV decodes: Ogg/Opus, WAV, MP3, FLAC, ...) is decoded, resampled to
48 kHz mono and encoded to Opus in 20 ms packets at the room's bitrate, each with its
RFC 6464 audio level (so listeners see the bot speak, and the loudest-N ranking counts
it like anyone). That work runs in a worker thread, a batch at a time, kept
:data:`AHEAD` packets in front of playback; the event loop only paces the packets out
with :meth:`MediaRoom.deliver` on an absolute clock (packet ``n`` is due at
``start + n * 20 ms``, so sleeps never accumulate drift).

The bot is a participant like the others (it joins and leaves through the control
plane, announced to everyone), with its own user id ``bot:<playback id>``.
:class:`Playbacks` runs them: start (checking the file decodes before anyone hears of
it), list, stop; a playback ends by itself at the end of the file, or when its source
is taken out of the room (the room closed, the bot kicked).
"""

from __future__ import annotations

import asyncio
import contextlib
import fractions
import io
import logging
import math
import random
import threading
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import av
import numpy as np

from meshkit.services.voice.media.room import MediaRoom

log = logging.getLogger("meshkit.voice.media")

RATE = 48_000
FRAME = 960
"""Samples per 20 ms packet."""
PERIOD = FRAME / RATE
BATCH = 10
"""Packets encoded per worker call (200 ms)."""
AHEAD = 15
"""Packets kept encoded ahead of playback: when fewer wait, the next batch is asked for."""
SILENCE = 127
CHECK_EVERY = 2.0
"""Seconds between checks that the bot is still a participant (kicked: stop)."""

Encoded = tuple[bytes, int]
"""One Opus packet and its RFC 6464 level."""


class Undecodable(Exception):
    """The bytes are not audio PyAV can decode (no audio stream, or no sound at all)."""


def audio_level(pcm: np.ndarray[Any, Any]) -> int:
    """The RFC 6464 level of 16-bit samples: -dBov, 0 (loudest) … 127 (silence)."""
    if not pcm.size:
        return SILENCE
    power = float(np.mean(np.square(pcm.astype(np.float64)))) / (32768.0 * 32768.0)
    if power <= 1e-13:  # below -127 dBov (and zero)
        return SILENCE
    return max(0, min(SILENCE, round(-10.0 * math.log10(power))))


def sniff(data: bytes) -> str | None:
    """The FFmpeg demuxer for ``data`` by its signature, among the audio containers
    accepted; None for anything else.

    FFmpeg left to probe an upload picks any of its demuxers, some of which follow what
    the file names: an ``ffconcat`` or HLS playlist would make the server read its own
    files or fetch URLs. Only these containers are ever opened, and by name.
    """
    head = data[:12]
    if head.startswith(b"OggS"):
        return "ogg"
    if head.startswith(b"RIFF") and head[8:12] == b"WAVE":
        return "wav"
    if head.startswith(b"fLaC"):
        return "flac"
    if head.startswith(b"\x1aE\xdf\xa3"):
        return "matroska"
    if head[4:8] == b"ftyp":
        return "mov"
    if head.startswith(b"ID3"):
        return "mp3"
    if len(head) >= 2 and head[0] == 0xFF:
        if head[1] & 0xF6 == 0xF0:  # ADTS sync, layer 0
            return "aac"
        if head[1] & 0xE0 == 0xE0:  # MPEG audio frame sync
            return "mp3"
    return None


class AudioFile:
    """A file decoded and encoded as Opus packets, a batch at a time.

    Meant for worker threads: :meth:`batch` and :meth:`close` take turns (a lock), so
    closing never frees the decoder under a batch still running.
    """

    def __init__(self, data: bytes, bitrate: int) -> None:
        self._lock = threading.Lock()
        self._closed = False
        demuxer = sniff(data)
        if demuxer is None:
            raise Undecodable("not an Ogg, WAV, MP3, AAC, FLAC, Matroska/WebM or MP4 file")
        try:
            self._container: Any = av.open(io.BytesIO(data), mode="r", format=demuxer)
        except (av.FFmpegError, ValueError, OSError) as exc:
            raise Undecodable(f"not a decodable audio file ({type(exc).__name__})") from None
        streams = [s for s in self._container.streams if s.type == "audio"]
        if not streams:
            self._container.close()
            raise Undecodable("the file has no audio stream")
        self._stream = streams[0]
        duration = self._container.duration
        self.duration: float | None = duration / 1_000_000 if duration else None
        self._resampler = av.AudioResampler(
            format="s16", layout="mono", rate=RATE, frame_size=FRAME
        )
        self._encoder: Any = av.CodecContext.create("libopus", "w")
        self._encoder.sample_rate = RATE
        self._encoder.layout = "mono"
        self._encoder.format = "s16"
        self._encoder.bit_rate = bitrate
        self._encoder.time_base = fractions.Fraction(1, RATE)
        self._encoder.options = {"application": "audio", "frame_duration": "20"}
        self._packets = self._container.demux(self._stream)
        self._levels: deque[int] = deque()
        self._pts = 0
        self._done = False
        self.frames = 0

    def batch(self, count: int = BATCH) -> list[Encoded]:
        """Up to ``count`` more packets; an empty list at the end of the file.
        :class:`Undecodable` if nothing at all could be decoded."""
        with self._lock:
            if self._closed:
                return []
            return self._batch(count)

    def _batch(self, count: int) -> list[Encoded]:
        out: list[Encoded] = []
        while len(out) < count and not self._done:
            try:
                packet = next(self._packets, None)  # the last one (empty) flushes the decoder
                decoded = packet.decode() if packet is not None else []
                frames = [f for f in decoded if isinstance(f, av.AudioFrame)]
                resampled = [r for f in frames for r in self._resampler.resample(f)]
                if packet is None:
                    resampled = self._resampler.resample(None)
                    self._done = True
            except (av.FFmpegError, ValueError) as exc:
                if not self.frames:
                    reason = type(exc).__name__
                    raise Undecodable(f"the audio cannot be decoded ({reason})") from None
                log.info("audio decoding stopped early: %r", exc)  # a damaged tail: end here
                resampled = self._resampler.resample(None)
                self._done = True
            for frame in resampled:
                out += self._encode(frame)
            if self._done:
                out += self._encode(None)
        if self._done and not self.frames:
            raise Undecodable("the file holds no sound")
        return out

    def _encode(self, frame: av.AudioFrame | None) -> list[Encoded]:
        if frame is not None:
            self._levels.append(audio_level(frame.to_ndarray()))
            frame.pts = self._pts
            self._pts += frame.samples
            self.frames += 1
        out = []
        for packet in self._encoder.encode(frame):
            level = self._levels.popleft() if self._levels else SILENCE
            out.append((bytes(packet), level))
        return out

    def close(self) -> None:
        """Release the decoder (idempotent; waits for a batch under way)."""
        with self._lock:
            self._closed = True
            with contextlib.suppress(Exception):
                self._container.close()


def open_audio(data: bytes, bitrate: int) -> tuple[AudioFile, list[Encoded]]:
    """Open ``data`` and encode its first batch (in a worker: proof that it plays)."""
    audio = AudioFile(data, bitrate)
    try:
        first = audio.batch()
    except BaseException:
        audio.close()
        raise
    return audio, first


@dataclass
class Playback:
    """One file playing (or played) into a room."""

    id: str
    room_id: str
    user_id: str
    started_by: str
    media_type: str
    size: int
    duration: float | None
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    sent: int = 0
    """Packets delivered so far (20 ms each)."""
    task: asyncio.Task[None] | None = None

    @property
    def position(self) -> float:
        """Seconds played so far."""
        return self.sent * PERIOD


Join = Callable[[], Awaitable[MediaRoom]]
"""Enter the bot in the room (control plane) and add its source; the room's media."""
Leave = Callable[[Playback], Awaitable[None]]
"""Take the bot out again (media and control plane); must not raise."""
Present = Callable[[Playback], Awaitable[bool]]
"""Whether the bot is still a participant (False: it was kicked; stop)."""


class Playbacks:
    """The playbacks running on this instance (module docstring)."""

    def __init__(self, leave: Leave, present: Present) -> None:
        self._leave = leave
        self._present = present
        self.running: dict[str, Playback] = {}

    async def start(self, playback: Playback, data: bytes, bitrate: int, join: Join) -> Playback:
        """Check the file decodes (:class:`Undecodable` otherwise), bring the bot in with
        ``join``, start playing; returns at once with the playback running."""
        loop = asyncio.get_running_loop()
        audio, first = await loop.run_in_executor(None, open_audio, data, bitrate)
        playback.duration = audio.duration
        try:
            room = await join()
        except BaseException:
            await loop.run_in_executor(None, audio.close)
            raise
        self.running[playback.id] = playback
        playback.task = asyncio.create_task(
            self._play(playback, room, audio, first), name=f"voice-playback-{playback.id}"
        )
        return playback

    def in_room(self, room_id: str) -> list[Playback]:
        """The playbacks running in ``room_id``, oldest first."""
        return sorted(
            (p for p in self.running.values() if p.room_id == room_id),
            key=lambda p: p.started_at,
        )

    async def stop(self, playback_id: str) -> bool:
        """Stop a playback (the bot leaves); False if it is not running."""
        playback = self.running.get(playback_id)
        if playback is None or playback.task is None:
            return False
        playback.task.cancel()
        with contextlib.suppress(BaseException):
            await playback.task
        return True

    async def close(self) -> None:
        """Stop every playback (the instance stops)."""
        for playback_id in list(self.running):
            await self.stop(playback_id)

    async def _play(
        self, playback: Playback, room: MediaRoom, audio: AudioFile, first: list[Encoded]
    ) -> None:
        loop = asyncio.get_running_loop()
        source = room.sources.get(playback.user_id)
        queue: deque[Encoded] = deque(first)
        pending: asyncio.Future[list[Encoded]] | None = None
        ended = False
        seq = random.getrandbits(16)
        timestamp = random.getrandbits(32)
        checked = start = loop.time()
        try:
            while source is not None:
                if pending is None and not ended and len(queue) < AHEAD:
                    pending = loop.run_in_executor(None, audio.batch, BATCH)
                if pending is not None and (pending.done() or not queue):
                    more = await pending
                    pending = None
                    ended = not more
                    queue.extend(more)
                if not queue:
                    break
                due = start + playback.sent * PERIOD
                now = loop.time()
                if due > now:
                    await asyncio.sleep(due - now)
                elif now - due > 0.2:  # the loop stalled: go on from now, do not burst
                    start = now - playback.sent * PERIOD
                if room.sources.get(playback.user_id) is not source:
                    break  # taken out of the room (closed, or the bot was removed)
                payload, level = queue.popleft()
                room.deliver(playback.user_id, seq, payload, timestamp, level)
                seq = (seq + 1) & 0xFFFF
                timestamp = (timestamp + FRAME) & 0xFFFFFFFF
                playback.sent += 1
                if now - checked > CHECK_EVERY:
                    checked = now
                    if not await self._present(playback):
                        break
        except asyncio.CancelledError:
            pass
        except Exception:
            log.exception("playback %s in room %s failed", playback.id, playback.room_id)
        finally:
            with contextlib.suppress(BaseException):
                await loop.run_in_executor(None, audio.close)
            self.running.pop(playback.id, None)
            await self._leave(playback)
