"""Running one check: where its subject is, and the HTTP, TCP or command probe itself.

:class:`Subjects` resolves ``host:<id>`` and ``deployment:<id>`` through narrow callables
(the hosts registry and the deployments give them in the service; tests give their own).
:class:`Prober` runs a probe and always returns a :class:`ProbeResult`: a refused
connection, a timeout, an unknown subject or an unreachable host are failed results, never
exceptions. It connects only where the check's definition says: redirects are not followed
and no proxy from the environment is used.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TypeVar

import aiohttp

from meshkit.errors import Problem
from meshkit.services.servers.health.models import (
    MAX_BODY_READ,
    CheckDefinition,
    CommandProbe,
    HttpProbe,
    ProbeResult,
    TcpProbe,
)
from meshkit.services.servers.ssh import CommandResult, SshTarget

HostAddress = Callable[[str], Awaitable[str]]
"""``host_address(host_id)``: the host's address; raises a 404 problem for an unknown host."""
HostTarget = Callable[[str], Awaitable[SshTarget]]
"""``host_target(host_id)``: how to reach the host over SSH (``Hosts.target``)."""
DeploymentHost = Callable[[str, int | None], Awaitable[tuple[str, int | None]]]
"""``deployment_host(deployment_id, container_port)``: the id of the host the deployment
runs on and the host port ``container_port`` is published on (``None`` when it is not, or
when no port was asked); raises a 404 problem for an unknown deployment."""
RunCommand = Callable[[SshTarget, str, float], Awaitable[CommandResult]]
"""``run(target, command, time_limit)``: ``SshPool.run``."""
GRACE = 5.0
"""Seconds a command check's SSH round trip may take past its time limit."""


T = TypeVar("T")


class UnknownSubject(LookupError):
    """The subject's host or deployment does not exist (any more)."""


class Subjects:
    """Where a check's subject is; ``deployment_host`` ``None``: deployments unknown."""

    def __init__(
        self,
        host_address: HostAddress,
        host_target: HostTarget,
        deployment_host: DeploymentHost | None = None,
    ) -> None:
        self.host_address = host_address
        self.host_target = host_target
        self.deployment_host = deployment_host

    @staticmethod
    async def _lookup(call: Awaitable[T], subject: str) -> T:
        try:
            return await call
        except Problem as exc:
            if exc.status == 404:
                raise UnknownSubject(f"{subject} does not exist") from None
            raise

    async def _host_of(self, subject: str, port: int | None) -> tuple[str, int | None]:
        kind, _, ident = subject.partition(":")
        if kind == "host":
            return ident, port
        if self.deployment_host is None:
            raise UnknownSubject(f"{subject}: deployments are not available")
        return await self._lookup(self.deployment_host(ident, port), subject)

    async def exists(self, subject: str) -> bool:
        """Whether the host or deployment exists now."""
        try:
            host_id, _ = await self._host_of(subject, None)
            await self._lookup(self.host_address(host_id), subject)
        except UnknownSubject:
            return False
        return True

    async def endpoint(self, subject: str, port: int) -> tuple[str, int]:
        """``(address, port)`` to connect to for ``port`` on the subject: a host's own
        port, or the host port a deployment publishes its container ``port`` on."""
        host_id, published = await self._host_of(subject, port)
        if published is None:
            raise UnknownSubject(f"{subject} publishes no host port for port {port}")
        return await self._lookup(self.host_address(host_id), subject), published

    async def target(self, subject: str) -> SshTarget:
        """How to reach the subject's host over SSH."""
        host_id, _ = await self._host_of(subject, None)
        return await self._lookup(self.host_target(host_id), subject)


def _now() -> datetime:
    return datetime.now(UTC)


def _url_host(address: str) -> str:
    return f"[{address}]" if ":" in address and not address.startswith("[") else address


def _why(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError | asyncio.TimeoutError):
        return "timed out"
    text = str(exc) or type(exc).__name__
    return text if len(text) <= 300 else text[:297] + "..."


class Prober:
    """Runs probes; one HTTP client session (made on first use) for every HTTP check."""

    def __init__(self, subjects: Subjects, run_command: RunCommand | None) -> None:
        self.subjects = subjects
        self.run_command = run_command
        self._http: aiohttp.ClientSession | None = None

    async def close(self) -> None:
        """Close the HTTP client session."""
        http, self._http = self._http, None
        if http is not None:
            await http.close()

    def _session(self) -> aiohttp.ClientSession:
        if self._http is None or self._http.closed:
            # a new connection per run (a kept-alive one would hide a dead listener),
            # no proxies or netrc from the environment
            self._http = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(force_close=True), trust_env=False
            )
        return self._http

    async def probe(self, check: CheckDefinition) -> ProbeResult:
        """Run ``check``'s probe once, within its timeout; the result (never raises)."""
        probe = check.probe_model()
        started = time.monotonic()
        at = _now()
        try:
            if isinstance(probe, HttpProbe):
                ok, detail = await self._http_probe(check, probe)
            elif isinstance(probe, TcpProbe):
                ok, detail = await self._tcp_probe(check, probe)
            else:
                ok, detail = await self._command_probe(check, probe)
        except UnknownSubject as exc:
            ok, detail = False, str(exc)
        except TimeoutError:
            ok, detail = False, f"timed out after {check.timeout:g} s"
        except Problem as exc:
            ok, detail = False, f"{exc.title}: {exc.detail}"
        except (OSError, aiohttp.ClientError, ValueError) as exc:
            ok, detail = False, _why(exc)
        latency = (time.monotonic() - started) * 1000
        return ProbeResult(ok=ok, latency_ms=round(latency, 3), detail=detail, at=at)

    async def _http_probe(self, check: CheckDefinition, probe: HttpProbe) -> tuple[bool, str]:
        if probe.url is not None:
            url = probe.url
        else:
            assert probe.port is not None  # the model allows url or port
            address, port = await self.subjects.endpoint(check.subject, probe.port)
            url = f"{probe.scheme}://{_url_host(address)}:{port}{probe.path or '/'}"
        async with self._session().request(
            probe.method,
            url,
            allow_redirects=False,
            ssl=probe.tls_verify,
            timeout=aiohttp.ClientTimeout(total=check.timeout),
        ) as response:
            status = response.status
            body = b""
            if probe.body_contains is not None:
                body = await response.content.read(MAX_BODY_READ)
        if not probe.status_min <= status <= probe.status_max:
            return False, f"HTTP {status} from {probe.method} {url}"
        if probe.body_contains is not None and probe.body_contains not in body.decode(
            "utf-8", "replace"
        ):
            return False, f"HTTP {status} from {probe.method} {url} without the expected text"
        return True, f"HTTP {status} from {probe.method} {url}"

    async def _tcp_probe(self, check: CheckDefinition, probe: TcpProbe) -> tuple[bool, str]:
        if probe.host is not None:
            address, port = probe.host.strip("[]"), probe.port
        else:
            address, port = await self.subjects.endpoint(check.subject, probe.port)
        _, writer = await asyncio.wait_for(asyncio.open_connection(address, port), check.timeout)
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
        return True, f"TCP {_url_host(address)}:{port} accepted the connection"

    async def _command_probe(self, check: CheckDefinition, probe: CommandProbe) -> tuple[bool, str]:
        if self.run_command is None:
            return False, "commands over SSH are not available"
        target = await self.subjects.target(check.subject)
        result = await asyncio.wait_for(
            self.run_command(target, probe.command, check.timeout), check.timeout + GRACE
        )
        if result.timed_out:
            return False, f"the command timed out after {check.timeout:g} s"
        if result.error is not None:
            return False, f"the command did not finish: {result.error}"
        if result.ok:
            return True, "the command exited 0"
        # not its output: results reach the operations channel, whose members may hold
        # no servers permission, and output may carry anything
        return False, f"the command exited {result.exit_status}"
