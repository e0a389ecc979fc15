"""Container figures from a Docker engine's one-shot stats, as ``docker stats`` computes them.

:func:`container_points` is pure (one stats document → points); :func:`engine_points`
asks an engine (an ``aiodocker.Docker``) for the stats of every running container at
once. Containers of a deployment carry its id in the ``meshkit.deployment`` label, which
becomes the points' ``deployment`` label (empty for other containers).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any

import aiodocker

from meshkit.services.servers.monitoring.models import Point

log = logging.getLogger("meshkit.servers")

DEPLOYMENT_LABEL = "meshkit.deployment"
STATS_TIMEOUT = 15.0
"""Seconds one container's stats may take (the engine measures for about one second)."""


def _int(data: Mapping[str, Any], *path: str) -> int:
    value: Any = data
    for key in path:
        if not isinstance(value, Mapping):
            return 0
        value = value.get(key)
    return int(value) if isinstance(value, int | float) else 0


def cpu_percent(stats: Mapping[str, Any]) -> float | None:
    """CPU use since the engine's previous reading, 0..100 per CPU (``docker stats``)."""
    used = _int(stats, "cpu_stats", "cpu_usage", "total_usage") - _int(
        stats, "precpu_stats", "cpu_usage", "total_usage"
    )
    system = _int(stats, "cpu_stats", "system_cpu_usage") - _int(
        stats, "precpu_stats", "system_cpu_usage"
    )
    if system <= 0 or used < 0 or not _int(stats, "precpu_stats", "system_cpu_usage"):
        return None
    cpus = _int(stats, "cpu_stats", "online_cpus") or len(
        stats.get("cpu_stats", {}).get("cpu_usage", {}).get("percpu_usage") or [1]
    )
    return 100.0 * used / system * cpus


def memory_used(stats: Mapping[str, Any]) -> int:
    """Memory in use less the inactive page cache (as ``docker stats``, cgroup v1 or v2)."""
    usage = _int(stats, "memory_stats", "usage")
    detail = stats.get("memory_stats", {}).get("stats") or {}
    cache = detail.get("total_inactive_file", detail.get("inactive_file", 0))
    return max(0, usage - int(cache)) if isinstance(cache, int) and cache < usage else usage


def container_points(stats: Mapping[str, Any], name: str, deployment: str) -> list[Point]:
    """The points of one container's stats document."""
    labels = {"container": name, "deployment": deployment}
    rx = sum(_int(n, "rx_bytes") for n in (stats.get("networks") or {}).values())
    tx = sum(_int(n, "tx_bytes") for n in (stats.get("networks") or {}).values())
    points = [
        Point("container_memory_used_bytes", memory_used(stats), labels),
        Point("container_memory_limit_bytes", _int(stats, "memory_stats", "limit"), labels),
        Point("container_network_receive_bytes", rx, labels),
        Point("container_network_transmit_bytes", tx, labels),
    ]
    busy = cpu_percent(stats)
    if busy is not None:
        points.insert(0, Point("container_cpu_percent", busy, labels))
    return points


async def engine_points(docker: aiodocker.Docker) -> list[Point]:
    """Points of every running container of the engine (one that vanishes meanwhile is
    left out).

    :raises aiodocker.DockerError: the engine did not list its containers.
    """
    containers = await docker.containers.list()

    async def one(container: Any) -> list[Point]:
        info = container._container
        name = (info.get("Names") or [container.id[:12]])[0].lstrip("/")
        deployment = (info.get("Labels") or {}).get(DEPLOYMENT_LABEL, "")
        try:
            found = await container.stats(stream=False, timeout=STATS_TIMEOUT)
        except (aiodocker.DockerError, TimeoutError) as exc:
            log.debug("servers: no stats of container %s: %r", name, exc)
            return []
        stats = found[0] if isinstance(found, list) and found else found
        return container_points(stats, name, deployment) if isinstance(stats, dict) else []

    results = await asyncio.gather(*(one(c) for c in containers))
    return [point for points in results for point in points]
