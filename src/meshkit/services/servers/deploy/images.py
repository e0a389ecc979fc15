"""Images on a host's engine: build from an uploaded context, load an uploaded
``docker save`` archive, pull from a registry, list.

No registry is needed: a build context whose ``Dockerfile`` starts ``FROM`` an image the
host already has (built, loaded or imported there) builds offline. A pull goes to the
registry the image name says (``127.0.0.1:5000/app:1``, ``registry.example/app:1``);
when it cannot be reached the answer is 502 ``image-unavailable`` with the engine's
reason. Each build, load and pull is recorded in the audit log (target ``host:<id>``).
"""

from __future__ import annotations

import io
from typing import Any

import aiodocker

from meshkit.errors import Problem
from meshkit.services.servers.audit import AuditLog
from meshkit.services.servers.deploy import containers as engine
from meshkit.services.servers.deploy.deployments import EngineClients, HostOf
from meshkit.services.servers.deploy.engines import UNREACHABLE
from meshkit.services.servers.deploy.models import ContainerOut, ImageOut, ImageResult
from meshkit.services.servers.errors import BadImageArchive, BuildFailed
from meshkit.services.servers.types import Actor

LOG_LINES = 50


def _text(entries: list[dict[str, Any]]) -> list[str]:
    lines: list[str] = []
    for entry in entries:
        text = entry.get("stream") or entry.get("status") or entry.get("error") or ""
        lines.extend(line for line in str(text).splitlines() if line.strip())
    return lines[-LOG_LINES:]


class Images:
    """Image operations on hosts' engines (module docstring)."""

    def __init__(self, engines: EngineClients, host_of: HostOf, audit: AuditLog) -> None:
        self.engines = engines
        self.host_of = host_of
        self.audit = audit

    async def images(self, host_id: str) -> list[ImageOut]:
        """The images on the host's engine, newest first."""
        host = await self.host_of(host_id)
        async with self.engines.client(host) as docker:
            found = await docker.images.list()
        images = [
            ImageOut(
                id=str(i.get("Id", "")),
                tags=[t for t in i.get("RepoTags") or [] if t != "<none>:<none>"],
                size=int(i.get("Size") or 0),
                created=int(i.get("Created") or 0),
            )
            for i in found
        ]
        return sorted(images, key=lambda i: i.created, reverse=True)

    async def containers(self, host_id: str) -> list[ContainerOut]:
        """Every container on the host's engine (deployments' and others)."""
        host = await self.host_of(host_id)
        async with self.engines.client(host) as docker:
            found = await docker.containers.list(all=True)
        return [
            ContainerOut(
                id=c.id[:12],
                names=[n.lstrip("/") for n in c["Names"] or []],
                image=str(c["Image"]),
                state=str(c["State"]),
                status=str(c["Status"]),
                labels=dict(c["Labels"] or {}),
            )
            for c in found
        ]

    async def build(
        self, actor: Actor, host_id: str, context: bytes, tag: str, dockerfile: str
    ) -> ImageResult:
        """Build ``context`` (a tar, optionally gzip/bzip2/xz-compressed) as ``tag``.

        422 ``build-failed`` with the build's last lines when a step fails, or with the
        engine's reason when it cannot read the context.
        """
        detail = {"tag": tag, "dockerfile": dockerfile, "bytes": len(context)}
        try:
            host = await self.host_of(host_id)
            async with self.engines.client(host) as docker:
                try:
                    async with engine.engine_call("building"):
                        output = await docker.images.build(
                            fileobj=io.BytesIO(context),
                            encoding="identity",
                            tag=tag,
                            path_dockerfile=dockerfile,
                            rm=True,
                            forcerm=True,
                        )
                except aiodocker.DockerStreamError as exc:
                    raise BuildFailed(
                        f"the build of {tag} failed: {exc.message}",
                        extensions={"log": [exc.message]},
                    ) from None
                except aiodocker.DockerError as exc:
                    # the engine answers 500 to a context it cannot read (not a tar, a
                    # Dockerfile missing or outside it, a link leaving it...)
                    if exc.status == UNREACHABLE:
                        raise
                    raise BuildFailed(
                        f"the engine could not build the context as {tag}: {exc.message}",
                        extensions={"log": [exc.message]},
                    ) from None
                failed = [e for e in output if e.get("error")]
                if failed:
                    raise BuildFailed(
                        f"the build of {tag} failed: {failed[-1]['error']}",
                        extensions={"log": _text(output)},
                    )
        except Exception as exc:
            await self._failed(actor, "images.build", host_id, detail, exc)
            raise
        await self.audit.record(actor, "images.build", f"host:{host_id}", detail=detail)
        return ImageResult(images=[tag], log=_text(output))

    async def load(self, actor: Actor, host_id: str, archive: bytes) -> ImageResult:
        """Load a ``docker save`` archive; the images it held.

        422 ``bad-image-archive`` when the engine cannot read it.
        """
        detail: dict[str, Any] = {"bytes": len(archive)}
        try:
            host = await self.host_of(host_id)
            async with self.engines.client(host) as docker:
                try:
                    output = await docker.images.import_image(io.BytesIO(archive))
                except aiodocker.DockerError as exc:
                    if exc.status >= 500 and exc.status != 0:
                        raise
                    raise BadImageArchive(
                        f"the engine could not load the archive: {exc.message}",
                        extensions={"engine_message": exc.message},
                    ) from None
        except Exception as exc:
            await self._failed(actor, "images.load", host_id, detail, exc)
            raise
        lines = _text(output if isinstance(output, list) else [])
        loaded = [
            line.split(":", 1)[1].strip()
            for line in lines
            if line.startswith(("Loaded image:", "Loaded image ID:"))
        ]
        detail["images"] = loaded
        await self.audit.record(actor, "images.load", f"host:{host_id}", detail=detail)
        return ImageResult(images=loaded, log=lines)

    async def pull(self, actor: Actor, host_id: str, image: str) -> ImageResult:
        """Pull ``image`` onto the host; 502 ``image-unavailable`` when it cannot be."""
        detail = {"image": image}
        try:
            host = await self.host_of(host_id)
            async with self.engines.client(host) as docker:
                lines = await engine.pull(docker, image)
        except Exception as exc:
            await self._failed(actor, "images.pull", host_id, detail, exc)
            raise
        await self.audit.record(actor, "images.pull", f"host:{host_id}", detail=detail)
        return ImageResult(images=[image], log=lines)

    async def _failed(
        self, actor: Actor, action: str, host_id: str, detail: dict[str, Any], exc: Exception
    ) -> None:
        why = exc.detail if isinstance(exc, Problem) else type(exc).__name__
        await self.audit.record(
            actor, action, f"host:{host_id}", outcome="failed", detail={**detail, "error": why}
        )
