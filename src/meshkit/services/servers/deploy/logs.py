"""A deployment's container logs: the last lines, or followed as they come; secret env
values are masked in them (:func:`~meshkit.services.servers.redact.scrub`)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, Awaitable, Callable

import aiodocker

from meshkit.services.servers.deploy import containers as engine
from meshkit.services.servers.deploy.common import EngineClients
from meshkit.services.servers.deploy.engines import EngineHost
from meshkit.services.servers.deploy.models import LogLine, LogQuery
from meshkit.services.servers.redact import scrub

SecretsOf = Callable[[set[int]], Awaitable[list[str]]]
"""The secret env values to mask for the replicas of these version numbers."""


def _lines(replica: engine.Replica, text: str, secrets: list[str]) -> list[LogLine]:
    return [
        LogLine(replica=replica.replica, version=replica.version, text=scrub(line, secrets))
        for line in text.splitlines()
    ]


async def _chosen(
    docker: aiodocker.Docker, deployment_id: str, replica: int | None
) -> list[engine.Replica]:
    found = await engine.replicas(docker, deployment_id)
    return [r for r in found if replica is None or r.replica == replica]


async def last_lines(
    engines: EngineClients,
    host: EngineHost,
    deployment_id: str,
    query: LogQuery,
    secrets_of: SecretsOf,
) -> list[LogLine]:
    """The last ``tail`` lines of each replica (or of ``replica``), replica by replica;
    the secret values of every version among them masked."""
    lines: list[LogLine] = []
    async with engines.client(host) as docker:
        chosen = await _chosen(docker, deployment_id, query.replica)
        secrets = await secrets_of({r.version for r in chosen})
        for replica in chosen:
            container = docker.containers.container(replica.id)
            with contextlib.suppress(aiodocker.DockerError):  # removed meanwhile
                for text in await container.log(stdout=True, stderr=True, tail=query.tail):
                    lines.extend(_lines(replica, text, secrets))
    return lines


async def follow_lines(
    engines: EngineClients,
    host: EngineHost,
    deployment_id: str,
    query: LogQuery,
    secrets_of: SecretsOf,
) -> AsyncGenerator[LogLine, None]:
    """The last ``tail`` lines, then each new one, until closed or every chosen replica
    is gone (the secret values of every version among them masked); closing it
    releases the engine client."""
    async with engines.client(host) as docker:
        chosen = await _chosen(docker, deployment_id, query.replica)
        secrets = await secrets_of({r.version for r in chosen})
        queue: asyncio.Queue[LogLine | None] = asyncio.Queue(maxsize=1000)

        async def pump(replica: engine.Replica) -> None:
            stream = engine.follow_log(docker, replica.id, query.tail)
            with contextlib.suppress(aiodocker.DockerError):
                async with contextlib.aclosing(stream):
                    async for text in stream:
                        for line in _lines(replica, text, secrets):
                            await queue.put(line)

        async def pumps() -> None:
            await asyncio.gather(*(pump(r) for r in chosen))
            await queue.put(None)

        task = asyncio.create_task(pumps())
        try:
            while (line := await queue.get()) is not None:
                yield line
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
