"""Who is speaking, and who is loudest, from the audio levels publishers send.

Browsers (and aiortc) put an RFC 6464 audio level on every packet: 0 is the loudest
(0 dBov), 127 silence. Reading it costs nothing per packet, so speaking indicators and
"forward the N loudest" need no decoding. Pure logic, no I/O: the room feeds levels in
and asks on a timer.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

SPEECH_LEVEL = 60
"""A packet at this level or louder (-60 dBov) counts as voice."""
HOLD = 0.4
"""Seconds after the last voiced packet that a speaker still counts as speaking (the
gaps between words must not make the indicator flicker)."""
SMOOTHING = 0.2
"""Weight of each new packet in the running loudness (50 packets a second)."""


@dataclass(slots=True)
class LevelMeter:
    """One publisher's loudness and speaking state."""

    loudness: float = 0.0
    """Running average of ``127 - level``: 0 silence, 127 the loudest."""
    speaking: bool = False
    last_voiced: float = field(default=-1e9)

    def observe(self, level: int | None, now: float) -> bool:
        """Account one packet's level (None: the sender sends none); True when this
        packet made the publisher start speaking."""
        if level is None:
            return False
        self.loudness += SMOOTHING * ((127 - level) - self.loudness)
        if level <= SPEECH_LEVEL:
            self.last_voiced = now
            if not self.speaking:
                self.speaking = True
                return True
        return False

    def expire(self, now: float) -> bool:
        """True when the publisher just stopped speaking (nothing voiced for
        :data:`HOLD`, or no packets at all: muted, or gone quiet with DTX)."""
        if self.speaking and now - self.last_voiced > HOLD:
            self.speaking = False
            self.loudness = 0.0
            return True
        return False


def ranked(meters: Mapping[str, LevelMeter]) -> list[str]:
    """Publishers from the first to forward to the last: speaking ones first, then by
    loudness; ties keep their order in ``meters`` (join order), so a quiet room does not
    reshuffle."""
    return sorted(meters, key=lambda k: (meters[k].speaking, meters[k].loudness), reverse=True)
