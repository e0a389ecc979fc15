"""Several voice processes behind several gateways: a room's signaling always reaches
the one instance that hosts the room (meshkit.affinity), whichever gateway a client uses."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from redis.asyncio import Redis

from meshkit.affinity import owner_key
from meshkit.plugins import get_plugin_manager
from meshkit.runtime import Runtime
from meshkit.testing import eventually, free_ports, make_settings
from tests.test_voice_signaling import a_room, tone_check
from tests.voice_stack import VoiceStack

pytestmark = pytest.mark.slow


class Cluster(VoiceStack):
    """auth, two voice instances, two gateways (each knowing both voice instances)."""

    voices: list[Any]
    gateways: list[str]


@pytest.fixture
async def cluster(tmp_path: Path, meshkit_redis_url: str) -> AsyncIterator[Cluster]:
    auth, v1, v2, g1, g2 = free_ports(5)
    voice_urls = f"http://127.0.0.1:{v1},http://127.0.0.1:{v2}"
    common = {
        "MESHKIT_REDIS_URL": meshkit_redis_url,
        "MESHKIT_AUTH_BCRYPT_COST": "4",
        "MESHKIT_SHUTDOWN_TIMEOUT": "2",
        "MESHKIT_GATEWAY_HEALTH_INTERVAL": "0.2",
        "MESHKIT_GATEWAY_RATE_LIMITS": "default=5000/60s,auth=1000/60s",
        "MESHKIT_AUTH_URLS": f"http://127.0.0.1:{auth}",
        "MESHKIT_VOICE_URLS": voice_urls,
        "MESHKIT_VOICE_LISTEN_IPS": "127.0.0.1",
    }
    runtimes: list[Runtime] = []
    voices = []
    gateways = []
    try:
        for name, port in (
            ("auth", auth),
            ("voice", v1),
            ("voice", v2),
            ("gateway", g1),
            ("gateway", g2),
        ):
            settings = make_settings(tmp_path, **common)
            runtime = Runtime(settings, get_plugin_manager(settings), [name], ports={name: port})
            runtimes.append(runtime)
            started = await runtime.start()
            if name == "voice":
                voices.append(started[0].service)
            if name == "gateway":
                gateways.append(started[0].service)
        async with aiohttp.ClientSession() as http:
            stack = Cluster(http, f"http://127.0.0.1:{g1}", f"http://127.0.0.1:{auth}", None)
            stack.voices = voices
            stack.gateways = [f"http://127.0.0.1:{g1}", f"http://127.0.0.1:{g2}"]
            for gateway in gateways:  # both know both instances' ids from their checks
                pool = gateway.upstreams.pool("voice")
                await eventually(lambda pool=pool: len(set(pool.ids.values())) == 2, within=10)
            try:
                yield stack
            finally:
                for caller in stack.callers:
                    await caller.close()
    finally:
        for runtime in reversed(runtimes):
            await runtime.stop()


def hosts(cluster: Cluster, room_id: str) -> list[int]:
    return [i for i, voice in enumerate(cluster.voices) if room_id in voice.sfu.rooms]


async def test_a_rooms_callers_meet_on_one_instance_through_any_gateway(cluster: Cluster) -> None:
    one, two = cluster.gateways
    ada, bob = await cluster.person("ada"), await cluster.person("bob")
    for index in range(4):  # several rooms: each lands on one instance, whoever asks
        room = await a_room(ada)
        ticket = await ada.call("POST", f"/v1/voice/rooms/{room}/join")
        assert ticket["signaling_query"] == {"room": room}
        assert (await ada.join(room, tone=440.0, gateway=one))["ok"]
        assert (await bob.join(room, tone=None, gateway=two))["ok"]
        assert len(hosts(cluster, room)) == 1
        if index == 0:
            await eventually(tone_check(bob, ada), within=15, what="bob hears ada")
        for caller in (ada, bob):
            await caller.hang_up()


async def test_the_owner_recorded_in_redis_wins_over_the_hash(
    cluster: Cluster, meshkit_redis: Redis
) -> None:
    ada = await cluster.person("ada")
    for owner in (0, 1):
        room = await a_room(ada)
        instance = cluster.voices[owner].instance_id
        for gateway in cluster.gateways:
            # as if the instance hosted the room (the last one out releases it: set again)
            await meshkit_redis.set(owner_key("voice", "room", room), instance, ex=30)
            ack = await ada.join(room, tone=None, gateway=gateway)
            assert ack["ok"], ack
            assert hosts(cluster, room) == [owner]
            await ada.hang_up()
            key = owner_key("voice", "room", room)
            await eventually(lambda room=room: not hosts(cluster, room), what="ada gone")

            async def released(key: str = key) -> bool:
                return await meshkit_redis.get(key) is None

            await eventually(released, what="the room released")
