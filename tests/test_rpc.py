"""The gRPC stack over real loopback grpclib servers: keys, deadlines, retries, breaker,
balancing, draining, error mapping."""

import asyncio
import socket
import time

import pytest
from grpclib.client import Channel
from grpclib.const import Status
from grpclib.exceptions import GRPCError
from grpclib.health.v1.health_grpc import HealthStub
from grpclib.health.v1.health_pb2 import HealthCheckRequest, HealthCheckResponse
from grpclib.reflection.v1.reflection_grpc import ServerReflectionStub
from grpclib.reflection.v1.reflection_pb2 import ServerReflectionRequest
from prometheus_client import CollectorRegistry

from meshkit.observability import RpcMetrics
from meshkit.proto.auth.v1 import auth_pb2
from meshkit.proto.auth.v1.auth_grpc import AuthServiceStub
from meshkit.proto.messaging.v1 import messaging_pb2
from meshkit.proto.messaging.v1.messaging_grpc import MessagingServiceStub
from meshkit.resilience import (
    BreakerPolicy,
    BreakerRegistry,
    CircuitOpen,
    DeadlineExceeded,
    NoInstances,
    with_fallback,
)
from meshkit.rpc import RpcClients, RpcServer, UpstreamUnavailable, is_idempotent
from meshkit.security import KeyRing, digest_of
from meshkit.testing import make_settings
from tests.rpc_sample import Auth, Messaging

KEY = "mk_test-key-for-the-rpc-suite-0123456789abcdef"


@pytest.fixture
async def serve():
    """Start RpcServers on free loopback ports; stop them all afterwards."""
    started: list[RpcServer] = []

    async def start(*servicers, drain_timeout=2.0) -> RpcServer:
        server = RpcServer(
            "auth",
            servicers,
            keyring=KeyRing([digest_of(KEY)]),
            metrics=RpcMetrics.of("auth", CollectorRegistry()),
            drain_timeout=drain_timeout,
        )
        await server.start("127.0.0.1", 0)
        started.append(server)
        return server

    yield start
    for server in started:
        await server.stop()


@pytest.fixture
async def clients(tmp_path):
    """RpcClients for a caller whose auth/messaging instances are the given ports."""
    made: list[RpcClients] = []

    def make(auth=(), messaging=(), registry=None, clock=None, **env) -> RpcClients:
        values = {
            "MESHKIT_SERVICE_API_KEY": KEY,
            "MESHKIT_RPC_BACKOFF_BASE": "0.01",
            "MESHKIT_RPC_BACKOFF_MAX": "0.02",
            **env,
        }
        if auth:
            values["MESHKIT_AUTH_GRPC_URLS"] = ",".join(f"127.0.0.1:{p}" for p in auth)
        if messaging:
            values["MESHKIT_MESSAGING_GRPC_URLS"] = ",".join(f"127.0.0.1:{p}" for p in messaging)
        settings = make_settings(tmp_path, **values)
        breakers = None
        if clock is not None:
            breakers = BreakerRegistry(BreakerPolicy.from_settings(settings), clock=clock)
        made.append(
            RpcClients.for_settings(settings, caller="caller", registry=registry, breakers=breakers)
        )
        return made[-1]

    yield make
    for client in made:
        await client.close()


@pytest.fixture
def dead_port():
    """A port that refuses connections: bound (so nothing else takes it), not listening."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


async def test_a_call_reaches_the_servicer_with_key_and_request_id(serve, clients):
    from meshkit.observability import request_id_var

    auth = Auth()
    server = await serve(auth)
    stub = clients(auth=[server.port]).stub(AuthServiceStub, "auth")
    token = request_id_var.set("req-123")
    try:
        reply = await stub.ValidateToken(auth_pb2.ValidateTokenRequest(token="good"))
    finally:
        request_id_var.reset(token)
    assert reply.valid
    assert reply.user_id == "u1"
    assert auth.metadata[0]["x-meshkit-api-key"] == KEY
    assert auth.metadata[0]["x-request-id"] == "req-123"
    users = await stub.BatchGetUsers(auth_pb2.BatchGetUsersRequest(user_ids=["u2", "nope"]))
    assert [u.username for u in users.users] == ["bob"]
    assert list(users.missing_ids) == ["nope"]


@pytest.mark.parametrize("key", [None, "mk_wrong", "x"])
async def test_missing_or_wrong_api_key_is_unauthenticated(serve, key):
    auth = Auth()
    server = await serve(auth)
    channel = Channel("127.0.0.1", server.port)
    try:
        metadata = {"x-meshkit-api-key": key} if key is not None else None
        with pytest.raises(GRPCError) as caught:
            await AuthServiceStub(channel).GetUser(
                auth_pb2.GetUserRequest(user_id="u1"), metadata=metadata
            )
    finally:
        channel.close()
    assert caught.value.status is Status.UNAUTHENTICATED
    assert auth.calls == 0


async def test_health_needs_no_key_and_reflection_lists_the_contract(serve):
    server = await serve(Auth())
    channel = Channel("127.0.0.1", server.port)
    try:
        health = await HealthStub(channel).Check(HealthCheckRequest(service=""))
        assert health.status == HealthCheckResponse.SERVING
        named = await HealthStub(channel).Check(
            HealthCheckRequest(service="meshkit.auth.v1.AuthService")
        )
        assert named.status == HealthCheckResponse.SERVING
        replies = await ServerReflectionStub(channel).ServerReflectionInfo(
            [ServerReflectionRequest(list_services="")],
            metadata={"x-meshkit-api-key": KEY},
        )
    finally:
        channel.close()
    names = {s.name for s in replies[0].list_services_response.service}
    assert "meshkit.auth.v1.AuthService" in names
    assert "grpc.health.v1.Health" in names


async def test_a_servicer_problem_becomes_the_matching_status(serve, clients):
    server = await serve(Auth())
    stub = clients(auth=[server.port]).stub(AuthServiceStub, "auth")
    with pytest.raises(GRPCError) as caught:
        await stub.GetUser(auth_pb2.GetUserRequest(user_id="ghost"))
    assert caught.value.status is Status.NOT_FOUND
    assert "ghost" in (caught.value.message or "")
    assert "urn:meshkit:problem:not-found" in (caught.value.message or "")


async def test_every_call_has_a_deadline(serve, clients):
    auth = Auth()
    auth.delay = 5.0
    server = await serve(auth)
    stub = clients(auth=[server.port], MESHKIT_RPC_TIMEOUT="0.2").stub(AuthServiceStub, "auth")
    started = time.monotonic()
    with pytest.raises(DeadlineExceeded):
        await stub.GetUser(auth_pb2.GetUserRequest(user_id="u1"))
    assert time.monotonic() - started < 2.0
    with pytest.raises(DeadlineExceeded):
        await stub.GetUser(auth_pb2.GetUserRequest(user_id="u1"), timeout=0.05)
    assert auth.finished == 0


async def test_idempotent_calls_are_retried_until_they_succeed(serve, clients):
    auth = Auth()
    auth.fail_next = 2
    server = await serve(auth)
    registry = CollectorRegistry()
    stub = clients(auth=[server.port], registry=registry).stub(AuthServiceStub, "auth")
    user = await stub.GetUser(auth_pb2.GetUserRequest(user_id="u1"))
    assert user.username == "ada"
    assert auth.calls == 3
    attempts = registry.get_sample_value(
        "meshkit_grpc_client_attempts_total",
        {"service": "caller", "target": "auth", "outcome": "failure"},
    )
    assert attempts == 2


async def test_retries_stop_at_max_attempts(serve, clients):
    auth = Auth()
    auth.fail_next = 10
    server = await serve(auth)
    stub = clients(auth=[server.port], MESHKIT_RPC_MAX_ATTEMPTS="3").stub(AuthServiceStub, "auth")
    with pytest.raises(UpstreamUnavailable):
        await stub.GetUser(auth_pb2.GetUserRequest(user_id="u1"))
    assert auth.calls == 3


async def test_application_errors_are_not_retried(serve, clients):
    auth = Auth()
    auth.fail_next = 1
    auth.fail_status = Status.PERMISSION_DENIED
    server = await serve(auth)
    stub = clients(auth=[server.port]).stub(AuthServiceStub, "auth")
    with pytest.raises(GRPCError) as caught:
        await stub.GetUser(auth_pb2.GetUserRequest(user_id="u1"))
    assert caught.value.status is Status.PERMISSION_DENIED
    assert auth.calls == 1


async def test_non_idempotent_calls_are_never_sent_twice(serve, clients):
    messaging = Messaging()
    messaging.fail_after_posting = True
    server = await serve(messaging)
    stub = clients(messaging=[server.port]).stub(MessagingServiceStub, "messaging")
    with pytest.raises(UpstreamUnavailable):
        await stub.PostSystemMessage(
            messaging_pb2.PostSystemMessageRequest(channel_id="c1", text="deployed")
        )
    assert messaging.posted == ["deployed"]


def test_idempotency_comes_from_the_contract():
    assert is_idempotent("/meshkit.auth.v1.AuthService/GetUser")
    assert is_idempotent("/meshkit.auth.v1.AuthService/ValidateToken")
    assert not is_idempotent("/meshkit.messaging.v1.MessagingService/PostSystemMessage")
    assert not is_idempotent("/no.such.Service/Method")


async def test_round_robin_spreads_calls_over_instances(serve, clients):
    first, second = Auth("a"), Auth("b")
    servers = [await serve(first), await serve(second)]
    stub = clients(auth=[s.port for s in servers]).stub(AuthServiceStub, "auth")
    for _ in range(10):
        await stub.CheckPermission(auth_pb2.CheckPermissionRequest(user_id="u1"))
    assert (first.calls, second.calls) == (5, 5)


async def test_a_dead_instance_is_skipped_even_for_non_idempotent_calls(serve, clients, dead_port):
    messaging = Messaging()
    alive = await serve(messaging)
    dead = dead_port
    registry = CollectorRegistry()
    stub = clients(
        messaging=[dead, alive.port], registry=registry, MESHKIT_BREAKER_FAILURE_THRESHOLD="2"
    ).stub(MessagingServiceStub, "messaging")
    for number in range(8):
        reply = await stub.PostSystemMessage(
            messaging_pb2.PostSystemMessageRequest(channel_id="c1", text=f"m{number}")
        )
        assert reply.message_id
    assert messaging.posted == [f"m{n}" for n in range(8)]
    failures = registry.get_sample_value(
        "meshkit_grpc_client_attempts_total",
        {"service": "caller", "target": "messaging", "outcome": "failure"},
    )
    assert failures == 2, "once its circuit opened, the dead instance got no more attempts"
    state = registry.get_sample_value(
        "meshkit_circuit_state", {"service": "caller", "instance": f"grpc://127.0.0.1:{dead}"}
    )
    assert state == 2


async def test_breaker_opens_fails_fast_half_opens_and_closes(serve, clients):
    auth = Auth()
    server = await serve(auth)
    clock = Clock()
    rpc = clients(
        auth=[server.port],
        clock=clock,
        MESHKIT_BREAKER_FAILURE_THRESHOLD="2",
        MESHKIT_BREAKER_COOLDOWN="30",
        MESHKIT_RPC_MAX_ATTEMPTS="1",
    )
    stub = rpc.stub(AuthServiceStub, "auth")
    breaker = rpc.breakers.get(f"grpc://127.0.0.1:{server.port}")
    request = auth_pb2.GetUserRequest(user_id="u1")

    auth.fail_next = 2
    for _ in range(2):
        with pytest.raises(UpstreamUnavailable):
            await stub.GetUser(request)
    assert breaker.state.value == "open"

    with pytest.raises(CircuitOpen) as caught:
        await stub.GetUser(request)
    assert auth.calls == 2, "an open circuit sends nothing"
    assert caught.value.status == 503
    assert caught.value.headers["Retry-After"] == "30"
    assert await with_fallback(stub.GetUser(request), auth_pb2.User(id="cached")) == (
        auth_pb2.User(id="cached")
    )

    clock.now += 30
    assert breaker.state.value == "half_open"
    auth.fail_next = 1
    with pytest.raises(UpstreamUnavailable):
        await stub.GetUser(request)
    assert breaker.state.value == "open", "a failed trial call opens the circuit again"
    with pytest.raises(CircuitOpen):
        await stub.GetUser(request)

    clock.now += 30
    assert (await stub.GetUser(request)).username == "ada"
    assert breaker.state.value == "closed"
    assert auth.calls == 4


async def test_an_unexpected_client_error_gives_the_trial_slot_back(serve, clients):
    server = await serve(Auth())
    clock = Clock()
    rpc = clients(auth=[server.port], clock=clock, MESHKIT_BREAKER_FAILURE_THRESHOLD="1")
    breaker = rpc.breakers.get(f"grpc://127.0.0.1:{server.port}")
    breaker.acquire()
    breaker.record_failure()
    clock.now += 60
    stub = rpc.stub(AuthServiceStub, "auth")
    with pytest.raises(TypeError):
        await stub.GetUser(auth_pb2.ValidateTokenRequest(token="wrong message type"))
    assert breaker.state.value == "half_open"
    assert (await stub.GetUser(auth_pb2.GetUserRequest(user_id="u1"))).username == "ada"
    assert breaker.state.value == "closed"


async def test_failures_behind_a_healthy_server_are_not_retried_or_held_against_it(serve, clients):
    """A → B → C with C down: B answers at once; A neither retries B nor opens B's circuit."""
    from meshkit.errors import Problem
    from meshkit.rpc.errors import grpc_error_of

    auth = Auth()
    auth.fail_next = 10
    server = await serve(auth)
    rpc = clients(auth=[server.port], MESHKIT_BREAKER_FAILURE_THRESHOLD="2")
    breaker = rpc.breakers.get(f"grpc://127.0.0.1:{server.port}")
    stub = rpc.stub(AuthServiceStub, "auth")
    passed_on: list[Problem] = [
        UpstreamUnavailable("c is unavailable"),
        CircuitOpen("c is open"),
        DeadlineExceeded("c was slow"),
    ]
    for problem in passed_on:
        auth.fail_status = grpc_error_of(problem).status
        auth.fail_message = grpc_error_of(problem).message
        with pytest.raises(GRPCError):
            await stub.GetUser(auth_pb2.GetUserRequest(user_id="u1"))
    assert auth.calls == 3, "one attempt each"
    assert breaker.state.value == "closed"


async def test_no_configured_instance_is_a_typed_error(clients):
    stub = clients().stub(AuthServiceStub, "auth")
    with pytest.raises(NoInstances):
        await stub.GetUser(auth_pb2.GetUserRequest(user_id="u1"))


async def test_draining_finishes_running_calls_and_refuses_new_ones(serve, clients):
    auth = Auth()
    auth.hold = asyncio.Event()  # the running call lasts until the checks below are done
    server = await serve(auth)
    rpc = clients(auth=[server.port], MESHKIT_RPC_MAX_ATTEMPTS="1")
    stub = rpc.stub(AuthServiceStub, "auth")
    running = asyncio.create_task(stub.GetUser(auth_pb2.GetUserRequest(user_id="u1")))
    await asyncio.wait_for(auth.started.wait(), 2)
    stopping = asyncio.create_task(server.stop())
    await asyncio.sleep(0)
    channel = Channel("127.0.0.1", server.port)
    try:
        health = await HealthStub(channel).Check(HealthCheckRequest(service=""), timeout=5)
        assert health.status == HealthCheckResponse.NOT_SERVING
        with pytest.raises(GRPCError) as refused:
            await AuthServiceStub(channel).GetUser(
                auth_pb2.GetUserRequest(user_id="u2"),
                metadata={"x-meshkit-api-key": KEY},
                timeout=5,
            )
    finally:
        channel.close()
        auth.hold.set()
    assert refused.value.status is Status.UNAVAILABLE
    assert (refused.value.message or "").startswith("urn:meshkit:problem:draining")
    assert (await running).username == "ada"
    await stopping
    assert auth.finished == 1


async def test_a_call_refused_by_a_draining_server_moves_on_even_if_not_idempotent(serve, clients):
    first, second = Messaging(), Messaging()
    draining = await serve(first)
    alive = await serve(second)
    await draining.stop()
    await asyncio.sleep(0)
    rpc = clients(messaging=[draining.port, alive.port])
    stub = rpc.stub(MessagingServiceStub, "messaging")
    for number in range(4):
        await stub.PostSystemMessage(
            messaging_pb2.PostSystemMessageRequest(channel_id="c", text=f"m{number}")
        )
    assert first.posted == []
    assert second.posted == ["m0", "m1", "m2", "m3"]


async def test_a_silent_instance_is_given_up_on_and_another_tried(serve, clients):
    silent, alive = Auth("silent"), Auth("alive")
    silent.delay = 30
    servers = [await serve(silent, drain_timeout=0.1), await serve(alive)]
    rpc = clients(
        auth=[s.port for s in servers],
        MESHKIT_RPC_TIMEOUT="5",
        # long enough that the live instance always answers in time (a first connection
        # on a busy machine took more than 0.2 s), far below the silent one's 30 s
        MESHKIT_RPC_ATTEMPT_TIMEOUT="0.6",
    )
    stub = rpc.stub(AuthServiceStub, "auth")
    started = time.monotonic()
    for _ in range(4):
        assert (await stub.GetUser(auth_pb2.GetUserRequest(user_id="u1"))).username == "ada"
    assert time.monotonic() - started < 4
    assert alive.finished == 4


async def test_a_short_caller_deadline_does_not_count_against_the_instance(serve, clients):
    auth = Auth()
    auth.delay = 0.5
    server = await serve(auth)
    rpc = clients(auth=[server.port], MESHKIT_BREAKER_FAILURE_THRESHOLD="1")
    stub = rpc.stub(AuthServiceStub, "auth")
    with pytest.raises(DeadlineExceeded):
        await stub.GetUser(auth_pb2.GetUserRequest(user_id="u1"), timeout=0.05)
    assert rpc.breakers.get(f"grpc://127.0.0.1:{server.port}").state.value == "closed"


async def test_streaming_calls_go_through_the_balanced_channel(serve, clients):
    server = await serve(Auth())
    rpc = clients(auth=[server.port])
    health = rpc.stub(HealthStub, "auth")
    async with health.Watch.open() as stream:
        await stream.send_message(HealthCheckRequest(service=""), end=True)
        first = await stream.recv_message()
        assert first.status == HealthCheckResponse.SERVING
        await stream.cancel()


async def test_opening_a_unary_method_is_refused_with_a_hint(serve, clients):
    server = await serve(Auth())
    stub = clients(auth=[server.port]).stub(AuthServiceStub, "auth")
    with pytest.raises(TypeError, match=r"await stub\.Method"):
        async with stub.GetUser.open() as stream:
            await stream.send_request()


async def test_connections_to_instances_discovery_dropped_are_closed(serve, clients):
    servers = [await serve(Auth("a")), await serve(Auth("b"))]
    rpc = clients(auth=[s.port for s in servers])
    stub = rpc.stub(AuthServiceStub, "auth")
    for _ in range(2):
        await stub.GetUser(auth_pb2.GetUserRequest(user_id="u1"))
    channel = rpc.channel("auth")
    assert len(channel._channels) == 2
    rpc.directory.register_local("auth", "grpc", "127.0.0.1", servers[1].port)
    rpc.directory.settings._environ.pop("MESHKIT_AUTH_GRPC_URLS")
    rpc.directory._lists.clear()
    await stub.GetUser(auth_pb2.GetUserRequest(user_id="u1"))
    assert [i.port for i in channel._channels] == [servers[1].port]
    assert [b.name for b in rpc.breakers] == [f"grpc://127.0.0.1:{servers[1].port}"]


async def test_server_metrics_count_calls_by_method_and_status(serve, clients):
    auth = Auth()
    server = await serve(auth)
    stub = clients(auth=[server.port]).stub(AuthServiceStub, "auth")
    await stub.GetUser(auth_pb2.GetUserRequest(user_id="u1"))
    with pytest.raises(GRPCError):
        await stub.GetUser(auth_pb2.GetUserRequest(user_id="ghost"))
    registry = server.metrics.registry
    labels = {"service": "auth", "method": "/meshkit.auth.v1.AuthService/GetUser"}
    ok = registry.get_sample_value("meshkit_grpc_server_calls_total", {**labels, "status": "OK"})
    missing = registry.get_sample_value(
        "meshkit_grpc_server_calls_total", {**labels, "status": "NOT_FOUND"}
    )
    assert (ok, missing) == (1, 1)
