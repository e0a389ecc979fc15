"""One participant's WebRTC connection to the SFU, and its negotiation.

The server makes every offer; the client only answers. The first m-line receives the
participant's microphone; each further one sends the client one other participant
(an :class:`~meshkit.services.voice.media.outlet.Outlet`). A participant has at most as
many outlets as they may hear speakers at once; the room assigns sources to them. An m-line
is added (and the server offers again) only when a participant needs one more outlet;
when sources come and go or the loudest change, outlets are reassigned without
renegotiating. With one side offering there is no glare. Which participant each m-line
carries (``streams``: mid → user id) comes with each offer and, when it changes between
offers, in a ``voice.streams`` signal. Only Opus is negotiated, in both directions:
forwarded payloads are never transcoded.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from aiortc import (
    RTCIceCandidate,
    RTCIceServer,
    RTCPeerConnection,
    RTCRtpReceiver,
    RTCRtpTransceiver,
    RTCSessionDescription,
)
from aiortc.rtp import RtpPacket
from aiortc.sdp import candidate_from_sdp

from meshkit.services.voice.errors import BadCandidate, BadSdp, NoOfferPending
from meshkit.services.voice.media.aiortc_adapter import (
    EncodedAudioTrack,
    RtpWriter,
    configuration,
    restrict_gathering,
    tap_receiver,
)
from meshkit.services.voice.media.outlet import Outlet

log = logging.getLogger("meshkit.voice.media")
Signal = Callable[[str, dict[str, Any]], Awaitable[None]]
"""How a peer reaches its client: ``(event, payload)``, ``voice.offer`` or ``voice.streams``."""
MAX_SDP = 768 * 1024
"""Largest SDP accepted: an m-line per other participant, about 500 bytes each, in a
room of up to 500 (browsers' answers are a little longer than the offers)."""
MAX_CANDIDATE = 1024


def with_opus_bitrate(sdp: str, bitrate: int) -> str:
    """``sdp`` with ``maxaveragebitrate`` (RFC 7587) on every Opus payload type: the
    bitrate a client's encoder is asked to keep to (browsers honour it)."""
    lines = sdp.split("\r\n")
    out: list[str] = []
    for line in lines:
        out.append(line)
        if line.startswith("a=rtpmap:") and " opus/48000" in line.lower():
            payload_type = line.removeprefix("a=rtpmap:").split(" ", 1)[0]
            out.append(f"a=fmtp:{payload_type} maxaveragebitrate={bitrate};useinbandfec=1")
    return "\r\n".join(out)


def _opus_only(transceiver: RTCRtpTransceiver) -> None:
    capabilities = RTCRtpReceiver.getCapabilities("audio")
    assert capabilities is not None  # aiortc always knows audio
    codecs = [c for c in capabilities.codecs if c.mimeType.lower() == "audio/opus"]
    transceiver.setCodecPreferences(codecs)


class Peer:
    """The server side of one participant's peer connection."""

    def __init__(
        self,
        user_id: str,
        *,
        ice_servers: Sequence[RTCIceServer],
        listen_ips: Sequence[str],
        announced_ip: str | None,
        ports: tuple[int, int] | None = None,
        bitrate: int | None = None,
        on_packet: Callable[[str, RtpPacket], None],
        signal: Signal,
    ) -> None:
        self.user_id = user_id
        self.pc = RTCPeerConnection(configuration(ice_servers))
        self._listen_ips = list(listen_ips)
        self._announced_ip = announced_ip
        self._ports = ports
        self.bitrate = bitrate
        """The Opus bitrate asked of the client in each offer (None: its own choice)."""
        self._signal = signal
        self.outlets: list[Outlet] = []
        self.by_source: dict[str, Outlet] = {}
        self.receiving = True
        """False while the participant is deafened."""
        self.offer_sent_at: float | None = None
        """Monotonic time of the offer still waiting for its answer (None: none waits)."""
        self._dirty = False
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self._streams_task: asyncio.Task[None] | None = None
        self._streams_sent: dict[str, str] | None = None
        self.closed = False
        mic = self.pc.addTransceiver("audio", direction="recvonly")
        _opus_only(mic)
        tap_receiver(mic.receiver, lambda packet: on_packet(user_id, packet))

    # --- negotiation -------------------------------------------------------------

    async def first_offer(self) -> dict[str, Any]:
        """The offer that opens the connection (the join's answer carries it)."""
        async with self._lock:
            return await self._offer()

    async def _offer(self) -> dict[str, Any]:
        self._dirty = False
        restrict_gathering(self.pc, self._listen_ips, self._announced_ip, self._ports)
        offer = await self.pc.createOffer()
        if self.bitrate is not None:
            offer = RTCSessionDescription(with_opus_bitrate(offer.sdp, self.bitrate), offer.type)
        await self.pc.setLocalDescription(offer)
        self.offer_sent_at = time.monotonic()
        streams = self._streams_sent = self.streams()
        description = self.pc.localDescription
        return {"type": description.type, "sdp": description.sdp, "streams": streams}

    def streams(self) -> dict[str, str]:
        """mid → user id of every negotiated outlet that carries someone now."""
        return {
            str(outlet.transceiver.mid): outlet.source  # type: ignore[attr-defined]
            for outlet in self.outlets
            if outlet.source is not None and outlet.transceiver.mid is not None  # type: ignore[attr-defined]
        }

    async def accept_answer(self, sdp: str) -> None:
        """Apply the client's answer to the offer it was sent; offer again if the room
        changed meanwhile. :class:`BadSdp` when the answer cannot be applied (the
        connection stays as it was), :class:`NoOfferPending` when nothing was offered."""
        if len(sdp) > MAX_SDP:
            raise BadSdp(f"an SDP answer is at most {MAX_SDP} bytes")
        async with self._lock:
            if self.offer_sent_at is None or self.pc.signalingState != "have-local-offer":
                raise NoOfferPending("no offer is waiting for an answer")
            try:
                await self.pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="answer"))
            except Exception as exc:  # aiortc raises ValueError, InvalidStateError, …
                raise BadSdp(f"the answer was refused: {exc}") from None
            self.offer_sent_at = None
        if self._dirty:
            self._schedule()

    async def add_candidate(
        self, candidate: str, sdp_mid: str | None, sdp_mline_index: int | None
    ) -> None:
        """A trickled ICE candidate of the client (``candidate:…`` as browsers give it);
        an empty string is the end of candidates."""
        if len(candidate) > MAX_CANDIDATE:
            raise BadCandidate(f"a candidate is at most {MAX_CANDIDATE} bytes")
        text = candidate.removeprefix("a=").removeprefix("candidate:")
        if not text:
            return  # end of candidates: aiortc needs no signal
        try:
            parsed: RTCIceCandidate = candidate_from_sdp(text)
        except Exception:
            raise BadCandidate("not an ICE candidate line") from None
        parsed.sdpMid = sdp_mid if sdp_mid is not None else self._first_mid()
        parsed.sdpMLineIndex = sdp_mline_index
        try:
            await self.pc.addIceCandidate(parsed)
        except Exception as exc:
            raise BadCandidate(f"the candidate was refused: {exc}") from None

    def _first_mid(self) -> str | None:
        transceivers = self.pc.getTransceivers()
        return transceivers[0].mid if transceivers else None

    def _changed(self) -> None:
        self._dirty = True
        if self.offer_sent_at is None and self.pc.signalingState == "stable":
            self._schedule()

    def _schedule(self) -> None:
        if self.closed or (self._task is not None and not self._task.done()):
            return
        self._task = asyncio.create_task(self._renegotiate())

    async def _renegotiate(self) -> None:
        """Offer until the client has seen every change (one offer in flight at most;
        an answer that arrives while this runs is picked up by the loop)."""
        while not self.closed:
            async with self._lock:
                if not self._dirty or self.offer_sent_at is not None:
                    return
                try:
                    offer = await self._offer()
                except Exception:
                    log.exception("renegotiating with %s failed", self.user_id)
                    return
            try:
                await self._signal("voice.offer", offer)
            except Exception as exc:
                log.warning("could not send an offer to %s: %r", self.user_id, exc)
                return

    # --- forwarding --------------------------------------------------------------

    def attach(self, source: str) -> Outlet:
        """Send this participant ``source``'s audio, on an idle outlet if there is one
        (the client hears of it by ``voice.streams``), else on a new m-line (offered)."""
        existing = self.by_source.get(source)
        if existing is not None:
            return existing
        outlet = next((o for o in self.outlets if o.source is None), None)
        if outlet is None:
            track = EncodedAudioTrack()  # never fed: the writer sends instead
            transceiver = self.pc.addTransceiver(track, direction="sendonly")
            _opus_only(transceiver)
            outlet = Outlet(RtpWriter(transceiver.sender), track, transceiver)
            self.outlets.append(outlet)
            self._changed()
        outlet.assign(source)
        self.by_source[source] = outlet
        self._streams_changed()
        return outlet

    def detach(self, source: str) -> None:
        """Stop sending ``source``: its outlet idles (silent) until reassigned."""
        outlet = self.by_source.pop(source, None)
        if outlet is None:
            return
        outlet.assign(None)
        self._streams_changed()

    def _streams_changed(self) -> None:
        """Tell the client the new mapping, once, after the current burst of changes."""
        if self.closed or (self._streams_task is not None and not self._streams_task.done()):
            return
        self._streams_task = asyncio.create_task(self._send_streams())

    async def _send_streams(self) -> None:
        await asyncio.sleep(0)  # let the rest of this burst of changes happen first
        streams = self.streams()
        if streams == self._streams_sent or self.pc.localDescription is None:
            return  # unchanged, or the first offer (still to come) carries it
        self._streams_sent = streams
        try:
            await self._signal("voice.streams", {"streams": streams})
        except Exception as exc:
            log.warning("could not send streams to %s: %r", self.user_id, exc)

    async def close(self) -> None:
        """Close the connection (idempotent)."""
        self.closed = True
        for task in (self._task, self._streams_task):
            if task is not None:
                task.cancel()
                with contextlib.suppress(BaseException):
                    await task
        for outlet in self.outlets:
            outlet.track.stop()
        await self.pc.close()
