"""pytest fixtures for meshkit services and plugins, installed as a pytest plugin.

meshkit's own tests use exactly these, and so can plugin authors: a real
``redis-server`` for the session (never a fake), settings pointing at a temporary data
directory, and a factory that serves a service in-process through aiohttp's test client
with chosen plugins.

Fixtures: ``meshkit_redis_url`` (session), ``meshkit_settings``, ``meshkit_redis``,
``service_client``. Helpers: :func:`require_executable` for tests that need a system tool,
:func:`eventually` to wait for what happens asynchronously (a push, a peer connecting),
:func:`free_ports` for services started on known ports, :func:`meshkit_process` for
``meshkit run`` in a process of its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
import os
import shutil
import socket
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

import pytest
import pytest_asyncio
from aiohttp.test_utils import TestClient
from aiohttp.web import Application
from redis.asyncio import Redis

from meshkit.app import create_app
from meshkit.config import Settings
from meshkit.plugins import get_plugin_manager
from meshkit.redis import EmbeddedRedis
from meshkit.service import Service

STRICT_ENV = ("CI", "MESHKIT_TEST_STRICT")


class ServiceClientFactory(Protocol):
    """Signature of the ``service_client`` fixture's factory."""

    def __call__(
        self,
        service: type[Service] | Service,
        *,
        plugins: Iterable[tuple[str, object]] = (),
        settings: Settings | None = None,
    ) -> Awaitable[TestClient[Any, Application]]: ...


def strict() -> bool:
    """Whether a missing system tool must fail the test instead of skipping it (CI)."""
    return any(os.environ.get(name, "").lower() in {"1", "true", "yes"} for name in STRICT_ENV)


def require_executable(name: str) -> str:
    """Path of ``name`` on PATH; skip the test when absent, fail under ``CI=true``."""
    path = shutil.which(name)
    if path is None:
        message = f"{name} is not installed"
        if strict():
            pytest.fail(f"{message}, and CI requires it (.ci/run installs it)")
        pytest.skip(message)
    return path


async def eventually(
    check: Callable[[], bool | Awaitable[bool]],
    *,
    within: float = 10.0,
    every: float = 0.05,
    what: str = "condition",
) -> None:
    """Return once ``check()`` (a function or coroutine function) is true; fail the test
    with ``what`` when it still is not after ``within`` seconds.

    For outcomes that arrive asynchronously, where a fixed sleep would be either flaky or
    slow; ``check`` runs at least once after the deadline is reached.
    """
    deadline = time.monotonic() + within
    while True:
        result = check()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return
        if time.monotonic() >= deadline:
            raise AssertionError(f"{what} not met within {within:g} s")
        await asyncio.sleep(every)


def free_ports(count: int = 1) -> list[int]:
    """``count`` distinct TCP ports free on 127.0.0.1 now, for services started on known
    ports (several instances that must list each other before they start)."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [int(sock.getsockname()[1]) for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


@contextlib.asynccontextmanager
async def meshkit_process(
    names: Sequence[str],
    env: Mapping[str, str],
    *,
    run: Sequence[str] | None = None,
    startup: float = 60.0,
) -> AsyncIterator[tuple[asyncio.subprocess.Process, dict[str, str]]]:
    """``meshkit run <run…>`` (``names`` unless given, e.g. ``["all"]``) in a process of
    its own, each of ``names`` on a free port (``env`` must set
    ``MESHKIT_LOG_FORMAT=json``): the process and each service's URL, once all listen.
    On the way out it is stopped like an operator would (SIGTERM; killed after 30 s); a
    test that needs a crash sends its own signal first."""
    meshkit = str(Path(sys.executable).parent / "meshkit")
    ports = [arg for name in names for arg in ("--port", f"{name}=0")]
    args = list(run if run is not None else names)
    process = await asyncio.create_subprocess_exec(
        meshkit, "run", *args, *ports, env=dict(env), stderr=asyncio.subprocess.PIPE
    )
    assert process.stderr is not None
    urls: dict[str, str] = {}
    drain: asyncio.Task[None] | None = None
    try:
        while len(urls) < len(names):
            line = await asyncio.wait_for(process.stderr.readline(), startup)
            assert line, f"meshkit run {' '.join(args)} exited"
            with contextlib.suppress(ValueError, AttributeError):
                name, found, url = json.loads(line).get("message", "").partition(" listening on ")
                if found:
                    urls[name] = url
        drain = asyncio.create_task(_drain(process.stderr))
        yield process, urls
    finally:
        if drain is not None:
            drain.cancel()
        if process.returncode is None:
            process.terminate()
            try:
                await asyncio.wait_for(process.wait(), 30)
            except TimeoutError:
                process.kill()
        await process.wait()


async def _drain(stream: asyncio.StreamReader) -> None:
    """Read a child's stderr to its end, so a full pipe never blocks it."""
    while await stream.readline():
        pass


def make_settings(data_dir: Path, **env: str) -> Settings:
    """Settings for a test: ``MESHKIT_DATA_DIR`` plus the given ``MESHKIT_*`` values."""
    values = {"MESHKIT_DATA_DIR": str(data_dir), **env}
    return Settings.from_env(values)


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def meshkit_redis_url(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[str]:
    """URL of a real redis-server shared by the session (``MESHKIT_TEST_REDIS_URL`` wins)."""
    external = os.environ.get("MESHKIT_TEST_REDIS_URL")
    if external:
        yield external
        return
    server = EmbeddedRedis(tmp_path_factory.mktemp("redis"))
    await server.start()
    try:
        yield server.url
    finally:
        await server.stop()


@pytest.fixture
def meshkit_settings(tmp_path: Path, meshkit_redis_url: str) -> Settings:
    """Settings with a fresh data directory and the session's Redis."""
    env = {"MESHKIT_REDIS_URL": meshkit_redis_url}
    mongo = os.environ.get("MESHKIT_TEST_MONGODB_URL")
    if mongo:
        env["MESHKIT_MONGODB_URL"] = mongo
        env["MESHKIT_MONGODB_DATABASE_PREFIX"] = f"meshkit_test_{tmp_path.name}_"
    return make_settings(tmp_path, **env)


@pytest_asyncio.fixture
async def meshkit_redis(meshkit_redis_url: str) -> AsyncIterator[Redis]:
    """A client of the session's Redis, emptied before the test."""
    client: Redis = Redis.from_url(meshkit_redis_url)
    await client.flushall()
    try:
        yield client
    finally:
        await client.aclose()


@pytest.fixture
def service_client(
    aiohttp_client: Callable[[Application], Awaitable[TestClient[Any, Application]]],
    meshkit_settings: Settings,
) -> ServiceClientFactory:
    """Serve a service in-process and return a test client for it.

    ``plugins`` are ``(name, plugin)`` pairs registered instead of installed entry points,
    so a test sees exactly the plugins it names.
    """

    async def make(
        service: type[Service] | Service,
        *,
        plugins: Iterable[tuple[str, object]] = (),
        settings: Settings | None = None,
    ) -> TestClient[Any, Application]:
        chosen = settings or meshkit_settings
        pm = get_plugin_manager(chosen, plugins=plugins, load_entry_points=False)
        instance = service(chosen) if isinstance(service, type) else service
        return await aiohttp_client(create_app(instance, pm=pm))

    return make
