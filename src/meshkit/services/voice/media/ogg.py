"""Ogg/Opus (RFC 3533, RFC 7845) written by hand: a live stream of a room's mix.

A room's mix is encoded once, whoever listens (:class:`OpusFeed`), and each listener
gets those packets framed in Ogg pages of its own (:class:`OggOpusWriter`): headers
first, then pages whose granule positions count from that listener's start, with their
own sequence numbers, as a fresh stream. Framing costs a few microseconds per page; the
encoding (about 1% of a core at 20 ms frames) is paid once per room.
"""

from __future__ import annotations

import asyncio
import contextlib
import fractions
import logging
import random
import struct
from collections.abc import AsyncIterator, Iterator
from typing import Any

import av

from meshkit.services.voice.media.mix import FRAME, RATE, Mixer, Pcm

log = logging.getLogger("meshkit.voice.media")

CONTINUED, FIRST, LAST = 0x01, 0x02, 0x04
PACKETS_PER_PAGE = 5
"""Opus packets per Ogg page (100 ms): what a listener's latency grows by."""
DEPTH = 100
"""Encoded packets (two seconds) a slow listener may fall behind before losing the oldest."""
VENDOR = b"meshkit"


def _crc_table() -> list[int]:
    table = []
    for byte in range(256):
        crc = byte << 24
        for _ in range(8):
            crc = ((crc << 1) ^ 0x04C11DB7) if crc & 0x80000000 else crc << 1
        table.append(crc & 0xFFFFFFFF)
    return table


_CRC = _crc_table()


def ogg_crc(data: bytes) -> int:
    """Ogg's CRC-32 (polynomial 0x04c11db7, not reflected, no final xor)."""
    crc = 0
    for byte in data:
        crc = ((crc << 8) & 0xFFFFFFFF) ^ _CRC[(crc >> 24) ^ byte]
    return crc


def opus_head(channels: int = 1, pre_skip: int = 312, rate: int = RATE) -> bytes:
    """The identification header (RFC 7845 §5.1), channel mapping family 0."""
    return b"OpusHead" + struct.pack("<BBHIhB", 1, channels, pre_skip, rate, 0, 0)


def opus_tags(vendor: bytes = VENDOR) -> bytes:
    """The comment header (RFC 7845 §5.2) with no comments."""
    return b"OpusTags" + struct.pack("<I", len(vendor)) + vendor + struct.pack("<I", 0)


class OggOpusWriter:
    """One logical Ogg/Opus stream: :meth:`header` first, then :meth:`packet` for each
    Opus packet; each returns the bytes to send (complete pages only)."""

    def __init__(self, *, channels: int = 1, pre_skip: int = 312) -> None:
        self.serial = random.getrandbits(32)
        self.sequence = 0
        self.granule = 0
        self._channels = channels
        self._pre_skip = pre_skip
        self._pending: list[bytes] = []

    def page(self, packets: list[bytes], granule: int, flags: int = 0) -> bytes:
        """One page holding whole ``packets`` (their lacing fits in 255 segments)."""
        lacing = bytearray()
        for packet in packets:
            lacing += b"\xff" * (len(packet) // 255) + bytes([len(packet) % 255])
        if len(lacing) > 255:
            raise ValueError("too many segments for one Ogg page")
        header = struct.pack(
            "<4sBBqIIIB", b"OggS", 0, flags, granule, self.serial, self.sequence, 0, len(lacing)
        )
        page = bytearray(header + lacing + b"".join(packets))
        struct.pack_into("<I", page, 22, ogg_crc(bytes(page)))
        self.sequence += 1
        return bytes(page)

    def header(self) -> bytes:
        """The two header pages (OpusHead on its own, beginning the stream; OpusTags)."""
        head = self.page([opus_head(self._channels, self._pre_skip)], 0, FIRST)
        return head + self.page([opus_tags()], 0)

    def packet(self, payload: bytes, samples: int = FRAME) -> bytes:
        """Add one packet of ``samples`` (48 kHz); a page when enough are gathered."""
        self._pending.append(payload)
        self.granule += samples
        if len(self._pending) < PACKETS_PER_PAGE:
            return b""
        return self.flush()

    def flush(self, last: bool = False) -> bytes:
        """The packets gathered so far as a page (``last``: end the stream)."""
        if not self._pending and not last:
            return b""
        packets, self._pending = self._pending, []
        return self.page(packets, self.granule, LAST if last else 0)


class _Encoder:
    """A libopus encoder of mono 48 kHz PCM frames (used by one worker at a time)."""

    def __init__(self, bitrate: int) -> None:
        self.codec: Any = av.CodecContext.create("libopus", "w")
        self.codec.sample_rate = RATE
        self.codec.layout = "mono"
        self.codec.format = "s16"
        self.codec.bit_rate = bitrate
        self.codec.time_base = fractions.Fraction(1, RATE)
        self.codec.options = {"application": "audio", "frame_duration": "20"}
        self._pts = 0

    def encode(self, pcm: Pcm) -> list[bytes]:
        frame = av.AudioFrame.from_ndarray(pcm.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = RATE
        frame.pts = self._pts
        self._pts += pcm.size
        return [bytes(packet) for packet in self.codec.encode(frame)]


class OpusFeed:
    """A room's mix encoded once, for every listener of that room on this instance."""

    def __init__(self, room_id: str, mixer: Mixer, bitrate: int, on_idle: Any) -> None:
        self.room_id = room_id
        self._mixer = mixer
        self._bitrate = bitrate
        self._on_idle = on_idle
        self.listeners: set[asyncio.Queue[bytes | None]] = set()
        self._task: asyncio.Task[None] | None = None

    def add(self) -> asyncio.Queue[bytes | None]:
        queue: asyncio.Queue[bytes | None] = asyncio.Queue()
        self.listeners.add(queue)
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=f"voice-listen-{self.room_id}")
        return queue

    def remove(self, queue: asyncio.Queue[bytes | None]) -> None:
        self.listeners.discard(queue)
        if not self.listeners:
            if self._task is not None:
                self._task.cancel()
                self._task = None
            self._on_idle(self)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        encoder = _Encoder(self._bitrate)
        try:
            with self._mixer.subscribe(self.room_id) as frames:
                async for pcm in frames:
                    for packet in await loop.run_in_executor(None, encoder.encode, pcm):
                        for queue in list(self.listeners):
                            while queue.qsize() >= DEPTH:
                                queue.get_nowait()
                            queue.put_nowait(packet)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("voice room %s: encoding the listen stream failed", self.room_id)
        # the mix ended or failed: these listeners end, and the feed is forgotten so the
        # next listener of the room starts a fresh one
        self._task = None
        listeners, self.listeners = list(self.listeners), set()
        for queue in listeners:
            queue.put_nowait(None)
        self._on_idle(self)


class Listening:
    """The Ogg/Opus listen streams of this instance's rooms (one encoder per room)."""

    def __init__(self, mixer: Mixer) -> None:
        self.mixer = mixer
        self.feeds: dict[str, OpusFeed] = {}

    @contextlib.asynccontextmanager
    async def stream(self, room_id: str, bitrate: int) -> AsyncIterator[AsyncIterator[bytes]]:
        """``async with listening.stream(room, bitrate) as chunks: async for b in chunks``:
        an Ogg/Opus stream of the room's mix from now, until the block is left (or the
        instance stops). Leaving removes the listener, and with the last, the encoder
        and the mix."""
        feed = self.feeds.get(room_id)
        if feed is None:
            feed = self.feeds[room_id] = OpusFeed(room_id, self.mixer, bitrate, self._forget)
        queue = feed.add()
        try:
            yield _chunks(queue)
        finally:
            feed.remove(queue)

    def _forget(self, feed: OpusFeed) -> None:
        if self.feeds.get(feed.room_id) is feed:
            del self.feeds[feed.room_id]


async def _chunks(queue: asyncio.Queue[bytes | None]) -> AsyncIterator[bytes]:
    writer = OggOpusWriter()
    yield writer.header()
    while True:
        packet = await queue.get()
        if packet is None:
            yield writer.flush(last=True)
            return
        page = writer.packet(packet)
        if page:
            yield page


def pages(data: bytes) -> Iterator[tuple[int, int, int, bytes]]:
    """``(flags, granule, sequence, body)`` of each page in ``data`` (checks the CRCs):
    for tests and tools."""
    offset = 0
    while offset < len(data):
        magic, _, flags, granule, _, sequence, crc, count = struct.unpack_from(
            "<4sBBqIIIB", data, offset
        )
        if magic != b"OggS":
            raise ValueError(f"no Ogg page at {offset}")
        lacing = data[offset + 27 : offset + 27 + count]
        end = offset + 27 + count + sum(lacing)
        page = bytearray(data[offset:end])
        struct.pack_into("<I", page, 22, 0)
        if ogg_crc(bytes(page)) != crc:
            raise ValueError(f"bad CRC in the page at {offset}")
        yield flags, granule, sequence, data[offset + 27 + count : end]
        offset = end
