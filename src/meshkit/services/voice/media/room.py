"""A voice room's media on this instance: who hears whom, and who is speaking.

Every participant publishes (their microphone) and subscribes (everyone else); a bot
that plays a file is a source without a peer, and publishes only. A packet from a source
is forwarded to each subscriber's outlet for it, unless the source is muted or the
subscriber deafened. Each subscriber has at most ``max_forwarded`` outlets: in a room
with more sources than that, the outlets carry the loudest (speaking first), and are
reassigned when that changes, so a room of hundreds costs each listener only a few
streams. Speaking state comes from the packets' audio
levels; a timer ends it after a silence and re-ranks the loudest.

Taps see every packet a sending source publishes, forwarded or not: the room's mix
(listening over HTTP, recording) and the plugins' audio hook are built on them, and cost
nothing while none is added.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable

from aiortc.rtp import RtpPacket

from meshkit.services.voice.media.outlet import Inbound
from meshkit.services.voice.media.peer import Peer
from meshkit.services.voice.media.speakers import LevelMeter, ranked

log = logging.getLogger("meshkit.voice.media")
TICK = 0.1
"""Seconds between speaking/ranking passes."""
ANSWER_TIMEOUT = 15.0
"""Seconds a client has to answer an offer before its participant is dropped."""
OnSpeaking = Callable[[str, bool], Awaitable[None]]
OnStale = Callable[[str, str], Awaitable[None]]
Tap = Callable[[str, bytes, int], None]
"""``(source, opus_payload, rtp_timestamp)``, on the event loop: quick, never raising."""


class Source:
    """One publisher: a participant's microphone, or a bot's player."""

    __slots__ = ("inbound", "meter", "sending", "user_id")

    def __init__(self, user_id: str) -> None:
        self.user_id = user_id
        self.sending = True
        """False while muted (by themselves or a moderator): nothing is forwarded."""
        self.inbound = Inbound()
        self.meter = LevelMeter()


class MediaRoom:
    """The peers of one room hosted here, and the forwarding between them."""

    def __init__(
        self,
        room_id: str,
        *,
        max_forwarded: int,
        on_speaking: OnSpeaking,
        on_stale: OnStale,
    ) -> None:
        self.room_id = room_id
        self.max_forwarded = max_forwarded
        self.peers: dict[str, Peer] = {}
        """Subscribers: participants with a media connection."""
        self.sources: dict[str, Source] = {}
        """Publishers: every peer's microphone, and bots."""
        self.taps: list[Tap] = []
        self.forwarded: set[str] = set()
        """Publishers whose packets go out (the loudest ``max_forwarded + 1``: one of
        them may be the subscriber itself, who is not sent their own voice)."""
        self._on_speaking = on_speaking
        self._on_stale = on_stale
        self._ticker: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Future[None]] = set()
        self._reported: set[str] = set()
        self.packets_in = 0
        self.packets_out = 0

    # --- membership --------------------------------------------------------------

    def add(self, peer: Peer) -> None:
        """Add ``peer``: it hears the sources (the loudest, in a large room), and the
        subscribers hear it."""
        self.peers[peer.user_id] = peer
        self._add_source(peer.user_id)

    def add_source(self, user_id: str) -> Source:
        """Add a source without a peer (a bot that plays audio); feed it with
        :meth:`deliver`. Remove it with :meth:`remove`."""
        return self._add_source(user_id)

    def _add_source(self, user_id: str) -> Source:
        source = self.sources[user_id] = Source(user_id)
        self._rank()
        if self._ticker is None:
            self._ticker = asyncio.create_task(self._tick())
        return source

    async def remove(self, user_id: str) -> Peer | None:
        """Remove ``user_id``'s source and close their peer (None if it had none)."""
        self.sources.pop(user_id, None)
        peer = self.peers.pop(user_id, None)
        self._reported.discard(user_id)
        self._rank()
        if peer is not None:
            await peer.close()
        return peer

    @property
    def empty(self) -> bool:
        """Nobody and nothing is in the room's media."""
        return not self.peers and not self.sources

    async def close(self) -> None:
        """Close every peer and stop the timer."""
        if self._ticker is not None:
            self._ticker.cancel()
            with contextlib.suppress(BaseException):
                await self._ticker
            self._ticker = None
        for user_id in {*self.peers, *self.sources}:
            await self.remove(user_id)

    def set_sending(self, user_id: str, sending: bool) -> None:
        """Mute (False) or unmute a source."""
        source = self.sources.get(user_id)
        if source is not None:
            source.sending = sending

    def set_receiving(self, user_id: str, receiving: bool) -> None:
        """Deafen (False) or undeafen a subscriber."""
        peer = self.peers.get(user_id)
        if peer is None:
            return
        peer.receiving = receiving
        self._open(peer)

    # --- forwarding (the hot path) -----------------------------------------------

    def on_packet(self, source: str, packet: RtpPacket) -> None:
        """Forward one RTP packet that ``source``'s peer sent."""
        level = packet.extensions.audio_level
        self.deliver(
            source,
            packet.sequence_number,
            packet.payload,
            packet.timestamp,
            level[1] if level is not None else None,
        )

    def deliver(
        self, user_id: str, seq: int, payload: bytes, timestamp: int, level: int | None
    ) -> None:
        """Forward one Opus packet of a source: ``seq`` and ``timestamp`` as in RTP
        (16 and 32 bits, 48 kHz), ``level`` RFC 6464 (0 loudest … 127 silence) or None."""
        self.packets_in += 1
        source = self.sources.get(user_id)
        if source is None or not source.sending or not source.inbound.accept(seq):
            return
        if source.meter.observe(level, time.monotonic()):
            self._spawn(self._on_speaking(user_id, True))
            self._rank()
        for tap in self.taps:
            tap(user_id, payload, timestamp)
        if user_id not in self.forwarded:
            return
        sent = 0
        for peer in self.peers.values():
            outlet = peer.by_source.get(user_id)
            if outlet is not None and outlet.open:
                outlet.forward(payload, timestamp, level)
                sent += 1
        self.packets_out += sent

    def _rank(self) -> None:
        """Decide who is forwarded, then who each subscriber's outlets carry."""
        limit = self.max_forwarded
        top = ranked({user: source.meter for user, source in self.sources.items()})[: limit + 1]
        self.forwarded = set(top)
        for peer in self.peers.values():
            wanted = [user for user in top if user != peer.user_id][:limit]
            keep = set(wanted)
            for user in [u for u in peer.by_source if u not in keep]:
                peer.detach(user)
            for user in wanted:
                peer.attach(user)
            self._open(peer)

    def _open(self, peer: Peer) -> None:
        for outlet in peer.by_source.values():
            outlet.open = peer.receiving

    # --- timer -------------------------------------------------------------------

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(TICK)
            try:
                now = time.monotonic()
                stopped = [user for user, src in self.sources.items() if src.meter.expire(now)]
                for user in stopped:
                    self._spawn(self._on_speaking(user, False))
                if stopped:
                    self._rank()
                for peer in list(self.peers.values()):
                    sent = peer.offer_sent_at
                    if sent is not None and now - sent > ANSWER_TIMEOUT:
                        peer.offer_sent_at = None
                        self._spawn(self._on_stale(peer.user_id, "no answer to the offer"))
                    elif (
                        peer.pc.connectionState in ("failed", "closed")
                        and peer.user_id not in self._reported
                    ):
                        self._reported.add(peer.user_id)
                        self._spawn(self._on_stale(peer.user_id, "the connection failed"))
            except Exception:
                log.exception("voice room %s: timer pass failed", self.room_id)

    def _spawn(self, work: Awaitable[None]) -> None:
        """Run a callback off the forwarding path (kept referenced until done)."""
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Future[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.warning("voice room %s: callback failed: %r", self.room_id, task.exception())
