"""How the service gives health checks their subjects: the hosts registry and the
deployments, read through the narrow callables :class:`Subjects` takes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from meshkit.services.servers.health.probes import Subjects
from meshkit.services.servers.ssh import SshTarget


class HostsLike(Protocol):
    """What health checks need of the hosts registry."""

    async def get(self, host_id: str) -> Any: ...

    async def target(self, host_id: str) -> SshTarget: ...


class DeploymentsLike(Protocol):
    """What health checks need of the deployments: the stored one (``host_id``), and the
    described one (its spec's ``ports`` and its running ``containers``' published ports)."""

    async def get(self, deployment_id: str) -> Any: ...

    async def describe(self, deployment_id: str, *, containers: bool = True) -> Any: ...


def _field(item: Any, *names: str) -> Any:
    for name in names:
        value = item.get(name) if isinstance(item, Mapping) else getattr(item, name, None)
        if value is not None:
            return value
    return None


def published_port(deployment: Any, container_port: int) -> int | None:
    """The host port a deployment publishes ``container_port`` on (``None``: it does not).

    Reads what the engine reports first (``containers[].ports[]``, a running replica's),
    then the spec's fixed ports (``spec.ports[]``, or ``ports[]``): items with
    ``container_port`` and ``host_port``.
    """
    containers = _field(deployment, "containers") or []
    running = [c for c in containers if _field(c, "state") in (None, "running")]
    spec = _field(deployment, "spec") or deployment
    candidates = [p for c in running for p in (_field(c, "ports") or [])]
    candidates += list(_field(spec, "ports") or [])
    for item in candidates:
        inside = _field(item, "container_port")
        outside = _field(item, "host_port")
        if inside is not None and int(inside) == container_port and outside is not None:
            return int(outside)
    return None


def subjects_of(hosts: HostsLike, deployments: DeploymentsLike | None = None) -> Subjects:
    """:class:`Subjects` over the hosts registry (``get``, ``target``) and the
    deployments (``get`` for the host, ``describe`` for the published ports)."""

    async def host_address(host_id: str) -> str:
        return str((await hosts.get(host_id)).address)

    async def deployment_host(deployment_id: str, port: int | None) -> tuple[str, int | None]:
        assert deployments is not None
        if port is None:
            deployment = await deployments.get(deployment_id)
            return str(deployment.host_id), None
        described = await deployments.describe(deployment_id, containers=True)
        return str(_field(described, "host_id")), published_port(described, port)

    return Subjects(host_address, hosts.target, deployment_host if deployments else None)
