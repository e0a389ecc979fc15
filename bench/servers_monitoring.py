"""CPU of the servers service per host per monitoring sample.

``--hosts`` sshd processes on loopback addresses (127.0.0.121, ...) are sampled by the
service's :class:`Sampler` (the real thing: claims in Redis, one SSH command per host
over the pooled client, parsing, the series written to Redis, one alert rule evaluated
on a SQLite store, the latest samples refreshed for ``/metrics``), ``--samples`` rounds.
The figure is the service process's CPU time (user + system, ``time.process_time``) per
host per round: the first round separately (it opens the SSH connections: key exchange,
authentication) and the warm rounds after it. The hosts' own CPU (sshd, ``cat``, ``df``)
is theirs, not the service's, and is not counted; neither is redis-server's.

    python bench/servers_monitoring.py [--hosts 50] [--samples 10]

Needs root, OpenSSH's sshd and coreutils (as the tests do).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from redis.asyncio import Redis

from meshkit.redis import EmbeddedRedis
from meshkit.services.servers.audit import AuditEntry, AuditLog
from meshkit.services.servers.monitoring.alerts import Alerts
from meshkit.services.servers.monitoring.models import Alert, AlertRule, AlertRuleIn
from meshkit.services.servers.monitoring.sampler import Sampler, ssh_probe
from meshkit.services.servers.monitoring.series import Series
from meshkit.services.servers.ssh import SshPool, SshTarget
from meshkit.store import open_store
from meshkit.testing import make_settings
from tests.servers_env import SshHost, new_key, start_sshd


class BenchHost:
    """What the sampler needs of a host."""

    def __init__(self, index: int) -> None:
        self.id = f"bench-{index:03d}"
        self.name = self.id
        self.labels: dict[str, str] = {"bench": "yes"}
        self.engine = "none"


async def run(hosts: int, samples: int, directory: Path, user: str | None = None) -> dict[str, Any]:
    key = new_key()
    started: list[SshHost] = []
    redis_server = EmbeddedRedis(directory / "redis")
    await redis_server.start()
    redis = Redis.from_url(redis_server.url)
    store = await open_store(make_settings(directory / "data"), service="servers")
    await store.ensure_indexes([AlertRule, Alert, AuditEntry])
    pool = SshPool(max_connections_per_host=1)
    try:
        # sshd reads authorized keys as the user logging in: the path must let them by
        for place in (directory, directory / "hosts"):
            place.mkdir(parents=True, exist_ok=True)
            os.chmod(place, 0o711)
        for i in range(hosts):
            started.append(
                start_sshd(
                    directory / "hosts" / f"h{i}",
                    address=f"127.0.0.{121 + i}",
                    user=user,
                    client_key=key,
                )
            )
        listed = [BenchHost(i) for i in range(hosts)]
        targets: dict[str, SshTarget] = {
            h.id: s.target(h.id) for h, s in zip(listed, started, strict=True)
        }

        async def target(host_id: str) -> SshTarget:
            return targets[host_id]

        async def list_hosts() -> list[BenchHost]:
            return listed

        alerts = Alerts(store, AuditLog(store))
        rule = {"name": "busy", "metric": "load1", "operator": ">", "threshold": 1e9}
        await alerts.create_rule("bench", AlertRuleIn.model_validate(rule))
        sampler = Sampler(
            redis=redis,
            series=Series(redis, retention=3600),
            hosts=list_hosts,
            probe=ssh_probe(pool, target, time_limit=20),
            alerts=alerts,
            interval=0.001,  # a new slot per round: every round samples every host
            concurrency=25,
            timeout=30,
        )
        cpu: list[float] = []
        wall: list[float] = []
        for _ in range(samples + 1):
            await asyncio.sleep(0.005)
            cpu0, wall0 = time.process_time(), time.perf_counter()
            taken = await sampler.tick()
            cpu.append(time.process_time() - cpu0)
            wall.append(time.perf_counter() - wall0)
            down = [s.host_id for s in taken if s.value("up") != 1.0]
            if len(taken) != hosts or down:
                raise SystemExit(f"sampled {len(taken)} of {hosts} hosts; down: {down}")
        warm_cpu, warm_wall = cpu[1:], wall[1:]
        return {
            "hosts": hosts,
            "rounds": samples,
            "cold_cpu_ms_per_host": 1000 * cpu[0] / hosts,
            "warm_cpu_ms_per_host": 1000 * statistics.median(warm_cpu) / hosts,
            "warm_cpu_ms_per_host_max": 1000 * max(warm_cpu) / hosts,
            "cold_wall_s": wall[0],
            "warm_wall_s": statistics.median(warm_wall),
        }
    finally:
        await pool.close()
        await store.close()
        await redis.aclose()
        await redis_server.stop()
        for host in started:
            host.kill()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hosts", type=int, default=50)
    parser.add_argument("--samples", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="mk-bench-mon-") as directory:
        result = await run(args.hosts, args.samples, Path(directory))
    report(result)


def report(result: dict[str, Any]) -> None:
    """Print :func:`run`'s figures."""
    print(f"monitoring: {result['hosts']} hosts, {result['rounds']} warm rounds")
    print(
        f"  CPU per host per sample: warm {result['warm_cpu_ms_per_host']:.2f} ms "
        f"(median; worst round {result['warm_cpu_ms_per_host_max']:.2f} ms), "
        f"first round {result['cold_cpu_ms_per_host']:.2f} ms (opens SSH connections)"
    )
    print(
        f"  wall per round: warm {result['warm_wall_s'] * 1000:.0f} ms, "
        f"first {result['cold_wall_s'] * 1000:.0f} ms"
    )
    budget = result["warm_cpu_ms_per_host"] / 1000 / 30 * 100
    print(f"  at the default 30 s interval: {budget:.3f} % of one core per host")


if __name__ == "__main__":
    asyncio.run(main())
