"""A voice process that dies (SIGKILL, no goodbye) takes its participants out of their
rooms one state TTL later: another instance sees them gone and announces it."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from meshkit.plugins import get_plugin_manager
from meshkit.runtime import Runtime
from meshkit.testing import eventually, make_settings, meshkit_process
from tests.voice_stack import Caller, VoiceStack

pytestmark = pytest.mark.slow
TTL = 2.0


@pytest.fixture
async def stack(tmp_path: Path, meshkit_redis_url: str) -> AsyncIterator[dict[str, Any]]:
    """auth and a voice instance in this process; a second voice instance outside it."""
    env = {
        "MESHKIT_DATA_DIR": str(tmp_path),
        "MESHKIT_REDIS_URL": meshkit_redis_url,
        "MESHKIT_AUTH_BCRYPT_COST": "4",
        "MESHKIT_SHUTDOWN_TIMEOUT": "2",
        "MESHKIT_VOICE_LISTEN_IPS": "127.0.0.1",
        "MESHKIT_VOICE_STATE_TTL": str(TTL),
        "MESHKIT_LOG_FORMAT": "json",
    }
    settings = make_settings(tmp_path, **env)
    runtime = Runtime(
        settings, get_plugin_manager(settings), ["auth", "voice"], ports={"auth": 0, "voice": 0}
    )
    started = {r.service.name: r for r in await runtime.start()}
    child_env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("MESHKIT_")},
        **env,
        "MESHKIT_AUTH_URLS": started["auth"].url,
    }
    try:
        async with (
            meshkit_process(["voice"], child_env) as (process, urls),
            aiohttp.ClientSession() as http,
        ):
            yield {
                "http": http,
                "auth": started["auth"].url,
                "voice": started["voice"].url,
                "doomed": process,
                "doomed_url": urls["voice"],
            }
    finally:
        await runtime.stop()


async def test_a_killed_voice_process_s_participants_vanish_after_the_ttl(
    stack: dict[str, Any],
) -> None:
    http = stack["http"]
    people = VoiceStack(http, stack["voice"], stack["auth"], None)
    ada = await people.person("ada")
    observer: Caller = await people.person("bob")
    try:
        room = await ada.call("POST", "/v1/voice/rooms", json={"name": "doomed"})
        # ada's media is on the other process, which claims the room
        assert (await ada.join(room["id"], tone=None, gateway=stack["doomed_url"]))["ok"]
        path = f"/v1/voice/rooms/{room['id']}/participants"
        assert [p["user_id"] for p in await observer.call("GET", path)] == [ada.user_id]
        stack["doomed"].send_signal(signal.SIGKILL)
        await stack["doomed"].wait()
        killed = time.monotonic()

        async def gone() -> bool:
            return await observer.call("GET", path) == []

        await eventually(gone, within=TTL * 4, what="ada leaves the room")
        waited = time.monotonic() - killed
        assert waited <= TTL * 2, waited  # one TTL after the last heartbeat, give or take
        # the room is free again: a live instance can host it now
        assert (await observer.join(room["id"], tone=None))["ok"]
    finally:
        for caller in people.callers:
            await caller.close()
