"""The one core of every deployment operation: REST and the configs part call
:class:`Deployments`.

Contract:

- **deploy** stores version 1 and starts its replicas (it does not wait for health:
  ``containers[].health`` shows it).
- **update** (a new spec), **update_env** (the active spec with a new ``env``) and
  **rollback** (the spec of an earlier version, as a new version) roll the new version
  out replica by replica: a new container starts *beside* the old one; only once it is
  ready (Docker's ``healthy``, or running for ``ready_seconds`` without a health check;
  at most the health check's ``ready_timeout``) is the old one stopped, and the old
  containers are removed when every new one is ready. A new container that turns
  ``unhealthy``, exits or times out rolls the rollout back by itself: the old containers
  that were stopped are started again first, then the new ones removed, so an old
  replica serves throughout; the version is kept as ``failed`` with the reason and
  ``DeploymentChanged(action="rolled_back")`` is published. Specs with a fixed
  ``host_port`` cannot run two containers on the port: their rollout stops the old
  container first (a short downtime), and a rollback restarts it.
- One rollout per deployment at a time (``rollout`` is set while it runs; scale, stop,
  start, update and remove answer 409 ``deployment-busy`` meanwhile). A rollout a
  restart interrupted is undone at the next start (:meth:`Deployments.recover`).
- **scale** changes how many replicas of the active version run (no new version);
  updates keep that count, except an explicit update, which brings its spec's.
- Every action is recorded in the audit log (``deployments.<action>``, target
  ``deployment:<id>``, ``failed`` when it raised) and published as
  :class:`~meshkit.contracts.servers.DeploymentChanged`.
- Secret-named env values are masked in every answer, diff, log line and audit entry.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Mapping
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime
from typing import Any, Protocol

import aiodocker
from pydantic import ValidationError

from meshkit.contracts.servers import DeploymentChanged
from meshkit.errors import FieldError, Problem, ValidationFailed
from meshkit.events import Event
from meshkit.services.servers.audit import SYSTEM, AuditLog, actor_of
from meshkit.services.servers.deploy import containers as engine
from meshkit.services.servers.deploy.diff import diff, shown
from meshkit.services.servers.deploy.engines import EngineHost
from meshkit.services.servers.deploy.models import (
    Deployment,
    DeploymentOut,
    DeploymentQuery,
    DeploymentSpec,
    DeploymentVersion,
    DeploymentVersionOut,
    LogLine,
    LogQuery,
    ReplicaOut,
)
from meshkit.services.servers.errors import (
    DeploymentBusy,
    DeploymentExists,
    DeploymentNotFound,
    DeploymentStopped,
    RolloutFailed,
)
from meshkit.services.servers.redact import is_secret_name, scrub
from meshkit.store import Asc, Desc, DuplicateKey, Store
from meshkit.tokens import Principal

log = logging.getLogger("meshkit.servers")

Actor = Principal | str
HostOf = Callable[[str], Awaitable[EngineHost]]
"""The host of an id (``Hosts.get``; raises its 404 problem for an unknown one)."""


class EngineClients(Protocol):
    """Docker clients per host (:class:`~meshkit.services.servers.deploy.engines.Engines`)."""

    def client(self, host: EngineHost) -> AbstractAsyncContextManager[aiodocker.Docker]: ...


class PublishEvent(Protocol):
    """Publishes on the event bus: ``service.events.publish``."""

    async def __call__(
        self, event: Event, *, subject: str | None = None, id: str | None = None
    ) -> object: ...


def now() -> datetime:
    return datetime.now(UTC)


def target_of(deployment_id: str) -> str:
    """The audit target of a deployment."""
    return f"deployment:{deployment_id}"


def version_out(version: DeploymentVersion) -> DeploymentVersionOut:
    """The API shape of a version (secrets masked)."""
    return DeploymentVersionOut(
        number=version.number,
        status=version.status,
        source=version.source,
        reason=version.reason,
        failure=version.failure,
        diff=version.diff,
        spec=shown(version.spec),
        actor=version.actor,
        created_at=version.created_at,
        finished_at=version.finished_at,
    )


def secrets_of(spec: DeploymentSpec) -> list[str]:
    """The secret env values of a spec (scrubbed from log lines and failure messages)."""
    return [value for name, value in spec.env.items() if is_secret_name(name)]


class Deployments:
    """Deployment operations (module docstring).

    ``host_of`` resolves a host id, ``engines`` gives a Docker client for a host,
    ``audit`` records actions, ``publish`` publishes events (``None``: nothing is).
    """

    def __init__(
        self,
        store: Store,
        engines: EngineClients,
        host_of: HostOf,
        audit: AuditLog,
        publish: PublishEvent | None = None,
        *,
        ready_seconds: float = 2.0,
        stop_timeout: int = 10,
    ) -> None:
        self.store = store
        self.engines = engines
        self.host_of = host_of
        self.audit = audit
        self.publish = publish
        self.ready_seconds = ready_seconds
        self.stop_timeout = stop_timeout
        self._locks: dict[str, asyncio.Lock] = {}
        self._rollouts: dict[str, asyncio.Task[DeploymentVersion]] = {}
        self._recovery: asyncio.Task[None] | None = None

    # --- reading ---------------------------------------------------------------------------

    async def get(self, deployment_id: str) -> Deployment:
        """The stored deployment; 404 ``deployment-not-found``."""
        found = await self.store.get(Deployment, deployment_id)
        if found is None:
            raise DeploymentNotFound(f"no deployment {deployment_id}")
        return found

    async def spec_of(self, deployment: Deployment) -> DeploymentSpec:
        """The active version's spec."""
        return (await self.version(deployment.id, deployment.current)).spec

    async def version(self, deployment_id: str, number: int) -> DeploymentVersion:
        """One version; 404 ``deployment-not-found`` when there is no such one."""
        found = await self.store.find(
            DeploymentVersion, {"deployment_id": deployment_id, "number": number}, limit=1
        )
        if not found.items:
            raise DeploymentNotFound(f"deployment {deployment_id} has no version {number}")
        return found.items[0]

    async def history(self, deployment_id: str) -> list[DeploymentVersionOut]:
        """Every version, newest first, each with its diff from the one before."""
        await self.get(deployment_id)
        found = self.store.scan(
            DeploymentVersion, {"deployment_id": deployment_id}, sort=[Desc("number")]
        )
        return [version_out(v) async for v in found]

    async def describe(self, deployment_id: str, *, containers: bool = True) -> DeploymentOut:
        """The deployment, its active spec (masked) and, with ``containers``, what runs."""
        deployment = await self.get(deployment_id)
        spec = await self.spec_of(deployment)
        found: list[ReplicaOut] | None = None
        if containers:
            host = await self.host_of(deployment.host_id)
            async with self.engines.client(host) as docker:
                found = [
                    await engine.describe(docker, r)
                    for r in await engine.replicas(docker, deployment.id)
                ]
        return self._out(deployment, spec, found)

    async def page(self, query: DeploymentQuery) -> list[DeploymentOut]:
        """A page of deployments, oldest first (no container detail)."""
        where: dict[str, Any] = {}
        if query.host_id is not None:
            where["host_id"] = query.host_id
        if query.after is not None:
            where["id"] = {"$gt": query.after}
        page = await self.store.find(Deployment, where, sort=[Asc("id")], limit=query.limit)
        return [self._out(d, await self.spec_of(d), None) for d in page.items]

    # --- deploying -------------------------------------------------------------------------

    async def deploy(self, actor: Actor, spec: DeploymentSpec) -> DeploymentOut:
        """Store version 1 of ``spec`` and start its replicas.

        404 for an unknown host, 409 ``deployment-exists`` for a name taken on the host,
        502 ``image-unavailable``, 422 ``engine-refused``, 503 ``engine-unreachable``.
        """
        detail = {"name": spec.name, "host_id": spec.host_id, "spec": shown(spec)}
        async with self._audited(actor, "deployments.create", "deployment:new", detail) as note:
            host = await self.host_of(spec.host_id)
            at = now()
            try:
                deployment = await self.store.insert(
                    Deployment(
                        name=spec.name,
                        host_id=spec.host_id,
                        current=1,
                        replicas=spec.replicas,
                        created_at=at,
                        updated_at=at,
                    )
                )
            except DuplicateKey:
                raise DeploymentExists(
                    f"a deployment named {spec.name} exists on host {spec.host_id}"
                ) from None
            note["target"] = target_of(deployment.id)
            version = DeploymentVersion(
                deployment_id=deployment.id,
                number=1,
                spec=spec,
                status="active",
                source="deploy",
                diff=diff(None, spec),
                actor=actor_of(actor),
                created_at=at,
                finished_at=at,
            )
            try:
                await self.store.insert(version)
                async with self.engines.client(host) as docker:
                    await engine.ensure_image(docker, spec)
                    try:
                        for i in range(spec.replicas):
                            await engine.create(docker, deployment.id, spec, 1, i)
                    except BaseException:
                        for replica in await engine.replicas(docker, deployment.id):
                            await engine.remove(docker, replica.id)
                        raise
            except BaseException:
                await self.store.delete(DeploymentVersion, version.id)
                await self.store.delete(Deployment, deployment.id)
                raise
        await self._publish(deployment, 1, "deployed")
        return self._out(deployment, spec, None)

    async def update(
        self,
        actor: Actor,
        deployment_id: str,
        spec: DeploymentSpec,
        *,
        reason: str = "",
        wait: bool = True,
    ) -> DeploymentVersion:
        """Roll out ``spec`` as a new version (module docstring); with ``wait``, return
        once it is ``active`` or ``failed``, else at once (``rolling_out``).

        422 when ``name`` or ``host_id`` differ from the deployment's.
        """
        return await self._start_rollout(
            actor, deployment_id, lambda _d, _s: spec, "update", reason, wait
        )

    async def update_env(
        self, deployment_id: str, env: Mapping[str, str], actor: Actor, *, reason: str
    ) -> DeploymentVersion:
        """Roll out the active spec with ``env`` instead of its env, as a new version
        (source ``env``; the replica count stays) and return it once ``active``.

        409 ``rollout-failed`` when it failed and was rolled back (the old version runs
        on), 404 for an unknown deployment, 409 ``deployment-busy`` / ``-stopped``.
        """

        def with_env(deployment: Deployment, current: DeploymentSpec) -> DeploymentSpec:
            data = current.model_dump()
            data.update(env=dict(env), replicas=deployment.replicas)
            return _validated(data, ("body", "env"))

        version = await self._start_rollout(actor, deployment_id, with_env, "env", reason, True)
        if version.status == "failed":
            raise RolloutFailed(
                f"version {version.number} was rolled back: {version.failure}",
                extensions={"version": version.number, "failure": version.failure},
            )
        return version

    async def rollback(
        self,
        actor: Actor,
        deployment_id: str,
        to_version: int,
        *,
        reason: str = "",
        wait: bool = True,
    ) -> DeploymentVersion:
        """Roll out a new version whose spec is version ``to_version``'s (source
        ``rollback:<n>``); 404 when there is no such version."""
        old = await self.version(deployment_id, to_version)
        return await self._start_rollout(
            actor, deployment_id, lambda _d, _s: old.spec, f"rollback:{to_version}", reason, wait
        )

    # --- replicas and state ----------------------------------------------------------------

    async def scale(self, actor: Actor, deployment_id: str, replicas: int) -> DeploymentOut:
        """Run ``replicas`` containers of the active version: new ones are started, the
        highest-numbered ones removed. 409 when stopped or rolling out."""
        detail = {"replicas": replicas}
        async with (
            self._audited(actor, "deployments.scale", target_of(deployment_id), detail),
            self._lock(deployment_id),
        ):
            deployment = await self._idle(deployment_id, running=True)
            spec = await self.spec_of(deployment)
            if spec.fixed_ports and replicas > 1:
                raise ValidationFailed(
                    [
                        FieldError.of(
                            ("body", "replicas"),
                            "a fixed host_port allows one replica at most",
                            "value_error",
                        )
                    ]
                )
            host = await self.host_of(deployment.host_id)
            async with self.engines.client(host) as docker:
                present = await engine.replicas(docker, deployment.id)
                held = {r.replica for r in present}
                for i in range(replicas):
                    if i not in held:
                        await engine.create(docker, deployment.id, spec, deployment.current, i)
                for replica in present:
                    if replica.replica >= replicas:
                        await engine.remove(docker, replica.id)
            deployment = await self._change(deployment.id, replicas=replicas)
        await self._publish(deployment, deployment.current, "scaled", f"replicas={replicas}")
        return self._out(deployment, spec, None)

    async def stop(self, actor: Actor, deployment_id: str) -> DeploymentOut:
        """Stop every container (kept, so :meth:`start` resumes them)."""
        async with (
            self._audited(actor, "deployments.stop", target_of(deployment_id), {}),
            self._lock(deployment_id),
        ):
            deployment = await self._idle(deployment_id)
            host = await self.host_of(deployment.host_id)
            async with self.engines.client(host) as docker:
                for replica in await engine.replicas(docker, deployment.id):
                    await engine.stop(docker, replica.id, self.stop_timeout)
            deployment = await self._change(deployment.id, status="stopped")
        await self._publish(deployment, deployment.current, "stopped")
        return self._out(deployment, await self.spec_of(deployment), None)

    async def start(self, actor: Actor, deployment_id: str) -> DeploymentOut:
        """Start the stopped containers again (and any replica that is missing)."""
        async with (
            self._audited(actor, "deployments.start", target_of(deployment_id), {}),
            self._lock(deployment_id),
        ):
            deployment = await self._idle(deployment_id)
            spec = await self.spec_of(deployment)
            host = await self.host_of(deployment.host_id)
            async with self.engines.client(host) as docker:
                present = await engine.replicas(docker, deployment.id)
                for replica in present:
                    if replica.state != "running":
                        await engine.start(docker, replica.id)
                held = {r.replica for r in present}
                for i in range(deployment.replicas):
                    if i not in held:
                        await engine.create(docker, deployment.id, spec, deployment.current, i)
            deployment = await self._change(deployment.id, status="running")
        await self._publish(deployment, deployment.current, "deployed", "started")
        return self._out(deployment, spec, None)

    async def remove(self, actor: Actor, deployment_id: str) -> None:
        """Remove every container (named volumes stay), the deployment and its history."""
        async with (
            self._audited(actor, "deployments.remove", target_of(deployment_id), {}),
            self._lock(deployment_id),
        ):
            deployment = await self._idle(deployment_id)
            host = await self.host_of(deployment.host_id)
            async with self.engines.client(host) as docker:
                for replica in await engine.replicas(docker, deployment.id):
                    await engine.remove(docker, replica.id)
            async for version in self.store.scan(
                DeploymentVersion, {"deployment_id": deployment.id}
            ):
                await self.store.delete(DeploymentVersion, version.id)
            await self.store.delete(Deployment, deployment.id)
        self._locks.pop(deployment_id, None)
        await self._publish(deployment, deployment.current, "removed")

    # --- logs ------------------------------------------------------------------------------

    async def logs(self, deployment_id: str, query: LogQuery) -> list[LogLine]:
        """The last ``tail`` lines of each replica (or of ``replica``), replica by replica;
        secret env values are masked in them."""
        deployment = await self.get(deployment_id)
        secrets = secrets_of(await self.spec_of(deployment))
        host = await self.host_of(deployment.host_id)
        lines: list[LogLine] = []
        async with self.engines.client(host) as docker:
            for replica in await self._chosen(docker, deployment, query.replica):
                container = docker.containers.container(replica.id)
                with contextlib.suppress(aiodocker.DockerError):  # removed meanwhile
                    for text in await container.log(stdout=True, stderr=True, tail=query.tail):
                        lines.extend(self._lines(replica, text, secrets))
        return lines

    async def follow(self, deployment_id: str, query: LogQuery) -> AsyncGenerator[LogLine, None]:
        """The last ``tail`` lines, then each new line as the replicas running now write
        it, until the caller stops iterating (close the iterator: ``aclosing``) or every
        chosen replica is gone. 404 is raised here, before anything is streamed."""
        deployment = await self.get(deployment_id)
        secrets = secrets_of(await self.spec_of(deployment))
        host = await self.host_of(deployment.host_id)
        return self._follow(host, deployment, query, secrets)

    async def _follow(
        self, host: EngineHost, deployment: Deployment, query: LogQuery, secrets: list[str]
    ) -> AsyncGenerator[LogLine, None]:
        async with self.engines.client(host) as docker:
            chosen = await self._chosen(docker, deployment, query.replica)
            queue: asyncio.Queue[LogLine | None] = asyncio.Queue(maxsize=1000)

            async def pump(replica: engine.Replica) -> None:
                stream = engine.follow_log(docker, replica.id, query.tail)
                with contextlib.suppress(aiodocker.DockerError):
                    async with contextlib.aclosing(stream):
                        async for text in stream:
                            for line in self._lines(replica, text, secrets):
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

    # --- lifecycle -------------------------------------------------------------------------

    async def recover(self) -> None:
        """Undo rollouts a restart interrupted: remove the new version's containers,
        start the active version's stopped ones, mark the version ``failed``."""
        async for deployment in self.store.scan(Deployment, {"rollout": {"$ne": None}}):
            number = deployment.rollout
            assert number is not None
            try:
                host = await self.host_of(deployment.host_id)
                async with self.engines.client(host) as docker:
                    for replica in await engine.replicas(docker, deployment.id):
                        if replica.version == number:
                            await engine.remove(docker, replica.id)
                        elif replica.state != "running" and deployment.status == "running":
                            await engine.start(docker, replica.id)
            except Exception as exc:  # the host may be away: the record still ends
                log.warning("recovering deployment %s: %s", deployment.id, exc)
            await self._finish(
                deployment.id, number, "failed", "interrupted by a restart of the service"
            )

    def recover_in_background(self) -> None:
        """Run :meth:`recover` without holding up the service's start (hosts may be slow
        to answer); :meth:`close` cancels it."""
        self._recovery = asyncio.create_task(self.recover())

    async def close(self) -> None:
        """Cancel rollouts in progress (:meth:`recover` undoes them at the next start)."""
        tasks: list[asyncio.Task[Any]] = list(self._rollouts.values())
        if self._recovery is not None:
            tasks.append(self._recovery)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    # --- rollouts --------------------------------------------------------------------------

    async def _start_rollout(
        self,
        actor: Actor,
        deployment_id: str,
        make_spec: Callable[[Deployment, DeploymentSpec], DeploymentSpec],
        source: str,
        reason: str,
        wait: bool,
    ) -> DeploymentVersion:
        action = "deployments.rollback" if source.startswith("rollback") else "deployments.update"
        detail: dict[str, Any] = {"source": source, "reason": reason}
        async with self._audited(actor, action, target_of(deployment_id), detail):
            deployment = await self._idle(deployment_id, running=True)
            current = await self.spec_of(deployment)
            spec = make_spec(deployment, current)
            if (spec.name, spec.host_id) != (deployment.name, deployment.host_id):
                raise ValidationFailed(
                    [
                        FieldError.of(
                            ("body", "spec", "name"),
                            "name and host_id of a deployment cannot change",
                            "value_error",
                        )
                    ]
                )
            host = await self.host_of(deployment.host_id)
            last = await self.store.find(
                DeploymentVersion,
                {"deployment_id": deployment.id},
                sort=[Desc("number")],
                limit=1,
            )
            number = last.items[0].number + 1
            version = await self.store.insert(
                DeploymentVersion(
                    deployment_id=deployment.id,
                    number=number,
                    spec=spec,
                    status="rolling_out",
                    source=source,
                    reason=reason,
                    diff=diff(current, spec),
                    actor=actor_of(actor),
                    created_at=now(),
                )
            )

            def claim(found: Deployment) -> Deployment:
                if found.rollout is not None:
                    raise DeploymentBusy(
                        "a rollout is in progress", extensions={"rollout": found.rollout}
                    )
                return found.model_copy(update={"rollout": number, "updated_at": now()})

            try:
                deployment = await self.store.modify(Deployment, deployment.id, claim)
            except BaseException:
                await self.store.delete(DeploymentVersion, version.id)
                raise
            detail.update(version=number, diff=[c.model_dump() for c in version.diff])
        task = asyncio.create_task(self._rollout(actor, deployment, host, current, version))
        self._rollouts[deployment.id] = task
        task.add_done_callback(lambda _t: self._rollouts.pop(deployment.id, None))
        if not wait:
            return version
        return await asyncio.shield(task)

    async def _rollout(
        self,
        actor: Actor,
        deployment: Deployment,
        host: EngineHost,
        old_spec: DeploymentSpec,
        version: DeploymentVersion,
    ) -> DeploymentVersion:
        spec, number = version.spec, version.number
        count = spec.replicas
        failure: str | None
        async with self._lock(deployment.id):
            try:
                async with self.engines.client(host) as docker:
                    failure = await self._replace(docker, deployment, old_spec, spec, number, count)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                failure = str(exc.detail if isinstance(exc, Problem) else exc)
            failure = scrub(failure, secrets_of(spec)) if failure else None
            finished = await self._finish(
                deployment.id, number, "failed" if failure else "active", failure, count
            )
        current = await self.get(deployment.id)
        if failure is None:
            await self.audit.record(
                actor, "deployments.rollout", target_of(deployment.id), detail={"version": number}
            )
            await self._publish(current, number, "updated", version.source)
        else:
            await self.audit.record(
                SYSTEM,
                "deployments.rollback",
                target_of(deployment.id),
                outcome="ok",
                detail={"failed_version": number, "kept_version": current.current, "why": failure},
            )
            await self._publish(current, current.current, "rolled_back", failure)
        return finished

    async def _replace(
        self,
        docker: aiodocker.Docker,
        deployment: Deployment,
        old_spec: DeploymentSpec,
        spec: DeploymentSpec,
        number: int,
        count: int,
    ) -> str | None:
        """Replace the containers replica by replica; the failure, or ``None``."""
        olds = [r for r in await engine.replicas(docker, deployment.id) if r.version != number]
        by_index = {r.replica: r for r in olds if r.version == deployment.current}
        stop_first = spec.fixed_ports or old_spec.fixed_ports
        created: list[str] = []
        stopped: list[engine.Replica] = []
        try:
            await engine.ensure_image(docker, spec)
            for i in range(count):
                old = by_index.get(i)
                running = old is not None and old.state == "running"
                if stop_first and old is not None and running:
                    await engine.stop(docker, old.id, self.stop_timeout)
                    stopped.append(old)
                container = await engine.create(docker, deployment.id, spec, number, i)
                created.append(container.id)
                verdict, why = await engine.wait_ready(
                    docker,
                    container.id,
                    has_health=spec.health is not None,
                    within=spec.health.ready_timeout if spec.health else self.ready_seconds + 60,
                    settle=self.ready_seconds,
                )
                if verdict != "ready":
                    raise _NotReady(f"replica {i} of version {number}: {why}")
                if not stop_first and old is not None and running:
                    await engine.stop(docker, old.id, self.stop_timeout)
                    stopped.append(old)
        except (_NotReady, Problem, aiodocker.DockerError) as exc:
            await self._undo(docker, created, stopped, stop_first)
            return exc.detail if isinstance(exc, Problem) else str(exc)
        except BaseException:
            with contextlib.suppress(Exception):
                await asyncio.shield(self._undo(docker, created, stopped, stop_first))
            raise
        for old in olds:
            await engine.remove(docker, old.id)
        return None

    async def _undo(
        self,
        docker: aiodocker.Docker,
        created: list[str],
        stopped: list[engine.Replica],
        stop_first: bool,
    ) -> None:
        """Old containers back, new ones gone; old first unless they need the ports."""
        if stop_first:
            for container_id in created:
                await engine.remove(docker, container_id)
        for old in stopped:
            with contextlib.suppress(Problem, aiodocker.DockerError):
                await engine.start(docker, old.id)
        if not stop_first:
            for old in stopped:
                with contextlib.suppress(aiodocker.DockerError):
                    await engine.wait_ready(docker, old.id, has_health=False, within=30, settle=0)
            for container_id in created:
                await engine.remove(docker, container_id)

    async def _finish(
        self,
        deployment_id: str,
        number: int,
        status: str,
        failure: str | None,
        count: int | None = None,
    ) -> DeploymentVersion:
        """Record a rollout's end on the version, the one it replaced and the deployment."""
        version = await self.version(deployment_id, number)
        version = await self.store.modify(
            DeploymentVersion,
            version.id,
            lambda v: v.model_copy(
                update={"status": status, "failure": failure, "finished_at": now()}
            ),
        )
        deployment = await self.get(deployment_id)
        if status == "active":
            previous = await self.version(deployment_id, deployment.current)
            await self.store.modify(
                DeploymentVersion,
                previous.id,
                lambda v: v.model_copy(update={"status": "superseded"}),
            )
            await self._change(
                deployment_id,
                current=number,
                rollout=None,
                replicas=count if count is not None else deployment.replicas,
            )
        else:
            await self._change(deployment_id, rollout=None)
        return version

    # --- helpers ---------------------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def _audited(
        self, actor: Actor, action: str, target: str, detail: dict[str, Any]
    ) -> AsyncIterator[dict[str, Any]]:
        """Record ``action`` when the block ends: ``ok``, or ``failed`` with the problem
        (the block may set ``target`` in the yielded dict)."""
        note: dict[str, Any] = {"target": target}
        try:
            yield note
        except Exception as exc:
            why = exc.detail if isinstance(exc, Problem) else type(exc).__name__
            await self.audit.record(
                actor, action, note["target"], outcome="failed", detail={**detail, "error": why}
            )
            raise
        await self.audit.record(actor, action, note["target"], detail=detail)

    def _lock(self, deployment_id: str) -> asyncio.Lock:
        return self._locks.setdefault(deployment_id, asyncio.Lock())

    async def _idle(self, deployment_id: str, *, running: bool = False) -> Deployment:
        deployment = await self.get(deployment_id)
        if deployment.rollout is not None:
            raise DeploymentBusy(
                f"version {deployment.rollout} is being rolled out",
                extensions={"rollout": deployment.rollout},
            )
        if running and deployment.status != "running":
            raise DeploymentStopped("the deployment is stopped; start it first")
        return deployment

    async def _change(self, deployment_id: str, **changes: Any) -> Deployment:
        return await self.store.modify(
            Deployment,
            deployment_id,
            lambda d: d.model_copy(update={**changes, "updated_at": now()}),
        )

    async def _chosen(
        self, docker: aiodocker.Docker, deployment: Deployment, replica: int | None
    ) -> list[engine.Replica]:
        found = await engine.replicas(docker, deployment.id)
        return [r for r in found if replica is None or r.replica == replica]

    @staticmethod
    def _lines(replica: engine.Replica, text: str, secrets: list[str]) -> list[LogLine]:
        return [
            LogLine(replica=replica.replica, version=replica.version, text=scrub(line, secrets))
            for line in text.splitlines()
        ]

    def _out(
        self, deployment: Deployment, spec: DeploymentSpec, found: list[ReplicaOut] | None
    ) -> DeploymentOut:
        return DeploymentOut(
            id=deployment.id,
            name=deployment.name,
            host_id=deployment.host_id,
            status=deployment.status,
            current_version=deployment.current,
            rollout_version=deployment.rollout,
            replicas=deployment.replicas,
            spec=shown(spec),
            containers=found,
            created_at=deployment.created_at,
            updated_at=deployment.updated_at,
        )

    async def _publish(
        self, deployment: Deployment, version: int, action: Any, detail: str = ""
    ) -> None:
        if self.publish is None:
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
            await self.publish(event, subject=target_of(deployment.id), id=key)
        except Exception as exc:  # best effort: the change stands
            log.warning("publishing %s failed: %s", key, exc)


class _NotReady(Exception):
    """A new container did not become ready."""


def _validated(data: dict[str, Any], location: tuple[str, ...]) -> DeploymentSpec:
    try:
        return DeploymentSpec.model_validate(data)
    except ValidationError as exc:
        raise ValidationFailed(
            [
                FieldError.of((*location[:1], *(str(p) for p in e["loc"])), e["msg"], e["type"])
                for e in exc.errors(include_url=False)
            ]
        ) from None
