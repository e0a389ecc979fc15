"""The seams into aiortc's internals (meshkit.services.voice.media.aiortc_adapter),
checked against the installed aiortc: a release that moves them fails here first."""

from __future__ import annotations

import asyncio
import itertools
import threading

from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.rtp import RtpPacket

from meshkit.services.voice.media.aiortc_adapter import (
    EncodedAudioTrack,
    RtpWriter,
    configuration,
    keep_audio_level,
    restrict_gathering,
    tap_receiver,
)
from meshkit.testing import eventually


def candidates(sdp: str) -> list[str]:
    return [line for line in sdp.splitlines() if line.startswith("a=candidate:")]


async def test_no_ice_server_unless_configured_and_gathering_on_listen_ips_only() -> None:
    pc = RTCPeerConnection(configuration([]))
    pc.addTransceiver("audio", direction="recvonly")
    restrict_gathering(pc, ["127.0.0.1"])
    await pc.setLocalDescription(await pc.createOffer())
    found = candidates(pc.localDescription.sdp)
    await pc.close()
    assert configuration([]).iceServers == []
    assert found, "a host candidate on 127.0.0.1"
    assert all(" 127.0.0.1 " in c and " typ host" in c for c in found), found


async def test_announced_ip_replaces_the_bound_address() -> None:
    pc = RTCPeerConnection(configuration([]))
    pc.addTransceiver("audio", direction="recvonly")
    restrict_gathering(pc, ["127.0.0.1"], announced_ip="127.0.0.9")
    await pc.setLocalDescription(await pc.createOffer())
    found = candidates(pc.localDescription.sdp)
    await pc.close()
    assert found
    assert all(" 127.0.0.9 " in c for c in found), found


async def test_encoded_packets_cross_unchanged_with_their_level() -> None:
    """An EncodedAudioTrack's payloads arrive byte for byte at a tapped receiver, with
    the audio level put back, and the tapped receiver runs no decoder thread."""
    sender_pc = RTCPeerConnection(configuration([]))
    receiver_pc = RTCPeerConnection(configuration([]))
    track = EncodedAudioTrack()
    sending = sender_pc.addTransceiver(track, direction="sendonly")
    keep_audio_level(sending.sender, track)
    got: list[RtpPacket] = []

    def on_track(remote: object) -> None:
        transceiver = receiver_pc.getTransceivers()[0]
        tap_receiver(transceiver.receiver, got.append)

    receiver_pc.on("track", on_track)
    restrict_gathering(sender_pc, ["127.0.0.1"])
    await sender_pc.setLocalDescription(await sender_pc.createOffer())
    offer = sender_pc.localDescription
    await receiver_pc.setRemoteDescription(RTCSessionDescription(offer.sdp, offer.type))
    restrict_gathering(receiver_pc, ["127.0.0.1"])
    await receiver_pc.setLocalDescription(await receiver_pc.createAnswer())
    answer = receiver_pc.localDescription
    await sender_pc.setRemoteDescription(RTCSessionDescription(answer.sdp, answer.type))

    payloads = [bytes([0xF8, i, 0xFF, 0xFE]) for i in range(40)]

    async def feed() -> None:
        for i, payload in enumerate(payloads):
            track.push(payload, i * 960, 33)
            await asyncio.sleep(0.02)

    feeding = asyncio.create_task(feed())
    try:
        await eventually(lambda: len(got) >= 10, within=10)
    finally:
        feeding.cancel()
        await sender_pc.close()
        await receiver_pc.close()
    assert [p.payload for p in got[:10]] == payloads[:10]
    assert {p.extensions.audio_level for p in got} == {(False, 33)}
    await eventually(
        lambda: not any(t.name == "audio-decoder" for t in threading.enumerate()), within=5
    )


def test_a_slow_sender_drops_the_oldest_packets() -> None:
    track = EncodedAudioTrack(depth=3)
    for i in range(5):
        track.push(bytes([i]), i * 960, None)
    assert track.dropped == 2
    assert track._queue.qsize() == 3


async def test_a_port_range_binds_host_candidates_inside_it() -> None:
    """Two peers on a range of two ports take one each; a third finds none free and
    gathers no host candidate there (logged), rather than binding outside the range."""
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        low = probe.getsockname()[1]
    low = max(low, 20000) if low < 60000 else 40000
    ports = (low, low + 1)
    pcs = []
    seen = []
    try:
        for _ in range(3):
            pc = RTCPeerConnection(configuration([]))
            pcs.append(pc)
            pc.addTransceiver("audio", direction="recvonly")
            restrict_gathering(pc, ["127.0.0.1"], ports=ports)
            await pc.setLocalDescription(await pc.createOffer())
            seen.append([int(c.split()[5]) for c in candidates(pc.localDescription.sdp)])
    finally:
        for pc in pcs:
            await pc.close()
    bound = sorted(port for found in seen[:2] for port in found)
    assert bound == [low, low + 1], seen
    assert seen[2] == []


async def test_rtp_writer_sends_payloads_with_level_and_keeps_the_senders_counters() -> None:
    sender_pc = RTCPeerConnection(configuration([]))
    receiver_pc = RTCPeerConnection(configuration([]))
    placeholder = EncodedAudioTrack()
    sending = sender_pc.addTransceiver(placeholder, direction="sendonly")
    writer = RtpWriter(sending.sender)
    assert writer.send(b"\xf8\x00", 0, 10) is False  # not negotiated yet: dropped
    got: list[RtpPacket] = []
    receiver_pc.on(
        "track", lambda _: tap_receiver(receiver_pc.getTransceivers()[0].receiver, got.append)
    )
    restrict_gathering(sender_pc, ["127.0.0.1"])
    await sender_pc.setLocalDescription(await sender_pc.createOffer())
    offer = sender_pc.localDescription
    await receiver_pc.setRemoteDescription(RTCSessionDescription(offer.sdp, offer.type))
    restrict_gathering(receiver_pc, ["127.0.0.1"])
    await receiver_pc.setLocalDescription(await receiver_pc.createAnswer())
    answer = receiver_pc.localDescription
    await sender_pc.setRemoteDescription(RTCSessionDescription(answer.sdp, answer.type))
    payloads = [bytes([0xF8, i, 0x01]) for i in range(30)]
    sent = 0

    async def feed() -> None:
        nonlocal sent
        for i, payload in enumerate(payloads):
            sent += writer.send(payload, i * 960, 20 + i % 3)
            await asyncio.sleep(0.02)

    try:
        await eventually(lambda: sending.sender.transport.state == "connected", within=10)
        await feed()
        await eventually(lambda: len(got) >= sent > 10, within=5)
    finally:
        await sender_pc.close()
        await receiver_pc.close()
    first = payloads.index(got[0].payload)
    assert [p.payload for p in got] == payloads[first : first + len(got)]
    assert [p.extensions.audio_level for p in got] == [
        (False, 20 + (first + i) % 3) for i in range(len(got))
    ]
    steps = {(b.timestamp - a.timestamp) & 0xFFFFFFFF for a, b in itertools.pairwise(got)}
    assert steps == {960}
    assert sending.sender._RTCRtpSender__packet_count == sent
