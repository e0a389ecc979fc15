"""Voice media plane: forwarded streams per core and mouth-to-ear latency, meshkit's SFU
next to aiortc's stock MediaRelay, measured in the same run.

One media server process is pinned to one core (``--serve``: meshkit's
:class:`~meshkit.services.voice.media.sfu.Sfu`, or a stock relay built the obvious way
on ``aiortc.contrib.media.MediaRelay``, each subscriber's sender re-encoding what the
relay decoded). Signaling is a bare WebSocket per participant (the Socket.IO and REST
layers are not what is measured here). This process, pinned to the other core, holds the
participants: real aiortc peer connections on 127.0.0.1, ICE, DTLS and SRTP included.

- Speakers send 20 ms Opus packets at full rate (50/s). Every second each speaker sends
  one loud packet (a click); receivers note when a click arrives. The click's send time
  to its arrival, at every receiver, is the latency printed (network and server only: a
  browser's jitter buffer adds its own 40-80 ms on top).
- Receivers read RTP headers as the packets arrive (sequence, audio level); they neither
  decrypt (RTP headers are in the clear in SRTP) nor decode, so that one client core can
  hold hundreds of them. Past about 450 streams the client core is the limit: the
  ``client`` column says how busy it was.
- Server CPU is the server process's own user+system time over the measured window.

Goals (issue 13): >= 400 forwarded streams per core at full rate with p99 <= 150 ms;
>= 15x the stock relay's listeners per core; a room of 50 with 3 speakers under a third
of a core.

    python bench/voice.py [--window 10] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import fractions
import json
import math
import os
import resource
import statistics
import sys
import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import av
from aiohttp import web
from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.contrib.media import MediaRelay
from aiortc.mediastreams import MediaStreamTrack
from aiortc.rtp import compute_audio_level_dbov

from meshkit.services.voice.media.aiortc_adapter import (
    EncodedAudioTrack,
    configuration,
    keep_audio_level,
    restrict_gathering,
)
from meshkit.services.voice.media.sfu import MediaSettings, Sfu

RATE = 48_000
FRAME = 960
CLICK_LEVEL = 10  # RFC 6464: at or below this (-10 dBov or louder) is a click
LEVEL_URI = "urn:ietf:params:rtp-hdrext:ssrc-audio-level"


# --- audio the speakers send ------------------------------------------------------


def encoded_frames() -> tuple[list[tuple[bytes, int]], tuple[bytes, int]]:
    """One second of a quiet 440 Hz tone and one loud frame, Opus-encoded once, each
    with its RFC 6464 level: what every speaker sends, over and over."""
    encoder = av.CodecContext.create("libopus", "w")
    encoder.sample_rate = RATE
    encoder.layout = "mono"
    encoder.format = "s16"
    encoder.bit_rate = 32_000
    encoder.time_base = fractions.Fraction(1, RATE)

    def frame(index: int, amplitude: float) -> av.AudioFrame:
        samples = bytearray()
        step = 2 * math.pi * 440 / RATE
        for i in range(FRAME):
            value = int(amplitude * 32767 * math.sin(step * (index * FRAME + i)))
            samples += value.to_bytes(2, "little", signed=True)
        out = av.AudioFrame(format="s16", layout="mono", samples=FRAME)
        out.planes[0].update(bytes(samples))
        out.sample_rate = RATE
        out.pts = index * FRAME
        out.time_base = fractions.Fraction(1, RATE)
        return out

    quiet: list[tuple[bytes, int]] = []
    loud: tuple[bytes, int] | None = None
    for index in range(51):
        amplitude = 0.9 if index == 50 else 0.02
        pcm = frame(index, amplitude)
        level = -compute_audio_level_dbov(pcm)
        packets = [bytes(p) for p in encoder.encode(pcm)]
        for payload in packets:
            if index == 50:
                loud = (payload, level)
            else:
                quiet.append((payload, level))
    assert loud is not None
    assert quiet
    return quiet, loud


# --- the server -------------------------------------------------------------------


class RelayRoom:
    """The obvious relay: decode each speaker once, re-encode for every listener."""

    def __init__(self) -> None:
        self.relay = MediaRelay()
        self.tracks: dict[str, MediaStreamTrack] = {}
        self.pcs: dict[str, RTCPeerConnection] = {}


async def serve(mode: str) -> None:
    """The media server: ``/peer`` WebSockets and ``/stats``; prints its port."""
    sfu = Sfu(
        MediaSettings(listen_ips=["127.0.0.1"], max_forwarded=8),
        on_speaking=_nothing,
        on_stale=_nothing,
    )
    relay_rooms: dict[str, RelayRoom] = {}

    async def peer(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(max_msg_size=4 * 1024 * 1024)
        await ws.prepare(request)
        room_id, user = request.query["room"], request.query["user"]

        async def signal(event: str, payload: dict[str, Any]) -> None:
            await ws.send_json({"event": event, **payload})

        if mode == "sfu":
            offer = await sfu.join(room_id, user, signal)
        else:
            room = relay_rooms.setdefault(room_id, RelayRoom())
            pc = room.pcs[user] = RTCPeerConnection(configuration([]))
            pc.addTransceiver("audio", direction="recvonly")
            for track in room.tracks.values():
                pc.addTrack(room.relay.subscribe(track))

            @pc.on("track")
            def on_track(track: MediaStreamTrack) -> None:
                room.tracks[user] = track

            restrict_gathering(pc, ["127.0.0.1"])
            await pc.setLocalDescription(await pc.createOffer())
            offer = {"type": "offer", "sdp": pc.localDescription.sdp, "streams": {}}
        await signal("voice.offer", offer)
        async for message in ws:
            answer = json.loads(message.data)["sdp"]
            if mode == "sfu":
                await sfu.peer(room_id, user).accept_answer(answer)
            else:
                await (
                    relay_rooms[room_id]
                    .pcs[user]
                    .setRemoteDescription(RTCSessionDescription(answer, "answer"))
                )
        return ws

    async def stats(request: web.Request) -> web.Response:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        counters = sfu.stats()
        counters["tracks"] = sum(len(r.tracks) for r in relay_rooms.values())
        return web.json_response({"cpu": usage.ru_utime + usage.ru_stime, **counters})

    app = web.Application()
    app.router.add_get("/peer", peer)
    app.router.add_get("/stats", stats)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    print(runner.addresses[0][1], flush=True)
    await asyncio.Event().wait()


async def _nothing(*args: Any) -> None:
    return None


# --- the participants -----------------------------------------------------------


@dataclass
class Results:
    """What the receivers saw."""

    packets: int = 0
    click_sent: dict[str, list[float]] = field(default_factory=dict)
    click_arrived: list[tuple[str, float]] = field(default_factory=list)
    streams: set[tuple[str, int]] = field(default_factory=set)


class BenchPeer:
    """One participant: speaks (paced pre-encoded Opus with clicks) or only listens."""

    def __init__(self, room: str, user: str, results: Results, speaker_slot: float | None):
        self.room, self.user, self.results = room, user, results
        self.speaker_slot = speaker_slot
        self.pc = RTCPeerConnection(configuration([]))
        self.track = EncodedAudioTrack(depth=50) if speaker_slot is not None else None
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self.level_id: int | None = None
        self.tasks: list[asyncio.Task[Any]] = []
        self._last_click: dict[int, float] = {}

    async def start(self, http: aiohttp.ClientSession, base: str) -> None:
        self.ws = await http.ws_connect(
            f"{base}/peer?room={self.room}&user={self.user}", max_msg_size=4 * 1024 * 1024
        )
        first = await self.ws.receive_json()
        await self._answer(first)
        self.tasks.append(asyncio.create_task(self._signals()))

    async def _signals(self) -> None:
        assert self.ws is not None
        async for message in self.ws:
            payload = json.loads(message.data)
            if payload["event"] == "voice.offer":
                await self._answer(payload)

    async def _answer(self, offer: dict[str, Any]) -> None:
        assert self.ws is not None
        for line in offer["sdp"].splitlines():
            if line.startswith("a=extmap:") and LEVEL_URI in line:
                self.level_id = int(line.split(":")[1].split()[0].split("/")[0])
        await self.pc.setRemoteDescription(RTCSessionDescription(offer["sdp"], "offer"))
        first = self.pc.getTransceivers()[0]
        if self.track is not None and first.sender.track is None:
            first.sender.replaceTrack(self.track)
            first.direction = "sendonly"
            keep_audio_level(first.sender, self.track)  # as a browser sends it
        restrict_gathering(self.pc, ["127.0.0.1"])
        await self.pc.setLocalDescription(await self.pc.createAnswer())
        self._tap()
        await self.ws.send_json({"sdp": self.pc.localDescription.sdp})

    def _tap(self) -> None:
        """Read the RTP header of each packet on arrival; never decode."""
        dtls = self.pc.getTransceivers()[0].receiver.transport
        if getattr(dtls, "_bench_tapped", False):
            return
        dtls._bench_tapped = True  # type: ignore[attr-defined]
        results, last = self.results, self._last_click

        async def handle(data: bytes, arrival_time_ms: int) -> None:
            now = time.monotonic()
            results.packets += 1
            ssrc = int.from_bytes(data[8:12], "big")
            results.streams.add((self.user, ssrc))
            level = _level(data, self.level_id)
            if level is not None and level <= CLICK_LEVEL and now - last.get(ssrc, 0.0) > 0.5:
                last[ssrc] = now
                results.click_arrived.append((self.room, now))

        dtls._handle_rtp_data = handle  # type: ignore[method-assign]

    def skip_decryption(self) -> None:
        """Hand SRTP packets to the tap undecrypted (RTP headers are in the clear, and the
        tap reads nothing else): the receiving side's cost is then mostly aiortc's own
        datagram path, and one client core can hold more receivers."""
        dtls = self.pc.getTransceivers()[0].receiver.transport
        session = dtls._rx_srtp
        if session is None or isinstance(session, _ClearRtp):
            return
        dtls._rx_srtp = _ClearRtp(session)  # type: ignore[assignment]

    async def speak(self, quiet: list[tuple[bytes, int]], loud: tuple[bytes, int]) -> None:
        """50 packets a second, a click once a second at this speaker's slot."""
        assert self.track is not None
        assert self.speaker_slot is not None
        sent = self.results.click_sent.setdefault(self.room, [])
        start = time.monotonic()
        n = 0
        next_click = start + 1.0 + self.speaker_slot
        while True:
            now = time.monotonic()
            if now >= next_click:
                payload, level = loud
                sent.append(now)
                next_click += 1.0
            else:
                payload, level = quiet[n % len(quiet)]
            self.track.push(payload, n * FRAME, level)
            n += 1
            await asyncio.sleep(max(0.0, start + n * 0.02 - time.monotonic()))

    async def close(self) -> None:
        for task in self.tasks:
            task.cancel()
        if self.ws is not None:
            await self.ws.close()
        await self.pc.close()


class _ClearRtp:
    """An SRTP session that leaves RTP as it is and still decrypts RTCP."""

    def __init__(self, session: Any) -> None:
        self._session = session

    def unprotect(self, data: bytes) -> bytes:
        return data

    def unprotect_rtcp(self, data: bytes) -> bytes:
        return bytes(self._session.unprotect_rtcp(data))


def _level(data: bytes, level_id: int | None) -> int | None:
    """The RFC 6464 level in an RTP packet's one-byte header extension (RFC 8285)."""
    if level_id is None or not data[0] & 0x10:
        return None
    offset = 12 + 4 * (data[0] & 0x0F)
    if data[offset : offset + 2] != b"\xbe\xde":
        return None
    end = offset + 4 + 4 * int.from_bytes(data[offset + 2 : offset + 4], "big")
    i = offset + 4
    while i < end:
        byte = data[i]
        if byte == 0:
            i += 1
            continue
        ident, length = byte >> 4, (byte & 0x0F) + 1
        if ident == level_id:
            return data[i + 1] & 0x7F
        i += 1 + length
    return None


# --- one measurement -------------------------------------------------------------


@dataclass
class Scenario:
    name: str
    mode: str  # "sfu" or "relay"
    rooms: int
    participants: int
    speakers: int

    @property
    def expected_streams(self) -> int:
        per_room = self.speakers * (self.participants - 1)
        return self.rooms * per_room


async def measure(scenario: Scenario, window: float) -> dict[str, Any]:
    server = await asyncio.create_subprocess_exec(
        sys.executable, __file__, "--serve", scenario.mode, stdout=asyncio.subprocess.PIPE
    )
    assert server.stdout is not None
    port = int(await asyncio.wait_for(server.stdout.readline(), 30))
    with contextlib.suppress(OSError, AttributeError):
        os.sched_setaffinity(server.pid, {0})
    base = f"http://127.0.0.1:{port}"
    quiet, loud = encoded_frames()
    results = Results()
    peers: list[BenchPeer] = []
    try:
        # one WebSocket per participant: no cap on connections (aiohttp allows 100)
        connector = aiohttp.TCPConnector(limit=0)
        async with aiohttp.ClientSession(connector=connector) as http:
            for r in range(scenario.rooms):
                room = f"room{r}"
                for s in range(scenario.speakers):  # speakers first: the relay needs their tracks
                    peer = BenchPeer(room, f"s{s}", results, speaker_slot=s / scenario.speakers)
                    peers.append(peer)
                    await peer.start(http, base)
                    peer.tasks.append(asyncio.create_task(peer.speak(quiet, loud)))
                if scenario.mode == "relay":
                    await _until_tracks(http, base, (r + 1) * scenario.speakers)
                for listener in range(scenario.participants - scenario.speakers):
                    peer = BenchPeer(room, f"l{listener}", results, speaker_slot=None)
                    peers.append(peer)
                    await peer.start(http, base)
            await asyncio.sleep(3.0)  # connections up, speaking detected, queues settled
            for peer in peers:
                peer.skip_decryption()
            before = await _stats(http, base)
            packets_before, clicks_before = results.packets, len(results.click_arrived)
            sent_before = {room: len(times) for room, times in results.click_sent.items()}
            client_before = _own_cpu()
            start = time.monotonic()
            await asyncio.sleep(window)
            elapsed = time.monotonic() - start
            after = await _stats(http, base)
            client_cpu = (_own_cpu() - client_before) / elapsed
            packets = results.packets - packets_before
    finally:
        for peer in peers:
            with contextlib.suppress(Exception):
                await peer.close()
        server.kill()
        await server.wait()
    latencies = _latencies(results, clicks_before, sent_before)
    cpu = (after["cpu"] - before["cpu"]) / elapsed
    streams = scenario.expected_streams
    pps = packets / elapsed
    return {
        "scenario": scenario.name,
        "mode": scenario.mode,
        "streams": streams,
        "full_rate": pps / (streams * 50) if streams else 0.0,
        "pps": pps,
        "server_cpu": cpu,
        "streams_per_core": streams / cpu if cpu else float("inf"),
        "client_cpu": client_cpu,
        "p50_ms": statistics.median(latencies) * 1000 if latencies else float("nan"),
        "p99_ms": _percentile(latencies, 0.99) * 1000 if latencies else float("nan"),
        "clicks": len(latencies),
    }


def _latencies(results: Results, clicks_before: int, sent_before: dict[str, int]) -> list[float]:
    found = []
    for room, arrived in results.click_arrived[clicks_before:]:
        sent = results.click_sent.get(room, [])[sent_before.get(room, 0) - 1 :]
        earlier = [t for t in sent if t <= arrived]
        if earlier and arrived - earlier[-1] < 0.3:
            found.append(arrived - earlier[-1])
    return found


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def _stats(http: aiohttp.ClientSession, base: str) -> dict[str, Any]:
    async with http.get(f"{base}/stats") as response:
        return dict(await response.json())


async def _until_tracks(http: aiohttp.ClientSession, base: str, count: int) -> None:
    for _ in range(200):
        if (await _stats(http, base))["tracks"] >= count:
            return
        await asyncio.sleep(0.05)
    raise RuntimeError("the relay never received the speakers' tracks")


# --- the run ------------------------------------------------------------------


def scenarios(quick: bool) -> list[Scenario]:
    if quick:
        return [
            Scenario("relay, 1 speaker, 10 listeners", "relay", 1, 11, 1),
            Scenario("sfu, 1 speaker, 10 listeners", "sfu", 1, 11, 1),
            Scenario("sfu, room of 50, 3 speakers", "sfu", 1, 50, 3),
        ]
    return [
        Scenario("relay, 1 speaker, 10 listeners", "relay", 1, 11, 1),
        Scenario("relay, 1 speaker, 20 listeners", "relay", 1, 21, 1),
        Scenario("sfu, 1 speaker, 20 listeners", "sfu", 1, 21, 1),
        Scenario("sfu, room of 50, 3 speakers", "sfu", 1, 50, 3),
        Scenario("sfu, 4 rooms of 50, 2 speakers", "sfu", 4, 50, 2),
        Scenario("sfu, 5 rooms of 50, 2 speakers", "sfu", 5, 50, 2),
    ]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--serve", choices=["sfu", "relay"], help=argparse.SUPPRESS)
    parser.add_argument("--window", type=float, default=10.0, help="seconds measured")
    parser.add_argument("--quick", action="store_true", help="three small scenarios")
    args = parser.parse_args()
    if args.serve:
        await serve(args.serve)
        return
    with contextlib.suppress(OSError, AttributeError):
        if len(os.sched_getaffinity(0)) > 1:
            os.sched_setaffinity(0, set(sorted(os.sched_getaffinity(0))[1:]))
    rows = [await measure(s, args.window) for s in scenarios(args.quick)]
    print(
        f"{'scenario':34} {'streams':>7} {'rate':>6} {'pkts/s':>8} {'server':>7} "
        f"{'streams/core':>12} {'client':>7} {'p50 ms':>7} {'p99 ms':>7}"
    )
    for row in rows:
        print(
            f"{row['scenario']:34} {row['streams']:7d} {row['full_rate']:6.0%} "
            f"{row['pps']:8.0f} {row['server_cpu']:7.2f} {row['streams_per_core']:12.0f} "
            f"{row['client_cpu']:7.2f} {row['p50_ms']:7.1f} {row['p99_ms']:7.1f}"
        )
    relay = [r for r in rows if r["mode"] == "relay"]
    sfu = [r for r in rows if r["mode"] == "sfu"]
    if relay and sfu:
        best_relay = max(r["streams_per_core"] for r in relay)
        best_sfu = max(r["streams_per_core"] for r in sfu)
        print(
            f"\nlisteners per core: stock relay {best_relay:.0f}, meshkit SFU {best_sfu:.0f} "
            f"({best_sfu / best_relay:.1f}x)"
        )


if __name__ == "__main__":
    asyncio.run(main())
