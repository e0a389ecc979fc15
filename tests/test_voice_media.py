"""The SFU with real WebRTC on loopback: aiortc participants, a real tone, an FFT."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from meshkit.services.voice.media.sfu import MediaSettings, Sfu
from meshkit.testing import eventually
from tests.voice_peers import Participant, peak_hz, rms

ROOM = "room1"


class Bench:
    """An SFU and participants wired to it directly (signaling is a function call)."""

    def __init__(self, max_forwarded: int = 8) -> None:
        self.speaking: list[tuple[str, bool]] = []
        self.stale: list[tuple[str, str]] = []
        self.sfu = Sfu(
            MediaSettings(listen_ips=["127.0.0.1"], max_forwarded=max_forwarded),
            on_speaking=self._speaking,
            on_stale=self._stale,
        )
        self.people: dict[str, Participant] = {}

    async def _speaking(self, room: str, user: str, on: bool) -> None:
        self.speaking.append((user, on))

    async def _stale(self, room: str, user: str, why: str) -> None:
        self.stale.append((user, why))

    async def join(self, name: str, tone: float | None = 440.0) -> Participant:
        person = Participant(name, tone=tone)
        self.people[name] = person

        async def signal(event: str, payload: dict[str, Any]) -> None:
            if event == "voice.streams":
                person.set_streams(payload["streams"])
                return
            answer = await person.answer(payload)
            await self.sfu.peer(ROOM, name).accept_answer(answer)

        offer = await self.sfu.join(ROOM, name, signal)
        answer = await person.answer(offer)
        await self.sfu.peer(ROOM, name).accept_answer(answer)
        return person

    async def close(self) -> None:
        await self.sfu.close()
        for person in self.people.values():
            await person.close()


@pytest.fixture
async def bench() -> AsyncIterator[Bench]:
    b = Bench()
    yield b
    await b.close()


async def hears_tone(listener: Participant, speaker: str, window: float = 0.6) -> bool:
    start = time.monotonic()
    await asyncio.sleep(window)
    return abs(peak_hz(listener.heard_from(speaker, start)) - 440) < 15


@pytest.mark.slow
async def test_a_tone_from_a_reaches_b_and_not_a(bench: Bench) -> None:
    a = await bench.join("a", tone=440.0)
    b = await bench.join("b", tone=None)
    await eventually(lambda: hears_tone(b, "a"), within=15)
    assert "b" not in a.heard or rms(a.heard_from("b", 0)) < 50  # b sends nothing
    assert "a" not in a.heard  # never your own voice
    await eventually(lambda: ("a", True) in bench.speaking)


@pytest.mark.slow
async def test_mute_and_deafen_stop_the_tone(bench: Bench) -> None:
    await bench.join("a", tone=440.0)
    b = await bench.join("b", tone=None)
    await eventually(lambda: hears_tone(b, "a"), within=15)

    bench.sfu.set_flags(ROOM, "a", sending=False)
    await asyncio.sleep(0.3)
    start = time.monotonic()
    await asyncio.sleep(0.6)
    assert rms(b.heard_from("a", start)) < 50
    await eventually(lambda: ("a", False) in bench.speaking)

    bench.sfu.set_flags(ROOM, "a", sending=True)
    await eventually(lambda: hears_tone(b, "a"))

    bench.sfu.set_flags(ROOM, "b", receiving=False)
    await asyncio.sleep(0.3)
    start = time.monotonic()
    await asyncio.sleep(0.6)
    assert rms(b.heard_from("a", start)) < 50
    bench.sfu.set_flags(ROOM, "b", receiving=True)
    await eventually(lambda: hears_tone(b, "a"))


@pytest.mark.slow
async def test_publishers_joining_later_renegotiate(bench: Bench) -> None:
    b = await bench.join("b", tone=None)
    await bench.join("a", tone=440.0)  # b must be offered a's stream
    await eventually(lambda: hears_tone(b, "a"), within=15)
    await bench.sfu.leave(ROOM, "a")
    c = await bench.join("c", tone=660.0)  # reuses the m-line a had
    del c

    async def hears_c() -> bool:
        start = time.monotonic()
        await asyncio.sleep(0.6)
        return abs(peak_hz(b.heard_from("c", start)) - 660) < 15

    await eventually(hears_c, within=15)
    assert len(bench.sfu.peer(ROOM, "b").outlets) == 1


@pytest.mark.slow
async def test_a_large_room_sends_each_listener_only_the_loudest() -> None:
    """With one outlet per listener, the listener hears whoever speaks: when the speaker
    changes, the outlet is reassigned (a ``voice.streams`` signal, no new m-line)."""
    bench = Bench(max_forwarded=1)
    try:
        b = await bench.join("b", tone=None)
        a = await bench.join("a", tone=440.0)
        c = await bench.join("c", tone=660.0)
        assert c.tone is not None
        c.tone.silent = True
        await eventually(lambda: hears_tone(b, "a"), within=15)
        assert a.tone is not None
        a.tone.silent = True
        c.tone.silent = False

        async def hears_c() -> bool:
            start = time.monotonic()
            await asyncio.sleep(0.6)
            return abs(peak_hz(b.heard_from("c", start)) - 660) < 15

        await eventually(hears_c, within=15)
        assert len(b.pc.getTransceivers()) == 2  # the microphone's and one outlet
        assert len(bench.sfu.peer(ROOM, "b").outlets) == 1
    finally:
        await bench.close()


async def test_bad_answers_and_candidates_are_typed_errors(bench: Bench) -> None:
    from meshkit.services.voice.errors import BadCandidate, BadSdp, NoOfferPending

    await bench.join("a")
    peer = bench.sfu.peer(ROOM, "a")
    with pytest.raises(NoOfferPending):
        await peer.accept_answer("v=0\r\n")
    with pytest.raises(BadCandidate):
        await peer.add_candidate("candidate:garbage", "0", 0)
    with pytest.raises(BadSdp):
        await peer.accept_answer("x" * 800_000)
