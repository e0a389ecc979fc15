"""The hand-written SDK (sdk/meshkit_sdk) end to end: real auth and messaging services behind
a real gateway, SDK clients talking REST and Socket.IO through it."""

from __future__ import annotations

import asyncio
import base64
import concurrent.futures
import json
import os
import socket
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent.parent / "sdk"))  # until conftest has it

from meshkit_api_client.api.auth import auth_list_sessions, auth_revoke_session
from meshkit_api_client.api.messaging import messaging_get_channel
from meshkit_sdk import (
    ChannelOut,
    Forbidden,
    MeshkitClient,
    MessageOut,
    NotFound,
    SyncMeshkitClient,
    Tokens,
    TypingEvent,
    Unauthenticated,
    ValidationError,
)

from meshkit.plugins import get_plugin_manager
from meshkit.runtime import Runtime
from meshkit.testing import make_settings
from meshkit.tokens import deny

ROOT = Path(__file__).parent.parent
PASSWORD = "correct horse battery staple"
MISSING = "01ARZ3NDEKTSV4RRFFQ69G5FAV"  # a well-formed ULID nobody uses


class Clock:
    """A monotonic clock the test can move forward."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return asyncio.get_running_loop().time() + self.offset


class Stack:
    def __init__(self, gateway: str, redis: Any) -> None:
        self.gateway, self.redis = gateway, redis
        self.clients: list[MeshkitClient] = []
        self.refreshes: dict[str, int] = {}
        self.socket_sessions: dict[str, Any] = {}  # messaging: sid → principal

    async def user(self, name: str, clock: Clock | None = None) -> MeshkitClient:
        """A registered, logged-in SDK client; ``refreshes[name]`` counts its new pairs."""

        def count(tokens: Tokens) -> None:
            self.refreshes[name] = self.refreshes.get(name, -1) + 1  # the login is not one

        client = MeshkitClient(self.gateway, clock=clock or Clock(), on_tokens=count)
        self.clients.append(client)
        user = await client.register(email=f"{name}@example.test", username=name, password=PASSWORD)
        assert user.username == name
        await client.login(name, PASSWORD)
        return client


@pytest.fixture
async def stack(tmp_path: Path, meshkit_redis_url: str, meshkit_redis: Any) -> AsyncIterator[Stack]:
    settings = make_settings(
        tmp_path,
        MESHKIT_REDIS_URL=meshkit_redis_url,
        MESHKIT_AUTH_BCRYPT_COST="4",
        MESHKIT_SHUTDOWN_TIMEOUT="2",
        MESHKIT_GATEWAY_HEALTH_INTERVAL="0.2",
        MESHKIT_MESSAGING_SESSION_CHECK_INTERVAL="0.2",
        # every test logs in from 127.0.0.1 on one Redis: the per-IP login limit would
        # count the other tests' logins too
        MESHKIT_GATEWAY_RATE_LIMITS="default=1200/60s,auth=1000/60s,reset=5/3600s",
    )
    names = ["auth", "messaging", "gateway"]
    runtime = Runtime(settings, get_plugin_manager(settings), names, ports=dict.fromkeys(names, 0))
    started = {r.service.name: r for r in await runtime.start()}
    found = Stack(started["gateway"].url, meshkit_redis)
    found.socket_sessions = started["messaging"].service.realtime.principals
    try:
        yield found
    finally:
        for client in found.clients:
            await client.aclose()
        await runtime.stop()


def claims(token: str) -> dict[str, Any]:
    """The claims of a JWT, unverified (the test only needs ``jti`` and ``exp``)."""
    payload = token.split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))))


async def eventually(check: Callable[[], bool], within: float = 10.0) -> None:
    for _ in range(int(within / 0.02)):
        if check():
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"not true within {within} s")


def collect(client: MeshkitClient) -> list[MessageOut]:
    received: list[MessageOut] = []

    @client.realtime.on_message
    async def on_message(message: MessageOut) -> None:
        received.append(message)

    return received


async def test_register_login_and_the_common_flows(stack: Stack) -> None:
    ada = await stack.user("ada")
    bob = await stack.user("bob")
    channel = await ada.create_channel("general", topic="everything")
    assert channel.name == "general"
    assert [c.id for c in await ada.channels()] == [channel.id]
    await bob.join(channel.id)
    first = await ada.send(channel.id, "hello bob")
    assert isinstance(first.nonce, str)  # a fresh one by default
    again = await ada.send(channel.id, "hello bob", nonce=first.nonce)  # a retry
    assert again.id == first.id
    reply = await bob.send(channel.id, f"hi <@{first.author_id}>", reply_to=first.id)
    assert reply.reply_to == first.id
    assert [m.id for m in await bob.history(channel.id)] == [first.id, reply.id]
    assert [m.id for m in await bob.history(channel.id, before=reply.id)] == [first.id]
    assert [m.id for m in await bob.history(channel.id, after=first.id, limit=1)] == [reply.id]
    notifications = await ada.notifications()
    assert notifications.unread == 1
    assert notifications.items[0].message_id == reply.id
    # any generated function goes through call(), typed
    assert (await bob.call(messaging_get_channel.asyncio_detailed, channel.id)).id == channel.id
    await bob.leave(channel.id)
    with pytest.raises(Forbidden) as forbidden:
        await bob.send(channel.id, "still here?")
    assert forbidden.value.status == 403
    assert forbidden.value.problem["type"] == forbidden.value.type


async def test_errors_are_typed_from_problem_documents(stack: Stack) -> None:
    ada = await stack.user("ada")
    channel = await ada.create_channel("general")
    with pytest.raises(ValidationError) as invalid:
        await ada.send(channel.id, "x" * 4001)
    assert invalid.value.status == 422
    assert invalid.value.type == "urn:meshkit:problem:validation-error"
    assert invalid.value.fields == ["content"]
    assert invalid.value.errors[0].loc == ("body", "content")
    assert invalid.value.errors[0].code
    with pytest.raises(NotFound) as missing:
        await ada.history(MISSING)
    assert missing.value.status == 404
    assert missing.value.title
    with pytest.raises(Unauthenticated) as wrong:
        await ada.login("ada", "not the password at all")
    assert wrong.value.type == "urn:meshkit:problem:invalid-credentials"
    anonymous = MeshkitClient(stack.gateway)
    stack.clients.append(anonymous)
    with pytest.raises(Unauthenticated) as nobody:
        await anonymous.channels()
    assert nobody.value.type == "urn:meshkit:problem:token-missing"


async def test_two_clients_talk_in_real_time(stack: Stack) -> None:
    ada, bob = await stack.user("ada"), await stack.user("bob")
    channel = await ada.create_channel("general")
    await bob.join(channel.id)
    ada_got, bob_got = collect(ada), collect(bob)
    typing: list[TypingEvent] = []
    ada.realtime.on_typing(typing.append)
    await ada.realtime.connect()
    await bob.realtime.connect()
    sent = await ada.realtime.send(channel.id, "hello bob")
    assert sent.content == "hello bob"
    await eventually(lambda: [m.id for m in bob_got] == [sent.id])
    await bob.realtime.typing(channel.id)
    reply = await bob.realtime.send(channel.id, "hi ada")
    await eventually(lambda: [m.id for m in ada_got] == [sent.id, reply.id])  # own echo too
    assert typing == [TypingEvent(channel_id=channel.id, user_id=reply.author_id)]
    assert await bob.realtime.read(channel.id, reply.id) == reply.id
    assert await ada.realtime.set_presence("dnd") == "dnd"
    # an error ack is the same typed error as over REST
    with pytest.raises(ValidationError) as invalid:
        await ada.realtime.send(channel.id, "x" * 4001)
    assert invalid.value.fields == ["content"]
    with pytest.raises(NotFound):
        await ada.realtime.send(MISSING, "anyone?")
    assert ada.realtime.connected  # error acks never drop the connection


async def test_20_concurrent_calls_with_an_expired_token_refresh_once(stack: Stack) -> None:
    clock = Clock()
    ada = await stack.user("ada", clock)
    await ada.create_channel("general")
    before = ada.tokens
    assert before is not None
    clock.offset += before.expires_in  # the access token is now past its lifetime
    results = await asyncio.gather(*(ada.channels() for _ in range(20)))
    assert all(len(channels) == 1 for channels in results)
    assert stack.refreshes["ada"] == 1
    assert ada.tokens is not None
    assert ada.tokens.refresh_token != before.refresh_token  # rotated, the old one spent
    await ada.channels()
    assert stack.refreshes["ada"] == 1


async def test_a_revoked_access_token_is_refreshed_transparently(stack: Stack) -> None:
    ada = await stack.user("ada")
    token = ada.access_token
    assert token is not None
    claim = claims(token)
    await deny(stack.redis, claim["jti"], datetime.fromtimestamp(claim["exp"], UTC))
    results = await asyncio.gather(*(ada.channels() for _ in range(5)))  # 401, refresh, retry
    assert results == [[]] * 5
    assert stack.refreshes["ada"] == 1
    assert ada.access_token != token
    # Socket.IO too: a connection refused for a revoked token refreshes and connects
    token = ada.access_token
    assert token is not None
    claim = claims(token)
    await deny(stack.redis, claim["jti"], datetime.fromtimestamp(claim["exp"], UTC))
    await ada.realtime.connect()
    assert ada.realtime.connected
    assert stack.refreshes["ada"] == 2


async def test_a_refused_refresh_raises_unauthenticated(stack: Stack) -> None:
    ada = await stack.user("ada")
    other = MeshkitClient(stack.gateway)
    stack.clients.append(other)
    await other.login("ada", PASSWORD)
    assert ada.tokens is not None
    assert other.tokens is not None
    # the other device ends ada's first session: access and refresh tokens die with it
    await other.call(auth_revoke_session.asyncio_detailed, ada.tokens.session_id)
    with pytest.raises(Unauthenticated) as ended:
        await ada.channels()
    assert ended.value.type == "urn:meshkit:problem:invalid-refresh-token"
    assert ada.tokens is None
    with pytest.raises(Unauthenticated):
        await ada.refresh()
    sessions = await other.call(auth_list_sessions.asyncio_detailed)
    assert [s.id for s in sessions] == [other.tokens.session_id]
    await other.logout()
    assert other.tokens is None


async def test_reconnect_resumes_without_gap_or_duplicate(stack: Stack) -> None:
    clock = Clock()
    ada, bob = await stack.user("ada"), await stack.user("bob", clock)
    channel = await ada.create_channel("busy")
    await bob.join(channel.id)
    received = collect(bob)
    bob.realtime.resume_limit = 2  # several resume pages (``more``)
    await bob.realtime.connect()
    sent = [await ada.send(channel.id, f"live {i}") for i in range(2)]
    await eventually(lambda: len(received) == 2)
    # the transport drops (as a network would); the client reconnects by itself, once
    # the test lets it (its auth payload waits on a gate), so the sends below really
    # happen while bob is away, however slow the machine
    sio: Any = bob.realtime._sio
    gate, auth = asyncio.Event(), sio.connection_auth

    async def gated() -> Any:
        await gate.wait()
        return await auth()

    sio.connection_auth = gated
    drops: list[Any] = []
    sio.on("disconnect", lambda *reason: drops.append(reason))
    await sio.eio.ws.close()
    await eventually(lambda: bool(drops))
    assert bob.tokens is not None
    clock.offset += bob.tokens.expires_in  # the reconnection needs a fresh token
    for i in range(5):
        sent.append(await ada.send(channel.id, f"missed {i}"))
    assert not bob.realtime.connected  # really sent while bob was away
    gate.set()
    await eventually(lambda: len(received) >= 7)
    assert stack.refreshes["bob"] == 1  # the reconnection used the refreshed token
    sent.append(await ada.send(channel.id, "after"))
    await eventually(lambda: len(received) >= 8)
    await asyncio.sleep(0.3)  # anything duplicated would arrive by now
    assert [m.id for m in received] == [m.id for m in sent]
    assert [m.content for m in received][2:7] == [f"missed {i}" for i in range(5)]
    assert bob.realtime.last_message_id == sent[-1].id


async def test_a_dm_opened_while_connected_arrives_live(stack: Stack) -> None:
    ada, bob = await stack.user("ada"), await stack.user("bob")
    bob_user = await bob.me()
    joined: list[ChannelOut] = []
    bob.realtime.on_channel_joined(joined.append)
    received = collect(bob)
    await bob.realtime.connect()
    dm = await ada.create_channel(None, kind="dm", members=[bob_user.id])
    await eventually(lambda: bool(joined))
    assert isinstance(joined[0], ChannelOut)
    assert joined[0].id == dm.id
    assert joined[0].role == "member"
    sent = await ada.send(dm.id, "psst")
    await eventually(lambda: [m.id for m in received] == [sent.id])


async def test_realtime_hands_the_server_each_refreshed_token(stack: Stack) -> None:
    clock = Clock()
    ada = await stack.user("ada", clock)
    await ada.realtime.connect()
    sio: Any = ada.realtime._sio
    first, sid = ada.access_token, sio.sid
    assert first is not None
    assert [p.token_id for p in stack.socket_sessions.values()] == [claims(first)["jti"]]
    assert ada.tokens is not None
    clock.offset += ada.tokens.expires_in  # due for a refresh: the connection renews
    await eventually(lambda: ada.access_token != first)
    renewed = ada.access_token
    assert renewed is not None
    await eventually(
        lambda: [p.token_id for p in stack.socket_sessions.values()] == [claims(renewed)["jti"]]
    )
    assert stack.refreshes["ada"] == 1
    assert sio.sid == sid  # the same connection, never dropped
    channel = await ada.create_channel("general")
    assert (await ada.realtime.send(channel.id, "still here")).content == "still here"


async def test_a_session_the_server_ends_reconnects_and_resumes(stack: Stack) -> None:
    ada, bob = await stack.user("ada"), await stack.user("bob")
    channel = await ada.create_channel("general")
    await bob.join(channel.id)
    received = collect(bob)
    endings: list[Unauthenticated] = []
    bob.realtime.on_session_ended(endings.append)  # type: ignore[arg-type]
    await bob.realtime.connect()
    sent = [await ada.send(channel.id, "before")]
    await eventually(lambda: len(received) == 1)
    token = bob.access_token
    assert token is not None
    claim = claims(token)
    await deny(stack.redis, claim["jti"], datetime.fromtimestamp(claim["exp"], UTC))
    await eventually(lambda: bool(endings))  # the server's periodic check ends it
    assert isinstance(endings[0], Unauthenticated)
    assert endings[0].detail == "token revoked"
    sent += [await ada.send(channel.id, f"meanwhile {i}") for i in range(3)]
    await eventually(lambda: len(received) == 4)
    assert bob.realtime.connected
    assert stack.refreshes["bob"] == 1  # reconnected with a refreshed token
    sent.append(await ada.send(channel.id, "after"))
    await eventually(lambda: len(received) == 5)
    await asyncio.sleep(0.3)  # anything duplicated would arrive by now
    assert [m.id for m in received] == [m.id for m in sent]
    # a session that is over stays down: the handlers hear why, nothing reconnects
    other = MeshkitClient(stack.gateway)
    stack.clients.append(other)
    await other.login("bob", PASSWORD)
    assert bob.tokens is not None
    await other.call(auth_revoke_session.asyncio_detailed, bob.tokens.session_id)
    await eventually(lambda: len(endings) == 2)
    await eventually(lambda: bob.tokens is None)  # the refresh was refused
    await asyncio.sleep(0.5)
    assert not bob.realtime.connected
    assert not stack.socket_sessions  # only ada's REST calls: no socket is left


async def test_the_sync_client_serves_code_without_an_event_loop(stack: Stack) -> None:
    clock, refreshes = Clock(), []

    def script() -> None:  # runs in a thread: the services share this test's loop
        with SyncMeshkitClient(stack.gateway, clock=clock, on_tokens=refreshes.append) as sam:
            sam.register(email="sam@example.test", username="sam", password=PASSWORD)
            sam.login("sam", PASSWORD)
            channel = sam.create_channel("general")
            sent = sam.send(channel.id, "hello")
            with pytest.raises(ValidationError) as invalid:
                sam.send(channel.id, "")
            assert invalid.value.fields == ["content"]
            assert [m.id for m in sam.history(channel.id)] == [sent.id]
            assert sam.call(messaging_get_channel.asyncio_detailed, channel.id).name == "general"
            assert sam.tokens is not None
            clock.offset += sam.tokens.expires_in  # expired: threads share one refresh
            with concurrent.futures.ThreadPoolExecutor(8) as pool:
                listed = list(pool.map(lambda _: sam.channels(), range(8)))
            assert all([c.id for c in found] == [channel.id] for found in listed)
            assert len(refreshes) == 2  # the login, then one refresh
            sam.logout()
            assert sam.tokens is None
        with pytest.raises(RuntimeError, match="closed"):
            sam.me()

    await asyncio.to_thread(script)


async def test_closing_the_sync_client_ends_calls_in_other_threads() -> None:
    with socket.socket() as silent:  # accepts connections, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"

        def script() -> None:
            client = SyncMeshkitClient(url, timeout=60)
            with concurrent.futures.ThreadPoolExecutor(2) as pool:
                waiting = pool.submit(
                    client.register, email="x@example.test", username="xyz", password=PASSWORD
                )
                time.sleep(0.3)  # the call is in flight, waiting for an answer
                pool.submit(client.close).result(timeout=10)
                with pytest.raises(RuntimeError, match="closed during the call"):
                    waiting.result(timeout=10)  # not the 60 s timeout: at once
            with pytest.raises(RuntimeError, match="is closed"):
                client.channels()
            client.close()  # twice is harmless
            with pytest.raises(TypeError):  # a failed construction leaves no thread behind
                SyncMeshkitClient(url, no_such_option=1)

        before = threading.active_count()
        await asyncio.to_thread(script)
        assert threading.active_count() <= before + 1  # to_thread's worker may linger


CONSUMER = """
    import asyncio

    from meshkit_sdk import (
        MeshkitClient,
        MessageOut,
        RateLimited,
        SyncMeshkitClient,
        ValidationError,
    )


    async def main() -> None:
        async with MeshkitClient("http://127.0.0.1:3000") as client:
            await client.login("ada", "correct horse battery staple")
            channel = await client.create_channel("general")

            @client.realtime.on_message
            async def show(message: MessageOut) -> None:
                print(message.author_id, message.content)

            await client.realtime.connect()
            try:
                sent: MessageOut = await client.send(channel.id, "hello")
                echoed: MessageOut = await client.realtime.send(channel.id, "again")
                print(sent.id < echoed.id)
            except ValidationError as exc:
                fields: list[str] = exc.fields
                print(fields)
            except RateLimited as exc:
                await asyncio.sleep(exc.retry_after or 1.0)
            page = await client.history(channel.id, limit=10)
            print(len(page) + (await client.notifications()).unread)


    def blocking() -> None:
        with SyncMeshkitClient("http://127.0.0.1:3000", timeout=5.0) as client:
            client.login("ada", "correct horse battery staple")
            sent: MessageOut = client.send(client.channels()[0].id, "hi", reply_to=None)
            print(sent.content)


    asyncio.run(main())
    blocking()
"""

MYPY_CONFIG = """
    [mypy]
    strict = True
    python_version = 3.11

    [mypy-meshkit_api_client.*]
    # generated code: excluded from checks, like in the project's own configuration
    ignore_errors = True
"""


def run_mypy(tmp_path: Path, source: str) -> subprocess.CompletedProcess[str]:
    program = tmp_path / "consumer.py"
    program.write_text(textwrap.dedent(source))
    config = tmp_path / "mypy.ini"
    config.write_text(textwrap.dedent(MYPY_CONFIG))
    env = {**os.environ, "MYPYPATH": str(ROOT / "sdk")}
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file", str(config), "--strict", str(program)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_a_consumer_type_checks_under_mypy_strict(tmp_path: Path) -> None:
    result = run_mypy(tmp_path, CONSUMER)
    assert result.returncode == 0, result.stdout + result.stderr
    wrong = CONSUMER.replace("async def show(message: MessageOut)", "async def show(message: int)")
    result = run_mypy(tmp_path, wrong)  # the handler's type is checked
    assert result.returncode == 1, result.stdout + result.stderr
    assert "on_message" in result.stdout
    wrong = CONSUMER.replace('client.send(client.channels()[0].id, "hi"', "client.send(1, 2")
    result = run_mypy(tmp_path, wrong)  # the blocking client keeps the async one's types
    assert result.returncode == 1, result.stdout + result.stderr
    assert 'Argument 1 has incompatible type "int"; expected "str"' in result.stdout
