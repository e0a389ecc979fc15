"""Reaching a host's Docker Engine: a local socket, or the remote one through SSH.

``async with engines.client(host) as docker:`` gives an :class:`aiodocker.Docker` for the
host's engine:

- ``engine: local``: the engine this service runs beside (``MESHKIT_SERVERS_LOCAL_ENGINE``);
- ``engine: ssh``: the host's engine socket (its ``engine_socket``, else
  ``MESHKIT_SERVERS_REMOTE_ENGINE_SOCKET``) forwarded over a pooled SSH connection to a
  local unix socket, as ``docker -H ssh://host`` does. The local socket lives in a
  private (0700) directory with a short path (unix socket paths are limited to 108
  bytes). One forward per host is kept while it is used, and for
  ``MESHKIT_SERVERS_ENGINE_FORWARD_LINGER`` seconds after, so consecutive calls reuse it;
  a forward whose SSH connection died is replaced at the next use.
- ``engine: none``: 409 ``no-engine``.

An engine that does not answer is 503 ``engine-unreachable``; SSH failures are the SSH
problems (``host-unreachable``, ``host-auth-failed``, ``host-key-mismatch``).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import aiodocker
import aiohttp
import asyncssh

from meshkit.files import private_dir
from meshkit.services.servers.errors import EngineUnreachable, NoEngine
from meshkit.services.servers.ssh import SshTarget

log = logging.getLogger("meshkit.servers")

UNREACHABLE = 900
"""The status aiodocker gives a failure to connect to the engine."""
MAX_SOCKET_PATH = 100
"""Longest local socket path used (the kernel's limit is 108 bytes with the NUL)."""


class EngineHost(Protocol):
    """What :class:`Engines` needs of a host (a hosts ``Host`` document fits)."""

    @property
    def id(self) -> str: ...

    @property
    def engine(self) -> str: ...

    @property
    def engine_socket(self) -> str | None: ...


class SshConnections(Protocol):
    """Leases a raw SSH connection for a forward (the ``SshPool``)."""

    def connection(
        self, target: SshTarget
    ) -> AbstractAsyncContextManager[asyncssh.SSHClientConnection]: ...


TargetOf = Callable[[str], Awaitable[SshTarget]]
"""The SSH target of a host id (``Hosts.target``)."""


@dataclass(eq=False)
class _Forward:
    key: tuple[object, ...]
    path: Path
    conn: asyncssh.SSHClientConnection
    listener: asyncssh.SSHListener
    lease: contextlib.AsyncExitStack
    users: int = 0
    idle: asyncio.Task[None] | None = field(default=None, repr=False)

    @property
    def alive(self) -> bool:
        return not self.conn.is_closed()


class Engines:
    """Docker clients for hosts' engines (module docstring)."""

    def __init__(
        self,
        *,
        local_engine: str,
        remote_socket: str = "/var/run/docker.sock",
        socket_dir: Path | None = None,
        ssh: SshConnections | None = None,
        target_of: TargetOf | None = None,
        linger: float = 60.0,
    ) -> None:
        self.local_engine = local_engine
        self.remote_socket = remote_socket
        self.ssh = ssh
        self.target_of = target_of
        self.linger = linger
        self._socket_dir = socket_dir
        self._forwards: dict[str, _Forward] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._temp: Path | None = None

    @contextlib.asynccontextmanager
    async def client(self, host: EngineHost) -> AsyncIterator[aiodocker.Docker]:
        """An engine client for ``host``, closed on the way out (module docstring)."""
        if host.engine == "local":
            async with self._docker(self.local_engine) as docker:
                yield docker
        elif host.engine == "ssh":
            forward = await self._acquire(host)
            try:
                async with self._docker(f"unix://{forward.path}") as docker:
                    yield docker
            finally:
                self._release(host.id, forward)
        else:
            raise NoEngine(f"host {host.id} has no container engine (engine: {host.engine})")

    def forwards(self) -> int:
        """Open SSH forwards (for tests and stats)."""
        return len(self._forwards)

    async def close(self) -> None:
        """Close every forward (the service stops)."""
        forwards, self._forwards = list(self._forwards.values()), {}
        for forward in forwards:
            await self._close(forward)
        if self._temp is not None:
            shutil.rmtree(self._temp, ignore_errors=True)
            self._temp = None

    # --- internals ---------------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def _docker(self, url: str) -> AsyncIterator[aiodocker.Docker]:
        docker = aiodocker.Docker(url=url)
        try:
            yield docker
        except (TimeoutError, aiohttp.ClientConnectionError) as exc:
            raise EngineUnreachable(f"the container engine did not answer: {exc}") from None
        except aiodocker.DockerError as exc:
            if exc.status == UNREACHABLE:
                raise EngineUnreachable(
                    f"the container engine did not answer: {exc.message}"
                ) from None
            raise
        finally:
            await docker.close()

    async def _acquire(self, host: EngineHost) -> _Forward:
        if self.ssh is None or self.target_of is None:
            raise NoEngine("remote engines need SSH, which this service was not given")
        lock = self._locks.setdefault(host.id, asyncio.Lock())
        async with lock:
            target = await self.target_of(host.id)
            remote = host.engine_socket or self.remote_socket
            key = (target.pool_key, remote)
            forward = self._forwards.get(host.id)
            if forward is not None and (forward.key != key or not forward.alive):
                del self._forwards[host.id]
                await self._close(forward)
                forward = None
            if forward is None:
                forward = await self._open(host.id, target, remote, key)
                self._forwards[host.id] = forward
            forward.users += 1
            if forward.idle is not None:
                forward.idle.cancel()
                forward.idle = None
            return forward

    def _release(self, host_id: str, forward: _Forward) -> None:
        forward.users -= 1
        if forward.users == 0 and forward.idle is None:
            forward.idle = asyncio.get_running_loop().create_task(self._linger(host_id, forward))

    async def _linger(self, host_id: str, forward: _Forward) -> None:
        await asyncio.sleep(self.linger)
        if forward.users == 0 and self._forwards.get(host_id) is forward:
            del self._forwards[host_id]
            forward.idle = None
            await self._close(forward)

    async def _open(
        self, host_id: str, target: SshTarget, remote: str, key: tuple[object, ...]
    ) -> _Forward:
        assert self.ssh is not None
        path = self._directory() / (hashlib.sha256(host_id.encode()).hexdigest()[:16] + ".sock")
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        lease = contextlib.AsyncExitStack()
        try:
            conn = await lease.enter_async_context(self.ssh.connection(target))
            listener = await conn.forward_local_path(str(path), remote)
        except (asyncssh.Error, OSError) as exc:
            await lease.aclose()
            raise EngineUnreachable(
                f"could not forward the engine socket {remote} of host {host_id}: {exc}"
            ) from None
        except BaseException:
            await lease.aclose()
            raise
        return _Forward(key=key, path=path, conn=conn, listener=listener, lease=lease)

    async def _close(self, forward: _Forward) -> None:
        if forward.idle is not None and forward.idle is not asyncio.current_task():
            forward.idle.cancel()
        forward.listener.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(forward.listener.wait_closed(), 5)
        with contextlib.suppress(Exception):
            await forward.lease.aclose()
        with contextlib.suppress(FileNotFoundError):
            forward.path.unlink()

    def _directory(self) -> Path:
        if self._socket_dir is not None:
            candidate = self._socket_dir / "engines"
            if len(str(candidate)) + 22 <= MAX_SOCKET_PATH:
                return private_dir(candidate)
        if self._temp is None:
            self._temp = Path(tempfile.mkdtemp(prefix="mk-eng-"))
            os.chmod(self._temp, 0o700)
        return self._temp
