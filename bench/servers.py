"""The servers service's SSH path: pooled commands vs bare asyncssh, and one command on
many hosts end to end.

1. **Commands/s**: the service's :class:`SshPool` (pinned host key, leases, the command
   wrapped in coreutils' ``timeout`` on the host) against bare asyncssh on one open
   connection, same sshd, same concurrency, alternating rounds. Goal: pool/bare >= 0.9.
2. **Fan-out**: ``--hosts`` sshd processes on loopback addresses (127.0.0.21, ...), then
   a provisioning job with one ``command`` step on all of them through the REST API (auth +
   servers + gateway in this process), timed from the POST to the job's end. Goal: under
   2 s for 50 hosts (Ansible's default of 5 forks is the bar to beat). The same fan-out
   over the pool alone is printed too, with fresh connections (the first contact pays the
   key exchange) and warm.
3. **Monitoring**: the service's CPU per host per sample (``bench/servers_monitoring.py``,
   run here on ``--hosts`` hosts for ``--samples`` rounds).

The hosts log in a user made for the run (``meshkit-bench``, login shell ``/bin/sh``,
removed at the end), as on a server: root's shell here is bash with a ``.bashrc`` that
starts pyenv, which would add about 0.15 s to every command of both clients alike.

    python bench/servers.py [--commands 600] [--concurrency 1 8] [--rounds 3] [--hosts 50]
                            [--samples 5]

Needs root, OpenSSH's sshd and coreutils (as the tests do).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncssh

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.servers_monitoring import report
from bench.servers_monitoring import run as monitoring_run
from meshkit.services.servers.ssh import SshPool, SshTarget
from tests.servers_env import SshHost, start_sshd

USER = "meshkit-bench"


@contextlib.contextmanager
def bench_user() -> Iterator[str]:
    """A throwaway login user whose shell is ``/bin/sh`` (removed on the way out)."""
    subprocess.run(["useradd", "-M", "-d", "/", "-s", "/bin/sh", USER], check=True)
    try:
        # sshd refuses accounts whose password field says "locked" (useradd's default)
        subprocess.run(["usermod", "-p", "*", USER], check=True)
        yield USER
    finally:
        subprocess.run(["userdel", USER], check=False)


async def bare_rate(host: SshHost, commands: int, concurrency: int) -> float:
    """Commands/s of bare asyncssh on one connection."""
    async with asyncssh.connect(
        host.address,
        host.port,
        username=host.user,
        client_keys=[host.client_key],
        known_hosts=None,
        config=None,
        agent_path=None,
    ) as conn:
        await conn.run("true")
        return await _rate(lambda: conn.run("true"), commands, concurrency)


async def pool_rate(target: SshTarget, commands: int, concurrency: int) -> float:
    """Commands/s of the service's pool (one host; as many connections as it opens)."""
    pool = SshPool()
    try:
        await pool.run(target, "true")
        return await _rate(lambda: pool.run(target, "true"), commands, concurrency)
    finally:
        await pool.close()


async def _rate(call: Any, commands: int, concurrency: int) -> float:
    left = commands

    async def worker() -> None:
        nonlocal left
        while left > 0:
            left -= 1
            result = await call()
            status = getattr(result, "exit_status", None)
            assert status == 0, result

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return commands / (time.perf_counter() - started)


async def pool_fan_out(targets: list[SshTarget]) -> tuple[float, float]:
    """Seconds for ``uptime`` on every target over a fresh pool, then again warm."""
    pool = SshPool()
    try:
        timings = []
        for _ in range(2):
            started = time.perf_counter()
            results = await asyncio.gather(*(pool.run(t, "uptime") for t in targets))
            timings.append(time.perf_counter() - started)
            assert all(r.ok for r in results), [r for r in results if not r.ok][:3]
        return timings[0], timings[1]
    finally:
        await pool.close()


async def job_fan_out(hosts: list[SshHost], directory: Path) -> tuple[float, float]:
    """Seconds from POST to end of a one-step job on every host through the gateway
    (first job: fresh connections; second: warm pool)."""
    from tests.servers_stack import servers_stack

    async with servers_stack(
        directory / "stack", None, MESHKIT_SERVERS_JOB_PARALLELISM=str(len(hosts))
    ) as stack:
        ids = []
        for i, host in enumerate(hosts):
            created = await stack.admin.add_host(host, f"bench-{i}", labels={"bench": "yes"})
            ids.append(created["id"])
        timings = []
        for _ in range(2):
            body = {
                "recipe": {"steps": [{"kind": "command", "cmd": "uptime"}]},
                "hosts": {"labels": {"bench": "yes"}},
                "mode": "apply",
            }
            started = time.perf_counter()
            job = await stack.admin.call("POST", "/v1/servers/jobs", 202, json=body)
            while True:
                state = await stack.admin.call("GET", f"/v1/servers/jobs/{job['id']}")
                if state["status"] not in ("queued", "running"):
                    break
                await asyncio.sleep(0.01)
            timings.append(time.perf_counter() - started)
            assert state["status"] == "succeeded", state
        return timings[0], timings[1]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--commands", type=int, default=600)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--hosts", type=int, default=50)
    parser.add_argument("--samples", type=int, default=5)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="mk-bench-") as tmp, bench_user() as user:
        root = Path(tmp)
        os.chmod(root, 0o711)  # the hosts' sshd reads authorized keys below it as the user
        one = start_sshd(root / "one", address="127.0.0.11", user=user)
        many: list[SshHost] = []
        try:
            print("commands/s on one host (true):")
            for concurrency in args.concurrency:
                bare, pooled = [], []
                for _ in range(args.rounds):
                    bare.append(await bare_rate(one, args.commands, concurrency))
                    pooled.append(await pool_rate(one.target(), args.commands, concurrency))
                b, p = statistics.median(bare), statistics.median(pooled)
                print(
                    f"  concurrency {concurrency:>3}: bare asyncssh {b:7.0f}/s, "
                    f"pool {p:7.0f}/s, pool/bare {p / b:.2f} (goal >= 0.9)"
                )
            key = one.client_key
            for i in range(args.hosts):
                many.append(
                    start_sshd(
                        root / f"h{i}", address=f"127.0.0.{21 + i}", user=user, client_key=key
                    )
                )
            targets = [h.target(f"h{i}") for i, h in enumerate(many)]
            cold, warm = await pool_fan_out(targets)
            print(
                f"uptime on {len(many)} hosts over the pool: {cold:.2f} s fresh, {warm:.2f} s warm"
            )
            timed = await job_fan_out(many, root)
            print(
                f"job (one command step) on {len(many)} hosts through the gateway: "
                f"{timed[0]:.2f} s first, {timed[1]:.2f} s warm (goal: under 2 s)"
            )
        finally:
            one.kill()
            for host in many:
                host.kill()
        report(await monitoring_run(args.hosts, args.samples, root / "monitoring", user))


if __name__ == "__main__":
    asyncio.run(main())
