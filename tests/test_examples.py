"""The examples run, headless, against `meshkit run all` (a real process, real ports)."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from meshkit_sdk import MeshkitClient, MessageOut

from meshkit.testing import meshkit_process
from tests.voice_stack import voice

__all__ = ["voice"]  # the fixture of the voice bot's test

ROOT = Path(__file__).parent.parent
SERVICES = ("gateway", "auth", "messaging", "voice", "servers")
PASSWORD = "correct horse battery staple"


@pytest.fixture
async def system(tmp_path: Path, meshkit_redis_url: str) -> AsyncIterator[dict[str, str]]:
    """`meshkit run all` on free ports; the environment an example needs."""
    env = {
        **os.environ,
        "MESHKIT_DATA_DIR": str(tmp_path / "data"),
        "MESHKIT_REDIS_URL": meshkit_redis_url,
        "MESHKIT_AUTH_BCRYPT_COST": "4",
        "MESHKIT_LOG_FORMAT": "json",
        "MESHKIT_SHUTDOWN_TIMEOUT": "2",
        # every test logs in from 127.0.0.1 on one Redis: the per-IP login limit would
        # count the other tests' logins too
        "MESHKIT_GATEWAY_RATE_LIMITS": "default=1200/60s,auth=1000/60s,reset=5/3600s",
    }
    async with meshkit_process(SERVICES, env, run=["all"]) as (_, urls):
        yield {
            **os.environ,
            "MESHKIT_URL": urls["gateway"],
            "PYTHONPATH": str(ROOT / "sdk"),
            "MESHKIT_PASSWORD": PASSWORD,
        }


async def start(env: dict[str, str], *args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        *args,
        env=env,
        cwd=ROOT,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def read_until(process: asyncio.subprocess.Process, needle: str) -> str:
    """Lines of stdout up to the first containing ``needle`` (fails after 20 s)."""
    assert process.stdout is not None
    seen = []
    while True:
        line = (await asyncio.wait_for(process.stdout.readline(), 20)).decode()
        if not line:
            stderr = await process.stderr.read() if process.stderr else b""
            raise AssertionError(f"exited before {needle!r}: {seen} {stderr.decode()[-2000:]}")
        seen.append(line)
        if needle in line:
            return line


async def test_quickstart_sends_and_receives(system):
    process = await start(system, "examples/quickstart.py")
    output, errors = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, errors.decode()[-3000:]
    assert "received in #quickstart: hello, meshkit" in output.decode()
    again = await start(system, "examples/quickstart.py")  # already registered: logs in
    await asyncio.wait_for(again.communicate(), 60)
    assert again.returncode == 0


async def test_echo_bot_answers_a_mention(system):
    bot = await start(system, "examples/echo_bot/echo_bot.py", "--answers", "1")
    try:
        bot_id = (await read_until(bot, "ready ")).split()[1]
        async with MeshkitClient(system["MESHKIT_URL"]) as ada:
            await ada.register(email="ada@example.test", username="ada", password=PASSWORD)
            await ada.login("ada", PASSWORD)
            channel = await ada.create_channel("bots")
            from meshkit_api_client.api.messaging import messaging_add_member

            await ada.call(messaging_add_member.asyncio_detailed, channel.id, bot_id)
            replies: asyncio.Queue[MessageOut] = asyncio.Queue()
            ada.realtime.on_message(
                lambda m: replies.put_nowait(m) if m.author_id == bot_id else None
            )
            await ada.realtime.connect()
            asked = await ada.send(channel.id, f"<@{bot_id}> ping")
            reply = await asyncio.wait_for(replies.get(), 20)
            await ada.realtime.disconnect()
        assert reply.content == "echo: ping"
        assert reply.reply_to == asked.id
        await asyncio.wait_for(bot.wait(), 20)
        assert bot.returncode == 0
    finally:
        if bot.returncode is None:
            bot.kill()
            await bot.wait()


async def test_two_chat_clients_talk_through_stdin_and_stdout(system):
    alice = await start(system, "examples/chat_cli/chat_cli.py", "alice", "lobby")
    processes: list[Any] = [alice]
    try:
        await read_until(alice, "joined #lobby")
        bob = await start(system, "examples/chat_cli/chat_cli.py", "bob", "lobby-bob")
        processes.append(bob)
        await read_until(bob, "joined #lobby-bob")
        # bob joins alice's channel through the SDK, then uses the CLI in it
        bob.stdin.write(b"/quit\n")
        await bob.stdin.drain()
        await asyncio.wait_for(bob.wait(), 20)
        async with MeshkitClient(system["MESHKIT_URL"]) as client:
            await client.login("bob", PASSWORD)
            lobby = next(c for c in await client.channels() if c.name == "lobby-bob")
            assert lobby  # bob's own channel exists; now join alice's public one
            async with MeshkitClient(system["MESHKIT_URL"]) as as_alice:
                await as_alice.login("alice", PASSWORD)
                alice_lobby = next(c for c in await as_alice.channels() if c.name == "lobby")
            await client.join(alice_lobby.id)
        bob = await start(system, "examples/chat_cli/chat_cli.py", "bob", "lobby")
        processes.append(bob)
        await read_until(bob, "joined #lobby")
        alice.stdin.write(b"hi bob\n")
        await alice.stdin.drain()
        assert "hi bob" in await read_until(bob, "hi bob")
        assert "[you] hi bob" in await read_until(alice, "hi bob")
        bob.stdin.write(b"hello alice\n")
        await bob.stdin.drain()
        assert "hello alice" in await read_until(alice, "hello alice")
        for process in (alice, bob):
            process.stdin.write(b"/quit\n")
            await process.stdin.drain()
            await asyncio.wait_for(process.wait(), 20)
            assert process.returncode == 0
    finally:
        for process in processes:
            if process.returncode is None:
                process.kill()
                await process.wait()


async def test_voice_bot_plays_a_file_into_a_room(voice, tmp_path):
    """The voice bot against auth + voice + gateway on loopback: a test participant
    hears the tone of the WAV it plays, and it leaves when done."""
    import math
    import struct
    import time
    import wave

    from meshkit.testing import eventually
    from tests.voice_peers import peak_hz

    rate, seconds = 16_000, 4.0
    tone = tmp_path / "tone.wav"
    with wave.open(str(tone), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(
            b"".join(
                struct.pack("<h", int(16000 * math.sin(2 * math.pi * 440 * i / rate)))
                for i in range(int(seconds * rate))
            )
        )
    ada = await voice.person("ada")
    room = (await ada.call("POST", "/v1/voice/rooms", json={"name": "music"}))["id"]
    await ada.join(room, tone=None)
    env = {**os.environ, "MESHKIT_URL": voice.gateway, "PYTHONPATH": str(ROOT / "sdk")}
    script = "examples/voice_bot/voice_bot.py"
    bot = await start(env, script, room, str(tone), "--times", "2", "--listen-ip", "127.0.0.1")
    try:
        bot_id = (await read_until(bot, "joined ")).split()[-1]

        async def hears_the_bot() -> bool:
            start_at = time.monotonic()
            await asyncio.sleep(0.6)
            return abs(peak_hz(ada.media.heard_from(bot_id, start_at)) - 440) < 15

        await eventually(hears_the_bot, within=15, what="ada hears the bot's file")
        assert "played" in await read_until(bot, "played ")
        await asyncio.wait_for(bot.wait(), 20)
        assert bot.returncode == 0
        people = await ada.call("GET", f"/v1/voice/rooms/{room}/participants")
        assert [p["user_id"] for p in people] == [ada.user_id]
    finally:
        if bot.returncode is None:
            bot.kill()
            await bot.wait()
