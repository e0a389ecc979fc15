"""Sampling every host on a schedule: one SSH command, the engine's container stats, then
storage and alert evaluation.

Each tick lists the hosts, :func:`~meshkit.services.servers.schedule.claim`\\ s each one
for the current slot of the interval (so with several service instances each host is
sampled once per interval) and samples the claimed ones, at most ``concurrency`` at
once. A host that does not answer (unreachable, refused, timed out, garbled output) gets
a sample with ``up`` 0 and nothing else; the others go on. Container stats are asked
only of hosts whose engine is not ``none``; an engine that does not answer gives
``engine_up`` 0 and the host's own figures stand.

The collaborators are narrow callables, so the sampler runs against a bare sshd and
engine in tests: ``hosts()`` lists hosts, ``probe(host_id)`` returns the output of
:data:`~meshkit.services.servers.monitoring.procfs.PROBE` on the host (raising when it
cannot), ``containers(host)`` returns container points. :func:`ssh_probe` and
:func:`engine_stats` build the real ones.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol

import aiodocker
from redis.asyncio import Redis

from meshkit.observability import ThrottledLog
from meshkit.services.servers.monitoring.alerts import Alerts
from meshkit.services.servers.monitoring.containers import engine_points
from meshkit.services.servers.monitoring.models import Point, Sample
from meshkit.services.servers.monitoring.procfs import PROBE, host_points, read_probe
from meshkit.services.servers.monitoring.series import Series
from meshkit.services.servers.schedule import claim
from meshkit.services.servers.ssh import SshPool, SshTarget

log = logging.getLogger("meshkit.servers")


class SampledHost(Protocol):
    """What sampling needs of a host (the hosts part's ``Host`` document has it)."""

    @property
    def id(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def labels(self) -> dict[str, str]: ...
    @property
    def engine(self) -> str: ...


ListHosts = Callable[[], Awaitable[Sequence[SampledHost]]]
Probe = Callable[[str], Awaitable[str]]
ContainerStats = Callable[[Any], Awaitable[list[Point]]]


class ProbeFailed(RuntimeError):
    """The probe command ran but did not finish well (timed out, cut off, failed)."""


def ssh_probe(
    pool: SshPool, target: Callable[[str], Awaitable[SshTarget]], time_limit: float
) -> Probe:
    """The probe over the service's SSH pool: the host's target, then :data:`PROBE`."""

    async def probe(host_id: str) -> str:
        result = await pool.run(await target(host_id), PROBE, time_limit=time_limit)
        if not result.ok:
            reason = result.error or (
                "timed out" if result.timed_out else f"exited {result.exit_status}"
            )
            raise ProbeFailed(reason)
        return result.stdout

    return probe


def engine_stats(
    client: Callable[[Any], AbstractAsyncContextManager[aiodocker.Docker]],
) -> ContainerStats:
    """Container points of a host through ``client(host)`` (``Engines.client``)."""

    async def stats(host: Any) -> list[Point]:
        async with client(host) as docker:
            return await engine_points(docker)

    return stats


class Sampler:
    """Samples hosts (module docstring) and keeps the latest sample of every host in
    memory for ``/metrics`` (:attr:`latest`, refreshed from Redis at each tick, so it
    includes hosts other instances sampled)."""

    def __init__(
        self,
        *,
        redis: Redis,
        series: Series,
        hosts: ListHosts,
        probe: Probe,
        containers: ContainerStats | None = None,
        alerts: Alerts | None = None,
        interval: float = 30.0,
        concurrency: int = 25,
        timeout: float = 20.0,
    ) -> None:
        self.redis = redis
        self.series = series
        self.hosts = hosts
        self.probe = probe
        self.containers = containers
        self.alerts = alerts
        self.interval = interval
        self.timeout = timeout
        self._gate = asyncio.Semaphore(concurrency)
        self.latest: dict[str, Sample] = {}
        """Host id → its latest sample (what ``/metrics`` exports)."""
        self.names: dict[str, str] = {}
        """Host id → host name, from the last listing."""
        self._failures = ThrottledLog(log, 60.0)

    async def tick(self) -> list[Sample]:
        """One round: sample the hosts this instance claims, evaluate the alert rules on
        each sample, refresh :attr:`latest`. Returns the samples taken here."""
        hosts = list(await self.hosts())
        self.names = {h.id: h.name for h in hosts}
        mine = [h for h in hosts if await claim(self.redis, f"monitoring:{h.id}", self.interval)]
        samples = await asyncio.gather(*(self._gated(h) for h in mine))
        if self.alerts is not None and samples:
            rules = await self.alerts.list_rules(enabled_only=True)
            for host, sample in zip(mine, samples, strict=True):
                try:
                    await self.alerts.evaluate(host, sample, rules)
                except Exception:
                    log.exception("servers: alert evaluation failed for host %s", host.id)
        await self.refresh(known=set(self.names))
        return list(samples)

    async def run_once(self) -> None:
        """:meth:`tick`, for the background loop."""
        await self.tick()

    async def refresh(self, known: set[str] | None = None) -> None:
        """Reload :attr:`latest` from Redis; forget the samples of hosts not in ``known``."""
        found = await self.series.latest()
        if known is not None:
            for sample in found:
                if sample.host_id not in known:
                    await self.series.forget(sample.host_id)
            found = [s for s in found if s.host_id in known]
        self.latest = {s.host_id: s for s in found}

    async def _gated(self, host: SampledHost) -> Sample:
        async with self._gate:
            return await self.sample_host(host)

    async def sample_host(self, host: SampledHost) -> Sample:
        """Sample one host now and store the sample (``up`` 0 when it did not answer)."""
        started = time.monotonic()
        at = time.time()
        try:
            text = await asyncio.wait_for(self.probe(host.id), self.timeout)
            reading = read_probe(text)
        except Exception as exc:  # any failure of one host is its `up 0`, never the tick's
            self._failures.warning("servers: host %s did not answer its sample: %r", host.id, exc)
            sample = Sample(host.id, at, [Point("up", 0.0)])
            await self.series.write(sample)
            return sample
        ttl = max(3 * self.interval, 120.0)
        previous = await self.series.swap_counters(host.id, at, reading.counters(), ttl)
        before, elapsed = (previous[1], at - previous[0]) if previous else (None, 0.0)
        points = [Point("up", 1.0), *host_points(reading, before, elapsed)]
        if self.containers is not None and host.engine != "none":
            try:
                found = await asyncio.wait_for(self.containers(host), self.timeout)
            except Exception as exc:
                self._failures.warning("servers: engine of %s did not answer: %r", host.id, exc)
                points.append(Point("engine_up", 0.0))
            else:
                points.append(Point("engine_up", 1.0))
                points.extend(found)
        points.append(Point("sample_seconds", time.monotonic() - started))
        sample = Sample(host.id, at, points)
        await self.series.write(sample)
        return sample
