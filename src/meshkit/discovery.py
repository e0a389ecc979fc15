"""Where a service's instances are, and which one to call next.

Instances come from ``MESHKIT_<SERVICE>_URLS`` (HTTP) and ``MESHKIT_<SERVICE>_GRPC_URLS``
(gRPC), comma-separated. A host name in them may resolve to several addresses (a
headless Kubernetes service, a round-robin DNS record): each address is one instance.
Without ``_GRPC_URLS`` the gRPC instances are the HTTP ones at port + gRPC offset; with
neither, the service's default port on 127.0.0.1 (everything in one machine, the
embedded default). Lists are re-resolved at most every ``MESHKIT_DISCOVERY_INTERVAL``
seconds, when next asked for; a failed re-resolution keeps the last good list.

:class:`Balancer` picks instances round-robin, skipping those whose circuit is open
(they come back when it turns half-open).
"""

from __future__ import annotations

import asyncio
import ipaddress
import itertools
import logging
import socket
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

from meshkit.config import ConfigError, Settings
from meshkit.resilience import BreakerRegistry, CircuitBreaker, CircuitOpen, NoInstances

Kind = Literal["http", "grpc"]
AddressResolver = Callable[[str, int], Awaitable[list[str]]]
log = logging.getLogger("meshkit.discovery")
RESOLVE_TIMEOUT = 2.0


@dataclass(frozen=True, order=True)
class Instance:
    """One reachable copy of a service."""

    host: str
    port: int
    scheme: str = "http"

    @property
    def address(self) -> str:
        """``host:port`` (IPv6 hosts in brackets)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    @property
    def url(self) -> str:
        """``scheme://host:port``; also the instance's breaker name."""
        return f"{self.scheme}://{self.address}"


@dataclass(frozen=True)
class Target:
    """A configured entry before DNS: host name or address, and port."""

    host: str
    port: int
    scheme: str


def parse_targets(urls: Sequence[str], *, variable: str, default_scheme: str) -> list[Target]:
    """Parse ``http://host:port`` or ``host:port`` entries; :class:`ConfigError` if bad."""
    targets = []
    for raw in urls:
        text = raw if "://" in raw else f"{default_scheme}://{raw}"
        try:
            parts = urlsplit(text)
            port = parts.port
        except ValueError as exc:
            raise ConfigError(f"{variable}: {raw!r} is not a URL ({exc})") from None
        if not parts.hostname or port is None:
            raise ConfigError(f"{variable}: {raw!r} needs a host and a port")
        targets.append(Target(parts.hostname, port, parts.scheme))
    return targets


async def resolve_addresses(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to (IP literals resolve to themselves)."""
    try:
        return [str(ipaddress.ip_address(host))]
    except ValueError:
        pass
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return sorted({str(info[4][0]) for info in infos})


class ServiceInstances:
    """The current instances of one service for one protocol.

    The first lookup waits for resolution (bounded by :data:`RESOLVE_TIMEOUT`); later
    ones return the last list at once and, when it is older than the interval, refresh
    it in the background, so a slow DNS server never holds up a call.
    """

    def __init__(
        self,
        service: str,
        targets: Sequence[Target],
        *,
        interval: float,
        resolver: AddressResolver = resolve_addresses,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.service = service
        self.targets = list(targets)
        self.interval = interval
        self._resolver = resolver
        self._clock = clock
        self._instances: list[Instance] = []
        self._resolved_at: float | None = None
        self._lock = asyncio.Lock()
        self._refreshing: asyncio.Task[None] | None = None
        self.generation = 0
        """Bumped whenever the list changes, so holders of per-instance state can prune."""

    @property
    def known(self) -> list[Instance]:
        """The last resolved list (empty before the first resolution)."""
        return self._instances

    async def current(self) -> list[Instance]:
        """The instances; see the class docs for when this resolves."""
        if self._resolved_at is None:
            async with self._lock:
                if self._resolved_at is None:
                    await self.refresh()
        elif self._clock() - self._resolved_at >= self.interval and (
            self._refreshing is None or self._refreshing.done()
        ):
            self._refreshing = asyncio.create_task(self.refresh())
        return self._instances

    async def refresh(self) -> None:
        """Resolve every target now; on failure keep the previous list."""
        found: list[Instance] = []
        failures = []
        for target in self.targets:
            try:
                addresses = await asyncio.wait_for(
                    self._resolver(target.host, target.port), RESOLVE_TIMEOUT
                )
            except (OSError, TimeoutError) as exc:
                failures.append(f"{target.host}: {exc or 'timed out'}")
                continue
            found.extend(Instance(a, target.port, target.scheme) for a in addresses)
        self._resolved_at = self._clock()
        if failures:
            log.warning(
                "could not resolve instances of %s: %s",
                self.service,
                "; ".join(failures),
                extra={"target_service": self.service},
            )
        if found or not self._instances:
            fresh = sorted(set(found))
            if fresh != self._instances:
                self._instances = fresh
                self.generation += 1


class Directory:
    """Instances of every service this process calls, built from settings."""

    def __init__(
        self,
        settings: Settings,
        default_ports: Mapping[str, int] | None = None,
        *,
        resolver: AddressResolver = resolve_addresses,
    ) -> None:
        self.settings = settings
        self.default_ports = dict(default_ports or {})
        self._resolver = resolver
        self._lists: dict[tuple[str, Kind], ServiceInstances] = {}
        self._local: dict[tuple[str, Kind], Target] = {}

    def register_local(self, service: str, kind: Kind, host: str, port: int) -> None:
        """A service running in this process, at the port it actually bound.

        Used when no ``MESHKIT_<SERVICE>_URLS`` is set, instead of the default port
        (which differs when ports are picked at random, as in tests).
        """
        scheme = "grpc" if kind == "grpc" else "http"
        self._local[(service, kind)] = Target(host, port, scheme)
        self._lists.pop((service, kind), None)

    def targets(self, service: str, kind: Kind) -> list[Target]:
        """Configured targets of ``service`` (see the module docs for the defaults)."""
        name = service.upper()
        if kind == "grpc":
            grpc_urls = self.settings.urls_for(service, "grpc")
            if grpc_urls:
                variable = f"MESHKIT_{name}_GRPC_URLS"
                return parse_targets(grpc_urls, variable=variable, default_scheme="grpc")
        http_urls = self.settings.urls_for(service, "http")
        if not http_urls and (service, kind) in self._local:
            return [self._local[(service, kind)]]
        if http_urls:
            targets = parse_targets(
                http_urls, variable=f"MESHKIT_{name}_URLS", default_scheme="http"
            )
        elif service in self.default_ports:
            port = self.settings.port_for(service, self.default_ports[service])
            targets = [Target("127.0.0.1", port, "http")]
        else:
            return []
        if kind == "grpc":
            return [
                Target(t.host, self.settings.grpc_port_for(service, t.port), "grpc")
                for t in targets
            ]
        return targets

    def instances(self, service: str, kind: Kind) -> ServiceInstances:
        """The (cached) instance list of ``service``."""
        key = (service, kind)
        if key not in self._lists:
            self._lists[key] = ServiceInstances(
                service,
                self.targets(service, kind),
                interval=self.settings.discovery_interval,
                resolver=self._resolver,
            )
        return self._lists[key]


class Balancer:
    """Round-robin over the instances whose circuit lets a call through.

    The instance list is looked up in the directory on every pick, so a service that
    registers its real port after a client was made is still found there.
    """

    def __init__(
        self, directory: Directory, service: str, kind: Kind, breakers: BreakerRegistry
    ) -> None:
        self.directory = directory
        self.service = service
        self.kind = kind
        self.breakers = breakers
        self._turn = itertools.count()

    @property
    def instances(self) -> ServiceInstances:
        """The current instance list of the target."""
        return self.directory.instances(self.service, self.kind)

    async def pick(
        self, *, exclude: frozenset[Instance] = frozenset()
    ) -> tuple[Instance, CircuitBreaker]:
        """The next healthy instance with its breaker acquired for one call.

        ``exclude`` holds instances that already failed this call; they are used only
        when nothing else is left. Raises :class:`NoInstances` or :class:`CircuitOpen`.
        """
        found = await self.instances.current()
        if not found:
            raise NoInstances(
                f"no instance of {self.service} is known: set MESHKIT_{self.service.upper()}_URLS"
            )
        start = next(self._turn)
        ordered = [found[(start + i) % len(found)] for i in range(len(found))]
        preferred = [i for i in ordered if i not in exclude] + [i for i in ordered if i in exclude]
        for instance in preferred:
            breaker = self.breakers.get(instance.url)
            if breaker.acquire():
                return instance, breaker
        wait = min(self.breakers.get(i.url).retry_after for i in found)
        raise CircuitOpen(
            f"every instance of {self.service} has an open circuit",
            extensions={"retry_after": round(wait, 3)},
            headers={"Retry-After": str(max(1, round(wait)))},
        )
