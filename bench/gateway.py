"""Requests/s and latency of one authenticated JSON endpoint, direct vs through the gateway.

Three processes: the upstream (auth and a small ``bench`` service whose endpoint
verifies the token), the gateway (token check and Redis rate limiter on, with a limit
far above the load), and this one, the load generator — the same aiohttp client for
both targets, in the same run. Prints

- closed-loop throughput at ``--concurrency`` for each target and the ratio
  (goal: >= 0.6 of direct), the CPU each process spent per request, and for reference
  the throughput of a bare aiohttp proxy (no checks) — the floor of proxying in Python
  on this machine;
- open-loop p50/p99 at half load — half the lower of the two throughputs, so neither
  target queues — for each target, and the p99 the gateway adds (goal: <= 3 ms).

Pass ``MESHKIT_GATEWAY_*`` variables to change the gateway (e.g. an empty
``MESHKIT_GATEWAY_RATE_LIMITS`` turns the limiter off to see its share).

    python bench/gateway.py [--seconds 5] [--concurrency 32]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

import aiohttp
from aiohttp import web

from meshkit import Service, get, hookimpl
from meshkit.plugins import get_plugin_manager
from meshkit.redis import EmbeddedRedis
from meshkit.runtime import Runtime
from meshkit.service import Need
from meshkit.testing import make_settings
from meshkit.tokens import Principal

PASSWORD = "correct horse battery staple"
WARM_UP = 0.5  # seconds of open-loop load before latencies count (connections opening)


class BenchService(Service):
    """One authenticated JSON endpoint."""

    name = "bench"
    default_port = 3980
    needs: ClassVar[frozenset[Need]] = frozenset({"redis"})

    @get("/v1/bench/item")
    async def item(self, principal: Principal) -> dict[str, Any]:
        """A small JSON document for the caller."""
        return {"owner": principal.subject, "items": list(range(10))}


@hookimpl
def meshkit_services() -> Sequence[type[Service]]:
    """Register the bench service."""
    return [BenchService]


async def serve_bare_proxy(upstream: str) -> None:
    """Child process: the least an aiohttp proxy can do (no checks, no streaming).

    The floor of proxying in Python on this machine, printed for reference next to the
    gateway's figures.
    """
    session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0), auto_decompress=False)

    async def forward(request: web.Request) -> web.Response:
        headers = {"Authorization": request.headers.get("Authorization", "")}
        async with session.get(upstream + request.rel_url.raw_path_qs, headers=headers) as r:
            return web.Response(body=await r.read(), status=r.status, content_type=r.content_type)

    app = web.Application()
    app.router.add_get("/{path:.*}", forward)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    print(json.dumps({"bare": f"http://127.0.0.1:{runner.addresses[0][1]}"}), flush=True)
    await asyncio.Event().wait()


async def serve(role: str, data_dir: str, redis_url: str, upstream: str) -> None:
    """Child process: run the upstream services or the gateway; print the URLs."""
    if role == "bare":
        await serve_bare_proxy(upstream)
        return
    env = {
        "MESHKIT_REDIS_URL": redis_url,
        "MESHKIT_LOG_LEVEL": "ERROR",
        "MESHKIT_AUTH_BCRYPT_COST": "4",
        "MESHKIT_GATEWAY_RATE_LIMITS": "default=100000000/60s",
    }
    env |= {k: v for k, v in os.environ.items() if k.startswith("MESHKIT_GATEWAY_")}
    if role == "gateway":
        bench_url, auth_url = upstream.split()
        env |= {"MESHKIT_BENCH_URLS": bench_url, "MESHKIT_AUTH_URLS": auth_url}
    settings = make_settings(Path(data_dir), **env)
    pm = get_plugin_manager(settings, plugins=[("bench", sys.modules[__name__])])
    names = ["gateway"] if role == "gateway" else ["auth", "bench"]
    runtime = Runtime(settings, pm, names, ports=dict.fromkeys(names, 0))
    running = await runtime.start()
    gc.collect()
    gc.freeze()  # as meshkit.runtime.serve() does
    print(json.dumps({r.service.name: r.url for r in running}), flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await runtime.stop()


async def spawn(*args: str) -> tuple[asyncio.subprocess.Process, dict[str, str]]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        __file__,
        "--serve",
        *args,
        stdout=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).parent.parent)},
    )
    assert process.stdout is not None
    line = await asyncio.wait_for(process.stdout.readline(), 60)
    return process, json.loads(line)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of process ``pid`` so far (Linux ``/proc``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def closed_loop(url: str, headers: dict[str, str], seconds: float, concurrency: int) -> float:
    """Requests/s with ``concurrency`` requests always in flight."""
    done = 0
    deadline = time.perf_counter() + seconds
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as http:

        async def worker() -> None:
            nonlocal done
            while time.perf_counter() < deadline:
                async with http.get(url, headers=headers) as response:
                    await response.read()
                    assert response.status == 200, response.status
                done += 1

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return done / (time.perf_counter() - started)


async def open_loop(
    url: str, headers: dict[str, str], rate: float, seconds: float
) -> tuple[float, float]:
    """p50 and p99 latency (ms) when requests start at ``rate`` per second, after
    :data:`WARM_UP` seconds of the same load that are not counted."""
    latencies: list[float] = []
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=64)) as http:

        async def one(measured: bool) -> None:
            started = time.perf_counter()
            async with http.get(url, headers=headers) as response:
                await response.read()
            if measured:
                latencies.append((time.perf_counter() - started) * 1000)

        tasks = []
        begin = time.perf_counter()
        warm = int(rate * WARM_UP)  # the session's connections are opened first
        for n in range(warm + int(rate * seconds)):
            delay = begin + n / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(n >= warm)))
        await asyncio.gather(*tasks)
    cuts = statistics.quantiles(latencies, n=100)
    return cuts[49], cuts[98]


async def latency_rounds(
    direct_url: str, gateway_url: str, headers: dict[str, str], rate: float, seconds: float
) -> tuple[tuple[float, float], tuple[float, float]]:
    """Median p50/p99 of three rounds per target, in the order D G G D D G.

    A pause somewhere on the machine (a GC, the scheduler) inflates one round's p99;
    the median of three alternating rounds keeps it from deciding the comparison.
    """
    found: dict[str, list[tuple[float, float]]] = {direct_url: [], gateway_url: []}
    for url in (direct_url, gateway_url, gateway_url, direct_url, direct_url, gateway_url):
        gc.collect()
        gc.disable()  # the load generator's own pauses are not the servers' latency
        try:
            found[url].append(await open_loop(url, headers, rate, seconds))
        finally:
            gc.enable()

    def median(rounds: list[tuple[float, float]]) -> tuple[float, float]:
        return statistics.median(p50 for p50, _ in rounds), statistics.median(
            p99 for _, p99 in rounds
        )

    return median(found[direct_url]), median(found[gateway_url])


async def main(seconds: float, concurrency: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        redis = EmbeddedRedis(Path(tmp) / "redis")
        await redis.start()
        upstream, urls = await spawn("upstream", str(Path(tmp) / "up"), redis.url, "-")
        gateway, gw = await spawn(
            "gateway", str(Path(tmp) / "up"), redis.url, f"{urls['bench']} {urls['auth']}"
        )
        bare, bare_urls = await spawn("bare", "-", "-", urls["bench"])
        try:
            async with aiohttp.ClientSession() as http:
                await http.post(
                    f"{urls['auth']}/v1/auth/register",
                    json={"email": "b@example.test", "username": "bench", "password": PASSWORD},
                )
                async with http.post(
                    f"{urls['auth']}/v1/auth/login", json={"login": "bench", "password": PASSWORD}
                ) as answer:
                    token = (await answer.json())["access_token"]
            headers = {"Authorization": f"Bearer {token}"}
            direct_url = f"{urls['bench']}/v1/bench/item"
            gateway_url = f"{gw['gateway']}/v1/bench/item"
            for url in (direct_url, gateway_url):  # warm up connections and key caches
                await closed_loop(url, headers, 1.0, concurrency)
            pids = {"upstream": upstream.pid, "gateway": gateway.pid, "client": os.getpid()}
            before = {name: cpu_seconds(pid) for name, pid in pids.items()}
            direct = await closed_loop(direct_url, headers, seconds, concurrency)
            middle = {name: cpu_seconds(pid) for name, pid in pids.items()}
            through = await closed_loop(gateway_url, headers, seconds, concurrency)
            after = {name: cpu_seconds(pid) for name, pid in pids.items()}
            print(f"concurrency {concurrency}, {seconds:.0f} s each")
            for label, start, end, rps in (
                ("direct", before, middle, direct),
                ("through gateway", middle, after, through),
            ):
                per = ", ".join(
                    f"{name} {(end[name] - start[name]) / (rps * seconds) * 1e6:.0f}"
                    for name in pids
                )
                print(f"CPU µs per request, {label}: {per}")
            print(
                f"requests/s: direct {direct:,.0f}  through gateway {through:,.0f}  "
                f"ratio {through / direct:.2f} (goal >= 0.6)"
            )
            floor = await closed_loop(
                f"{bare_urls['bare']}/v1/bench/item", headers, seconds, concurrency
            )
            print(
                f"for reference, a bare aiohttp proxy (no checks): {floor:,.0f} requests/s, "
                f"ratio {floor / direct:.2f}"
            )
            rate = min(direct, through) / 2  # below both capacities: latency, not queueing
            (d50, d99), (g50, g99) = await latency_rounds(
                direct_url, gateway_url, headers, rate, seconds / 2
            )
            print(
                f"at half load ({rate:,.0f} req/s, median of 3 rounds): p50/p99 ms "
                f"direct {d50:.2f}/{d99:.2f}  through gateway {g50:.2f}/{g99:.2f}"
            )
            print(f"added p99: {g99 - d99:.2f} ms (goal <= 3 ms); added p50: {g50 - d50:.2f} ms")
        finally:
            for process in (bare, gateway, upstream):
                process.terminate()
                await process.wait()
            await redis.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--serve", nargs=4, metavar=("ROLE", "DIR", "REDIS", "UPSTREAM"))
    options = parser.parse_args()
    if options.serve:
        asyncio.run(serve(*options.serve))
    else:
        asyncio.run(main(options.seconds, options.concurrency))
