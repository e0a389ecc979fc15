"""meshkit.sockets.SocketServer on its own: a tiny service that composes it, served over
a real socket, driven by real python-socketio clients holding real signed tokens, on the
test Redis (the token denylist, the connection caps)."""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

import pytest
import socketio
from aiohttp import web
from joserfc import jws
from joserfc.jwk import OKPKey
from pydantic import BaseModel

from meshkit.errors import Conflict
from meshkit.service import Need, Service
from meshkit.sockets import ConnectionCaps, SocketServer
from meshkit.testing import make_settings
from meshkit.tokens import JwksSource, Principal, StaticJwks, deny, jws_registry

KEY = OKPKey.generate_key("Ed25519", parameters={"kid": "test-ed"})
PATH = "echo/socket.io"
PROBLEM = "urn:meshkit:problem:"


def token_for(user_id: str, *, lifetime: int = 300) -> tuple[str, str]:
    """An access token for ``user_id`` signed as the auth service signs them; its jti."""
    now = int(time.time())
    jti = secrets.token_hex(8)
    claims = {
        "iss": "meshkit",
        "aud": "meshkit",
        "sub": user_id,
        "iat": now,
        "nbf": now,
        "exp": now + lifetime,
        "jti": jti,
        "typ": "access",
    }
    header = {"alg": "EdDSA", "kid": "test-ed", "typ": "at+jwt"}
    token = jws.serialize_compact(header, json.dumps(claims), KEY, registry=jws_registry(["EdDSA"]))
    return token, jti


class EchoIn(BaseModel):
    text: str


class Echo(Service):
    """The smallest real-time service: ``echo`` answers who sent what."""

    name = "echo_test"
    default_port = 3997
    needs: ClassVar[frozenset[Need]] = frozenset({"redis"})

    refuse: Exception | None = None
    caps: int = 0

    def jwks_source(self) -> JwksSource:
        return StaticJwks({"keys": [{**KEY.as_dict(private=False), "alg": "EdDSA"}]})

    def setup_app(self, app: web.Application) -> None:
        self.connected: list[tuple[str, str]] = []
        self.disconnected: list[tuple[str, str]] = []
        self.sockets = SocketServer(
            self,
            path=PATH,
            on_connect=self.on_connect,
            on_disconnect=self.on_disconnect,
        )
        self.sockets.on("echo", self.echo)
        self.sockets.on("boom", self.boom)
        self.sockets.attach(app)

    async def on_connect(self, sid: str, principal: Principal, environ: dict[str, Any]) -> None:
        self.connected.append((sid, principal.subject))
        if self.refuse is not None:
            raise self.refuse

    async def on_disconnect(self, sid: str, principal: Principal) -> None:
        self.disconnected.append((sid, principal.subject))

    async def echo(self, sid: str, payload: Any) -> dict[str, Any]:
        body = EchoIn.model_validate(payload)
        principal = await self.sockets.principal(sid)
        return {"text": body.text, "user_id": principal.subject}

    async def boom(self, sid: str, payload: Any) -> dict[str, Any]:
        raise RuntimeError("secret internals")

    async def lifespan(self) -> AsyncIterator[None]:
        caps = None
        if self.caps:
            caps = ConnectionCaps(
                self.redis,
                prefix="meshkit:echo_test:connections:",
                per_user=self.caps,
                per_address=0,
                ttl=3,
                fail_open=False,
            )
        await self.sockets.start(session_check_interval=0.2, caps=caps)
        try:
            yield
        finally:
            await self.sockets.stop()


Connect = Callable[..., Awaitable[socketio.AsyncClient]]


class Served:
    def __init__(self, service: Echo, url: str) -> None:
        self.service, self.url = service, url
        self.clients: list[socketio.AsyncClient] = []

    async def connect(self, token: str | None, **auth: Any) -> socketio.AsyncClient:
        client = socketio.AsyncClient(reconnection=False)
        self.clients.append(client)
        await client.connect(
            self.url,
            auth={"token": token, **auth} if token is not None else auth,
            socketio_path=PATH,
            transports=["websocket"],
            wait_timeout=5,
        )
        return client

    async def refusal(self, token: str | None) -> dict[str, Any]:
        """The problem document a refused connection gets."""
        client = socketio.AsyncClient(reconnection=False)
        reasons: list[Any] = []
        client.on("connect_error", reasons.append)
        with pytest.raises(socketio.exceptions.ConnectionError):
            await client.connect(
                self.url,
                auth={"token": token} if token is not None else {},
                socketio_path=PATH,
                transports=["websocket"],
                wait_timeout=5,
            )
        assert reasons
        return dict(reasons[0]["data"])


@pytest.fixture
async def served(
    tmp_path: Path, meshkit_redis_url: str, meshkit_redis: Any, service_client: Any
) -> AsyncIterator[Callable[..., Awaitable[Served]]]:
    """Start ``Echo`` (attributes set from the keywords) and answer how to reach it."""
    started: list[Served] = []

    async def start(**options: Any) -> Served:
        settings = make_settings(
            tmp_path, MESHKIT_REDIS_URL=meshkit_redis_url, MESHKIT_JWT_ALGORITHMS="EdDSA"
        )
        service = Echo(settings)
        for name, value in options.items():
            setattr(service, name, value)
        client = await service_client(service, settings=settings)
        running = Served(service, str(client.make_url("")).rstrip("/"))
        started.append(running)
        return running

    yield start
    for running in started:
        for client in running.clients:
            if client.connected:
                await client.disconnect()


async def eventually(check: Callable[[], bool], what: str) -> None:
    for _ in range(100):
        if check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"waited in vain for {what}")


async def test_a_connection_acts_for_its_tokens_user_until_it_goes(served):
    echo = await served()
    token, _ = token_for("ada")
    client = await echo.connect(token)
    ack = await client.call("echo", {"text": "hi"}, timeout=5)
    assert ack == {"ok": True, "text": "hi", "user_id": "ada"}
    sockets = echo.service.sockets
    [(sid, user)] = echo.service.connected
    assert user == "ada"
    assert sockets.sids_of("ada") == {sid}
    assert sockets.principals[sid].subject == "ada"
    await client.disconnect()
    await eventually(lambda: not sockets.sids_of("ada"), "the socket to be forgotten")
    assert echo.service.disconnected == [(sid, "ada")]
    assert not sockets.principals


@pytest.mark.parametrize(
    ("token", "slug"),
    [
        (None, "token-missing"),
        ("", "token-missing"),
        ("not.a.token", "invalid-token"),
        (token_for("ada")[0][:-4] + "AAAA", "invalid-token"),  # signature no longer fits
    ],
)
async def test_a_bad_token_is_refused_with_a_problem(served, token, slug):
    echo = await served()
    problem = await echo.refusal(token)
    assert problem["type"] == PROBLEM + slug
    assert problem["status"] == 401
    assert problem["detail"]
    assert not echo.service.connected, "the service never saw the connection"


async def test_a_malformed_payload_is_an_error_ack_and_the_socket_stays(served):
    echo = await served()
    client = await echo.connect(token_for("ada")[0])
    for event, data, status, slug in (
        ("echo", {"text": 5}, 422, "validation-error"),
        ("echo", None, 422, "validation-error"),
        ("echo", (1, 2), 400, "malformed-body"),  # two payload arguments
        ("nope", {}, 404, "unknown-event"),
        ("boom", {}, 500, "internal-error"),
    ):
        ack = await client.call(event, data, timeout=5)
        assert ack["ok"] is False, (event, data)
        assert ack["error"]["status"] == status, ack
        assert ack["error"]["type"] == PROBLEM + slug, ack
    invalid = (await client.call("echo", {"text": 5}, timeout=5))["error"]
    assert invalid["errors"][0]["loc"] == ["payload", "text"], invalid
    boom = (await client.call("boom", {}, timeout=5))["error"]
    assert "secret internals" not in json.dumps(boom)
    assert client.connected
    assert (await client.call("echo", {"text": "still here"}, timeout=5))["ok"] is True


async def test_a_revoked_token_ends_the_session(served, meshkit_redis):
    echo = await served()
    token, jti = token_for("ada")
    client = await echo.connect(token)
    ended: asyncio.Queue[Any] = asyncio.Queue()
    client.on("session.ended", ended.put_nowait)
    await deny(meshkit_redis, jti, datetime.now(UTC).replace(year=datetime.now(UTC).year + 1))
    refused = await client.call("echo", {"text": "hi"}, timeout=5)  # every emit re-checks
    assert refused["ok"] is False
    assert refused["error"]["type"] == PROBLEM + "invalid-token"
    problem = await asyncio.wait_for(ended.get(), 5)  # the periodic check (0.2 s)
    assert problem["type"] == PROBLEM + "invalid-token"
    assert problem["detail"] == "token revoked"
    await eventually(lambda: not client.connected, "the server to disconnect the client")
    sockets = echo.service.sockets
    await eventually(lambda: not sockets.principals, "the server to forget the connection")
    assert echo.service.disconnected == [(echo.service.connected[0][0], "ada")]
    # revoked before connecting: refused outright
    assert (await echo.refusal(token))["type"] == PROBLEM + "invalid-token"


async def test_check_user_ends_only_that_users_revoked_sessions_now(served, meshkit_redis):
    echo = await served()
    sockets = echo.service.sockets
    await sockets.stop()  # no periodic check: only check_user ends them here
    ada_token, ada_jti = token_for("ada")
    ada, other_ada = await echo.connect(ada_token), await echo.connect(token_for("ada")[0])
    bob_token, bob_jti = token_for("bob")
    bob = await echo.connect(bob_token)
    year = datetime.now(UTC).replace(year=datetime.now(UTC).year + 1)
    await deny(meshkit_redis, ada_jti, year)
    await deny(meshkit_redis, bob_jti, year)
    assert await sockets.check_user("ada") == 1
    assert await sockets.check_user("nobody") == 0
    await eventually(lambda: not ada.connected, "ada's revoked socket to be ended")
    assert other_ada.connected
    assert bob.connected
    assert await sockets.end_stale_sessions() == 1  # bob's, on demand
    await eventually(lambda: not bob.connected, "bob's socket to be ended")


async def test_the_auth_emit_renews_the_token_of_the_same_user_only(served, meshkit_redis):
    echo = await served()
    first, first_jti = token_for("ada")
    client = await echo.connect(first)
    renewed, _ = token_for("ada", lifetime=600)
    ack = await client.call("auth", {"token": renewed}, timeout=5)
    assert ack["ok"] is True
    assert datetime.fromisoformat(ack["expires_at"]).timestamp() > time.time() + 500
    year = datetime.now(UTC).replace(year=datetime.now(UTC).year + 1)
    await deny(meshkit_redis, first_jti, year)  # the old token no longer matters
    assert (await client.call("echo", {"text": "hi"}, timeout=5))["ok"] is True
    assert await echo.service.sockets.end_stale_sessions() == 0
    other = await client.call("auth", {"token": token_for("bob")[0]}, timeout=5)
    assert other["error"]["status"] == 403
    bad = await client.call("auth", {"token": "nope"}, timeout=5)
    assert bad["error"]["type"] == PROBLEM + "invalid-token"
    shapeless = await client.call("auth", {}, timeout=5)
    assert shapeless["error"]["status"] == 422
    assert (await client.call("echo", {"text": "me"}, timeout=5))["user_id"] == "ada"


async def test_on_connect_refuses_with_its_problem_or_503_and_leaves_no_trace(served):
    echo = await served(refuse=Conflict("not now"))
    token, _ = token_for("ada")
    problem = await echo.refusal(token)
    assert problem["status"] == 409
    assert problem["detail"] == "not now"
    echo.service.refuse = RuntimeError("a bug")
    problem = await echo.refusal(token)
    assert problem["status"] == 503
    assert "a bug" not in json.dumps(problem)
    sockets = echo.service.sockets
    assert not sockets.principals
    assert not sockets.users
    # on_disconnect undid each half-done set-up
    assert [user for _, user in echo.service.disconnected] == ["ada", "ada"]


async def test_connections_over_the_cap_are_refused_until_one_goes(served):
    echo = await served(caps=1)
    token, _ = token_for("ada")
    first = await echo.connect(token)
    problem = await echo.refusal(token)
    assert problem["type"] == PROBLEM + "too-many-connections"
    assert problem["scope"] == "user"
    assert len(echo.service.connected) == 1, "refused before the service set anything up"
    await first.disconnect()
    await eventually(lambda: not echo.service.sockets.connections, "the count to drop")
    await echo.connect(token)


def test_reserved_events_cannot_be_handled(tmp_path):
    service = Echo(make_settings(tmp_path))
    sockets = SocketServer(service)

    async def handler(sid: str, payload: Any) -> dict[str, Any]:
        return {}

    for event in ("connect", "disconnect", "*", "auth"):
        with pytest.raises(ValueError, match="not an event"):
            sockets.on(event, handler)
    assert sockets.path == "socket.io"
    assert SocketServer(service, path="/voice/socket.io/").path == "voice/socket.io"
