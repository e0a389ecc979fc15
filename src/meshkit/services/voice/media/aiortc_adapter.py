"""Every reach into aiortc's and aioice's internals, in one place.

The SFU forwards each publisher's Opus packets to its subscribers without decoding or
re-encoding them. aiortc has no public API for that, so this module adapts four private
seams, all checked by ``tests/test_voice_aiortc_adapter.py`` against the pinned aiortc
range (``aiortc>=1.16,<1.17`` in pyproject):

* **Inbound tap.** ``RTCRtpReceiver._handle_rtp_packet`` is wrapped on the instance: each
  RTP packet is handed to a callback on arrival (before the jitter buffer, which would add
  about 80 ms), then to the original, so statistics and RTCP go on. The receiver's decoder
  queue is replaced by a sink: nothing is decoded per packet on the forwarding path.
* **Outbound packets.** :class:`RtpWriter` sends each forwarded Opus payload on a
  negotiated ``RTCRtpSender``'s stream at once, from the caller: it builds the RTP packet
  (the sender's SSRC, payload type and header extensions: MID and the RFC 6464 audio
  level the publisher sent), protects it with the DTLS transport's SRTP session and
  writes it on ICE's nominated pair, keeping the sender's counters so its RTCP sender
  reports stay true. aiortc's own send loop (a task, a queue, an ``av.Packet`` and a
  ``datetime`` per packet) cost three times as much per forwarded packet.
  :class:`EncodedAudioTrack` (with :func:`keep_audio_level`) is the slower, public-API
  way to send pre-encoded packets, which clients such as the bench use.
* **Candidate gathering.** aioice gathers on every interface but loopback and, unless told
  otherwise, asks Google's public STUN server. :func:`configuration` never names a STUN
  server the operator did not, and :func:`restrict_gathering` binds host candidates to the
  configured listen addresses only (loopback included) and, if asked, to a UDP port range
  (what a firewall opens), optionally announcing another address (a 1:1 NAT's public IP)
  in place of the bound one.
"""

from __future__ import annotations

import asyncio
import fractions
import logging
import random
import struct
import time
from collections.abc import Callable, Sequence
from typing import Any

import av
from aioice import Candidate
from aioice.candidate import candidate_foundation, candidate_priority
from aioice.ice import Connection, StunProtocol, server_reflexive_candidate
from aiortc import (
    RTCConfiguration,
    RTCIceServer,
    RTCPeerConnection,
    RTCRtpReceiver,
    RTCRtpSender,
    RTCRtpTransceiver,
)
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from aiortc.rtcdtlstransport import State as DtlsState
from aiortc.rtp import RtpPacket

log = logging.getLogger("meshkit.voice.media")

OPUS_RATE = 48_000
TIME_BASE = fractions.Fraction(1, OPUS_RATE)
PacketSink = Callable[[RtpPacket], None]


class _Sink:
    """Stands in for a receiver's decoder queue: what is put in is dropped, and the
    decoder thread, asking for its first frame, is told to stop at once."""

    def put(self, item: Any) -> None:
        """Drop ``item``: nothing is decoded."""

    def get(self) -> None:
        """The decoder thread's stop signal."""
        return None


def tap_receiver(receiver: RTCRtpReceiver, on_packet: PacketSink) -> None:
    """Hand every RTP packet ``receiver`` gets to ``on_packet`` on arrival.

    ``on_packet`` runs on the event loop for each packet (50 a second per publisher): it
    must be quick and must not raise. The receiver still keeps its statistics and sends
    its RTCP reports; its decoder is turned off, so its track yields nothing.
    """
    original = receiver._handle_rtp_packet

    async def handle(packet: RtpPacket, arrival_time_ms: int) -> None:
        if receiver._enabled:
            try:
                on_packet(packet)
            except Exception:  # a forwarding bug must not stop the receiver's RTCP
                log.exception("forwarding an RTP packet failed")
        await original(packet, arrival_time_ms)

    receiver._handle_rtp_packet = handle  # type: ignore[method-assign]
    receiver._RTCRtpReceiver__decoder_queue = _Sink()  # type: ignore[attr-defined]


class EncodedAudioTrack(MediaStreamTrack):
    """An audio track whose frames are already-encoded Opus packets.

    :meth:`push` is called by the SFU (on the event loop) with a packet to send; the
    sender that reads this track packs it as is. At most ``depth`` packets wait (20 ms
    each): when a subscriber's sender falls behind, the oldest are dropped rather than
    delayed, because late audio is worse than lost audio.
    """

    kind = "audio"

    def __init__(self, depth: int = 10) -> None:
        super().__init__()
        self._queue: asyncio.Queue[tuple[bytes, int, int | None] | None] = asyncio.Queue()
        self._depth = depth
        self.audio_level: int | None = None
        """The RFC 6464 level (0 loudest … 127 silent) of the packet last handed out."""
        self.dropped = 0

    def push(self, payload: bytes, timestamp: int, level: int | None) -> None:
        """Queue one Opus packet: ``timestamp`` in 1/48000 s, ``level`` RFC 6464 or None."""
        queue = self._queue
        while queue.qsize() >= self._depth:
            queue.get_nowait()
            self.dropped += 1
        queue.put_nowait((payload, timestamp, level))

    async def recv(self) -> av.Packet[Any]:
        """The next packet to send (waits for one)."""
        if self.readyState != "live":
            raise MediaStreamError
        item = await self._queue.get()
        if item is None:
            raise MediaStreamError
        payload, timestamp, level = item
        packet = av.Packet(payload)
        packet.pts = timestamp
        packet.time_base = TIME_BASE
        self.audio_level = level
        return packet

    def stop(self) -> None:
        """End the track: its sender stops reading."""
        if self.readyState == "live":
            self._queue.put_nowait(None)
        super().stop()


def keep_audio_level(sender: RTCRtpSender, track: EncodedAudioTrack) -> None:
    """Put the publisher's audio level on each packet ``sender`` sends from ``track``.

    aiortc computes that level only for frames it encodes itself; a browser shows
    speaking indicators from it (``RTCRtpReceiver.getSynchronizationSources``).
    """
    original = sender._next_encoded_frame

    async def next_encoded_frame(codec: Any) -> Any:
        frame = await original(codec)
        if frame is not None and track.audio_level is not None:
            frame.audio_level = -track.audio_level  # aiortc stores -dBov
        return frame

    sender._next_encoded_frame = next_encoded_frame  # type: ignore[method-assign]


AUDIO_LEVEL_URI = "urn:ietf:params:rtp-hdrext:ssrc-audio-level"
MID_URI = "urn:ietf:params:rtp-hdrext:sdes:mid"
NTP_OFFSET = 2_208_988_800  # seconds from 1900 (NTP) to 1970 (Unix)
_HEADER = struct.Struct(">BBHII")


class RtpWriter:
    """Sends pre-encoded Opus on one ``RTCRtpSender``'s negotiated stream, synchronously.

    Create it before the sender is negotiated; :meth:`send` drops packets until the
    connection is up (nothing to send them on yet), and returns whether it sent. The
    sender's track must yield nothing (its own loop then sends nothing); its RTCP loop
    goes on and reports what this writer sent.
    """

    __slots__ = ("_ext", "_first", "_level_id", "_origin", "_pt", "_sender", "_seq", "_ssrc")

    def __init__(self, sender: RTCRtpSender) -> None:
        self._sender = sender
        self._pt: int | None = None
        self._ssrc = sender._ssrc
        self._seq = random.randrange(1 << 16)
        self._origin = random.randrange(1 << 32)
        self._ext = b""
        self._first = 0x90
        self._level_id: int | None = None
        original = sender.send

        async def send(parameters: Any) -> None:
            self._configure(parameters)
            await original(parameters)

        sender.send = send  # type: ignore[method-assign]

    def _configure(self, parameters: Any) -> None:
        codec = parameters.codecs[0]
        if codec.mimeType.lower() != "audio/opus":
            log.warning("an outlet negotiated %s, not Opus: it stays silent", codec.mimeType)
            return
        ids = {ext.uri: ext.id for ext in parameters.headerExtensions}
        mid = (parameters.muxId or "").encode()
        elements = b""
        if MID_URI in ids and mid:
            elements += bytes([(ids[MID_URI] << 4) | (len(mid) - 1)]) + mid
        self._level_id = ids.get(AUDIO_LEVEL_URI)
        self._ext = elements
        self._first = 0x90 if elements or self._level_id else 0x80
        self._pt = codec.payloadType

    def send(self, payload: bytes, timestamp: int, level: int | None) -> bool:
        """Send one Opus packet: ``timestamp`` in 1/48000 s from this stream's start,
        ``level`` RFC 6464 (0 loudest … 127 silence) or None."""
        if self._pt is None:
            return False
        dtls = self._sender.transport
        srtp = dtls._tx_srtp
        if srtp is None or dtls._state is not DtlsState.CONNECTED:
            return False
        pair = dtls.transport._connection._nominated.get(1)
        if pair is None:
            return False
        self._seq = seq = (self._seq + 1) & 0xFFFF
        ts = (self._origin + timestamp) & 0xFFFFFFFF
        elements = self._ext
        if self._level_id is not None and level is not None:
            elements += bytes([self._level_id << 4, level & 0x7F])
        if elements:
            padded = elements + b"\0" * (-len(elements) % 4)
            ext = b"\xbe\xde" + (len(padded) // 4).to_bytes(2, "big") + padded
        else:
            ext = b""
        packet = _HEADER.pack(self._first, 0x80 | self._pt, seq, ts, self._ssrc) + ext + payload
        pair.protocol.transport.sendto(srtp.protect(packet), pair.remote_addr)
        sender = self._sender  # what its RTCP sender reports count
        sender._RTCRtpSender__packet_count += 1  # type: ignore[attr-defined]
        sender._RTCRtpSender__octet_count += len(payload)  # type: ignore[attr-defined]
        sender._RTCRtpSender__rtp_timestamp = ts  # type: ignore[attr-defined]
        sender._RTCRtpSender__ntp_timestamp = int(  # type: ignore[attr-defined]
            (time.time() + NTP_OFFSET) * (1 << 32)
        )
        return True


def configuration(ice_servers: Sequence[RTCIceServer]) -> RTCConfiguration:
    """A peer connection's configuration: exactly ``ice_servers`` (none: host candidates
    only; never aiortc's default public STUN server), one transport for all media."""
    from aiortc.rtcconfiguration import RTCBundlePolicy

    return RTCConfiguration(iceServers=list(ice_servers), bundlePolicy=RTCBundlePolicy.MAX_BUNDLE)


def restrict_gathering(
    pc: RTCPeerConnection,
    listen_ips: Sequence[str],
    announced_ip: str | None = None,
    ports: tuple[int, int] | None = None,
) -> None:
    """Gather ``pc``'s host candidates on ``listen_ips`` only (loopback allowed).

    Call after adding transceivers and before the local description is set (candidates
    are gathered then). An empty ``listen_ips`` keeps aioice's choice: every interface
    but loopback. ``ports`` (lowest, highest) binds each host candidate to a free UDP port
    in that range. ``announced_ip`` replaces each host candidate's address in what is
    signalled, for a server behind a 1:1 NAT (the media still flows on the bound socket).
    """
    for transceiver in pc.getTransceivers():
        _restrict(transceiver, list(listen_ips), announced_ip, ports)


def _restrict(
    transceiver: RTCRtpTransceiver,
    listen_ips: list[str],
    announced_ip: str | None,
    ports: tuple[int, int] | None,
) -> None:
    gatherer = transceiver.receiver.transport.transport.iceGatherer
    connection = gatherer._connection
    if getattr(connection, "_meshkit_restricted", False):
        return
    original = connection.get_component_candidates

    async def get_component_candidates(
        component: int,
        addresses: list[str],
        timeout: int = 5,  # noqa: ASYNC109 (aioice's signature)
    ) -> list[Candidate]:
        chosen = listen_ips or addresses
        if ports is None:
            candidates: list[Candidate] = await original(
                component=component, addresses=chosen, timeout=timeout
            )
        else:
            candidates = await _in_range(connection, component, chosen, ports, timeout)
            # aioice adds the TURN (relayed) candidate, if any, given no host address
            candidates += await original(component=component, addresses=[], timeout=timeout)
        if announced_ip:
            for candidate in candidates:
                if candidate.type == "host":
                    candidate.host = announced_ip
        return candidates

    connection.get_component_candidates = get_component_candidates  # type: ignore[method-assign]
    connection._meshkit_restricted = True  # type: ignore[attr-defined]


async def _in_range(
    connection: Connection,
    component: int,
    addresses: list[str],
    ports: tuple[int, int],
    stun_wait: float,
) -> list[Candidate]:
    """Host candidates bound in ``ports`` (as aioice binds them, but not on port 0), and
    the server-reflexive ones a configured STUN server tells of."""
    protocols = [
        protocol
        for address in addresses
        if (protocol := await _bind(connection, component, address, ports)) is not None
    ]
    connection._protocols += protocols
    candidates = [protocol.local_candidate for protocol in protocols]
    stun = connection.stun_server
    if stun and protocols:
        asking = [
            asyncio.create_task(server_reflexive_candidate(protocol, stun))
            for protocol in protocols
            if ":" not in protocol.local_candidate.host  # STUN is asked over IPv4 only
        ]
        if asking:
            done, pending = await asyncio.wait(asking, timeout=stun_wait)
            for task in pending:
                task.cancel()
            candidates += [t.result()[0] for t in done if t.exception() is None]
    return candidates


async def _bind(
    connection: Connection, component: int, address: str, ports: tuple[int, int]
) -> StunProtocol | None:
    """A STUN protocol on a free port of ``ports`` at ``address`` (None: all taken)."""
    loop = asyncio.get_running_loop()
    low, high = ports
    count = high - low + 1
    first = random.randrange(count)  # spread concurrent peers over the range
    for offset in range(count):
        port = low + (first + offset) % count
        try:
            _, protocol = await loop.create_datagram_endpoint(
                lambda: StunProtocol(connection), local_addr=(address, port)
            )
        except OSError:
            continue
        host, bound = protocol.transport.get_extra_info("sockname")[:2]
        protocol.local_candidate = Candidate(
            foundation=candidate_foundation("host", "udp", host),
            component=component,
            transport="udp",
            priority=candidate_priority(component, "host"),
            host=host,
            port=bound,
            type="host",
        )
        return protocol
    log.warning("no free UDP port in %d-%d on %s: no host candidate there", low, high, address)
    return None
