"""Recording files: a room's mix written as Ogg/Opus, then loudness-normalised.

Every function here blocks (encoding, filtering, disk) and runs in a worker thread.

A recording is written to ``<id>.ogg.part`` while it runs, page by page, each page
complete with its CRC (:class:`~meshkit.services.voice.media.ogg.OggOpusWriter`), so
whatever a crash leaves is a valid Ogg file up to its last whole page; :func:`salvage`
cuts it there. When it stops, :func:`normalise` reads the part, runs it through FFmpeg's
``loudnorm`` (EBU R128, single pass: the gain follows the loudness over a 3 s window, so
a recording is normalised in one read of the file) and ``ebur128`` (what it measured),
and writes ``<id>.ogg.tmp``, which is renamed to ``<id>.ogg`` only once complete and on
disk: a reader never sees a half-written file under the final name.
"""

from __future__ import annotations

import fractions
import itertools
import os
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av
import numpy as np

from meshkit.files import open_private
from meshkit.services.voice.media.mix import FRAME, RATE, Pcm
from meshkit.services.voice.media.ogg import OggOpusWriter, _Encoder, pages

TRUE_PEAK = -1.5
"""dBTP that ``loudnorm`` keeps peaks under."""
LOUDNESS_RANGE = 11.0
"""LU of loudness range ``loudnorm`` aims for (its default; speech rarely needs more)."""


class PartWriter:
    """The ``.part`` file of a running recording: headers first, then each 20 ms frame
    encoded and framed; pages are written as they fill (every 100 ms)."""

    def __init__(self, path: Path, bitrate: int) -> None:
        self.path = path
        self._file = os.fdopen(open_private(path, os.O_WRONLY | os.O_TRUNC), "wb")
        self._encoder = _Encoder(bitrate)
        self._ogg = OggOpusWriter()
        self._file.write(self._ogg.header())
        self.samples = 0

    def write(self, pcm: Pcm) -> None:
        """Add one frame of the mix."""
        for packet in self._encoder.encode(pcm):
            self._file.write(self._ogg.packet(packet))
        self.samples += pcm.size

    def sync(self) -> None:
        """Push what is written to the disk (a crash loses at most what came since)."""
        self._file.flush()
        os.fsync(self._file.fileno())

    def close(self) -> None:
        """End the stream (its last page), and close the file on disk."""
        if self._file.closed:
            return
        self._file.write(self._ogg.flush(last=True))
        self.sync()
        self._file.close()


@dataclass(frozen=True)
class Normalised:
    """What :func:`normalise` wrote."""

    duration: float
    """Seconds."""
    size: int
    """Bytes."""
    loudness: float | None
    """Integrated loudness measured on the output (LUFS; None: too short to tell)."""


def _graph(target: float) -> Any:
    graph = av.filter.Graph()
    chain = [
        graph.add_abuffer(
            format="s16", sample_rate=RATE, layout="mono", time_base=fractions.Fraction(1, RATE)
        ),
        graph.add("loudnorm", f"I={target:g}:TP={TRUE_PEAK:g}:LRA={LOUDNESS_RANGE:g}"),
        graph.add("aresample", str(RATE)),  # loudnorm works (and answers) at 192 kHz
        graph.add("ebur128", "metadata=1"),  # measures (in doubles); passes audio on
        graph.add("aformat", "sample_fmts=s16:channel_layouts=mono"),
        graph.add("abuffersink"),
    ]
    for here, there in itertools.pairwise(chain):
        here.link_to(there)
    graph.configure()
    return graph


def _decoded(path: Path) -> Any:
    """The file's audio as s16 mono 48 kHz frames."""
    with av.open(str(path)) as container:
        resampler = av.AudioResampler(format="s16", layout="mono", rate=RATE)
        try:
            for frame in container.decode(audio=0):
                yield from resampler.resample(frame)
        except av.FFmpegError:
            pass  # a damaged end (a crash): what decoded is kept
        yield from resampler.resample(None)


def normalise(part: Path, final: Path, target: float, bitrate: int) -> Normalised:
    """Read ``part``, normalise it to ``target`` LUFS, and write ``final`` atomically
    (through ``final`` + ``.tmp``, fsync-ed, then renamed)."""
    graph = _graph(target)
    temporary = final.with_name(final.name + ".tmp")
    encoder = _Encoder(bitrate)
    ogg = OggOpusWriter()
    pending = np.zeros(0, dtype=np.int16)
    samples = 0
    loudness: float | None = None
    pts = 0
    with os.fdopen(open_private(temporary, os.O_WRONLY | os.O_TRUNC), "wb") as out:
        out.write(ogg.header())

        def drain() -> None:
            nonlocal pending, samples, loudness
            while True:
                try:
                    frame = graph.pull()
                except (av.BlockingIOError, av.EOFError):
                    return
                measured = frame.metadata.get("lavfi.r128.I")
                if measured is not None:
                    loudness = float(measured)
                pending = np.concatenate([pending, frame.to_ndarray().reshape(-1)])
                while pending.size >= FRAME:
                    chunk, pending = pending[:FRAME], pending[FRAME:]
                    for packet in encoder.encode(chunk):
                        out.write(ogg.packet(packet))
                    samples += FRAME

        for frame in _decoded(part):
            frame.pts = pts
            pts += frame.samples
            graph.push(frame)
            drain()
        graph.push(None)
        drain()
        if pending.size:
            last = np.zeros(FRAME, dtype=np.int16)
            last[: pending.size] = pending
            for packet in encoder.encode(last):
                out.write(ogg.packet(packet, samples=FRAME))
            samples += pending.size
        out.write(ogg.flush(last=True))
        out.flush()
        os.fsync(out.fileno())
    os.replace(temporary, final)
    _sync_dir(final.parent)
    if loudness is not None and loudness < -69.0:
        loudness = None  # silence: ebur128 reports its floor (-70), not a loudness
    return Normalised(samples / RATE, final.stat().st_size, loudness)


def salvage(part: Path) -> bool:
    """Cut a crashed recording's ``part`` after its last whole page (CRC checked) and
    say whether any audio survived (a page of packets after the two header pages)."""
    try:
        data = part.read_bytes()
    except FileNotFoundError:
        return False
    good = 0
    count = 0
    offset = 0
    try:
        for index, (_flags, _granule, _sequence, body) in enumerate(pages(data)):
            offset += _page_size(data, offset)
            good = offset
            count += index >= 2 and len(body) > 0
    except (ValueError, IndexError, struct.error):  # a torn page: cut before it
        pass
    if good < len(data):
        with open(part, "r+b") as file:
            file.truncate(good)
    return count > 0


def _page_size(data: bytes, offset: int) -> int:
    count = data[offset + 26]
    return 27 + count + sum(data[offset + 27 : offset + 27 + count])


def _sync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
