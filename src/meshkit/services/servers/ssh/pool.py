"""A pool of SSH connections to managed hosts (asyncssh).

Contract:

- **Bounded**: at most ``max_connections_per_host`` connections per host, each carrying at
  most ``sessions_per_connection`` sessions (commands, SFTP, forwards) at once; a caller
  over the bound waits for a slot. Idle connections close after ``idle_timeout``;
  keepalives (three missed close the connection) find dead peers between commands.
- **Host keys are pinned**: a target's ``host_key`` must match what the host presents,
  checked during the key exchange, before authenticating; a mismatch raises
  :class:`~meshkit.services.servers.errors.HostKeyMismatch` and nothing is sent. A target
  without a pin accepts the first key and reports it through the pin callback.
- **Nothing from the operator's own SSH setup** is used: no ``~/.ssh/config``,
  ``known_hosts`` or agent; only the target's key.
- **Commands** (:meth:`SshPool.run`) end with a :class:`CommandResult`: exited, killed at
  their timeout (``timed_out``), or cut off by a lost connection (``error``), with the
  output that arrived. Failures to connect raise
  :class:`~meshkit.services.servers.errors.HostUnreachable`,
  :class:`~meshkit.services.servers.errors.HostAuthFailed` or ``HostKeyMismatch``.
- A pooled connection found dead when a session is opened on it is dropped and the
  session opened once more on a fresh one, so a restarted host costs no failed command.
- **No command text in logs**: asyncssh logs each command it starts; that text is
  replaced (commands may carry secrets), and private keys never reach a log.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import asyncssh

from meshkit.services.servers.errors import (
    CommandTimedOut,
    HostAuthFailed,
    HostKeyMismatch,
    HostUnreachable,
)
from meshkit.services.servers.settings import ServersSettings
from meshkit.services.servers.ssh.target import CommandResult, SshTarget

log = logging.getLogger("meshkit.servers")

OutputCallback = Callable[[str, str], Awaitable[None] | None]
"""Called with (``"stdout"`` or ``"stderr"``, a chunk of text) as output arrives."""
PinCallback = Callable[[str, str], Awaitable[None]]
"""Called with (host id, public host key line) after the first contact with an unpinned host."""
KILL_GRACE = 2.0
"""Seconds a timed-out command gets between TERM and KILL."""
PID_MARK = "MESHKIT-PID:"
"""What the first line of a command's stderr starts with: its shell's process id, which
is also its process group and session (sshd starts each session with ``setsid``)."""


def key_line(key: asyncssh.SSHKey) -> str:
    """``<algorithm> <base64>`` of a public key, without a comment."""
    return " ".join(key.export_public_key("openssh").decode().split()[:2])


def normalize_key(line: str) -> str:
    """A pinned key as :func:`key_line` writes it (algorithm and key; comment dropped)."""
    return " ".join(line.split()[:2])


def fingerprint(line: str) -> str:
    """The SHA256 fingerprint of a public key line, as ``ssh-keygen -l`` prints it."""
    return str(asyncssh.import_public_key(line).get_fingerprint("sha256"))


class _HideCommands(logging.Filter):
    """asyncssh logs the text of every command it starts (at INFO); commands may carry
    secrets (a configuration value, a password given to a tool), so the text is hidden."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str) and record.msg.endswith("Command: %s"):
            record.args = ("(not logged)",)
        return True


_HIDE_COMMANDS = _HideCommands()


def hide_commands_from_asyncssh_log() -> None:
    """Install :class:`_HideCommands` on asyncssh's logger (once)."""
    logger = logging.getLogger("asyncssh")
    if _HIDE_COMMANDS not in logger.filters:
        logger.addFilter(_HIDE_COMMANDS)


class _PinningClient(asyncssh.SSHClient):
    """Accepts exactly the pinned host key (or, with no pin, the first one, remembered)."""

    def __init__(self, pinned: str | None) -> None:
        self.pinned = normalize_key(pinned) if pinned else None
        self.presented: str | None = None

    def validate_host_public_key(
        self, host: str, addr: str, port: int, key: asyncssh.SSHKey
    ) -> bool:
        self.presented = key_line(key)
        return self.pinned is None or self.presented == self.pinned


@dataclass(eq=False)
class _Connection:
    conn: asyncssh.SSHClientConnection
    active: int = 0
    uses: int = 0
    last_used: float = field(default_factory=time.monotonic)
    closed: bool = False


@dataclass(eq=False)
class _Host:
    connections: list[_Connection] = field(default_factory=list)
    opening: int = 0
    changed: asyncio.Condition = field(default_factory=asyncio.Condition)
    retired: bool = False
    """Forgotten or closed: no more sessions start on it; its waiters are refused."""


class SshPool:
    """Pooled, pinned SSH connections; see the module docstring for the contract."""

    def __init__(
        self,
        *,
        max_connections_per_host: int = 4,
        sessions_per_connection: int = 8,
        keepalive_interval: float = 15.0,
        idle_timeout: float = 300.0,
        connect_timeout: float = 10.0,
        command_timeout: float = 300.0,
        on_pin: PinCallback | None = None,
    ) -> None:
        self.max_connections_per_host = max_connections_per_host
        self.sessions_per_connection = sessions_per_connection
        self.keepalive_interval = keepalive_interval
        self.idle_timeout = idle_timeout
        self.connect_timeout = connect_timeout
        self.command_timeout = command_timeout
        self.on_pin = on_pin
        self._hosts: dict[tuple[Any, ...], _Host] = {}
        self._reaper: asyncio.Task[None] | None = None
        self._closing = False
        hide_commands_from_asyncssh_log()

    @classmethod
    def from_settings(cls, settings: ServersSettings, on_pin: PinCallback | None = None) -> SshPool:
        """A pool sized and timed by ``MESHKIT_SERVERS_SSH_*``."""
        return cls(
            max_connections_per_host=settings.ssh_max_connections_per_host,
            sessions_per_connection=settings.ssh_sessions_per_connection,
            keepalive_interval=settings.ssh_keepalive_interval,
            idle_timeout=settings.ssh_idle_timeout,
            connect_timeout=settings.ssh_connect_timeout,
            command_timeout=settings.command_timeout,
            on_pin=on_pin,
        )

    # --- leasing sessions ---

    @contextlib.asynccontextmanager
    async def connection(self, target: SshTarget) -> AsyncIterator[asyncssh.SSHClientConnection]:
        """A pooled connection to ``target`` holding one session slot while inside.

        Open at most one session (a process, SFTP client or forward) per lease, so the
        bounds hold. A connection that dies while leased is dropped from the pool.
        """
        host, leased = await self._acquire(target)
        try:
            yield leased.conn
        except (asyncssh.ConnectionLost, asyncssh.DisconnectError, BrokenPipeError):
            leased.closed = True
            raise
        finally:
            await self._release(host, leased)

    @contextlib.asynccontextmanager
    async def sftp(
        self, target: SshTarget, *, time_limit: float | None = None
    ) -> AsyncIterator[asyncssh.SFTPClient]:
        """An SFTP client on a pooled connection to ``target``, for at most
        ``time_limit`` seconds (default: the pool's ``command_timeout``) from opening to
        the end of the block: past it the block is cancelled and
        :class:`~meshkit.services.servers.errors.CommandTimedOut` raised (a file server
        stuck on a dead mount must not hold a push or a job forever)."""
        limit = self.command_timeout if time_limit is None else time_limit
        opener = self._session(target, lambda conn: conn.start_sftp_client())
        try:
            async with asyncio.timeout(limit), opener as sftp:
                try:
                    yield sftp
                finally:
                    # asks the server to close the channel without waiting: a stuck file
                    # server never answers, and the connection's other sessions go on
                    sftp.exit()
        except TimeoutError as exc:
            raise CommandTimedOut(
                f"host {target.host_id}: file transfer did not finish within {limit:g} s"
            ) from exc

    async def run(
        self,
        target: SshTarget,
        command: str,
        *,
        time_limit: float | None = None,
        input: str | None = None,
        on_output: OutputCallback | None = None,
    ) -> CommandResult:
        """Run ``command`` on ``target`` through the account's login shell, as
        ``ssh host command`` does (so that shell must be a POSIX one: sh, dash, bash, zsh,
        ksh).

        Output is decoded as UTF-8 (undecodable bytes replaced) and passed to
        ``on_output`` as it arrives. At the time limit (default: the pool's
        ``command_timeout``) the command's whole process group is sent TERM, then KILL
        :data:`KILL_GRACE` seconds later, from a second session (closing an SSH channel
        does not stop a command that has no terminal); the result says ``timed_out``.
        The shell reports its process id first thing on stderr (:data:`PID_MARK`; that
        line is not part of the result), which costs no extra process on the host.
        """
        limit = self.command_timeout if time_limit is None else time_limit
        started = time.monotonic()
        stdout: list[str] = []
        stderr = _Stderr(on_output)
        wrapped = f'echo "{PID_MARK}$$" >&2; {command}'

        def open_process(conn: asyncssh.SSHClientConnection) -> Awaitable[Any]:
            return conn.create_process(wrapped, encoding="utf-8", errors="replace")

        async with self._session(target, open_process) as process:
            timed_out, error = False, None
            try:
                async with asyncio.timeout(limit):
                    if input is not None:
                        process.stdin.write(input)
                    process.stdin.write_eof()
                    await asyncio.gather(
                        _pump(process.stdout, "stdout", stdout.append, on_output),
                        _pump(process.stderr, "stderr", stderr.feed, None),
                    )
                    await process.wait_closed()
            except TimeoutError:
                timed_out, error = True, f"timed out after {limit:g} s"
                await self._kill(target, stderr.pid, process)
            except (asyncssh.ConnectionLost, asyncssh.DisconnectError, BrokenPipeError) as exc:
                error = f"connection lost: {exc}"
            if error is None and process.exit_status is None:
                signal = process.exit_signal
                error = f"killed by signal {signal[0]}" if signal else "the connection closed early"
            return CommandResult(
                command=command,
                exit_status=None if error else process.exit_status,
                stdout="".join(stdout),
                stderr=stderr.text(),
                duration=time.monotonic() - started,
                timed_out=timed_out,
                error=error,
            )

    async def _kill(
        self, target: SshTarget, pid: int | None, process: asyncssh.SSHClientProcess[str]
    ) -> None:
        """Stop a timed-out command's process group on the host, then close its channel."""
        if pid is not None:
            group = f"-{pid}"
            script = (
                f"kill -TERM -- {group} 2>/dev/null || exit 0; sleep {KILL_GRACE:g}; "
                f"kill -KILL -- {group} 2>/dev/null; exit 0"
            )
            killer = self._session(target, lambda conn: conn.run(script, check=False))
            with contextlib.suppress(Exception):
                async with asyncio.timeout(KILL_GRACE + self.connect_timeout + 5), killer:
                    pass
        process.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(process.wait_closed(), KILL_GRACE)

    async def forget(self, host_id: str) -> None:
        """Close every pooled connection to ``host_id`` (removed, or its key or address
        changed); sessions in progress end with a lost connection."""
        for key in [k for k in self._hosts if k[0] == host_id]:
            await self._retire(self._hosts.pop(key))

    def stats(self) -> dict[str, int]:
        """Open connections and sessions in use, across hosts."""
        connections = [c for h in self._hosts.values() for c in h.connections if not c.closed]
        return {
            "hosts": len(self._hosts),
            "connections": len(connections),
            "sessions": sum(c.active for c in connections),
        }

    async def close(self) -> None:
        """Close every connection and stop the idle reaper."""
        self._closing = True
        if self._reaper is not None:
            self._reaper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reaper
        hosts, self._hosts = list(self._hosts.values()), {}
        for host in hosts:
            await self._retire(host)
        for host in hosts:
            for leased in host.connections:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(leased.conn.wait_closed(), 5)

    # --- internals ---

    @staticmethod
    async def _retire(host: _Host) -> None:
        """Close ``host``'s connections and wake its waiters (who are then refused)."""
        async with host.changed:
            host.retired = True
            for leased in host.connections:
                leased.closed = True
                leased.conn.close()
            host.changed.notify_all()

    @contextlib.asynccontextmanager
    async def _session(
        self, target: SshTarget, open_session: Callable[[asyncssh.SSHClientConnection], Any]
    ) -> AsyncIterator[Any]:
        """Open one session on a pooled connection; a stale connection gets one retry."""
        for attempt in (1, 2):
            host, leased = await self._acquire(target)
            reused = leased.uses > 0
            leased.uses += 1
            try:
                try:
                    session = open_session(leased.conn)
                    if inspect.isawaitable(session):
                        session = await session
                except (
                    asyncssh.ConnectionLost,
                    asyncssh.DisconnectError,
                    asyncssh.ChannelOpenError,
                    BrokenPipeError,
                ) as exc:
                    leased.closed = True
                    leased.conn.close()
                    if attempt == 2 or not reused:
                        raise HostUnreachable(
                            f"host {target.host_id}: the connection failed: {exc}"
                        ) from exc
                    continue
                try:
                    yield session
                finally:
                    if leased.conn.is_closed():
                        leased.closed = True
                return
            finally:
                await self._release(host, leased)

    async def _acquire(self, target: SshTarget) -> tuple[_Host, _Connection]:
        host = self._hosts.setdefault(target.pool_key, _Host())
        async with host.changed:
            while True:
                self._check_current(target, host)
                host.connections = [c for c in host.connections if not c.closed]
                free = [c for c in host.connections if c.active < self.sessions_per_connection]
                if free:
                    leased = min(free, key=lambda c: c.active)
                    leased.active += 1
                    return host, leased
                if len(host.connections) + host.opening < self.max_connections_per_host:
                    host.opening += 1
                    break
                await host.changed.wait()
        try:
            conn = await self._open(target)
        except BaseException:
            async with host.changed:
                host.opening -= 1
                host.changed.notify_all()
            raise
        leased = _Connection(conn, active=1)
        async with host.changed:
            host.opening -= 1
            host.changed.notify_all()
            if host.retired:
                conn.close()
            else:
                host.connections.append(leased)
        self._check_current(target, host)
        self._start_reaper()
        return host, leased

    def _check_current(self, target: SshTarget, host: _Host) -> None:
        """Refuse a caller whose host was forgotten (changed, removed) or whose pool
        closed while it waited or connected: nothing it opened may outlive that."""
        if self._closing:
            raise HostUnreachable("the SSH pool is closed")
        if host.retired:
            raise HostUnreachable(
                f"host {target.host_id}: its connections were closed (the host was changed "
                "or removed) while this waited for one"
            )

    async def _release(self, host: _Host, leased: _Connection) -> None:
        async with host.changed:
            leased.active -= 1
            leased.last_used = time.monotonic()
            if leased.conn.is_closed():
                leased.closed = True
            host.changed.notify_all()

    async def _open(self, target: SshTarget) -> asyncssh.SSHClientConnection:
        client = _PinningClient(target.host_key)
        where = f"{target.user}@{target.address}:{target.port}"
        try:
            key = asyncssh.import_private_key(target.private_key)
        except (asyncssh.KeyImportError, ValueError) as exc:
            raise HostAuthFailed(f"host {target.host_id}: the stored key cannot be read") from exc
        try:
            conn, _ = await asyncssh.create_connection(
                lambda: client,
                target.address,
                target.port,
                username=target.user,
                client_keys=[key],
                known_hosts=([], [], []),
                server_host_key_algs=_host_key_algorithms(target.host_key),
                config=None,
                agent_path=None,
                password=None,
                kbdint_auth=False,
                gss_auth=False,
                host_based_auth=False,
                preferred_auth="publickey",
                connect_timeout=self.connect_timeout,
                keepalive_interval=self.keepalive_interval,
                keepalive_count_max=3,
            )
        except asyncssh.HostKeyNotVerifiable as exc:
            if client.pinned and client.presented and client.presented != client.pinned:
                raise HostKeyMismatch(
                    f"host {target.host_id} ({where}) presented a different host key: "
                    f"pinned {fingerprint(client.pinned)}, presented "
                    f"{fingerprint(client.presented)}; nothing was sent to it",
                    extensions={
                        "pinned_fingerprint": fingerprint(client.pinned),
                        "presented_fingerprint": fingerprint(client.presented),
                    },
                ) from exc
            raise HostUnreachable(f"host {target.host_id} ({where}): {exc}") from exc
        except asyncssh.PermissionDenied as exc:
            raise HostAuthFailed(
                f"host {target.host_id} ({where}) refused the key for user {target.user!r}"
            ) from exc
        except (OSError, TimeoutError, asyncssh.Error) as exc:
            reason = str(exc) or type(exc).__name__
            raise HostUnreachable(f"host {target.host_id} ({where}): {reason}") from exc
        if target.host_key is None and client.presented and self.on_pin is not None:
            try:
                await self.on_pin(target.host_id, client.presented)
            except BaseException:
                conn.close()
                raise
        return conn

    def _start_reaper(self) -> None:
        if self._reaper is None or self._reaper.done():
            self._reaper = asyncio.create_task(self._reap(), name="servers:ssh-reaper")

    async def _reap(self) -> None:
        every = max(0.5, min(30.0, self.idle_timeout / 2))
        while self._hosts:
            await asyncio.sleep(every)
            now = time.monotonic()
            for key, host in list(self._hosts.items()):
                async with host.changed:
                    for leased in host.connections:
                        idle = leased.active == 0 and now - leased.last_used > self.idle_timeout
                        if idle or leased.conn.is_closed():
                            leased.closed = True
                            leased.conn.close()
                    host.connections = [c for c in host.connections if not c.closed]
                    if not host.connections and host.opening == 0:
                        self._hosts.pop(key, None)


def _host_key_algorithms(pinned: str | None) -> list[str] | str:
    """The host key algorithms to offer: those of the pinned key, so a host that has
    several keys presents the pinned one (an RSA pin is not met by an Ed25519 key, which
    would read as a changed key); with no pin, asyncssh's default list."""
    if pinned is None:
        return "default"
    try:
        key = asyncssh.import_public_key(normalize_key(pinned))
    except (asyncssh.KeyImportError, ValueError):
        return "default"
    return [algorithm.decode() for algorithm in key.sig_algorithms]


class _Stderr:
    """A command's stderr minus its first line (the shell's :data:`PID_MARK` line)."""

    def __init__(self, on_output: OutputCallback | None) -> None:
        self.on_output = on_output
        self.pid: int | None = None
        self._head: str | None = ""
        self._parts: list[str] = []

    async def feed(self, chunk: str) -> None:
        if self._head is not None:
            self._head += chunk
            line, newline, rest = self._head.partition("\n")
            if not newline:
                return
            self._head = None
            if line.startswith(PID_MARK) and line[len(PID_MARK) :].isdigit():
                self.pid = int(line[len(PID_MARK) :])
                chunk = rest
            else:
                chunk = line + newline + rest
            if not chunk:
                return
        self._parts.append(chunk)
        if self.on_output is not None:
            result = self.on_output("stderr", chunk)
            if inspect.isawaitable(result):
                await result

    def text(self) -> str:
        head = self._head or ""
        return "".join(self._parts) + head


async def _pump(
    stream: asyncssh.SSHReader[str],
    name: str,
    sink: Callable[[str], Awaitable[None] | None],
    on_output: OutputCallback | None,
) -> None:
    while chunk := await stream.read(65536):
        stored = sink(chunk)
        if inspect.isawaitable(stored):
            await stored
        if on_output is not None:
            result = on_output(name, chunk)
            if inspect.isawaitable(result):
                await result
