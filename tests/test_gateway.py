"""The gateway in front of real services: routing, streaming, balancing, tokens, limits,
WebSocket and Socket.IO — every request over real sockets on 127.0.0.1."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import time
import tracemalloc
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import socketio
import yarl
from aiohttp import web
from prometheus_client.parser import text_string_to_metric_families

from meshkit.config import Settings
from meshkit.plugins import get_plugin_manager
from meshkit.redis import EmbeddedRedis
from meshkit.runtime import Running, Runtime
from meshkit.testing import make_settings, require_executable
from tests import gateway_upstream
from tests.test_gateway_docs import Recorder, chromium, png_size_and_colours

PASSWORD = "correct horse battery staple"
PROBLEM = "application/problem+json"
MB = 1024 * 1024

Stack = dict[str, Running]
StackFactory = Callable[..., Awaitable[Stack]]


def settings_for(tmp_path: Path, redis_url: str, **env: str) -> Settings:
    values = {
        "MESHKIT_REDIS_URL": redis_url,
        "MESHKIT_AUTH_BCRYPT_COST": "4",
        "MESHKIT_GATEWAY_PUBLIC_ROUTES": "POST /v1/auth/*,GET /.well-known/*,GET /v1/echo/public,"
        "* /socket.io/*",
        "MESHKIT_GATEWAY_HEALTH_INTERVAL": "0.2",
        "MESHKIT_GATEWAY_ROUTES": "/socket.io=echo",  # messaging serves it too
        **env,
    }
    return make_settings(tmp_path, **values)


@pytest.fixture
async def stack(
    tmp_path: Path, meshkit_redis_url: str, meshkit_redis: Any
) -> AsyncIterator[StackFactory]:
    """Start services (auth, echo, gateway by default) in this process on free ports."""
    runtimes: list[Runtime] = []

    async def start(
        names: tuple[str, ...] = ("auth", "echo", "gateway"),
        *,
        data: str = "data",
        redis_url: str | None = None,
        **env: str,
    ) -> Stack:
        settings = settings_for(tmp_path / data, redis_url or meshkit_redis_url, **env)
        pm = get_plugin_manager(settings, plugins=[("echo", gateway_upstream)])
        runtime = Runtime(settings, pm, list(names), ports=dict.fromkeys(names, 0))
        runtimes.append(runtime)
        return {r.service.name: r for r in await runtime.start()}

    yield start
    for runtime in reversed(runtimes):
        await runtime.stop()


async def token_for(http: aiohttp.ClientSession, gateway: str, name: str = "ada") -> str:
    """Register and log in through the gateway; the access token."""
    async with http.post(
        f"{gateway}/v1/auth/register",
        json={"email": f"{name}@example.test", "username": name, "password": PASSWORD},
    ) as response:
        assert response.status == 201, await response.text()
    async with http.post(
        f"{gateway}/v1/auth/login", json={"login": name, "password": PASSWORD}
    ) as response:
        assert response.status == 200, await response.text()
        return str((await response.json())["access_token"])


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_requests_reach_the_service_that_serves_the_path(stack):
    services = await stack()
    gateway = services["gateway"].url
    async with aiohttp.ClientSession() as http:
        token = await token_for(http, gateway)
        async with http.get(f"{gateway}/v1/echo/whoami", headers=bearer(token)) as response:
            assert response.status == 200
            body = await response.json()
            assert body["port"] == services["echo"].port
            assert response.headers["X-Request-ID"] == body["request_id"]
        async with http.get(f"{gateway}/.well-known/jwks.json") as response:
            assert response.status == 200
            assert (await response.json())["keys"]
        async with http.get(f"{gateway}/v1/users/me", headers=bearer(token)) as response:
            assert response.status == 200
            assert (await response.json())["username"] == "ada"
        async with http.head(f"{gateway}/v1/users/me", headers=bearer(token)) as response:
            assert response.status == 200  # HEAD of a GET route, through the gateway
            assert response.headers["Content-Type"].startswith("application/json")
            assert await response.read() == b""
        for path in ("/v1/nowhere", "/internal/v1/anything", "/v1/echox/whoami"):
            async with http.get(f"{gateway}{path}", headers=bearer(token)) as response:
                assert response.status == 404, path
                assert response.content_type == PROBLEM
        async with http.get(f"{gateway}/healthz") as response:
            assert (await response.json())["service"] == "gateway"


async def test_forwarding_headers_are_set_and_hop_by_hop_ones_dropped(stack):
    services = await stack()
    gateway = services["gateway"].url
    async with aiohttp.ClientSession() as http:
        token = await token_for(http, gateway)
        headers = {
            **bearer(token),
            "Connection": "keep-alive, X-Hop",
            "X-Hop": "secret",
            "X-Forwarded-For": "203.0.113.9",
            "X-Meshkit-Api-Key": "mk_forged",
            "X-Request-ID": "trace-42",
        }
        async with http.get(f"{gateway}/v1/echo/whoami", headers=headers) as response:
            body = await response.json()
    assert body["hop"] is None
    assert body["forwarded_for"] == "127.0.0.1"  # the client's claim is not believed
    assert body["forwarded_proto"] == "http"
    assert body["forwarded_host"] == f"127.0.0.1:{services['gateway'].port}"
    assert body["request_id"] == "trace-42"
    assert response.headers["X-Request-ID"] == "trace-42"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"


async def test_auth_sees_the_client_address_the_gateway_forwarded(stack):
    services = await stack(MESHKIT_AUTH_LOCKOUT_IP_THRESHOLD="3")
    gateway = services["gateway"].url
    async with aiohttp.ClientSession() as http:
        for attempt in range(4):
            async with http.post(
                f"{gateway}/v1/auth/login",
                json={"login": f"ghost{attempt}", "password": PASSWORD},
                headers={"X-Forwarded-For": f"198.51.100.{attempt}"},
            ) as response:
                last = response.status
    assert last == 429  # counted against 127.0.0.1, whatever the client claimed


async def test_a_20_mb_upload_and_download_stream_through_in_bounded_memory(stack):
    services = await stack()
    gateway = services["gateway"].url
    size = 20 * MB
    block = os.urandom(64 * 1024)

    async def body() -> AsyncIterator[bytes]:
        for _ in range(size // len(block)):
            yield block

    async with aiohttp.ClientSession() as http:
        token = await token_for(http, gateway)
        tracemalloc.start()
        try:
            tracemalloc.reset_peak()
            async with http.post(
                f"{gateway}/v1/echo/upload", data=body(), headers=bearer(token)
            ) as response:
                assert response.status == 200, await response.text()
                answer = await response.json()
            _, upload_peak = tracemalloc.get_traced_memory()
            tracemalloc.reset_peak()
            received = 0
            async with http.get(
                f"{gateway}/v1/echo/download", params={"size": str(size)}, headers=bearer(token)
            ) as response:
                assert response.status == 200
                async for chunk in response.content.iter_chunked(64 * 1024):
                    received += len(chunk)
            _, download_peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert answer["bytes"] == size
    assert received == size
    # Client, gateway and upstream share this process: 20 MB buffered anywhere would show.
    assert upload_peak < 6 * MB, upload_peak
    assert download_peak < 6 * MB, download_peak


async def test_bodies_over_the_limit_are_refused_with_413(stack):
    services = await stack(MESHKIT_GATEWAY_MAX_BODY_SIZE=str(MB // 2))
    gateway = services["gateway"].url

    async def chunked() -> AsyncIterator[bytes]:
        for _ in range(40):
            yield b"x" * 64 * 1024

    async with aiohttp.ClientSession() as http:
        token = await token_for(http, gateway)
        async with http.post(
            f"{gateway}/v1/echo/upload", data=b"x" * (MB // 2 + 1), headers=bearer(token)
        ) as response:
            assert response.status == 413
            assert response.content_type == PROBLEM
        with contextlib.suppress(aiohttp.ClientError):
            async with http.post(
                f"{gateway}/v1/echo/upload", data=chunked(), headers=bearer(token)
            ) as response:
                assert response.status == 413
        async with http.post(
            f"{gateway}/v1/echo/upload", data=b"y" * 1000, headers=bearer(token)
        ) as response:
            assert response.status == 200
            assert (await response.json())["bytes"] == 1000


async def test_upstream_failures_map_to_502_503_504(stack, tmp_path):
    with socketio_free_port() as dead_port:
        services = await stack(
            ("echo", "gateway"),
            MESHKIT_GATEWAY_READ_TIMEOUT="0.5",
            MESHKIT_GATEWAY_PUBLIC_ROUTES="GET /v1/echo/*",
        )
        gateway = services["gateway"].url
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{gateway}/v1/echo/slow", params={"seconds": "3"}) as response:
                assert response.status == 504
                assert (await response.json())["type"].endswith(":upstream-timeout")
            async with http.get(f"{gateway}/v1/echo/status", params={"code": "503"}) as response:
                assert response.status == 503  # the upstream's own answer passes through
        broken = await stack(
            ("gateway",),
            data="broken",
            MESHKIT_ECHO_URLS=f"http://127.0.0.1:{dead_port}",
            MESHKIT_GATEWAY_PUBLIC_ROUTES="GET /v1/echo/*",
            MESHKIT_BREAKER_FAILURE_THRESHOLD="2",
        )
        gateway = broken["gateway"].url
        async with aiohttp.ClientSession() as http:
            never_up = []
            for _ in range(4):
                async with http.get(f"{gateway}/v1/echo/public") as response:
                    never_up.append(response.status)
                    assert response.content_type == PROBLEM

            # now it comes up, answers once, and dies: its circuit may open
            async def public(request: web.Request) -> web.Response:
                return web.json_response({})

            app = web.Application()
            app.router.add_get("/v1/echo/public", public)
            runner = web.AppRunner(app)
            await runner.setup()
            await web.TCPSite(runner, "127.0.0.1", dead_port).start()
            async with http.get(f"{gateway}/v1/echo/public") as response:
                assert response.status == 200
            await runner.cleanup()
            statuses = []
            for _ in range(3):
                async with http.get(f"{gateway}/v1/echo/public") as response:
                    statuses.append(response.status)
                    assert response.content_type == PROBLEM
    # an instance that has never been up is starting, not failed: no circuit opens
    assert never_up == [502] * 4
    assert statuses[0] == 502
    assert statuses[-1] == 503  # the breaker opened: failing fast


async def ready_at(port: int) -> web.AppRunner:
    """Something on ``port`` whose /readyz answers 200 (clean it up to make it die)."""

    async def readyz(request: web.Request) -> web.Response:
        return web.json_response({"status": "ready"})

    app = web.Application()
    app.router.add_get("/readyz", readyz)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner


async def test_idempotent_requests_retry_on_another_instance_others_never(stack):
    with socketio_free_port() as dead_port:
        live = await stack(("echo",), data="live")
        doomed = await ready_at(dead_port)  # up when the gateway first checks, then gone
        services = await stack(
            ("gateway",),
            MESHKIT_ECHO_URLS=f"http://127.0.0.1:{dead_port},{live['echo'].url}",
            MESHKIT_GATEWAY_PUBLIC_ROUTES="* /v1/echo/*",
            MESHKIT_GATEWAY_BALANCING="round_robin",
            MESHKIT_GATEWAY_HEALTH_INTERVAL="60",
            MESHKIT_BREAKER_FAILURE_THRESHOLD="100",
        )
        await doomed.cleanup()
        gateway = services["gateway"].url
        async with aiohttp.ClientSession() as http:
            gets, puts, posts = [], [], []
            for _ in range(4):
                async with http.get(f"{gateway}/v1/echo/public") as response:
                    gets.append(response.status)
                async with http.put(f"{gateway}/v1/echo/upload", data=b"twice?") as response:
                    puts.append(response.status)
                    if response.status == 200:
                        assert (await response.json())["bytes"] == 6
                for _ in range(2):  # two in a row: round-robin puts one on each instance
                    async with http.post(f"{gateway}/v1/echo/upload", data=b"once") as r:
                        posts.append(r.status)
            async with http.get(f"{gateway}/metrics") as response:
                metrics = samples(await response.text())
    assert gets == puts == [200] * 4
    assert 502 in posts  # the POST that met the dead instance was not sent again
    assert 200 in posts
    # what the gateway tells its operator, per instance
    dead, alive = f"http://127.0.0.1:{dead_port}", live["echo"].url
    requests = "meshkit_gateway_upstream_requests_total"
    ok = metrics[requests, (("instance", alive), ("outcome", "ok"), ("service", "echo"))]
    failed = metrics[requests, (("instance", dead), ("outcome", "error"), ("service", "echo"))]
    retried = metrics["meshkit_gateway_upstream_retries_total", (("service", "echo"),)]
    assert ok == 8 + posts.count(200)  # every GET and PUT ended there, and some POSTs
    assert failed == retried + posts.count(502)  # GETs and PUTs retried, POSTs not
    assert retried >= 1
    timed = metrics["meshkit_gateway_upstream_duration_seconds_count", (("service", "echo"),)]
    assert timed == ok + failed
    for instance in (dead, alive):
        labels = (("instance", instance), ("service", "echo"))
        assert metrics["meshkit_gateway_upstream_outstanding", labels] == 0
        circuit = metrics["meshkit_circuit_state", (("instance", instance), ("service", "gateway"))]
        assert circuit == 0  # the failure threshold is 100: still closed
    assert (
        metrics["meshkit_gateway_upstream_healthy", (("instance", alive), ("service", "echo"))] == 1
    )


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Prometheus text exposition as {(sample name, sorted labels): value}."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


@contextlib.contextmanager
def socketio_free_port() -> Any:
    """A port nothing listens on (bound, then closed)."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    yield port


async def test_tokens_expired_revoked_forged_or_missing_are_refused(stack):
    services = await stack()
    gateway = services["gateway"].url
    auth = services["auth"].service
    async with aiohttp.ClientSession() as http:
        token = await token_for(http, gateway)
        header, payload, signature = token.split(".")
        forged = f"{header}.{payload}.{signature[:-4]}AAAA"
        now = int(time.time())
        expired = await auth.keys.sign(  # type: ignore[attr-defined]
            {
                "iss": auth.settings.jwt_issuer,
                "aud": auth.settings.jwt_audience,
                "sub": "someone",
                "iat": now - 600,
                "exp": now - 300,
                "jti": uuid.uuid4().hex,
                "typ": "access",
            },
            typ="at+jwt",
        )
        for bad in (forged, expired, "not-a-token"):
            async with http.get(f"{gateway}/v1/echo/whoami", headers=bearer(bad)) as response:
                assert response.status == 401, bad
                assert response.content_type == PROBLEM
                assert response.headers["WWW-Authenticate"].startswith("Bearer")
        async with http.get(f"{gateway}/v1/echo/whoami") as response:
            assert response.status == 401
        async with http.post(f"{gateway}/v1/auth/logout", headers=bearer(token)) as response:
            assert response.status in (200, 204), await response.text()
        async with http.get(f"{gateway}/v1/echo/whoami", headers=bearer(token)) as response:
            assert response.status == 401
            assert "revoked" in (await response.json())["detail"]
        async with http.get(f"{gateway}/v1/echo/public", headers=bearer(forged)) as response:
            assert response.status == 200  # public: the gateway leaves the token alone


async def test_rate_limit_answers_429_with_headers_shared_by_two_gateways(stack):
    env = {"MESHKIT_GATEWAY_RATE_LIMITS": "default=5/60s", "MESHKIT_ECHO_URLS": ""}
    first = await stack(("echo", "gateway"), **env)
    echo_url = first["echo"].url
    second = await stack(("gateway",), data="second", **{**env, "MESHKIT_ECHO_URLS": echo_url})
    urls = [first["gateway"].url, second["gateway"].url]
    async with aiohttp.ClientSession() as http:
        statuses = []
        for i in range(6):
            async with http.get(f"{urls[i % 2]}/v1/echo/public") as response:
                statuses.append(response.status)
                if response.status == 200:
                    assert response.headers["RateLimit-Policy"].startswith('"default"')
                    assert "RateLimit" in response.headers
                else:
                    refused = response
                    problem = await response.json()
    assert statuses == [200] * 5 + [429]
    assert refused.content_type == PROBLEM
    assert int(refused.headers["Retry-After"]) >= 1
    assert "r=0" in refused.headers["RateLimit"]
    assert problem["status"] == 429


async def test_login_has_its_own_stricter_limit(stack):
    services = await stack(
        MESHKIT_GATEWAY_RATE_LIMITS="default=100/60s,auth=2/60s",
        MESHKIT_GATEWAY_RATE_LIMIT_ROUTES="POST /v1/auth/login=auth",
    )
    gateway = services["gateway"].url
    async with aiohttp.ClientSession() as http:
        statuses = []
        for _ in range(3):
            async with http.post(
                f"{gateway}/v1/auth/login", json={"login": "ghost", "password": PASSWORD}
            ) as response:
                statuses.append(response.status)
                policy = response.headers.get("RateLimit-Policy", "")
        async with http.get(f"{gateway}/v1/echo/public") as response:
            other = response.status
    assert statuses == [401, 401, 429]
    assert policy.startswith('"auth"')
    assert other == 200


@pytest.mark.parametrize(("fail_open", "expected"), [("true", 200), ("false", 503)])
async def test_redis_down_fails_open_or_closed_as_configured(stack, tmp_path, fail_open, expected):
    redis = EmbeddedRedis(tmp_path / f"redis-{fail_open}")
    await redis.start()
    try:
        services = await stack(
            ("echo", "gateway"),
            redis_url=redis.url,
            MESHKIT_GATEWAY_RATE_LIMIT_FAIL_OPEN=fail_open,
        )
        gateway = services["gateway"].url
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{gateway}/v1/echo/public") as response:
                assert response.status == 200
            await redis.stop()
            async with http.get(f"{gateway}/v1/echo/public") as response:
                assert response.status == expected
                if expected == 503:
                    assert response.content_type == PROBLEM
            async with http.get(f"{gateway}/metrics") as response:
                metrics = await response.text()
        mode = "open" if fail_open == "true" else "closed"
        assert f'meshkit_gateway_ratelimit_unavailable_total{{mode="{mode}"}} 1.0' in metrics
    finally:
        await redis.stop()


async def test_websocket_frames_and_closes_pass_both_ways(stack):
    services = await stack()
    gateway = services["gateway"].url
    async with aiohttp.ClientSession() as http:
        token = await token_for(http, gateway)
        async with http.ws_connect(
            f"{gateway}/v1/echo/ws", headers=bearer(token), protocols=("echo.v1",)
        ) as ws:
            assert ws.protocol == "echo.v1"
            await ws.send_str("hello")
            assert (await ws.receive_str()) == "echo:hello"
            await ws.send_bytes(b"abc")
            assert (await ws.receive_bytes()) == b"cba"
            await ws.send_str("close")
            message = await ws.receive()
            assert message.type is aiohttp.WSMsgType.CLOSE
            assert ws.close_code == 4001 or message.data == 4001
        closed = gateway_upstream.EchoService.closed_sockets
        before = len(closed)
        async with http.ws_connect(f"{gateway}/v1/echo/ws", headers=bearer(token)) as ws:
            await ws.send_str("hi")
            assert (await ws.receive_str()) == "echo:hi"
            await ws.close(code=4002)
        for _ in range(100):  # the client closed: the gateway closes the upstream side
            if len(closed) > before:
                break
            await asyncio.sleep(0.02)
        assert closed[before:] == [4002]
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await http.ws_connect(f"{gateway}/v1/echo/ws")
        assert refused.value.status == 401


@pytest.mark.parametrize("transports", [["websocket"], ["polling"]])
async def test_a_socketio_client_talks_through_the_gateway(stack, transports):
    services = await stack(("echo", "gateway"))
    gateway = services["gateway"].url
    client = socketio.AsyncClient(reconnection=False)
    pongs: asyncio.Queue[Any] = asyncio.Queue()
    client.on("pong", pongs.put_nowait)
    await client.connect(gateway, transports=transports, wait_timeout=5)
    try:
        ack = await client.call("ping", {"n": 1}, timeout=5)
        pong = await asyncio.wait_for(pongs.get(), 5)
    finally:
        await client.disconnect()
    assert ack == {"ack": {"n": 1}}
    assert pong["data"] == {"n": 1}


async def test_cors_preflight_and_headers_for_allowed_origins(stack):
    services = await stack(("echo", "gateway"), MESHKIT_GATEWAY_CORS_ORIGINS="http://app.test")
    gateway = services["gateway"].url
    async with aiohttp.ClientSession() as http:
        async with http.options(
            f"{gateway}/v1/echo/public",
            headers={"Origin": "http://app.test", "Access-Control-Request-Method": "GET"},
        ) as response:
            assert response.status == 200
            assert response.headers["Access-Control-Allow-Origin"] == "http://app.test"
        async with http.get(
            f"{gateway}/v1/echo/public", headers={"Origin": "http://app.test"}
        ) as response:
            assert response.headers["Access-Control-Allow-Origin"] == "http://app.test"
        async with http.get(
            f"{gateway}/v1/echo/public", headers={"Origin": "http://evil.test"}
        ) as response:
            assert "Access-Control-Allow-Origin" not in response.headers


async def test_merged_openapi_lists_every_routed_service(stack):
    services = await stack()
    gateway = services["gateway"].url
    async with aiohttp.ClientSession() as http, http.get(f"{gateway}/openapi.json") as response:
        assert response.status == 200
        document = await response.json()
    assert document["openapi"].startswith("3.1")
    assert "/v1/auth/login" in document["paths"]
    assert "/v1/echo/whoami" in document["paths"]
    assert {"auth", "echo"} <= {tag["name"] for tag in document["tags"]}


class UpstreamProcess:
    """An echo instance in a process of its own, to SIGKILL."""

    def __init__(self, process: asyncio.subprocess.Process, port: int) -> None:
        self.process = process
        self.port = port

    @classmethod
    async def start(cls, data_dir: Path, env: dict[str, str]) -> UpstreamProcess:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.gateway_upstream",
            "0",
            str(data_dir),
            stdout=asyncio.subprocess.PIPE,
            env={**os.environ, **env},
            cwd=Path(__file__).parent.parent,
        )
        assert process.stdout is not None
        line = await asyncio.wait_for(process.stdout.readline(), 30)
        assert line.startswith(b"ready "), line
        return cls(process, int(line.split()[1]))

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            self.process.send_signal(signal.SIGKILL)


async def test_killing_one_of_two_instances_mid_load_fails_no_get(
    stack, tmp_path, meshkit_redis_url
):
    env = {"MESHKIT_REDIS_URL": meshkit_redis_url, "MESHKIT_LOG_LEVEL": "WARNING"}
    upstreams = [await UpstreamProcess.start(tmp_path / f"echo{i}", env) for i in range(2)]
    try:
        urls = ",".join(f"http://127.0.0.1:{u.port}" for u in upstreams)
        services = await stack(
            ("gateway",),
            MESHKIT_ECHO_URLS=urls,
            MESHKIT_GATEWAY_PUBLIC_ROUTES="* /v1/echo/*",
            MESHKIT_GATEWAY_BALANCING="round_robin",
            MESHKIT_GATEWAY_HEALTH_INTERVAL="30",
        )
        gateway = services["gateway"].url
        statuses: list[int] = []
        ports: set[int] = set()
        warmed_up = asyncio.Event()
        async with aiohttp.ClientSession() as http:

            async def worker() -> None:
                for _ in range(40):
                    async with http.get(f"{gateway}/v1/echo/public") as response:
                        statuses.append(response.status)
                        if len(statuses) >= 60:
                            warmed_up.set()
                        if response.status == 200:
                            ports.add((await response.json())["port"])
                    await asyncio.sleep(0.005)

            load = [asyncio.create_task(worker()) for _ in range(8)]
            await warmed_up.wait()
            upstreams[0].kill()
            await asyncio.gather(*load)
            posts = []
            for _ in range(4):
                async with http.post(f"{gateway}/v1/echo/upload", data=b"once") as response:
                    posts.append(response.status)
    finally:
        for upstream in upstreams:
            upstream.kill()
            await upstream.process.wait()
    assert len(statuses) == 320
    assert set(statuses) == {200}, sorted(set(statuses))
    assert ports == {u.port for u in upstreams}  # both served before the kill
    assert set(posts) <= {200, 502, 503}
    assert posts.count(200) >= 1


@pytest.mark.slow
async def test_docs_render_every_routed_service_in_chromium(stack, tmp_path):
    executable = require_executable("chromium")
    services = await stack()
    gateway = services["gateway"].url
    recorder = Recorder()
    proxy = await asyncio.start_server(recorder.handle, "127.0.0.1", 0)
    proxy_url = f"http://127.0.0.1:{proxy.sockets[0].getsockname()[1]}"
    screenshot = tmp_path / "docs.png"
    try:
        dom, _ = await chromium(
            executable, tmp_path / "p1", proxy_url, "--dump-dom", f"{gateway}/docs"
        )
        await chromium(
            executable,
            tmp_path / "p2",
            proxy_url,
            f"--screenshot={screenshot}",
            "--window-size=1280,3000",
            f"{gateway}/docs",
        )
    finally:
        proxy.close()
        await proxy.wait_closed()
    html = dom.decode()
    for service in ("auth", "echo"):
        assert f'id="operations-tag-{service}"' in html, service
    for path in ("/v1/auth/login", "/v1/roles/{name}", "/v1/echo/whoami", "/v1/echo/upload"):
        assert f'data-path="{path}"' in html, path
    width, height, colours = png_size_and_colours(screenshot.read_bytes())
    assert (width, height) == (1280, 3000)
    assert colours > 20


async def test_internal_routes_stay_unreachable_with_encoded_slashes(stack):
    services = await stack(("echo", "gateway"), MESHKIT_GATEWAY_PUBLIC_ROUTES="* /v1/echo/*")
    gateway = services["gateway"].url
    async with aiohttp.ClientSession() as http:
        for path in ("/v1/echo/vault/abc", "/v1/echo/vault/a%2fb", "/v1/echo/vault/a%2Fb/"):
            url = yarl.URL(f"{gateway}{path}", encoded=True)
            async with http.get(url) as response:
                assert response.status == 404, path
                assert "reached_internal" not in await response.text()


async def test_clients_breaking_off_uploads_do_not_open_the_circuit(stack):
    services = await stack(
        ("echo", "gateway"),
        MESHKIT_GATEWAY_PUBLIC_ROUTES="* /v1/echo/*",
        MESHKIT_BREAKER_FAILURE_THRESHOLD="2",
    )
    gateway = services["gateway"]
    for _ in range(5):
        _, writer = await asyncio.open_connection("127.0.0.1", gateway.port)
        writer.write(
            b"POST /v1/echo/upload HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000\r\n\r\n"
            + b"x" * 200_000
        )
        await writer.drain()
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()
    await asyncio.sleep(0.2)
    async with aiohttp.ClientSession() as http, http.get(f"{gateway.url}/v1/echo/public") as r:
        assert r.status == 200  # the upstream was never at fault


async def test_readyz_waits_for_every_routed_service_and_says_which(stack):
    with socketio_free_port() as dead_port:
        services = await stack(
            ("gateway",),
            MESHKIT_ECHO_URLS=f"http://127.0.0.1:{dead_port}",
            MESHKIT_AUTH_URLS=f"http://127.0.0.1:{dead_port}",
        )
        gateway = services["gateway"].url
        async with aiohttp.ClientSession() as http, http.get(f"{gateway}/readyz") as response:
            assert response.status == 503
            assert response.content_type == PROBLEM
            problem = await response.json()
    assert {"upstream:auth", "upstream:echo"} <= set(problem["not_ready"])
    assert problem["detail"].startswith("gateway is not ready: upstream:")
    assert problem["checks"]["redis"] == "ok"
    assert "starting" in problem["checks"]["upstream:echo"]
    assert str(dead_port) in problem["checks"]["upstream:echo"]


async def test_options_and_unsupported_methods_get_the_upstream_routes_allow(stack):
    """405 with the upstream route's real Allow (not the catch-all's), before any 401."""
    services = await stack(("auth", "echo", "gateway"))
    gateway, echo = services["gateway"].url, services["echo"].url
    async with aiohttp.ClientSession() as http:
        async with http.request("DELETE", f"{echo}/v1/echo/whoami") as response:
            direct = set(response.headers["Allow"].split(", "))
        answers = {}
        for method, path in [
            ("OPTIONS", "/v1/echo/whoami"),
            ("OPTIONS", "/v1/auth/login"),
            ("DELETE", "/v1/echo/whoami"),  # needs a token for GET; none sent
            ("PATCH", "/v1/echo/upload"),
            ("PROPFIND", "/v1/echo/whoami"),
            ("DELETE", "/v1/auth/login"),
            ("TRACE", "/socket.io/"),  # outside the documents: not a standard method
        ]:
            async with http.request(method, f"{gateway}{path}") as response:
                body = await response.read()
                answers[method, path] = (
                    response.status,
                    response.headers.get("Allow"),
                    response.content_type if body else None,
                )
    assert answers["OPTIONS", "/v1/echo/whoami"] == (204, "GET, HEAD, OPTIONS", None)
    assert answers["OPTIONS", "/v1/auth/login"] == (204, "OPTIONS, POST", None)
    assert answers["DELETE", "/v1/echo/whoami"] == (405, "GET, HEAD, OPTIONS", PROBLEM)
    assert answers["PROPFIND", "/v1/echo/whoami"] == (405, "GET, HEAD, OPTIONS", PROBLEM)
    assert answers["PATCH", "/v1/echo/upload"] == (405, "OPTIONS, POST, PUT", PROBLEM)
    assert answers["DELETE", "/v1/auth/login"] == (405, "OPTIONS, POST", PROBLEM)
    assert answers["TRACE", "/socket.io/"][0] == 405
    assert direct | {"OPTIONS"} == {"GET", "HEAD", "OPTIONS"}  # what the upstream says


@pytest.mark.parametrize(("fail_open", "expected"), [("false", 503), ("true", 200)])
async def test_token_checks_with_redis_down_fail_open_or_closed_as_configured(
    stack, tmp_path, fail_open, expected
):
    """The denylist cannot be read: refuse (default) or accept a valid token, counted."""
    redis = EmbeddedRedis(tmp_path / f"redis-revocation-{fail_open}")
    await redis.start()
    try:
        services = await stack(
            redis_url=redis.url,
            MESHKIT_GATEWAY_REVOCATION_FAIL_OPEN=fail_open,
            MESHKIT_GATEWAY_RATE_LIMIT_FAIL_OPEN="true",
        )
        gateway = services["gateway"].url
        async with aiohttp.ClientSession() as http:
            token = await token_for(http, gateway)
            async with http.get(f"{gateway}/v1/echo/whoami", headers=bearer(token)) as response:
                assert response.status == 200  # keys cached on both hops
            await redis.stop()
            async with http.get(f"{gateway}/v1/echo/whoami", headers=bearer(token)) as response:
                assert response.status == expected
                if expected == 503:
                    assert (await response.json())["type"].endswith(":revocation-unavailable")
            async with http.get(f"{gateway}/v1/echo/public") as response:
                assert response.status == 200  # public routes pass either way
            async with http.get(f"{gateway}/metrics") as response:
                metrics = await response.text()
        mode = "open" if fail_open == "true" else "closed"
        assert f'meshkit_gateway_revocation_unavailable_total{{mode="{mode}"}} 1.0' in metrics
    finally:
        await redis.stop()
