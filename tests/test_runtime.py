"""Running services in one event loop: shared Redis, ports, graceful drain."""

import asyncio

import aiohttp
import pytest

from meshkit.plugins import get_plugin_manager
from meshkit.runtime import Runtime, resolve
from meshkit.testing import make_settings
from tests.sample import GreeterPlugin, NotesService, StatelessService


@pytest.fixture
def pm(meshkit_settings):
    return get_plugin_manager(
        meshkit_settings, plugins=[("greeter", GreeterPlugin())], load_entry_points=False
    )


def test_resolve_expands_all_in_port_order(tmp_path):
    pm = get_plugin_manager(make_settings(tmp_path))
    assert resolve(pm, ["all"]) == ["gateway", "auth", "messaging", "voice", "servers"]
    assert resolve(pm, ["auth", "auth", "gateway"]) == ["auth", "gateway"]


async def test_two_services_in_one_process_share_redis(meshkit_settings, pm):
    runtime = Runtime(
        meshkit_settings, pm, ["notes", "stateless"], ports={"notes": 0, "stateless": 0}
    )
    running = await runtime.start()
    try:
        assert [r.service.name for r in running] == ["notes", "stateless"]
        assert all(r.port > 0 for r in running)
        async with aiohttp.ClientSession() as http:
            for item in running:
                async with http.get(item.url + "/readyz") as response:
                    assert response.status == 200
                    body = await response.json()
                    assert body["service"] == item.service.name
        assert isinstance(running[0].service, NotesService)
        assert running[0].service.redis is not None
    finally:
        await runtime.stop()
    assert NotesService.started[-1] == "down"
    assert {"shutdown:notes", "shutdown:stateless"} <= set(GreeterPlugin.events)


async def test_stop_drains_in_flight_requests(meshkit_settings, pm):
    runtime = Runtime(meshkit_settings, pm, ["stateless"], ports={"stateless": 0})
    (running,) = await runtime.start()
    async with aiohttp.ClientSession() as http:
        slow = asyncio.create_task(http.get(running.url + "/v1/slow", params={"seconds": "0.8"}))
        await asyncio.sleep(0.2)
        stopping = asyncio.create_task(runtime.stop())
        response = await slow
        assert response.status == 200
        assert await response.json() == {"slept": 0.8}
        await stopping
        with pytest.raises(aiohttp.ClientConnectionError):
            await http.get(running.url + "/healthz")


async def test_drain_is_bounded(meshkit_settings, pm):
    settings = meshkit_settings.model_copy(update={"shutdown_timeout": 0.3})
    runtime = Runtime(settings, pm, ["stateless"], ports={"stateless": 0})
    (running,) = await runtime.start()
    loop = asyncio.get_running_loop()
    async with aiohttp.ClientSession() as http:
        slow = asyncio.create_task(http.get(running.url + "/v1/slow", params={"seconds": "30"}))
        await asyncio.sleep(0.2)
        started = loop.time()
        await runtime.stop()
        assert loop.time() - started < 5
        with pytest.raises(aiohttp.ClientError):
            await slow


async def test_failed_start_undoes_what_started(meshkit_settings, pm):
    blocker = Runtime(meshkit_settings, pm, ["stateless"], ports={"stateless": 0})
    (taken,) = await blocker.start()
    try:
        runtime = Runtime(
            meshkit_settings,
            pm,
            ["notes", "stateless"],
            ports={"notes": 0, "stateless": taken.port},
        )
        with pytest.raises(OSError, match="address already in use"):
            await runtime.start()
        assert runtime.running == []
        assert NotesService.started[-1] == "down"
    finally:
        await blocker.stop()


async def test_stateless_service_opens_no_redis(tmp_path):
    settings = make_settings(tmp_path, MESHKIT_REDIS_URL="redis://127.0.0.1:1")
    pm = get_plugin_manager(
        settings, plugins=[("greeter", GreeterPlugin())], load_entry_points=False
    )
    runtime = Runtime(settings, pm, ["stateless"], ports={"stateless": 0})
    (running,) = await runtime.start()
    try:
        assert isinstance(running.service, StatelessService)
    finally:
        await runtime.stop()
