"""What the deployment cores share: the protocols they are given, reading stored
deployments and versions, publishing their changes, and validating a spec made from
another (a 422 naming the fields)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime
from typing import Any, Protocol

import aiodocker
from pydantic import ValidationError

from meshkit.contracts.servers import DeploymentChanged
from meshkit.errors import FieldError, ValidationFailed
from meshkit.events import PublishEvent
from meshkit.services.servers.deploy.engines import EngineHost
from meshkit.services.servers.deploy.models import Deployment, DeploymentSpec, DeploymentVersion
from meshkit.services.servers.errors import DeploymentNotFound
from meshkit.store import Store

log = logging.getLogger("meshkit.servers")

HostOf = Callable[[str], Awaitable[EngineHost]]
"""The host of an id (``Hosts.get``; raises its 404 problem for an unknown one)."""


class EngineClients(Protocol):
    """Docker clients per host (:class:`~meshkit.services.servers.deploy.engines.Engines`)."""

    def client(self, host: EngineHost) -> AbstractAsyncContextManager[aiodocker.Docker]: ...


def now() -> datetime:
    return datetime.now(UTC)


def target_of(deployment_id: str) -> str:
    """The audit target of a deployment."""
    return f"deployment:{deployment_id}"


async def get_deployment(store: Store, deployment_id: str) -> Deployment:
    """The stored deployment; 404 ``deployment-not-found``."""
    found = await store.get(Deployment, deployment_id)
    if found is None:
        raise DeploymentNotFound(f"no deployment {deployment_id}")
    return found


async def get_version(store: Store, deployment_id: str, number: int) -> DeploymentVersion:
    """One version; 404 ``deployment-not-found`` when there is no such one."""
    found = await store.find(
        DeploymentVersion, {"deployment_id": deployment_id, "number": number}, limit=1
    )
    if not found.items:
        raise DeploymentNotFound(f"deployment {deployment_id} has no version {number}")
    return found.items[0]


async def publish_change(
    publish: PublishEvent | None,
    deployment: Deployment,
    version: int,
    action: Any,
    detail: str = "",
) -> None:
    """Publish :class:`DeploymentChanged` (best effort: the change stands)."""
    if publish is None:
        return
    event = DeploymentChanged(
        deployment_id=deployment.id,
        name=deployment.name,
        host_id=deployment.host_id,
        version=version,
        action=action,
        detail=detail,
        at=now(),
    )
    key = f"deployment:{deployment.id}:{action}:{deployment.version}"
    try:
        await publish(event, subject=target_of(deployment.id), id=key)
    except Exception as exc:
        log.warning("publishing %s failed: %s", key, exc)


def validated_spec(data: dict[str, Any], location: tuple[str, ...]) -> DeploymentSpec:
    """``data`` as a spec, or 422 naming its fields under ``location``."""
    try:
        return DeploymentSpec.model_validate(data)
    except ValidationError as exc:
        raise ValidationFailed(
            [
                FieldError.of((*location[:1], *(str(p) for p in e["loc"])), e["msg"], e["type"])
                for e in exc.errors(include_url=False)
            ]
        ) from None
