"""Real WebRTC test participants (aiortc) for the voice tests: a tone to send, and what
each participant hears, per sender, with the tools to tell a tone from silence."""

from __future__ import annotations

import array
import asyncio
import contextlib
import fractions
import math
import time
from typing import Any

import av
import numpy as np
from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from meshkit.services.voice.media.aiortc_adapter import configuration, restrict_gathering

RATE = 48_000
FRAME = 960


class ToneTrack(MediaStreamTrack):
    """A sine tone (or silence while ``silent``), paced in real time, 20 ms frames."""

    kind = "audio"

    def __init__(self, frequency: float = 440.0, amplitude: float = 0.5) -> None:
        super().__init__()
        self.frequency = frequency
        self.amplitude = amplitude
        self.silent = False
        self._sample = 0
        self._start: float | None = None

    async def recv(self) -> av.AudioFrame:
        if self.readyState != "live":
            raise MediaStreamError
        if self._start is None:
            self._start = time.monotonic()
        due = self._start + self._sample / RATE
        await asyncio.sleep(max(0.0, due - time.monotonic()))
        amp = 0.0 if self.silent else self.amplitude * 32767
        step = 2 * math.pi * self.frequency / RATE
        samples = array.array(
            "h", (int(amp * math.sin(step * (self._sample + i))) for i in range(FRAME))
        )
        frame = av.AudioFrame(format="s16", layout="mono", samples=FRAME)
        frame.planes[0].update(samples.tobytes())
        frame.sample_rate = RATE
        frame.pts = self._sample
        frame.time_base = fractions.Fraction(1, RATE)
        self._sample += FRAME
        return frame


class Heard:
    """Decoded audio received from one remote sender (mono, 48 kHz, int16)."""

    def __init__(self) -> None:
        self.chunks: list[tuple[float, np.ndarray]] = []

    def add(self, frame: av.AudioFrame) -> None:
        data = frame.to_ndarray()
        mono = data.reshape(-1, frame.layout.nb_channels if frame.format.is_packed else 1)
        self.chunks.append((time.monotonic(), mono[:, 0].astype(np.float64)))

    def since(self, start: float) -> np.ndarray:
        parts = [c for t, c in self.chunks if t >= start]
        return np.concatenate(parts) if parts else np.zeros(0)


def peak_hz(samples: np.ndarray) -> float:
    """The strongest frequency in ``samples`` (0 for silence or nothing)."""
    if samples.size < RATE // 10 or float(np.max(np.abs(samples))) < 100:
        return 0.0
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(samples.size)))
    return float(np.fft.rfftfreq(samples.size, 1 / RATE)[int(np.argmax(spectrum))])


def rms(samples: np.ndarray) -> float:
    return float(np.sqrt(np.mean(samples**2))) if samples.size else 0.0


class Participant:
    """One aiortc participant: answers the server's offers, sends a tone on the first
    m-line, and records what arrives on every other m-line, by the participant the
    offer says it carries."""

    def __init__(self, name: str, *, tone: float | None = 440.0) -> None:
        self.name = name
        self.pc = RTCPeerConnection(configuration([]))
        self.tone = ToneTrack(tone) if tone is not None else None
        self.streams: dict[str, str] = {}
        self.heard: dict[str, Heard] = {}
        self._readers: list[asyncio.Task[None]] = []
        self.pc.on("track", self._on_track)

    def _on_track(self, track: MediaStreamTrack) -> None:
        self._readers.append(asyncio.create_task(self._read(track)))

    async def _read(self, track: MediaStreamTrack) -> None:
        transceiver = next(t for t in self.pc.getTransceivers() if t.receiver.track is track)
        with contextlib.suppress(MediaStreamError):
            while True:
                frame = await track.recv()
                who = self.streams.get(str(transceiver.mid))
                if who is not None:
                    self.heard.setdefault(who, Heard()).add(frame)

    async def answer(self, offer: dict[str, Any]) -> str:
        """Apply a server offer; the SDP answer to send back."""
        self.streams = dict(offer.get("streams", {}))
        await self.pc.setRemoteDescription(RTCSessionDescription(offer["sdp"], "offer"))
        first = self.pc.getTransceivers()[0]
        if self.tone is not None and first.sender.track is None:
            first.sender.replaceTrack(self.tone)
            first.direction = "sendonly"
        restrict_gathering(self.pc, ["127.0.0.1"])
        await self.pc.setLocalDescription(await self.pc.createAnswer())
        return str(self.pc.localDescription.sdp)

    def set_streams(self, streams: dict[str, str]) -> None:
        """A ``voice.streams`` signal: m-lines now carry other participants."""
        self.streams = dict(streams)

    def heard_from(self, who: str, start: float) -> np.ndarray:
        heard = self.heard.get(who)
        return heard.since(start) if heard is not None else np.zeros(0)

    async def close(self) -> None:
        for task in self._readers:
            task.cancel()
        for task in self._readers:
            with contextlib.suppress(BaseException):
                await task
        await self.pc.close()
