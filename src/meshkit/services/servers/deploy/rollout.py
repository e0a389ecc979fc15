"""The rollout engine: new versions replace old containers replica by replica, and
what fails is undone so an old replica keeps serving.

Contract (the operations are in :mod:`~meshkit.services.servers.deploy.deployments`):

- :meth:`Rollouts.launch` claims the deployment (its lease, with ``rollout`` set to the
  new version: :mod:`~meshkit.services.servers.deploy.leases`), stores the version (its
  secret env values sealed) and runs the rollout in a task.
- Replica by replica a new container starts *beside* the old one, which is stopped once
  the new one is ready (a fixed ``host_port``: the old one is stopped first); the old
  containers are removed once every new one is ready.
- A new container that is not ready (``unhealthy``, exited, timed out) or an engine
  refusal undoes the rollout: the stopped old containers are started again *first*
  (with fixed ports, once the new ones are gone), then the new ones removed, each action
  on its own, so one that fails does not stop the others. The version ends ``failed``.
- When the engine connection fails during the rollout or its undo, the undo is retried
  at once with a fresh client; if that fails too, ``rollout`` stays set and the version
  ``rolling_out`` (with the ``failure``) and :meth:`Rollouts.recover` (at start, then
  every third of the heartbeat TTL) retries until the engine answers: it starts (or
  creates) the active version's replicas and removes the new version's.
- Recovery only takes rollouts whose lease is stale: the instance running them stopped
  (its heartbeat is gone) or, on this instance, no task runs them any more.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import aiodocker
import aiohttp

from meshkit.errors import FieldError, Problem, ValidationFailed
from meshkit.events import PublishEvent
from meshkit.services.servers.audit import SYSTEM, AuditLog, actor_of
from meshkit.services.servers.deploy import containers as engine
from meshkit.services.servers.deploy.common import (
    EngineClients,
    HostOf,
    get_deployment,
    get_version,
    now,
    publish_change,
    target_of,
)
from meshkit.services.servers.deploy.diff import diff
from meshkit.services.servers.deploy.engines import UNREACHABLE, EngineHost
from meshkit.services.servers.deploy.leases import Leases
from meshkit.services.servers.deploy.models import Deployment, DeploymentSpec, DeploymentVersion
from meshkit.services.servers.deploy.sealing import (
    keep_masked,
    seal,
    secret_values,
    unseal,
)
from meshkit.services.servers.errors import (
    CommandTimedOut,
    EngineUnreachable,
    HostNotFound,
    HostUnreachable,
)
from meshkit.services.servers.redact import scrub
from meshkit.services.servers.schedule import Periodic
from meshkit.services.servers.types import Actor, Vault
from meshkit.store import Desc, Store

log = logging.getLogger("meshkit.servers")

MakeSpec = Callable[[Deployment, DeploymentSpec], DeploymentSpec]
"""The new spec from the deployment and its active spec (unsealed)."""
INTERRUPTED = "interrupted by a restart of the service"


def engine_lost(exc: BaseException) -> bool:
    """Whether ``exc`` says the engine connection failed (rather than a refusal)."""
    if isinstance(exc, (EngineUnreachable, HostUnreachable, CommandTimedOut)):
        return True
    if isinstance(exc, aiodocker.DockerError):
        return exc.status == UNREACHABLE
    return isinstance(exc, (aiohttp.ClientError, OSError, TimeoutError))


class _NotReady(Exception):
    """A new container did not become ready."""


class _Incomplete(Exception):
    """Undoing a rollout left something undone (the engine stopped answering)."""


class Rollouts:
    """Runs, undoes and recovers rollouts (module docstring)."""

    def __init__(
        self,
        store: Store,
        engines: EngineClients,
        host_of: HostOf,
        audit: AuditLog,
        leases: Leases,
        vault: Vault,
        publish: PublishEvent | None = None,
        *,
        ready_seconds: float = 2.0,
        stop_timeout: int = 10,
    ) -> None:
        self.store = store
        self.engines = engines
        self.host_of = host_of
        self.audit = audit
        self.leases = leases
        self.vault = vault
        self.publish = publish
        self.ready_seconds = ready_seconds
        self.stop_timeout = stop_timeout
        self.tasks: dict[str, asyncio.Task[DeploymentVersion]] = {}
        self._ticker = Periodic("deployments", max(0.5, leases.ttl / 3), self.tick)
        self._beater = Periodic("deployments-heartbeat", max(0.5, leases.ttl / 3), leases.beat)

    def plain(self, version: DeploymentVersion) -> DeploymentSpec:
        """The version's spec with its secret values (for the engine only)."""
        return unseal(self.vault, version.deployment_id, version.spec, version.sealed)

    # --- lifecycle -------------------------------------------------------------------------

    def start(self) -> None:
        """Beat and recover now and every third of the heartbeat TTL, in the background
        (hosts may be slow to answer); the heartbeat also beats in a loop of its own, so
        a slow recovery does not let it (or the leases held here) lapse."""
        self._beater.start()
        self._ticker.start()

    async def tick(self) -> None:
        """One beat: say this instance lives, then recover stale rollouts."""
        await self.leases.beat()
        await self.recover()

    async def close(self) -> None:
        """Stop recovering, cancel rollouts in progress (their undo is attempted; what
        is left is recovered by another instance or at the next start)."""
        await self._ticker.stop()
        await self._beater.stop()
        tasks = list(self.tasks.values())
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await self.leases.forget()

    # --- launching -------------------------------------------------------------------------

    async def launch(
        self,
        actor: Actor,
        deployment_id: str,
        make_spec: MakeSpec,
        source: str,
        reason: str,
        wait: bool,
    ) -> DeploymentVersion:
        """Start rolling out ``make_spec``'s spec as a new version; with ``wait``, the
        version once ``active`` or ``failed``, else at once (``rolling_out``)."""
        action = "deployments.rollback" if source.startswith("rollback") else "deployments.update"
        detail: dict[str, Any] = {"source": source, "reason": reason}
        token: str | None = None
        version: DeploymentVersion | None = None
        try:
            async with self.audit.audited(actor, action, target_of(deployment_id), detail) as note:
                # claim first: what is read below cannot change until the lease is given back
                deployment, token = await self.leases.claim(deployment_id, "rollout", running=True)
                active = await get_version(self.store, deployment.id, deployment.current)
                # what runs: the active spec at the replica count scale left
                current = self.plain(active).model_copy(update={"replicas": deployment.replicas})
                spec = keep_masked(make_spec(deployment, current), current)
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
                deployment = await self.leases.apply(deployment.id, token, rollout=number)
                stored, sealed = seal(self.vault, deployment.id, spec)
                version = await self.store.insert(
                    DeploymentVersion(
                        deployment_id=deployment.id,
                        number=number,
                        spec=stored,
                        sealed=sealed,
                        status="rolling_out",
                        source=source,
                        reason=reason,
                        diff=diff(current, spec),
                        actor=actor_of(actor),
                        created_at=now(),
                    )
                )
                note.detail.update(version=number, diff=[c.model_dump() for c in version.diff])
            task = asyncio.create_task(
                self._run(actor, deployment, host, current, spec, version, token)
            )
        except BaseException:
            if token is not None:
                await asyncio.shield(self._abandon(deployment_id, token, version))
            raise
        self.tasks[deployment.id] = task
        task.add_done_callback(lambda _t: self.tasks.pop(deployment.id, None))
        if not wait:
            return version
        return await asyncio.shield(task)

    async def _abandon(
        self, deployment_id: str, token: str, version: DeploymentVersion | None
    ) -> None:
        """A launch that failed before its task ran: the version (if stored) failed, the
        lease given back with ``rollout`` cleared (or at least no longer held here)."""
        try:
            if version is not None:
                await self.store.modify(
                    DeploymentVersion,
                    version.id,
                    lambda v: v.model_copy(
                        update={
                            "status": "failed",
                            "failure": "the rollout was not started",
                            "finished_at": now(),
                        }
                    ),
                )
            await self.leases.release(deployment_id, token, rollout=None)
        except Exception as exc:
            log.warning("giving back the lease of %s: %s", deployment_id, type(exc).__name__)
        finally:
            self.leases.drop(token)

    # --- running ---------------------------------------------------------------------------

    async def _run(
        self,
        actor: Actor,
        deployment: Deployment,
        host: EngineHost,
        old_spec: DeploymentSpec,
        spec: DeploymentSpec,
        version: DeploymentVersion,
        token: str,
    ) -> DeploymentVersion:
        number = version.number
        failure: str | None
        try:
            try:
                async with self.engines.client(host) as docker:
                    failure = await self._replace(docker, deployment, old_spec, spec, number)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                why = exc.detail if isinstance(exc, Problem) else str(exc) or type(exc).__name__
                failure = scrub(why, secret_values(spec))
                if isinstance(exc, _Incomplete) or engine_lost(exc):
                    log.warning("rollout of %s v%d: %s", deployment.id, number, failure)
                    restored, gone = await self._restore(deployment.id, number)
                    if not restored:
                        return await self._leave(deployment.id, number, failure, token)
                    failure = gone or failure
            failure = scrub(failure, secret_values(spec)) if failure else None
            finished = await self._finish(deployment.id, number, failure, token, spec.replicas)
        finally:
            self.leases.drop(token)
        if finished.status == "rolling_out":  # the lease was taken over: not ours to report
            return finished
        await self._report(actor, deployment.id, number, version.source, failure)
        return finished

    async def _replace(
        self,
        docker: aiodocker.Docker,
        deployment: Deployment,
        old_spec: DeploymentSpec,
        spec: DeploymentSpec,
        number: int,
    ) -> str | None:
        """Replace the containers replica by replica; the failure, or ``None``."""
        olds = [r for r in await engine.replicas(docker, deployment.id) if r.version != number]
        by_index = {r.replica: r for r in olds if r.version == deployment.current}
        stop_first = spec.fixed_ports or old_spec.fixed_ports
        created: list[str] = []
        stopped: list[engine.Replica] = []
        try:
            await engine.ensure_image(docker, spec)
            for i in range(spec.replicas):
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
            why = exc.detail if isinstance(exc, Problem) else str(exc)
            if not await self._undo(docker, created, stopped, stop_first) or engine_lost(exc):
                raise _Incomplete(why) from None
            return why
        except BaseException:
            with contextlib.suppress(BaseException):
                await asyncio.shield(self._undo(docker, created, stopped, stop_first))
            raise
        for old in olds:  # every new one is ready: the rollout stands
            with contextlib.suppress(Exception):
                await engine.remove(docker, old.id)
        return None

    async def _undo(
        self,
        docker: aiodocker.Docker,
        created: list[str],
        stopped: list[engine.Replica],
        stop_first: bool,
    ) -> bool:
        """Old containers back first, then the new ones gone (fixed ports: the new ones
        first, they hold the ports); each action on its own. Whether all went well."""
        done = True

        async def attempt(what: str, action: Awaitable[Any]) -> None:
            nonlocal done
            try:
                await action
            except Exception as exc:
                done = False
                log.warning("undoing a rollout: %s failed (%s)", what, type(exc).__name__)

        if stop_first:
            for container_id in created:
                await attempt("removing a new container", engine.remove(docker, container_id))
        for old in stopped:
            await attempt("starting an old container", engine.start(docker, old.id))
        if not stop_first:
            for old in stopped:
                await attempt(
                    "waiting for an old container",
                    engine.wait_ready(docker, old.id, has_health=False, within=30, settle=0),
                )
            for container_id in created:
                await attempt("removing a new container", engine.remove(docker, container_id))
        return done

    async def _report(
        self, actor: Actor, deployment_id: str, number: int, source: str, failure: str | None
    ) -> None:
        current = await get_deployment(self.store, deployment_id)
        if failure is None:
            await self.audit.record(
                actor, "deployments.rollout", target_of(deployment_id), detail={"version": number}
            )
            await publish_change(self.publish, current, number, "updated", source)
        else:
            detail = {"failed_version": number, "kept_version": current.current, "why": failure}
            await self.audit.record(
                SYSTEM, "deployments.rollback", target_of(deployment_id), detail=detail
            )
            await publish_change(self.publish, current, current.current, "rolled_back", failure)

    async def _finish(
        self,
        deployment_id: str,
        number: int,
        failure: str | None,
        token: str,
        count: int | None = None,
    ) -> DeploymentVersion:
        """Record a rollout's end on the version, the one it replaced and the deployment
        (whose lease and ``rollout`` are released)."""
        status = "failed" if failure else "active"
        version = await get_version(self.store, deployment_id, number)
        held = await get_deployment(self.store, deployment_id)
        if held.lease is None or held.lease.token != token:
            log.warning(
                "deployment %s: the lease was taken over; the end of v%d is not recorded",
                deployment_id,
                number,
            )
            self.leases.drop(token)
            return version
        version = await self.store.modify(
            DeploymentVersion,
            version.id,
            lambda v: v.model_copy(
                update={"status": status, "failure": failure, "finished_at": now()}
            ),
        )
        deployment = await get_deployment(self.store, deployment_id)
        if status == "active":
            previous = await get_version(self.store, deployment_id, deployment.current)
            await self.store.modify(
                DeploymentVersion,
                previous.id,
                lambda v: v.model_copy(update={"status": "superseded"}),
            )
            replicas = count if count is not None else deployment.replicas
            await self.leases.release(
                deployment_id, token, current=number, rollout=None, replicas=replicas
            )
        else:
            await self.leases.release(deployment_id, token, rollout=None)
        return version

    async def _leave(
        self, deployment_id: str, number: int, failure: str, token: str
    ) -> DeploymentVersion:
        """Leave a rollout that could not be undone to recovery: the version says why,
        ``rollout`` stays set, the lease turns stale."""
        version = await get_version(self.store, deployment_id, number)
        self.leases.drop(token)
        return await self.store.modify(
            DeploymentVersion, version.id, lambda v: v.model_copy(update={"failure": failure})
        )

    # --- recovery --------------------------------------------------------------------------

    async def recover(self) -> None:
        """Undo every rollout whose lease is stale (module docstring)."""
        async for deployment in self.store.scan(Deployment, {"rollout": {"$ne": None}}):
            if deployment.lease is not None and await self.leases.alive(deployment.lease):
                continue
            try:
                # a slow restore must not let this instance's heartbeat (and leases) lapse
                await self.leases.beat()
                await self._recover_one(deployment.id)
            except Exception as exc:  # busy, gone, the host away: the next tick retries
                log.warning("recovering deployment %s: %s", deployment.id, type(exc).__name__)

    async def _recover_one(self, deployment_id: str) -> None:
        deployment, token = await self.leases.claim(deployment_id, "recover", recovering=True)
        try:
            await self._recover_claimed(deployment, token)
        finally:
            self.leases.drop(token)

    async def _recover_claimed(self, deployment: Deployment, token: str) -> None:
        deployment_id = deployment.id
        number = deployment.rollout
        if number is None:
            await self.leases.release(deployment_id, token)
            return
        if number == deployment.current:  # nothing left to undo: never remove what runs
            log.warning("deployment %s: rollout v%d is the current version", deployment_id, number)
            await self.leases.release(deployment_id, token, rollout=None)
            return
        try:
            restored, why = await self._restore(deployment_id, number)
        except BaseException:
            await self.leases.release(deployment_id, token)
            raise
        if not restored:
            await self.leases.release(deployment_id, token)
            return
        found = await self.store.find(
            DeploymentVersion, {"deployment_id": deployment_id, "number": number}, limit=1
        )
        if not found.items:  # claimed, but its version was never stored
            await self.leases.release(deployment_id, token, rollout=None)
            return
        failure = why or found.items[0].failure or INTERRUPTED
        await self._finish(deployment_id, number, failure, token)
        await self.audit.record(
            SYSTEM,
            "deployments.recover",
            target_of(deployment_id),
            detail={"failed_version": number, "why": failure},
        )
        current = await get_deployment(self.store, deployment_id)
        await publish_change(self.publish, current, current.current, "rolled_back", failure)

    async def _restore(self, deployment_id: str, number: int) -> tuple[bool, str | None]:
        """With a fresh engine client: the active version's replicas started (or made
        again), the version ``number``'s removed. Whether it all went well, and why the
        rollout failed when that is known here (its host is gone: nothing to restore).
        Refused (not done) when ``number`` is the current version."""
        try:
            deployment = await get_deployment(self.store, deployment_id)
            if number == deployment.current:
                log.warning(
                    "restoring deployment %s: v%d is the current version", deployment_id, number
                )
                return False, None
            active = await get_version(self.store, deployment_id, deployment.current)
            spec = self.plain(active)
            found = await self.store.find(
                DeploymentVersion, {"deployment_id": deployment_id, "number": number}, limit=1
            )
            fixed = spec.fixed_ports or any(v.spec.fixed_ports for v in found.items)
            try:
                host = await self.host_of(deployment.host_id)
            except HostNotFound:
                why = f"host {deployment.host_id} no longer exists"
                log.warning("restoring deployment %s: %s", deployment_id, why)
                return True, why
            async with self.engines.client(host) as docker:
                present = await engine.replicas(docker, deployment_id)
                news = [r for r in present if r.version == number]
                if fixed:
                    for replica in news:
                        await engine.remove(docker, replica.id)
                olds = {r.replica: r for r in present if r.version == deployment.current}
                if deployment.status == "running":
                    for i in range(deployment.replicas):
                        old = olds.get(i)
                        if old is None:
                            await engine.create(docker, deployment_id, spec, deployment.current, i)
                        elif old.state != "running":
                            await engine.start(docker, old.id)
                for replica in news:
                    await engine.remove(docker, replica.id)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("restoring deployment %s: %s", deployment_id, type(exc).__name__)
            return False, None
        return True, None
