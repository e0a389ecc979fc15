"""The instances behind each routed service, and which one takes the next request.

Instances come from discovery (:class:`meshkit.discovery.Directory`: ``MESHKIT_<SVC>_URLS``,
DNS, or the process's own services). Each instance is in one of three states:

* *starting*: it has never been up since this gateway saw it (no ``/readyz`` passed, no
  proxied request answered below 500). It is probed every ``starting_interval``
  (fast) until it comes up, and failures against it are no verdict: its circuit never
  opens. A process that is not listening yet has not *failed*; opening its circuit
  would refuse requests for a whole cooldown after it came up.
* *healthy*: it has been up and passes its checks; these take the requests.
* *unhealthy*: it has been up, then failed ``MESHKIT_GATEWAY_UNHEALTHY_THRESHOLD``
  checks in a row (one success brings it back).

Healthy instances are preferred, and one whose circuit breaker is open (passive
ejection: proxied requests that failed to connect, timed out or got a 5xx) is skipped.
If no healthy instance can take a request, starting and unhealthy ones are still tried
before giving up: a health checker that cannot reach anything should not turn a
working service off.

Balancing is ``round_robin`` or ``least_outstanding`` (fewest requests in flight through
this gateway; ties go round-robin so load spreads when idle).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import itertools
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

import aiohttp

from meshkit.discovery import Directory, Instance
from meshkit.resilience import BreakerRegistry, CircuitBreaker, CircuitOpen, NoInstances
from meshkit.services.gateway.metrics import Outcome, UpstreamMetrics

Strategy = Literal["round_robin", "least_outstanding"]
InstanceState = Literal["starting", "healthy", "unhealthy"]
STARTING_INTERVAL = 0.15  # seconds between probes of an instance that has never been up
FORGET_AFTER = 3  # health rounds an instance must be missing from discovery to be forgotten
LeaseKind = Literal["request", "websocket", "internal"]
"""What holds an instance: a proxied request (counted and timed), a proxied WebSocket
upgrade (counted; held until the upstream accepts it), or the gateway's own call, e.g.
fetching a document (neither)."""
log = logging.getLogger("meshkit.gateway")


@dataclass
class Lease:
    """One request's hold on an instance: report how it went exactly once."""

    pool: ServicePool
    instance: Instance
    breaker: CircuitBreaker
    kind: LeaseKind = "request"
    started: float = field(default_factory=time.perf_counter)
    _done: bool = False

    def success(self) -> None:
        """The instance answered (any status below 500): it is up."""
        self._finish()
        self.breaker.record_success()
        self.pool.mark_up(self.instance)
        self._report("ok")

    def failure(self) -> None:
        """The instance failed: refused, timed out, reset, or answered 5xx.

        Counted against its circuit only once it has been up (see the module docs).
        """
        self._finish()
        if self.instance in self.pool.up:
            self.breaker.record_failure()
        else:
            self.breaker.release()
        self._report("error")

    def release(self) -> None:
        """No verdict (the client went away first)."""
        self._finish()
        self.breaker.release()
        self._report("aborted")

    def _finish(self) -> None:
        if self._done:
            raise RuntimeError("lease already reported")
        self._done = True
        self.pool.outstanding[self.instance] -= 1

    def _report(self, outcome: Outcome) -> None:
        metrics = self.pool.metrics
        if metrics is not None:
            metrics.finished(
                self.pool.service,
                self.instance.url,
                None if self.kind == "internal" else outcome,
                in_flight=self.pool.outstanding[self.instance],
                circuit=self.breaker.state,
                seconds=time.perf_counter() - self.started if self.kind == "request" else None,
            )


@dataclass
class ServicePool:
    """Instances of one service as the gateway sees them."""

    service: str
    directory: Directory
    breakers: BreakerRegistry
    strategy: Strategy
    metrics: UpstreamMetrics | None = None
    outstanding: dict[Instance, int] = field(default_factory=dict)
    unhealthy: set[Instance] = field(default_factory=set)
    failed_checks: dict[Instance, int] = field(default_factory=dict)
    """Health checks failed in a row, per instance (one success resets it)."""
    seen: set[Instance] = field(default_factory=set)
    """Every instance discovery listed and that is not forgotten yet."""
    missing: dict[Instance, int] = field(default_factory=dict)
    """Health rounds in a row an instance has been missing from discovery."""
    up: set[Instance] = field(default_factory=set)
    """Instances that have been up since they were first seen (the others are starting)."""
    ready_once: bool = False
    """Whether some instance of the service has been up since the gateway started."""
    ids: dict[Instance, str] = field(default_factory=dict)
    """The ``instance`` id each instance gave in its last ready answer (who owns what,
    in :mod:`meshkit.affinity` terms, is recorded by id)."""
    _turn: itertools.count[int] = field(default_factory=itertools.count)

    async def instances(self) -> list[Instance]:
        """The instances discovery knows now."""
        return await self.directory.instances(self.service, "http").current()

    def mark_up(self, instance: Instance) -> None:
        """``instance`` passed a check or answered a request: it is no longer starting."""
        if instance not in self.up:
            self.up.add(instance)
            self.ready_once = True
            log.info("%s of %s is up", instance.url, self.service, extra={"upstream": instance.url})

    def state(self, instance: Instance) -> InstanceState:
        """``starting``, ``healthy`` or ``unhealthy`` (see the module docs)."""
        if instance not in self.up:
            return "starting"
        return "unhealthy" if instance in self.unhealthy else "healthy"

    async def acquire(
        self,
        *,
        exclude: Iterable[Instance] = (),
        affinity: str | None = None,
        owner: str | None = None,
        kind: LeaseKind = "request",
    ) -> Lease:
        """An instance for one request; :class:`NoInstances` or :class:`CircuitOpen`.

        ``exclude``: instances this request already failed on (used only as a last
        resort). ``affinity``: a key that should keep landing on the same instance
        while that instance is usable (Socket.IO long-polling sessions, a voice room).
        ``owner``: the id of the instance that holds what the request is about; tried
        first when it is known and usable. ``kind``: what the lease is for (see
        :data:`LeaseKind`), for the metrics.
        """
        found = await self.instances()
        if not found:
            raise NoInstances(
                f"no instance of {self.service} is known: set MESHKIT_{self.service.upper()}_URLS"
            )
        tried = set(exclude)
        for candidates in (
            [i for i in found if self.state(i) == "healthy" and i not in tried],
            [i for i in found if i not in tried],
            list(found),
        ):
            for instance in self._order(candidates, affinity, owner):
                breaker = self.breakers.get(instance.url)
                if breaker.acquire():
                    in_flight = self.outstanding[instance] = self.outstanding.get(instance, 0) + 1
                    if self.metrics is not None:
                        self.metrics.outstanding.labels(self.service, instance.url).set(in_flight)
                    return Lease(self, instance, breaker, kind)
        wait = min(self.breakers.get(i.url).retry_after for i in found)
        raise CircuitOpen(
            f"every instance of {self.service} has an open circuit",
            extensions={"retry_after": round(wait, 3)},
            headers={"Retry-After": str(max(1, round(wait)))},
        )

    def _order(
        self, candidates: list[Instance], affinity: str | None, owner: str | None = None
    ) -> list[Instance]:
        if not candidates:
            return []
        if affinity is not None:
            ordered = sorted(candidates, key=lambda i: _rendezvous(affinity, i))
            if owner is not None:
                ordered.sort(key=lambda i: self.ids.get(i) != owner)  # stable: owner first
            return ordered
        start = next(self._turn)
        ordered = [candidates[(start + i) % len(candidates)] for i in range(len(candidates))]
        if self.strategy == "least_outstanding":
            ordered.sort(key=lambda i: self.outstanding.get(i, 0))  # stable: ties keep turn
        return ordered


async def _instance_id(response: aiohttp.ClientResponse) -> str:
    """The ``instance`` a ready answer names ("" if it names none: an older release)."""
    try:
        body = await response.json(content_type=None)
    except (ValueError, aiohttp.ClientError):
        return ""
    found = body.get("instance") if isinstance(body, dict) else None
    return found if isinstance(found, str) else ""


def _rendezvous(key: str, instance: Instance) -> bytes:
    """Highest-random-weight order: the same key prefers the same instance, and removing
    an instance moves only the keys that were on it."""
    return hashlib.blake2b(f"{key}|{instance.url}".encode(), digest_size=8).digest()


class Upstreams:
    """Every routed service's pool, and the active health checker over all of them.

    A full round checks every instance every ``health_interval`` seconds; between
    rounds, instances that are still starting are probed every ``starting_interval``
    seconds, so one that just began to listen takes requests within that time.
    """

    def __init__(
        self,
        directory: Directory,
        breakers: BreakerRegistry,
        *,
        strategy: Strategy,
        health_interval: float,
        health_timeout: float,
        unhealthy_threshold: int,
        starting_interval: float = STARTING_INTERVAL,
        metrics: UpstreamMetrics | None = None,
    ) -> None:
        self.metrics = metrics
        self.directory = directory
        self.breakers = breakers
        self.strategy = strategy
        self.health_interval = health_interval
        self.health_timeout = health_timeout
        self.unhealthy_threshold = unhealthy_threshold
        self.starting_interval = starting_interval
        self._pools: dict[str, ServicePool] = {}
        self._checker: asyncio.Task[None] | None = None

    def pool(self, service: str) -> ServicePool:
        """The pool of ``service`` (created on first use)."""
        found = self._pools.get(service)
        if found is None:
            found = self._pools[service] = ServicePool(
                service, self.directory, self.breakers, self.strategy, self.metrics
            )
        return found

    async def start_health_checks(
        self, session: aiohttp.ClientSession, services: Iterable[str]
    ) -> None:
        """Check every instance of ``services`` once now (so a gateway that starts after
        its upstreams knows they are up before it takes a request), then keep checking
        in the background: see the class docs for how often."""
        names = sorted(set(services))
        try:
            await self.check_all(session, names)
        except Exception:
            log.exception("gateway health check round failed")
        self._checker = asyncio.create_task(self._check_forever(session, names))

    async def stop(self) -> None:
        """Stop the health checker."""
        if self._checker is not None:
            self._checker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._checker
            self._checker = None

    async def _check_forever(self, session: aiohttp.ClientSession, names: list[str]) -> None:
        loop = asyncio.get_running_loop()
        next_round = loop.time() + self.health_interval
        while True:
            pause = next_round - loop.time()
            if self.any_starting(names):
                pause = min(pause, self.starting_interval)
            await asyncio.sleep(max(0.0, pause))
            try:
                if loop.time() >= next_round:
                    next_round = loop.time() + self.health_interval
                    await self.check_all(session, names)
                else:
                    await self.check_starting(session, names)
            except Exception:
                log.exception("gateway health check round failed")

    def any_starting(self, names: Iterable[str]) -> bool:
        """Whether some service of ``names`` has never been up, or has a listed instance
        that has never been up (then probes come every ``starting_interval``)."""
        for name in names:
            pool = self.pool(name)
            known = pool.directory.instances(name, "http").known
            if not pool.ready_once or any(i not in pool.up for i in known):
                return True
        return False

    async def check_all(self, session: aiohttp.ClientSession, names: Iterable[str]) -> None:
        """One round of ``/readyz`` checks over every instance of ``names``, concurrently;
        then forget instances discovery no longer lists."""
        checks = []
        for name in names:
            pool = self.pool(name)
            found = await pool.instances()
            for instance in found:
                checks.append(self._check(session, pool, instance))
            self._forget_gone(pool, set(found))
        await asyncio.gather(*checks)

    async def check_starting(self, session: aiohttp.ClientSession, names: Iterable[str]) -> None:
        """Probe only the instances of ``names`` that are still starting (not a round:
        nothing is forgotten)."""
        checks = []
        for name in names:
            pool = self.pool(name)
            for instance in await pool.instances():
                if instance not in pool.up:
                    checks.append(self._check(session, pool, instance))
        await asyncio.gather(*checks)

    def readiness(self, names: Iterable[str]) -> dict[str, str]:
        """Per routed service, ``"ok"`` once one of its instances has been up since this
        gateway started; otherwise what it is waiting for (see ``docs/gateway.md``)."""
        checks: dict[str, str] = {}
        for name in sorted(set(names)):
            pool = self.pool(name)
            if pool.ready_once:
                checks[f"upstream:{name}"] = "ok"
                continue
            known = pool.directory.instances(name, "http").known
            listed = ", ".join(f"{i.url} {pool.state(i)}" for i in known) or "none known yet"
            checks[f"upstream:{name}"] = f"no instance has been up yet ({listed})"
        return checks

    def _forget_gone(self, pool: ServicePool, found: set[Instance]) -> None:
        """Drop what is kept per instance (counters, health, breaker, metrics) once an
        instance has been missing from discovery for :data:`FORGET_AFTER` rounds and
        has nothing in flight: a long-lived gateway behind rolling deploys would
        otherwise keep every instance it ever saw. A brief gap in discovery forgets
        nothing, so a sick instance does not come back with a clean slate."""
        known = (
            pool.seen | set(pool.outstanding) | pool.unhealthy | set(pool.failed_checks) | pool.up
        )
        pool.seen = known | found
        for instance in found:
            pool.missing.pop(instance, None)
        for instance in known - found:
            rounds = pool.missing[instance] = pool.missing.get(instance, 0) + 1
            if rounds < FORGET_AFTER or pool.outstanding.get(instance, 0):
                continue  # maybe back next round; or a request is still on it
            pool.seen.discard(instance)
            pool.missing.pop(instance, None)
            pool.outstanding.pop(instance, None)
            pool.unhealthy.discard(instance)
            pool.failed_checks.pop(instance, None)
            pool.up.discard(instance)
            pool.ids.pop(instance, None)
            self.breakers.forget(instance.url)
            if self.metrics is not None:
                self.metrics.forget(pool.service, instance.url)

    async def _check(
        self, session: aiohttp.ClientSession, pool: ServicePool, instance: Instance
    ) -> None:
        try:
            async with session.get(
                f"{instance.url}/readyz",
                timeout=aiohttp.ClientTimeout(total=self.health_timeout),
                allow_redirects=False,
            ) as response:
                healthy = 200 <= response.status < 300
                if healthy:
                    pool.ids[instance] = await _instance_id(response)
        except (aiohttp.ClientError, OSError, TimeoutError):
            healthy = False
        self._judge(pool, instance, healthy)
        if self.metrics is not None:
            in_service = 1 if pool.state(instance) == "healthy" else 0
            self.metrics.healthy.labels(pool.service, instance.url).set(in_service)

    def _judge(self, pool: ServicePool, instance: Instance, healthy: bool) -> None:
        """Take the instance out after enough failed checks in a row; one success
        brings it back. A starting instance failing is no news: it stays starting."""
        if healthy:
            pool.mark_up(instance)
            pool.breakers.get(instance.url).probe_passed()
            pool.failed_checks.pop(instance, None)
            if instance in pool.unhealthy:
                pool.unhealthy.discard(instance)
                log.info("%s is healthy again", instance.url, extra={"upstream": instance.url})
            return
        if instance not in pool.up:
            return
        count = pool.failed_checks[instance] = pool.failed_checks.get(instance, 0) + 1
        if count >= self.unhealthy_threshold and instance not in pool.unhealthy:
            pool.unhealthy.add(instance)
            log.warning(
                "%s failed %d health checks: taken out of %s",
                instance.url,
                count,
                pool.service,
                extra={"upstream": instance.url},
            )
