"""Token verifications/s and logins/s of the auth service, against raw baselines.

Prints, measured in this run:
- access-token verifications/s through meshkit's verifier (local JWKS, no denylist) vs
  PyJWT verifying the same token with the same key (the baseline);
- logins/s through the real HTTP endpoint at bcrypt cost 12 vs raw ``bcrypt.checkpw``
  at cost 12 in the same number of threads (goal: >= 0.9 of raw — the service adds
  almost nothing around bcrypt).

    python bench/auth.py [--verifications 5000] [--logins 24] [--concurrency 2]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import aiohttp
import bcrypt
import jwt as pyjwt

import meshkit.services.auth as auth_plugin
from meshkit.plugins import get_plugin_manager
from meshkit.redis import EmbeddedRedis
from meshkit.runtime import Runtime
from meshkit.testing import make_settings
from meshkit.tokens import StaticJwks, TokenVerifier

PASSWORD = "correct horse battery staple"


async def bench_verify(url: str, token: str, count: int) -> None:
    async with aiohttp.ClientSession() as http, http.get(url + "/.well-known/jwks.json") as answer:
        jwks = await answer.json()
    verifier = TokenVerifier(
        StaticJwks(jwks), issuer="meshkit", audience="meshkit", algorithms=("RS256",)
    )
    await verifier.verify(token)
    started = time.perf_counter()
    for _ in range(count):
        await verifier.verify(token)
    ours = count / (time.perf_counter() - started)
    key = pyjwt.PyJWKSet.from_dict(jwks)[pyjwt.get_unverified_header(token)["kid"]].key
    started = time.perf_counter()
    for _ in range(count):
        pyjwt.decode(token, key, algorithms=["RS256"], audience="meshkit", issuer="meshkit")
    raw = count / (time.perf_counter() - started)
    print(f"token verifications/s: meshkit {ours:,.0f}  PyJWT {raw:,.0f}  ratio {ours / raw:.2f}")


async def bench_logins(url: str, count: int, concurrency: int) -> None:
    hashed = bcrypt.hashpw(b"x" * 20, bcrypt.gensalt(12))
    with ThreadPoolExecutor(concurrency) as pool:
        loop = asyncio.get_running_loop()
        started = time.perf_counter()
        await asyncio.gather(
            *(loop.run_in_executor(pool, bcrypt.checkpw, b"x" * 20, hashed) for _ in range(count))
        )
        raw = count / (time.perf_counter() - started)
    body = {"login": "ada", "password": PASSWORD}
    async with aiohttp.ClientSession() as http:
        semaphore = asyncio.Semaphore(concurrency)

        async def one() -> None:
            async with semaphore, http.post(url + "/v1/auth/login", json=body) as answer:
                assert answer.status == 200, await answer.text()

        await one()
        started = time.perf_counter()
        await asyncio.gather(*(one() for _ in range(count)))
        ours = count / (time.perf_counter() - started)
    print(
        f"logins/s at cost 12 ({concurrency} at a time): meshkit {ours:.2f}  "
        f"raw bcrypt.checkpw {raw:.2f}  ratio {ours / raw:.2f}"
    )


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--verifications", type=int, default=5000)
    parser.add_argument("--logins", type=int, default=24)
    parser.add_argument("--concurrency", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        redis = EmbeddedRedis(Path(tmp) / "redis")
        await redis.start()
        try:
            settings = make_settings(
                Path(tmp), MESHKIT_REDIS_URL=redis.url, MESHKIT_AUTH_LOCKOUT_IP_THRESHOLD="100000"
            )
            pm = get_plugin_manager(
                settings, plugins=[("auth", auth_plugin)], load_entry_points=False
            )
            runtime = Runtime(settings, pm, ["auth"], ports={"auth": 0})
            (running,) = await runtime.start()
            try:
                async with aiohttp.ClientSession() as http:
                    await http.post(
                        running.url + "/v1/auth/register",
                        json={"email": "ada@example.test", "username": "ada", "password": PASSWORD},
                    )
                    async with http.post(
                        running.url + "/v1/auth/login", json={"login": "ada", "password": PASSWORD}
                    ) as answer:
                        token = (await answer.json())["access_token"]
                await bench_verify(running.url, token, args.verifications)
                await bench_logins(running.url, args.logins, args.concurrency)
            finally:
                await runtime.stop()
        finally:
            await redis.stop()


if __name__ == "__main__":
    asyncio.run(main())
