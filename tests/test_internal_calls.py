"""Services calling each other through the runtime: gRPC with discovery, internal REST
routes guarded by service API keys, graceful gRPC drain."""

import asyncio
from collections.abc import Sequence
from typing import Any, ClassVar

import aiohttp
import pytest
from grpclib.client import Channel
from grpclib.health.v1.health_grpc import HealthStub
from grpclib.health.v1.health_pb2 import HealthCheckRequest, HealthCheckResponse

from meshkit import Service, get, hookimpl, post
from meshkit.errors import ServiceUnavailable
from meshkit.plugins import get_plugin_manager
from meshkit.proto.auth.v1 import auth_pb2
from meshkit.proto.auth.v1.auth_grpc import AuthServiceStub
from meshkit.resilience import DeadlineExceeded, NoInstances
from meshkit.rpc import UpstreamUnavailable
from meshkit.runtime import Runtime
from meshkit.security import local_service_key
from meshkit.service import Need
from tests.rpc_sample import Auth


class UsersService(Service):
    """Serves the auth contract over gRPC and one internal REST route."""

    name = "users"
    default_port = 3901
    needs: ClassVar[frozenset[Need]] = frozenset()
    servicer = Auth()

    def servicers(self) -> Sequence[Any]:
        return [self.servicer]

    flaky_failures: ClassVar[list[int]] = [0]
    flaky_calls: ClassVar[list[str]] = []

    @get("/internal/v1/flaky", internal=True)
    async def flaky_get(self) -> dict[str, int]:
        """Fail with 503 as often as the test says, then answer."""
        return self._flaky("GET")

    @post("/internal/v1/flaky", internal=True)
    async def flaky_post(self) -> dict[str, int]:
        """The same for a non-idempotent method."""
        return self._flaky("POST")

    def _flaky(self, method: str) -> dict[str, int]:
        self.flaky_calls.append(method)
        if self.flaky_failures[0] > 0:
            self.flaky_failures[0] -= 1
            raise ServiceUnavailable("told to fail")
        return {"calls": len(self.flaky_calls)}

    @get("/internal/v1/stats", internal=True)
    async def stats(self) -> dict[str, int]:
        """How many gRPC calls were served (for other services only)."""
        return {"calls": self.servicer.calls}


class FrontService(Service):
    """Answers HTTP by asking the users service over gRPC."""

    name = "front"
    default_port = 3902
    needs: ClassVar[frozenset[Need]] = frozenset()

    @get("/v1/users/{user_id}")
    async def user(self, user_id: str) -> dict[str, str]:
        """Look a user up through the users service."""
        stub = self.rpc.stub(AuthServiceStub, "users")
        found = await stub.GetUser(auth_pb2.GetUserRequest(user_id=user_id))
        return {"id": found.id, "username": found.username}

    @get("/v1/users/{user_id}/twice")
    async def user_twice(self, user_id: str) -> dict[str, str]:
        """Ask twice, with a pause between: the second call comes after stopping began."""
        stub = self.rpc.stub(AuthServiceStub, "users")
        await stub.GetUser(auth_pb2.GetUserRequest(user_id=user_id))
        await asyncio.sleep(0.3)
        found = await stub.GetUser(auth_pb2.GetUserRequest(user_id=user_id))
        return {"id": found.id, "username": found.username}

    @get("/v1/ghost")
    async def ghost(self) -> dict[str, str]:
        """Call a service nobody runs."""
        stub = self.rpc.stub(AuthServiceStub, "nobody")
        await stub.GetUser(auth_pb2.GetUserRequest(user_id="u1"))
        return {}


class Plugin:
    @hookimpl
    def meshkit_services(self) -> Sequence[type[Service]]:
        return [UsersService, FrontService]


@pytest.fixture
async def running(meshkit_settings):
    UsersService.servicer = Auth()
    UsersService.flaky_failures[0] = 0
    UsersService.flaky_calls.clear()
    pm = get_plugin_manager(meshkit_settings, plugins=[("pair", Plugin())], load_entry_points=False)
    runtime = Runtime(meshkit_settings, pm, ["users", "front"], ports={"users": 0, "front": 0})
    started = {r.service.name: r for r in await runtime.start()}
    yield runtime, started
    await runtime.stop()


async def test_a_service_calls_another_over_grpc_found_in_process(running):
    _, started = running
    assert started["users"].grpc_port
    assert started["front"].grpc_port is None
    async with aiohttp.ClientSession() as http:
        async with http.get(started["front"].url + "/v1/users/u2") as response:
            assert response.status == 200
            assert await response.json() == {"id": "u2", "username": "bob"}
        async with http.get(started["front"].url + "/v1/users/ghost") as response:
            assert response.status == 502
            problem = await response.json()
            assert problem["type"] == "urn:meshkit:problem:upstream-error"
            assert problem["upstream_status"] == "NOT_FOUND"
        async with http.get(started["front"].url + "/v1/ghost") as response:
            assert response.status == 503
            problem = await response.json()
            assert problem["type"] == "urn:meshkit:problem:no-instances"
    metrics = started["front"].service.metrics.registry
    assert (
        metrics.get_sample_value(
            "meshkit_grpc_client_calls_total",
            {"service": "front", "target": "users", "method": "GetUser", "status": "OK"},
        )
        == 1
    )


async def test_internal_rest_routes_need_a_service_key(running, meshkit_settings):
    _, started = running
    url = started["users"].url + "/internal/v1/stats"
    async with aiohttp.ClientSession() as http:
        async with http.get(url) as response:
            assert response.status == 401
            assert response.content_type == "application/problem+json"
            problem = await response.json()
            assert problem["type"] == "urn:meshkit:problem:invalid-api-key"
            assert response.headers["WWW-Authenticate"] == "ApiKey"
        async with http.get(url, headers={"X-Meshkit-Api-Key": "mk_forged"}) as response:
            assert response.status == 401
        key = local_service_key(meshkit_settings)
        async with http.get(url, headers={"X-Meshkit-Api-Key": key}) as response:
            assert response.status == 200
            assert await response.json() == {"calls": 0}
        async with http.get(started["users"].url + "/openapi.json") as response:
            document = await response.json()
    operation = document["paths"]["/internal/v1/stats"]["get"]
    assert operation["security"] == [{"serviceApiKey": []}]
    assert operation["x-meshkit-internal"] is True
    assert "401" in operation["responses"]
    scheme = document["components"]["securitySchemes"]["serviceApiKey"]
    assert scheme == {
        "type": "apiKey",
        "in": "header",
        "name": "X-Meshkit-Api-Key",
        "description": "Service API key; internal routes only.",
    }


async def test_grpc_health_reports_serving_and_stop_drains_calls(running):
    runtime, started = running
    users = started["users"]
    UsersService.servicer.delay = 0.5
    channel = Channel("127.0.0.1", users.grpc_port)
    try:
        health = await HealthStub(channel).Check(HealthCheckRequest())
        assert health.status == HealthCheckResponse.SERVING
    finally:
        channel.close()
    async with aiohttp.ClientSession() as http:
        call = asyncio.create_task(http.get(started["front"].url + "/v1/users/u1"))
        await asyncio.wait_for(UsersService.servicer.started.wait(), 2)
        await runtime.stop()
        response = await call
        assert response.status == 200, "the HTTP request and the gRPC call it made both drained"
        assert (await response.json())["username"] == "ada"
    assert UsersService.servicer.finished == 1


async def test_internal_rest_calls_carry_the_key_and_retry_only_idempotent_methods(running):
    _, started = running
    rest = started["front"].service.rpc.rest("users")
    stats = await rest.request("GET", "/internal/v1/stats")
    assert stats.status == 200
    assert stats.json() == {"calls": 0}

    UsersService.flaky_failures[0] = 2
    answer = await rest.request("GET", "/internal/v1/flaky")
    assert answer.raise_for_status().json() == {"calls": 3}
    assert UsersService.flaky_calls == ["GET", "GET", "GET"]

    UsersService.flaky_calls.clear()
    UsersService.flaky_failures[0] = 1
    with pytest.raises(UpstreamUnavailable) as caught:
        await rest.request("POST", "/internal/v1/flaky", json={})
    assert caught.value.extensions["upstream_status"] == 503
    assert UsersService.flaky_calls == ["POST"], "a POST is never sent twice"

    missing = await rest.request("GET", "/internal/v1/nothing-here")
    assert missing.status == 404
    with pytest.raises(Exception, match="HTTP 404"):
        missing.raise_for_status()


async def test_internal_rest_deadline_and_unknown_service(running):
    _, started = running
    rpc = started["front"].service.rpc
    with pytest.raises(NoInstances):
        await rpc.rest("nobody").request("GET", "/healthz")
    UsersService.servicer.delay = 1.0
    with pytest.raises(DeadlineExceeded):
        await rpc.rest("front").request("GET", "/v1/users/u1", timeout=0.1)


async def test_a_draining_request_can_still_call_a_service_in_the_same_process(running):
    runtime, started = running
    async with aiohttp.ClientSession() as http:
        call = asyncio.create_task(http.get(started["front"].url + "/v1/users/u2/twice"))
        await asyncio.wait_for(UsersService.servicer.started.wait(), 2)
        await runtime.stop()
        response = await call
        assert response.status == 200
        assert (await response.json())["username"] == "bob"
    assert UsersService.servicer.finished == 2


def test_grpc_port_defaults_to_http_port_plus_offset(meshkit_settings, tmp_path):
    from meshkit.testing import make_settings

    assert UsersService(meshkit_settings).grpc_port_for(3901) == 5901
    assert UsersService(meshkit_settings).grpc_port_for(0) == 0
    custom = make_settings(tmp_path, MESHKIT_USERS_GRPC_PORT="7777", MESHKIT_GRPC_PORT_OFFSET="10")
    assert UsersService(custom).grpc_port_for(3901) == 7777
    assert FrontService(custom).grpc_port_for(3902) == 3912
