"""Unary gRPC calls/s through meshkit's client stack vs a bare grpclib channel.

Both clients call the same server (a meshkit RpcServer serving the auth contract, in a
child process so the server's CPU does not compete with the client being measured),
alternating rounds so drift affects both alike. The client stack adds per call: deadline,
metadata (API key, request id), balancing, breaker bookkeeping, retry wrapper, metrics.

    python bench/rpc.py [--calls 3000] [--concurrency 1 16] [--rounds 3]

Goal: meshkit/bare >= 0.85.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from grpclib.client import Channel
from prometheus_client import CollectorRegistry

from meshkit.proto.auth.v1 import auth_pb2
from meshkit.proto.auth.v1.auth_grpc import AuthServiceStub
from meshkit.rpc import RpcClients
from meshkit.testing import make_settings

KEY = "mk_bench-key-0123456789abcdef0123456789abcdef"
SERVER = """
import asyncio, sys
from prometheus_client import CollectorRegistry
from meshkit.observability import RpcMetrics
from meshkit.proto.auth.v1 import auth_pb2
from meshkit.proto.auth.v1.auth_grpc import AuthServiceBase
from meshkit.rpc import RpcServer
from meshkit.security import KeyRing, digest_of

class Auth(AuthServiceBase):
    async def ValidateToken(self, stream):
        request = await stream.recv_message()
        await stream.send_message(auth_pb2.ValidateTokenResponse(valid=True, user_id="u1"))
    async def GetUser(self, stream): ...
    async def BatchGetUsers(self, stream): ...
    async def CheckPermission(self, stream): ...

async def main():
    server = RpcServer("auth", [Auth()], keyring=KeyRing([digest_of(sys.argv[1])]),
                       metrics=RpcMetrics.of("auth", CollectorRegistry()))
    port = await server.start("127.0.0.1", 0)
    print(port, flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    await server.stop()

asyncio.run(main())
"""


async def run(call, calls: int, concurrency: int) -> float:
    """Calls per second for ``calls`` calls, ``concurrency`` at a time."""
    request = auth_pb2.ValidateTokenRequest(token="t")
    per_worker = calls // concurrency

    async def worker() -> None:
        for _ in range(per_worker):
            await call(request)

    for _ in range(50):
        await call(request)
    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return per_worker * concurrency / (time.perf_counter() - started)


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 16])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    server = await asyncio.create_subprocess_exec(
        sys.executable, "-c", SERVER, KEY, stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    assert server.stdout is not None
    assert server.stdin is not None
    port = int(await server.stdout.readline())
    with tempfile.TemporaryDirectory() as tmp:
        settings = make_settings(
            Path(tmp), MESHKIT_SERVICE_API_KEY=KEY, MESHKIT_AUTH_GRPC_URLS=f"127.0.0.1:{port}"
        )
        clients = RpcClients.for_settings(settings, caller="bench", registry=CollectorRegistry())
        channel = Channel("127.0.0.1", port)
        bare = AuthServiceStub(channel)
        meshkit = clients.stub(AuthServiceStub, "auth")
        metadata = {"x-meshkit-api-key": KEY}

        async def bare_call(request: auth_pb2.ValidateTokenRequest) -> object:
            return await bare.ValidateToken(request, timeout=5.0, metadata=metadata)

        async def meshkit_call(request: auth_pb2.ValidateTokenRequest) -> object:
            return await meshkit.ValidateToken(request)

        try:
            print(f"unary ValidateToken, {args.calls} calls per round, best of {args.rounds}")
            print(f"{'concurrency':>11} {'bare calls/s':>13} {'meshkit calls/s':>16} {'ratio':>6}")
            for concurrency in args.concurrency:
                bare_rates, meshkit_rates = [], []
                for _ in range(args.rounds):
                    bare_rates.append(await run(bare_call, args.calls, concurrency))
                    meshkit_rates.append(await run(meshkit_call, args.calls, concurrency))
                best_bare, best_meshkit = max(bare_rates), max(meshkit_rates)
                print(
                    f"{concurrency:>11} {best_bare:>13.0f} {best_meshkit:>16.0f} "
                    f"{best_meshkit / best_bare:>6.2f}"
                    f"   (medians {statistics.median(bare_rates):.0f} / "
                    f"{statistics.median(meshkit_rates):.0f})"
                )
        finally:
            channel.close()
            await clients.close()
            server.stdin.close()
            await asyncio.wait_for(server.wait(), 10)


if __name__ == "__main__":
    asyncio.run(main())
