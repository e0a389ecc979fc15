"""A real browser in a voice room: headless Debian Chromium, driven by Playwright, opens
examples/voice_web's page, signs in and joins a room through the gateway, and talks with
an aiortc participant over real WebRTC on loopback.

Chromium's fake capture device is its microphone (a short beep twice a second); the
aiortc side plays a 440 Hz tone. Playwright's own browsers are never downloaded: the
test launches the system's ``chromium`` (``.ci/run`` installs it) and skips without it
locally. Chromium reaches nothing but 127.0.0.1: host names resolve to nothing, any
other request goes to a recording proxy that hangs up, background services are off, and
WebRTC has no ICE servers, only the voice service's loopback candidates.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import pytest
from playwright.async_api import Page, async_playwright

from meshkit.testing import eventually, require_executable
from tests.test_examples import system
from tests.test_gateway_docs import CHROMIUM_OWN, Recorder
from tests.voice_peers import rms
from tests.voice_stack import PASSWORD, VoiceStack, voice

__all__ = ["system", "voice"]  # the fixtures

pytestmark = pytest.mark.slow

ROOT = Path(__file__).parent.parent
SERVER = ROOT / "examples" / "voice_web" / "server.py"
FLAGS = (
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
    "--autoplay-policy=no-user-gesture-required",
    # WebRTC gathers no candidates on loopback unless told to; the voice service listens
    # only there in tests
    "--allow-loopback-in-peer-connection",
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-default-apps",
    "--disable-extensions",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
    "--no-default-browser-check",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
)


@contextlib.asynccontextmanager
async def example_server(gateway: str) -> AsyncIterator[str]:
    """examples/voice_web/server.py on a free port, forwarding to ``gateway``."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(SERVER),
        "--port",
        "0",
        env={**os.environ, "MESHKIT_URL": gateway},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stdout is not None
    try:
        line = (await asyncio.wait_for(process.stdout.readline(), 20)).decode()
        match = re.match(r"serving (http://\S+)", line)
        if match is None:
            stderr = await process.stderr.read() if process.stderr else b""
            raise AssertionError(f"the example did not start: {line!r} {stderr.decode()}")
        yield match.group(1)
    finally:
        if process.returncode is None:
            process.terminate()
            await asyncio.wait_for(process.wait(), 10)


@contextlib.asynccontextmanager
async def offline_chromium(tmp_path: Path) -> AsyncIterator[tuple[Page, Recorder, list[str]]]:
    """A page in headless Chromium that can reach only 127.0.0.1; also the proxy that
    records anything else it tried, and the page's console."""
    executable = require_executable("chromium")
    recorder = Recorder()
    proxy = await asyncio.start_server(recorder.handle, "127.0.0.1", 0)
    proxy_url = f"http://127.0.0.1:{proxy.sockets[0].getsockname()[1]}"
    console: list[str] = []
    try:
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(
                executable_path=executable,
                headless=True,
                # the proxy as a switch, not Playwright's option (which would send
                # loopback through it too)
                args=[*FLAGS, f"--proxy-server={proxy_url}"],
            )
            try:
                page = await browser.new_page()
                page.on("console", lambda m: console.append(f"{m.type}: {m.text}"))
                page.on("pageerror", lambda e: console.append(f"pageerror: {e}"))
                page.set_default_timeout(20_000)
                yield page, recorder, console
            finally:
                await browser.close()
    finally:
        proxy.close()
        await proxy.wait_closed()


async def sign_in(page: Page, login: str) -> None:
    await page.fill("#login", login)
    await page.fill("#password", PASSWORD)
    await page.click("#login-button")
    await page.wait_for_function("() => window.voiceTest.state === 'signed-in'")


async def from_the_browser(page: Page, user_id: str) -> dict[str, Any]:
    """The page's inbound-rtp audio summary of what ``user_id`` sends it."""
    for found in await page.evaluate("window.voiceTest.inboundAudio()"):
        if found["userId"] == user_id:
            return dict(found)
    return {}


def receiving(page: Page, user_id: str) -> Callable[[], Awaitable[bool]]:
    """Whether the page gets ``user_id``'s audio at full rate now (50 packets a second)."""

    async def check() -> bool:
        before = (await from_the_browser(page, user_id)).get("packetsReceived", 0)
        await asyncio.sleep(0.5)
        after = (await from_the_browser(page, user_id)).get("packetsReceived", 0)
        return int(after) - int(before) > 15

    return check


async def test_a_browser_talks_with_an_aiortc_participant(
    voice: VoiceStack, tmp_path: Path
) -> None:
    ada = await voice.person("ada")  # aiortc, a 440 Hz tone
    bea = await voice.person("bea")  # the browser; only its id is used from here
    room = (await ada.call("POST", "/v1/voice/rooms", json={"name": "browser"}))["id"]
    await ada.join(room, tone=440.0)
    requested: list[str] = []
    async with (
        example_server(voice.gateway) as site,
        offline_chromium(tmp_path) as (page, recorder, console),
    ):
        page.on("request", lambda r: requested.append(r.url))
        await page.goto(f"{site}/?room={room}")
        await sign_in(page, "bea")
        assert await page.evaluate("window.voiceTest.me") == bea.user_id
        await page.click("#join-button")
        await page.wait_for_function(
            "() => ['joined', 'error'].includes(window.voiceTest.state)", timeout=30_000
        )
        assert await page.evaluate("window.voiceTest.state") == "joined", console

        # the aiortc participant hears the browser's microphone: energy, not silence
        async def ada_hears_bea() -> bool:
            assert ada.media is not None
            start = time.monotonic()
            await asyncio.sleep(1.2)
            return rms(ada.media.heard_from(bea.user_id, start)) > 100

        await eventually(ada_hears_bea, within=30, what="ada hears the browser's beep")

        # and the browser receives ada's tone: packets, and decoded energy
        async def bea_hears_ada() -> bool:
            heard = await from_the_browser(page, ada.user_id)
            return heard.get("packetsReceived", 0) > 50 and heard.get("totalAudioEnergy", 0) > 0

        await eventually(bea_hears_ada, within=30, what="the page's getStats() shows ada's audio")
        heard = await from_the_browser(page, ada.user_id)
        await asyncio.sleep(1.0)
        later = await from_the_browser(page, ada.user_id)
        packets_per_second = later["packetsReceived"] - heard["packetsReceived"]
        assert packets_per_second > 30, (heard, later)  # 20 ms Opus: 50 a second
        assert later["audioLevel"] > 0.05, later  # a tone at half scale, not silence

        # the page lists both, and shows ada speaking
        await page.wait_for_selector(f'#participants li[data-user-id="{ada.user_id}"]')
        await page.wait_for_selector(f'#participants li.speaking[data-user-id="{ada.user_id}"]')
        listed = {p["user_id"] for p in await page.evaluate("window.voiceTest.participants")}
        assert listed == {ada.user_id, bea.user_id}

        # WebRTC went to 127.0.0.1 only: the server's candidates are all loopback, and the
        # page asked no STUN/TURN server (its own candidates are this machine's host
        # addresses, real ones: no mDNS names that would need multicast to resolve)
        ice = await page.evaluate("window.voiceTest.iceAddresses()")
        assert set(ice["remote"]) == {"127.0.0.1"}, ice
        assert ice["selected"]["remote"] == "127.0.0.1", ice
        sent = await page.evaluate("window.voiceTest.candidates")
        assert sent, "the page sent no candidate"
        for candidate in sent:
            assert " typ host" in candidate["candidate"], candidate
            assert ".local " not in candidate["candidate"], candidate

        # Mute: ada hears nothing from the browser, until it unmutes
        async def ada_hears_nothing() -> bool:
            assert ada.media is not None
            await asyncio.sleep(0.3)
            start = time.monotonic()
            await asyncio.sleep(1.0)
            return rms(ada.media.heard_from(bea.user_id, start)) < 50

        await page.click("#mute-button")
        await page.wait_for_selector('#mute-button[aria-pressed="true"]')
        await page.wait_for_selector(f'#participants li[data-user-id="{bea.user_id}"] .flags')
        await eventually(ada_hears_nothing, within=15, what="muted: ada hears nothing")
        await page.click("#mute-button")
        await eventually(ada_hears_bea, within=15, what="unmuted: ada hears the browser again")

        # Deafen: no more of ada's packets reach the page, until it undeafens
        async def packets_in_a_second() -> int:
            before = (await from_the_browser(page, ada.user_id)).get("packetsReceived", 0)
            await asyncio.sleep(1.0)
            after = (await from_the_browser(page, ada.user_id)).get("packetsReceived", 0)
            return int(after) - int(before)

        async def deaf() -> bool:
            return await packets_in_a_second() < 5

        async def hearing() -> bool:
            return await packets_in_a_second() > 30

        await page.click("#deafen-button")
        await page.wait_for_selector('#deafen-button[aria-pressed="true"]')
        await eventually(deaf, within=15, what="deafened: ada's packets stop")
        await page.click("#deafen-button")
        await eventually(hearing, within=15, what="undeafened: ada's packets again")

        # someone joins after the browser: a new m-line, offered to the page (voice.offer)
        cy = await voice.person("cyd")
        await cy.join(room, tone=660.0)
        await eventually(receiving(page, cy.user_id), within=20, what="the page gets cy")
        await page.wait_for_selector(f'#participants li[data-user-id="{cy.user_id}"]')
        # ada leaves: her m-line idles; dan joins and is given it, with no new offer, only
        # a new mid -> user map (voice.streams) that the page must follow
        ada_mid = (await from_the_browser(page, ada.user_id))["mid"]
        await ada.sio.call("voice.leave", {}, timeout=10)
        await page.wait_for_selector(
            f'#participants li[data-user-id="{ada.user_id}"]', state="detached"
        )
        dan = await voice.person("dan")
        await dan.join(room, tone=550.0)
        await eventually(receiving(page, dan.user_id), within=20, what="the page gets dan")
        assert (await from_the_browser(page, dan.user_id))["mid"] == ada_mid
        assert await from_the_browser(page, ada.user_id) == {}
        await eventually(receiving(page, cy.user_id), what="cy still heard")

        # leaving: the page tears down, the others see bea go
        await page.click("#leave-button")
        await page.wait_for_function("() => window.voiceTest.state === 'left'")
        await eventually(
            lambda: any(
                e["participant"]["user_id"] == bea.user_id
                for e in cy.events("voice.participant.left")
            ),
            what="cy sees the browser leave",
        )
        errors = await page.evaluate("window.voiceTest.errors")
        assert errors == [], errors

    # everything the page loaded came from the example's origin; nothing reached the
    # proxy but Chromium's own background traffic
    assert requested
    assert {urlsplit(url).netloc for url in requested} == {urlsplit(site).netloc}, requested
    strangers = [h for h in recorder.hosts() if not CHROMIUM_OWN.search(h)]
    assert strangers == [], recorder.connections
    assert not [line for line in console if line.startswith(("error", "pageerror"))], console


async def test_the_page_explains_a_refused_join(voice: VoiceStack, tmp_path: Path) -> None:
    await voice.person("cid")
    async with (
        example_server(voice.gateway) as site,
        offline_chromium(tmp_path) as (page, _, _console),
    ):
        await page.goto(f"{site}/?room=01ARZ3NDEKTSV4RRFFQ69G5FAV")  # no such room
        await sign_in(page, "cid")
        await page.click("#join-button")
        await page.wait_for_function("() => window.voiceTest.state === 'error'")
        status = await page.text_content("#status") or ""
        assert status.startswith("Could not join: "), status
        assert await page.is_visible("#join-button")  # still usable: try another room


async def test_the_example_forwards_rest_and_signaling_to_meshkit_run_all(
    system: dict[str, str],
) -> None:
    """What the README tells users to run: the page and the gateway behind one origin."""
    async with example_server(system["MESHKIT_URL"]) as site, aiohttp.ClientSession() as http:
        async with http.get(f"{site}/") as response:
            assert response.status == 200
            page = await response.text()
            assert "Content-Security-Policy" in response.headers
        for script in re.findall(r'src="([^"]+)"', page):
            async with http.get(site + script) as response:
                assert response.status == 200, script
        async with http.get(f"{site}/static/socket.io.min.js") as response:
            assert "socket.io-client 4.8.1" in await response.text()
        # REST: the gateway's own answers (a problem without a token)
        async with http.get(f"{site}/v1/voice/rooms") as response:
            assert response.status == 401
            assert response.content_type == "application/problem+json"
        # signaling: the voice service's Socket.IO handshake, over the bridged WebSocket
        url = f"{site}/voice/socket.io/?EIO=4&transport=websocket"
        async with http.ws_connect(url) as ws:
            opened = await ws.receive_str(timeout=10)
            assert opened.startswith("0{"), opened  # engine.io open, with its sid
            await ws.send_str('40{"token": "not a token"}')
            refused = await ws.receive_str(timeout=10)
            assert refused.startswith("44"), refused  # connect_error: a problem document
