"""One forwarded stream: what a subscriber receives of one publisher.

A publisher's packets are checked once (duplicates and late, reordered packets are
dropped), then each open outlet queues the payload on its own clock, which moves by what
the source's RTP timestamp moved since the outlet last forwarded it (so a gap while the
outlet was held back is a gap for the subscriber too). An outlet is reused for another
publisher when its first one leaves; its clock just moves on by one frame then, so the
subscriber's decoder sees one continuous stream (a switch sounds like a 20 ms gap, which
Opus conceals).
"""

from __future__ import annotations

from aiortc import MediaStreamTrack

from meshkit.services.voice.media.aiortc_adapter import RtpWriter

FRAME = 960
"""Samples in a 20 ms Opus frame at 48 kHz: the step when nothing better is known."""
MAX_STEP = 48_000 * 60
"""A timestamp step larger than a minute is a new stream, not a gap."""


class Inbound:
    """Where one publisher's stream is (the last sequence number forwarded)."""

    __slots__ = ("_seq",)

    def __init__(self) -> None:
        self._seq: int | None = None

    def accept(self, seq: int) -> bool:
        """False for a duplicate or a packet older than one already forwarded."""
        if self._seq is not None:
            ahead = (seq - self._seq) & 0xFFFF
            if ahead == 0 or ahead >= 0x8000:
                return False
        self._seq = seq
        return True


class Outlet:
    """A subscriber's sending transceiver and the publisher it forwards (if any)."""

    __slots__ = ("_fresh", "_in", "_ts", "open", "source", "track", "transceiver", "writer")

    def __init__(self, writer: RtpWriter, track: MediaStreamTrack, transceiver: object) -> None:
        self.writer = writer
        self.track = track
        """The sender's track: it yields nothing (the writer sends), and ends with the peer."""
        self.transceiver = transceiver
        self.source: str | None = None
        """The publisher (user id) forwarded here; None while the outlet is idle."""
        self.open = True
        """False while the packets are held back (deafened, or not among the loudest)."""
        self._ts = 0
        self._in = 0
        self._fresh = True

    def assign(self, source: str | None) -> None:
        """Forward ``source`` from now on (None: idle)."""
        self.source = source
        self._fresh = True

    def forward(self, payload: bytes, timestamp: int, level: int | None) -> None:
        """Queue one packet of the source (``timestamp``: its RTP timestamp)."""
        if self._fresh:
            self._fresh = False
            self._ts += FRAME
        else:
            step = (timestamp - self._in) & 0xFFFFFFFF
            self._ts += step if 0 < step <= MAX_STEP else FRAME
        self._in = timestamp
        self.writer.send(payload, self._ts, level)
