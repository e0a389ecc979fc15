"""Ten fresh starts of ``meshkit run all``: time to ready, then to the first proxied call.

Each start gets a data directory that does not exist yet (what ``rm -rf .meshkit &&
meshkit run all`` gives a newcomer: embedded redis-server, new SQLite files, new signing
keys), every service on a free loopback port and the default settings. Per start it
prints:

- ``ready``: seconds from launching the process to the gateway's first ``/readyz`` 200
  (polled every 10 ms);
- ``first call``: seconds from that 200 to the first successful proxied call,
  ``POST /v1/auth/register`` (bcrypt at its default cost included), and how many
  attempts it took (the goal: 1, well within 1 s).

    python bench/startup.py [--starts 10]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

SERVICES = ("gateway", "auth", "messaging", "voice", "servers")
PASSWORD = "correct horse battery staple"


async def _gateway_url(stream: asyncio.StreamReader) -> str:
    """The gateway's URL from the runtime's "listening on" log line."""
    while True:
        line = await asyncio.wait_for(stream.readline(), 60)
        if not line:
            raise RuntimeError("meshkit run all exited before the gateway listened")
        with contextlib.suppress(ValueError):
            name, found, url = json.loads(line).get("message", "").partition(" listening on ")
            if found and name == "gateway":
                return url


async def _drain(stream: asyncio.StreamReader) -> None:
    while await stream.readline():
        pass


async def one_start(number: int) -> tuple[float, float, int]:
    """(seconds to ready, seconds from ready to the first successful call, attempts)."""
    meshkit = str(Path(sys.executable).parent / "meshkit")
    with tempfile.TemporaryDirectory(prefix="meshkit-startup-") as tmp:
        env = {k: v for k, v in os.environ.items() if not k.startswith("MESHKIT_")}
        env.update(MESHKIT_DATA_DIR=str(Path(tmp) / ".meshkit"), MESHKIT_LOG_FORMAT="json")
        ports = [arg for name in SERVICES for arg in ("--port", f"{name}=0")]
        launched = time.perf_counter()
        process = await asyncio.create_subprocess_exec(
            meshkit, "run", "all", *ports, env=env, stderr=asyncio.subprocess.PIPE
        )
        assert process.stderr is not None
        try:
            gateway = await _gateway_url(process.stderr)
            drain = asyncio.create_task(_drain(process.stderr))
            async with aiohttp.ClientSession() as http:
                while True:
                    with contextlib.suppress(aiohttp.ClientError):
                        async with http.get(f"{gateway}/readyz") as response:
                            if response.status == 200:
                                break
                    await asyncio.sleep(0.01)
                ready = time.perf_counter()
                attempts = 0
                while True:
                    attempts += 1
                    body = {
                        "email": f"user{number}@example.test",
                        "username": f"user{number}",
                        "password": PASSWORD,
                    }
                    async with http.post(f"{gateway}/v1/auth/register", json=body) as response:
                        if response.status == 201:
                            break
                    await asyncio.sleep(0.01)
                done = time.perf_counter()
        finally:
            process.terminate()
            await process.wait()
        await drain
    return ready - launched, done - ready, attempts


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--starts", type=int, default=10)
    args = parser.parse_args()
    results = []
    for number in range(1, args.starts + 1):
        ready, first, attempts = await one_start(number)
        results.append((ready, first, attempts))
        print(
            f"start {number:2d}: ready {ready:.3f} s, first proxied call "
            f"{first:.3f} s after ready ({attempts} attempt{'s' if attempts > 1 else ''})",
            flush=True,
        )
    readies = [r for r, _, _ in results]
    firsts = [f for _, f, _ in results]
    print(
        f"ready: median {statistics.median(readies):.3f} s, max {max(readies):.3f} s; "
        f"first call after ready: median {statistics.median(firsts):.3f} s, "
        f"max {max(firsts):.3f} s; retries needed: {sum(a - 1 for _, _, a in results)}"
    )


if __name__ == "__main__":
    asyncio.run(main())
