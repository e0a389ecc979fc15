"""Containers of deployments on an engine: create from a spec, find, wait for ready, remove.

Each function takes an :class:`aiodocker.Docker` and does one thing; the rules of
rollouts live in :mod:`meshkit.services.servers.deploy.deployments`. Engine refusals
become typed problems here (:func:`engine_call`).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass
from typing import Any, Literal

import aiodocker
import aiohttp
from aiodocker.containers import DockerContainer
from aiodocker.multiplexed import multiplexed_result_stream

from meshkit.services.servers.deploy.models import (
    LABEL_DEPLOYMENT,
    LABEL_REPLICA,
    LABEL_VERSION,
    DeploymentSpec,
    PublishedPort,
    ReplicaOut,
)
from meshkit.services.servers.errors import EngineRefused, ImageUnavailable

NANO = 1_000_000_000
POLL = 0.2
"""Seconds between looks at a container that is becoming ready."""
Readiness = Literal["ready", "unhealthy", "exited", "timed_out"]


@dataclass(frozen=True)
class Replica:
    """A deployment's container as found on the engine."""

    id: str
    name: str
    version: int
    replica: int
    state: str


@contextlib.asynccontextmanager
async def engine_call(what: str) -> AsyncIterator[None]:
    """Turn the engine's 4xx refusals inside into 422 ``engine-refused`` with its message."""
    try:
        yield
    except aiodocker.DockerError as exc:
        if 400 <= exc.status < 500 and exc.status != 404:
            raise EngineRefused(
                f"{what}: {exc.message}", extensions={"engine_message": exc.message}
            ) from None
        raise


def container_name(name: str, version: int, replica: int) -> str:
    """``<name>-v<version>-<replica>``."""
    return f"{name}-v{version}-{replica}"


def create_config(
    deployment_id: str, spec: DeploymentSpec, version: int, replica: int
) -> dict[str, Any]:
    """The engine's ``POST /containers/create`` body for one replica of ``spec``."""
    exposed: dict[str, dict[str, Any]] = {}
    bindings: dict[str, list[dict[str, str]]] = {}
    for port in spec.ports:
        key = f"{port.container_port}/{port.protocol}"
        exposed[key] = {}
        host_port = str(port.host_port) if port.host_port is not None else ""
        bindings[key] = [{"HostIp": port.host_ip, "HostPort": host_port}]
    mounts = [
        {
            "Type": "bind" if volume.source.startswith("/") else "volume",
            "Source": volume.source,
            "Target": volume.target,
            "ReadOnly": volume.read_only,
        }
        for volume in spec.volumes
    ]
    host_config: dict[str, Any] = {
        "PortBindings": bindings,
        "Mounts": mounts,
        "RestartPolicy": {"Name": "" if spec.restart == "no" else spec.restart},
    }
    if spec.resources.memory is not None:
        host_config["Memory"] = spec.resources.memory
    if spec.resources.cpus is not None:
        host_config["NanoCpus"] = int(spec.resources.cpus * NANO)
    config: dict[str, Any] = {
        "Image": spec.image,
        "Env": [f"{name}={value}" for name, value in spec.env.items()],
        "ExposedPorts": exposed,
        "Labels": {
            **spec.labels,
            LABEL_DEPLOYMENT: deployment_id,
            LABEL_VERSION: str(version),
            LABEL_REPLICA: str(replica),
        },
        "HostConfig": host_config,
    }
    if spec.command is not None:
        config["Cmd"] = spec.command
    if spec.health is not None:
        health = spec.health
        config["Healthcheck"] = {
            "Test": ["CMD-SHELL", health.command],
            "Interval": int(health.interval * NANO),
            "Timeout": int(health.timeout * NANO),
            "Retries": health.retries,
            "StartPeriod": int(health.start_period * NANO),
        }
    return config


async def ensure_image(docker: aiodocker.Docker, spec: DeploymentSpec) -> None:
    """Make sure the host has ``spec.image``, pulling it as ``spec.pull`` says.

    :raises ImageUnavailable: it is missing and could not (or may not) be pulled.
    """
    present = True
    try:
        await docker.images.inspect(spec.image)
    except aiodocker.DockerError as exc:
        if exc.status != 404:
            raise
        present = False
    if spec.pull == "always" or (spec.pull == "missing" and not present):
        await pull(docker, spec.image)
    elif not present:
        raise ImageUnavailable(
            f"image {spec.image} is not on the host and pull is 'never'",
            extensions={"image": spec.image},
        )


async def pull(docker: aiodocker.Docker, image: str) -> list[str]:
    """Pull ``image`` from its registry; the engine's progress lines.

    :raises ImageUnavailable: the registry could not be reached or refused it.
    """
    try:
        progress = await docker.images.pull(image)
    except aiodocker.DockerError as exc:
        raise ImageUnavailable(
            f"could not pull {image}: {exc.message}",
            extensions={"image": image, "engine_message": exc.message},
        ) from None
    return [str(p.get("status", "")) for p in progress][-50:]


async def create(
    docker: aiodocker.Docker, deployment_id: str, spec: DeploymentSpec, version: int, replica: int
) -> DockerContainer:
    """Create and start one replica (a leftover container of the same name is replaced)."""
    name = container_name(spec.name, version, replica)
    with contextlib.suppress(aiodocker.DockerError):
        await docker.containers.container(name).delete(force=True)
    config = create_config(deployment_id, spec, version, replica)
    async with engine_call(f"creating {name}"):
        container = await docker.containers.create(config, name=name)
    try:
        async with engine_call(f"starting {name}"):
            await container.start()
    except BaseException:
        with contextlib.suppress(aiodocker.DockerError):
            await container.delete(force=True)
        raise
    return container


async def replicas(
    docker: aiodocker.Docker, deployment_id: str, *, version: int | None = None
) -> list[Replica]:
    """The deployment's containers (of one version, if given), by version and replica."""
    labels = [f"{LABEL_DEPLOYMENT}={deployment_id}"]
    if version is not None:
        labels.append(f"{LABEL_VERSION}={version}")
    found = await docker.containers.list(all=True, filters={"label": labels})
    result = []
    for container in found:
        info = container._container
        tags = info.get("Labels") or {}
        names = info.get("Names") or [""]
        result.append(
            Replica(
                id=container.id,
                name=names[0].lstrip("/"),
                version=int(tags.get(LABEL_VERSION, 0)),
                replica=int(tags.get(LABEL_REPLICA, 0)),
                state=str(info.get("State", "")),
            )
        )
    return sorted(result, key=lambda r: (r.version, r.replica))


async def describe(docker: aiodocker.Docker, replica: Replica) -> ReplicaOut:
    """What the engine says of one replica now (state, health, published ports)."""
    info = await docker.containers.container(replica.id).show()
    state = info.get("State") or {}
    health = (state.get("Health") or {}).get("Status")
    ports: list[PublishedPort] = []
    for key, bound in ((info.get("NetworkSettings") or {}).get("Ports") or {}).items():
        number, _, protocol = key.partition("/")
        for binding in bound or []:
            ports.append(
                PublishedPort(
                    container_port=int(number),
                    protocol=protocol,
                    host_ip=binding.get("HostIp", ""),
                    host_port=int(binding.get("HostPort") or 0),
                )
            )
    return ReplicaOut(
        container_id=replica.id[:12],
        name=replica.name,
        version=replica.version,
        replica=replica.replica,
        state=str(state.get("Status", replica.state)),
        health=health,
        ports=sorted(ports, key=lambda p: (p.container_port, p.host_ip)),
    )


async def wait_ready(
    docker: aiodocker.Docker,
    container_id: str,
    *,
    has_health: bool,
    within: float,
    settle: float,
) -> tuple[Readiness, str]:
    """Wait at most ``within`` seconds until the container is ``healthy`` (or, without a
    health check, has run ``settle`` seconds); else why not: ``unhealthy``, ``exited``
    (or restarting) or ``timed_out``, with a line saying so."""
    deadline = time.monotonic() + within
    started = time.monotonic()
    container = docker.containers.container(container_id)
    while True:
        info = await container.show()
        state = info.get("State") or {}
        status = state.get("Status")
        if status in ("exited", "dead") or state.get("Restarting") or info.get("RestartCount"):
            return "exited", f"the container exited with status {state.get('ExitCode')}"
        health = (state.get("Health") or {}).get("Status")
        if has_health:
            if health == "healthy":
                return "ready", "healthy"
            if health == "unhealthy":
                log = (state.get("Health") or {}).get("Log") or []
                last = (log[-1].get("Output") or "").strip()[-300:] if log else ""
                return "unhealthy", f"the health check failed: {last}".rstrip(": ")
        elif status == "running" and time.monotonic() - started >= settle:
            return "ready", "running"
        if time.monotonic() >= deadline:
            return "timed_out", f"not ready within {within:g} s"
        await asyncio.sleep(POLL)


async def stop(docker: aiodocker.Docker, container_id: str, grace: int) -> None:
    """Stop a container (SIGTERM, SIGKILL after ``grace`` s); a gone one is fine."""
    with contextlib.suppress(aiodocker.DockerError):
        await docker.containers.container(container_id).stop(t=grace)


async def start(docker: aiodocker.Docker, container_id: str) -> None:
    """Start a stopped container."""
    async with engine_call("starting a container"):
        await docker.containers.container(container_id).start()


async def remove(docker: aiodocker.Docker, container_id: str) -> None:
    """Remove a container, running or not; a gone one is fine."""
    try:
        await docker.containers.container(container_id).delete(force=True, v=False)
    except aiodocker.DockerError as exc:
        if exc.status != 404:
            raise


async def follow_log(
    docker: aiodocker.Docker, container_id: str, tail: int
) -> AsyncGenerator[str, None]:
    """The container's last ``tail`` lines of output, then each new chunk as it comes,
    until the container stops or the iterator is closed (which closes the request)."""
    info = await docker.containers.container(container_id).show()
    params = {"stdout": True, "stderr": True, "follow": True, "tail": tail}
    response = await docker._do_query(
        f"containers/{container_id}/logs",
        "GET",
        params=params,
        timeout=aiohttp.ClientTimeout(total=None, sock_read=None),
    )
    try:
        tty = info["Config"]["Tty"]
        async for chunk in multiplexed_result_stream(response, is_tty=tty):  # type: ignore[no-untyped-call]
            yield str(chunk)
    finally:
        response.close()
