"""Deployments and engine images over REST (thin: parse, call the cores, answer).

Paths (stable; clients and the SDK depend on them)::

    POST   /v1/servers/deployments                               deploy (deployments.manage)
    GET    /v1/servers/deployments                               list (?host_id, after, limit)
    GET    /v1/servers/deployments/{id}                          one, with its containers
    DELETE /v1/servers/deployments/{id}                          remove it and its containers
    POST   /v1/servers/deployments/{id}/versions                 rolling update to a new spec
    GET    /v1/servers/deployments/{id}/versions                 history, each with its diff
    GET    /v1/servers/deployments/{id}/versions/{number}        one version
    POST   /v1/servers/deployments/{id}/rollback                 roll back to an earlier one
    POST   /v1/servers/deployments/{id}/scale                    run N replicas
    POST   /v1/servers/deployments/{id}/stop                     stop the containers
    POST   /v1/servers/deployments/{id}/start                    start them again
    GET    /v1/servers/deployments/{id}/logs                     last lines (JSON)
    GET    /v1/servers/deployments/{id}/logs/stream              follow (text/event-stream)
    GET    /v1/servers/engines/{host_id}/images                  images on a host's engine
    POST   /v1/servers/engines/{host_id}/images/build            build an uploaded context
    POST   /v1/servers/engines/{host_id}/images/load             load a `docker save` tar
    POST   /v1/servers/engines/{host_id}/images/pull             pull from a registry
    GET    /v1/servers/engines/{host_id}/containers              every container there

Reading needs ``servers:deployments.read``, the rest ``servers:deployments.manage``.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Annotated, Any

from aiohttp import web

from meshkit import Service, delete, get, post
from meshkit.http import RawBody, Upload
from meshkit.services.servers.deploy.deployments import Deployments, version_out
from meshkit.services.servers.deploy.images import Images
from meshkit.services.servers.deploy.models import (
    BuildQuery,
    ContainerOut,
    DeploymentOut,
    DeploymentQuery,
    DeploymentRollbackIn,
    DeploymentSpec,
    DeploymentVersionOut,
    ImageOut,
    ImageResult,
    LogLine,
    LogQuery,
    PullIn,
    ScaleIn,
    SpecUpdate,
    UpdateQuery,
    VersionNumber,
)
from meshkit.services.servers.errors import DeployUploadTooLarge, UnsupportedArchive
from meshkit.services.servers.permissions import DEPLOYMENTS_MANAGE, DEPLOYMENTS_READ
from meshkit.services.servers.settings import ServersSettings
from meshkit.services.servers.sse import KEEPALIVE, ServerEvent, event_stream
from meshkit.services.servers.types import HostId, Id
from meshkit.tokens import Principal

TAGS = ("servers",)
BASE = "/v1/servers/deployments"
ENGINES = "/v1/servers/engines/{host_id}"
ENGINE_ERRORS = (401, 403, 404, 409, 503)
"""Reaching an engine: unknown host 404, ``no-engine`` 409, ``engine-unreachable`` or an
SSH problem 503 (or 409 ``host-key-mismatch``, 502 ``host-auth-failed``)."""
CONTEXT_TYPES = (
    "application/x-tar",
    "application/tar",
    "application/gzip",
    "application/x-gzip",
    "application/x-bzip2",
    "application/x-xz",
    "application/octet-stream",
)
"""A build context: a tar archive, plain or compressed (the engine detects which)."""
ARCHIVE_TYPES = ("application/x-tar", "application/tar", "application/octet-stream")
"""An image archive as ``docker save`` writes it."""


def _upload_limit(service: Any) -> int:
    limit: int = service.settings.section(ServersSettings).max_upload_bytes
    return limit


BuildContext = Annotated[
    Upload,
    RawBody(
        CONTEXT_TYPES,
        max_bytes=_upload_limit,
        too_large=DeployUploadTooLarge,
        unsupported=UnsupportedArchive,
        description="The build context: a tar archive (optionally gzip, bzip2 or xz "
        "compressed) with the Dockerfile in it.",
    ),
]
ImageArchive = Annotated[
    Upload,
    RawBody(
        ARCHIVE_TYPES,
        max_bytes=_upload_limit,
        too_large=DeployUploadTooLarge,
        unsupported=UnsupportedArchive,
        description="An image archive as `docker save` writes it.",
    ),
]


class DeploymentsApi(Service):
    """Route handlers of deployments and images (module docstring); the service builds
    :attr:`deployments` and :attr:`images` in its lifespan."""

    deployments: Deployments
    images: Images
    log_keepalive: float = KEEPALIVE
    """Seconds of silence before a log stream sends a keepalive (and so notices a
    client that left, which releases the engine connection)."""

    # --- deployments ---------------------------------------------------------------------

    @post(
        BASE,
        status=201,
        tags=TAGS,
        errors=(*ENGINE_ERRORS, 422, 502),
        permission=DEPLOYMENTS_MANAGE,
    )
    async def create_deployment(self, principal: Principal, body: DeploymentSpec) -> DeploymentOut:
        """Deploy: store version 1 of the spec and start its replicas on the host's engine.

        It answers once the containers started, without waiting for their health (see
        ``containers[].health``). 409 ``deployment-exists`` when the name is taken on the
        host; 502 ``image-unavailable`` when the image is missing and cannot be pulled;
        422 ``engine-refused`` when the engine refuses the containers.
        """
        return await self.deployments.deploy(principal, body)

    @get(BASE, tags=TAGS, errors=(401, 403), permission=DEPLOYMENTS_READ)
    async def list_deployments(
        self, principal: Principal, query: DeploymentQuery
    ) -> list[DeploymentOut]:
        """A page of deployments, oldest first (without their containers)."""
        return await self.deployments.page(query)

    @get(
        BASE + "/{deployment_id}",
        tags=TAGS,
        errors=ENGINE_ERRORS,
        permission=DEPLOYMENTS_READ,
    )
    async def get_deployment(self, principal: Principal, deployment_id: Id) -> DeploymentOut:
        """One deployment with its containers as the engine reports them now (state,
        health, the host ports each replica's ports are published on)."""
        return await self.deployments.describe(deployment_id)

    @delete(
        BASE + "/{deployment_id}",
        status=204,
        tags=TAGS,
        errors=ENGINE_ERRORS,
        permission=DEPLOYMENTS_MANAGE,
    )
    async def delete_deployment(self, principal: Principal, deployment_id: Id) -> None:
        """Remove the deployment: its containers (named volumes stay) and its history."""
        await self.deployments.remove(principal, deployment_id)

    @post(
        BASE + "/{deployment_id}/versions",
        tags=TAGS,
        errors=(*ENGINE_ERRORS, 422),
        permission=DEPLOYMENTS_MANAGE,
    )
    async def update_deployment(
        self, principal: Principal, deployment_id: Id, body: SpecUpdate, query: UpdateQuery
    ) -> DeploymentVersionOut:
        """Rolling update to a new spec version.

        Each new container starts beside an old one, which is stopped only once the new
        one is healthy; when a new one turns unhealthy, exits or is not ready in time,
        the rollout is rolled back by itself (the old containers served throughout) and
        the version is answered ``failed`` with the reason. 409 ``deployment-busy``
        while another change of it runs, ``deployment-stopped`` when stopped. A secret
        env value sent back as ``********`` keeps its stored value.
        """
        version = await self.deployments.update(
            principal, deployment_id, body.spec, reason=body.reason, wait=query.wait
        )
        return version_out(version)

    @get(
        BASE + "/{deployment_id}/versions",
        tags=TAGS,
        errors=(401, 403, 404),
        permission=DEPLOYMENTS_READ,
    )
    async def list_versions(
        self, principal: Principal, deployment_id: Id
    ) -> list[DeploymentVersionOut]:
        """The deployment's history, newest first: every version, its outcome and the
        field-level diff from the version before it (secret values masked)."""
        return await self.deployments.history(deployment_id)

    @get(
        BASE + "/{deployment_id}/versions/{number}",
        tags=TAGS,
        errors=(401, 403, 404),
        permission=DEPLOYMENTS_READ,
    )
    async def get_version(
        self, principal: Principal, deployment_id: Id, number: VersionNumber
    ) -> DeploymentVersionOut:
        """One version of the deployment."""
        return version_out(await self.deployments.version(deployment_id, number))

    @post(
        BASE + "/{deployment_id}/rollback",
        tags=TAGS,
        errors=(*ENGINE_ERRORS, 422),
        permission=DEPLOYMENTS_MANAGE,
    )
    async def rollback_deployment(
        self,
        principal: Principal,
        deployment_id: Id,
        body: DeploymentRollbackIn,
        query: UpdateQuery,
    ) -> DeploymentVersionOut:
        """Roll back to an earlier version: a new version with its spec, rolled out like
        any update (404 when there is no such version)."""
        version = await self.deployments.rollback(
            principal, deployment_id, body.to_version, reason=body.reason, wait=query.wait
        )
        return version_out(version)

    @post(
        BASE + "/{deployment_id}/scale",
        tags=TAGS,
        errors=(*ENGINE_ERRORS, 422),
        permission=DEPLOYMENTS_MANAGE,
    )
    async def scale_deployment(
        self, principal: Principal, deployment_id: Id, body: ScaleIn
    ) -> DeploymentOut:
        """Run this many replicas of the active version (the highest-numbered go first)."""
        return await self.deployments.scale(principal, deployment_id, body.replicas)

    @post(
        BASE + "/{deployment_id}/stop",
        tags=TAGS,
        errors=ENGINE_ERRORS,
        permission=DEPLOYMENTS_MANAGE,
    )
    async def stop_deployment(self, principal: Principal, deployment_id: Id) -> DeploymentOut:
        """Stop the containers (they are kept: start resumes them)."""
        return await self.deployments.stop(principal, deployment_id)

    @post(
        BASE + "/{deployment_id}/start",
        tags=TAGS,
        errors=ENGINE_ERRORS,
        permission=DEPLOYMENTS_MANAGE,
    )
    async def start_deployment(self, principal: Principal, deployment_id: Id) -> DeploymentOut:
        """Start a stopped deployment's containers again."""
        return await self.deployments.start(principal, deployment_id)

    @get(
        BASE + "/{deployment_id}/logs",
        tags=TAGS,
        errors=ENGINE_ERRORS,
        permission=DEPLOYMENTS_READ,
    )
    async def deployment_logs(
        self, principal: Principal, deployment_id: Id, query: LogQuery
    ) -> list[LogLine]:
        """The last lines each replica wrote (stdout and stderr), replica by replica;
        secret env values are masked in them."""
        return await self.deployments.logs(deployment_id, query)

    @get(
        BASE + "/{deployment_id}/logs/stream",
        tags=TAGS,
        errors=ENGINE_ERRORS,
        permission=DEPLOYMENTS_READ,
        produces="text/event-stream",
    )
    async def follow_logs(
        self, principal: Principal, deployment_id: Id, query: LogQuery, request: web.Request
    ) -> web.StreamResponse:
        """Follow the logs as Server-Sent Events: the last ``tail`` lines, then each new
        one, every line an event ``log`` whose data is a JSON ``LogLine`` (and a comment
        line after 15 s without one). The stream ends when the client closes it, the
        replicas stop, or the service stops."""
        lines = await self.deployments.follow(deployment_id, query)

        async def events() -> AsyncIterator[ServerEvent]:
            async with contextlib.aclosing(lines):
                async for line in lines:
                    yield ServerEvent("log", line.model_dump(mode="json"))

        return await event_stream(
            request, events(), stop=lambda: self.draining, keepalive=self.log_keepalive
        )

    # --- engines and images --------------------------------------------------------------

    @get(ENGINES + "/images", tags=TAGS, errors=ENGINE_ERRORS, permission=DEPLOYMENTS_READ)
    async def list_images(self, principal: Principal, host_id: HostId) -> list[ImageOut]:
        """The images on the host's engine, newest first."""
        return await self.images.images(host_id)

    @get(ENGINES + "/containers", tags=TAGS, errors=ENGINE_ERRORS, permission=DEPLOYMENTS_READ)
    async def list_containers(self, principal: Principal, host_id: HostId) -> list[ContainerOut]:
        """Every container on the host's engine, deployments' or not."""
        return await self.images.containers(host_id)

    @post(
        ENGINES + "/images/build",
        status=201,
        tags=TAGS,
        errors=(*ENGINE_ERRORS, 413, 415, 422),
        permission=DEPLOYMENTS_MANAGE,
    )
    async def build_image(
        self, principal: Principal, host_id: HostId, query: BuildQuery, context: BuildContext
    ) -> ImageResult:
        """Build an image on the host from the uploaded context (the request body) and tag
        it ``tag``. ``FROM`` may name any image the host has, so no registry is needed.
        422 ``build-failed`` with the build's last lines; 413 past
        ``MESHKIT_SERVERS_MAX_UPLOAD_BYTES``."""
        return await self.images.build(
            principal, host_id, context.data, query.tag, query.dockerfile
        )

    @post(
        ENGINES + "/images/load",
        status=201,
        tags=TAGS,
        errors=(*ENGINE_ERRORS, 413, 415, 422),
        permission=DEPLOYMENTS_MANAGE,
    )
    async def load_image(
        self, principal: Principal, host_id: HostId, archive: ImageArchive
    ) -> ImageResult:
        """Load the uploaded image archive (`docker save` output, the request body) into
        the host's engine. 422 ``bad-image-archive`` when it is not one."""
        return await self.images.load(principal, host_id, archive.data)

    @post(
        ENGINES + "/images/pull",
        status=201,
        tags=TAGS,
        errors=(*ENGINE_ERRORS, 422, 502),
        permission=DEPLOYMENTS_MANAGE,
    )
    async def pull_image(self, principal: Principal, host_id: HostId, body: PullIn) -> ImageResult:
        """Pull an image from its registry onto the host; 502 ``image-unavailable`` with
        the engine's reason when the registry cannot be reached or refuses."""
        return await self.images.pull(principal, host_id, body.image)
