"""auth + servers + gateway (and messaging when asked) in one runtime, and operators who
hold tokens and call the REST API through the gateway: what the servers edge tests drive.

``servers`` is the fixture; ``servers_stack(...)`` builds one with other services or
settings (``MESHKIT_SERVERS_*`` as keyword arguments).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from meshkit.plugins import get_plugin_manager
from meshkit.runtime import Runtime
from meshkit.testing import make_settings
from tests.servers_env import SshHost

PASSWORD = "correct horse battery staple"
ADMIN = "admin@example.test"


class Operator:
    """A user with a token who calls the REST API through the stack's gateway."""

    def __init__(self, stack: ServersStack, name: str, token: str, user_id: str) -> None:
        self.stack, self.name, self.token, self.user_id = stack, name, token, user_id

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    async def call(self, method: str, path: str, expect: int | None = None, **kw: Any) -> Any:
        """``method path`` through the gateway; asserts ``expect`` (or any success) and
        returns the JSON body (``None`` for 204, text for non-JSON answers)."""
        headers = {**self.headers, **kw.pop("headers", {})}
        url = self.stack.gateway + path
        async with self.stack.http.request(method, url, headers=headers, **kw) as response:
            if response.status == 204:
                body: Any = None
            elif "json" in (response.content_type or ""):
                body = await response.json()
            else:
                body = await response.text()
            if expect is not None:
                assert response.status == expect, (response.status, body)
            else:
                assert response.status < 400, (response.status, body)
            return body

    async def add_host(self, host: SshHost, name: str, **fields: Any) -> dict[str, Any]:
        """Register ``host`` (a running sshd) with its key and pinned host key."""
        body = {
            "name": name,
            "address": host.address,
            "port": host.port,
            "user": host.user,
            "private_key": host.private_key,
            "host_key": host.host_key_line,
            **fields,
        }
        created: dict[str, Any] = await self.call("POST", "/v1/servers/hosts", 201, json=body)
        return created


class ServersStack:
    """The running stack: ``gateway`` and ``auth`` URLs, ``services`` by name, ``admin``."""

    def __init__(self, http: aiohttp.ClientSession, gateway: str, auth: str, runtime: Any):
        self.http, self.gateway, self.auth, self.runtime = http, gateway, auth, runtime
        self.services: dict[str, Any] = {}
        self.urls: dict[str, str] = {}
        self.admin: Operator

    @property
    def service_url(self) -> str:
        """The servers service's own URL (not through the gateway)."""
        url: str = self.urls["servers"]
        return url

    @property
    def service(self) -> Any:
        """The running :class:`~meshkit.services.servers.ServersService`."""
        return self.services["servers"]

    async def person(
        self, name: str, *, register: bool = True, email: str | None = None
    ) -> Operator:
        """Register (unless told not to) and log in ``name``; an ordinary user."""
        email = email or f"{name}@example.test"
        if register:
            body = {"email": email, "username": name, "password": PASSWORD}
            async with self.http.post(f"{self.auth}/v1/auth/register", json=body) as response:
                assert response.status == 201, await response.text()
        login = {"login": email, "password": PASSWORD}
        async with self.http.post(f"{self.auth}/v1/auth/login", json=login) as response:
            assert response.status == 200, await response.text()
            token = (await response.json())["access_token"]
        async with self.http.get(
            f"{self.auth}/v1/users/me", headers={"Authorization": f"Bearer {token}"}
        ) as response:
            user_id = (await response.json())["id"]
        return Operator(self, name, token, user_id)


@contextlib.asynccontextmanager
async def servers_stack(
    data_dir: Path,
    redis_url: str | None,
    names: Sequence[str] = ("auth", "servers", "gateway"),
    plugins: Sequence[tuple[str, object]] = (),
    **env: str,
) -> AsyncIterator[ServersStack]:
    """``names`` in one runtime on the test Redis, with an administrator (:data:`ADMIN`)
    logged in as ``stack.admin``; ``env`` adds or overrides ``MESHKIT_*`` settings.
    Without ``redis_url`` meshkit starts its own embedded redis-server."""
    redis = {"MESHKIT_REDIS_URL": redis_url} if redis_url else {}
    settings = make_settings(
        data_dir,
        **{
            **redis,
            "MESHKIT_AUTH_BCRYPT_COST": "4",
            "MESHKIT_AUTH_BOOTSTRAP_ADMIN_EMAIL": ADMIN,
            "MESHKIT_AUTH_BOOTSTRAP_ADMIN_PASSWORD": PASSWORD,
            "MESHKIT_SHUTDOWN_TIMEOUT": "2",
            "MESHKIT_GATEWAY_HEALTH_INTERVAL": "0.2",
            "MESHKIT_GATEWAY_RATE_LIMITS": "default=5000/60s,auth=1000/60s",
            **env,
        },
    )
    pm = get_plugin_manager(settings, plugins=list(plugins))
    runtime = Runtime(settings, pm, list(names), ports=dict.fromkeys(names, 0))
    started = {r.service.name: r for r in await runtime.start()}
    try:
        async with aiohttp.ClientSession() as http:
            stack = ServersStack(http, started["gateway"].url, started["auth"].url, runtime)
            stack.services = {name: r.service for name, r in started.items()}
            stack.urls = {name: r.url for name, r in started.items()}
            stack.admin = await stack.person("admin", register=False, email=ADMIN)
            yield stack
    finally:
        await runtime.stop()


@pytest.fixture
async def servers(tmp_path: Path, meshkit_redis_url: str) -> AsyncIterator[ServersStack]:
    """auth + servers + gateway (:func:`servers_stack`)."""
    async with servers_stack(tmp_path, meshkit_redis_url) as stack:
        yield stack
