"""The one core of every deployment operation: REST and the configs part call
:class:`Deployments`.

Contract:

- **deploy** stores version 1 and starts its replicas (it does not wait for health:
  ``containers[].health`` shows it).
- **update** (a new spec), **update_env** (the active spec with a new ``env``) and
  **rollback** (the spec of an earlier version, as a new version) roll the new version
  out replica by replica (:mod:`~meshkit.services.servers.deploy.rollout`): an old
  replica serves throughout, a new version that is not ready is undone by itself and
  kept as ``failed`` with the reason, and ``DeploymentChanged(action="rolled_back")`` is
  published.
- One change at a time per deployment, across instances
  (:mod:`~meshkit.services.servers.deploy.leases`): update, rollback, scale, stop, start
  and remove claim the deployment and answer 409 ``deployment-busy`` while another
  change (a rollout among them) holds it.
- **scale** changes how many replicas of the active version run (no new version);
  update_env and rollback keep that count, an explicit update brings its spec's.
- Every action is recorded in the audit log (``deployments.<action>``, target
  ``deployment:<id>``, ``failed`` when it raised) and published as
  :class:`~meshkit.contracts.servers.DeploymentChanged`.
- Secret env values (``secret_env``, or secret-looking names) are stored sealed
  (:mod:`~meshkit.services.servers.deploy.sealing`), opened only to create containers,
  and masked in every answer, diff, log line and audit entry.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncGenerator, Mapping
from typing import Any

from meshkit.errors import FieldError, ValidationFailed
from meshkit.events import PublishEvent
from meshkit.services.servers.audit import AuditLog, actor_of
from meshkit.services.servers.deploy import containers as engine
from meshkit.services.servers.deploy.common import (
    EngineClients,
    HostOf,
    get_deployment,
    get_version,
    now,
    publish_change,
    target_of,
    validated_spec,
)
from meshkit.services.servers.deploy.diff import diff, shown
from meshkit.services.servers.deploy.leases import Leases
from meshkit.services.servers.deploy.logs import SecretsOf, follow_lines, last_lines
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
from meshkit.services.servers.deploy.rollout import Rollouts
from meshkit.services.servers.deploy.sealing import seal, secret_values
from meshkit.services.servers.errors import DeploymentExists, RolloutFailed
from meshkit.services.servers.types import Actor, Vault
from meshkit.store import Asc, Desc, DuplicateKey, Store

__all__ = ["Actor", "Deployments", "EngineClients", "HostOf", "target_of", "version_out"]


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


class Deployments:
    """Deployment operations (module docstring).

    ``host_of`` resolves a host id, ``engines`` gives a Docker client for a host,
    ``leases`` claims deployments across instances, ``vault`` seals secret env values,
    ``audit`` records actions, ``publish`` publishes events (``None``: nothing is).
    """

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
        self.stop_timeout = stop_timeout
        self.rollouts = Rollouts(
            store,
            engines,
            host_of,
            audit,
            leases,
            vault,
            publish,
            ready_seconds=ready_seconds,
            stop_timeout=stop_timeout,
        )

    # --- reading ---------------------------------------------------------------------------

    async def get(self, deployment_id: str) -> Deployment:
        """The stored deployment; 404 ``deployment-not-found``."""
        return await get_deployment(self.store, deployment_id)

    async def spec_of(self, deployment: Deployment) -> DeploymentSpec:
        """The active version's spec as stored (secret values masked)."""
        return (await self.version(deployment.id, deployment.current)).spec

    async def plain_spec(self, deployment: Deployment) -> DeploymentSpec:
        """The active version's spec with its secret values (for the engine only)."""
        return self.rollouts.plain(await self.version(deployment.id, deployment.current))

    async def version(self, deployment_id: str, number: int) -> DeploymentVersion:
        """One version; 404 ``deployment-not-found`` when there is no such one."""
        return await get_version(self.store, deployment_id, number)

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
        async with self.audit.audited(
            actor, "deployments.create", "deployment:new", detail
        ) as note:
            host = await self.host_of(spec.host_id)
            at = now()
            lease = self.leases.fresh("deploy")
            token = lease.token
            try:
                deployment = await self.store.insert(
                    Deployment(
                        name=spec.name,
                        host_id=spec.host_id,
                        current=1,
                        replicas=spec.replicas,
                        lease=lease,
                        created_at=at,
                        updated_at=at,
                    )
                )
            except DuplicateKey:
                self.leases.drop(token)
                raise DeploymentExists(
                    f"a deployment named {spec.name} exists on host {spec.host_id}"
                ) from None
            self.leases.bind(token, deployment.id)
            note.target = target_of(deployment.id)
            try:
                stored, sealed = seal(self.vault, deployment.id, spec)
                version = await self.store.insert(
                    DeploymentVersion(
                        deployment_id=deployment.id,
                        number=1,
                        spec=stored,
                        sealed=sealed,
                        status="active",
                        source="deploy",
                        diff=diff(None, spec),
                        actor=actor_of(actor),
                        created_at=at,
                        finished_at=at,
                    )
                )
                try:
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
                    raise
            except BaseException:
                try:
                    await self.store.delete(Deployment, deployment.id)
                except BaseException:  # not deleted: at least its lease is not left held
                    with contextlib.suppress(Exception):
                        await self.leases.release(deployment.id, token)
                    raise
                finally:
                    self.leases.drop(token)
                raise
            try:
                deployment = await self.leases.release(deployment.id, token) or deployment
            finally:
                self.leases.drop(token)
        await publish_change(self.publish, deployment, 1, "deployed")
        return self._out(deployment, stored, None)

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
        once it is ``active`` or ``failed``, else at once (``rolling_out``). A secret
        sent as ``********`` keeps its stored value.

        422 when ``name`` or ``host_id`` differ from the deployment's.
        """
        return await self.rollouts.launch(
            actor, deployment_id, lambda _d, _s: spec, "update", reason, wait
        )

    async def update_env(
        self,
        deployment_id: str,
        env: Mapping[str, str],
        actor: Actor,
        *,
        reason: str,
        secret_names: frozenset[str] = frozenset(),
    ) -> DeploymentVersion:
        """Roll out the active spec with ``env`` instead of its env, as a new version
        (source ``env``; the replica count stays) and return it once ``active``.
        ``secret_names`` are added to the spec's ``secret_env`` (stored sealed, masked).

        409 ``rollout-failed`` (with the version's ``status``) when it did not end
        ``active``: it failed and was rolled back (the old version runs on), or it was
        left ``rolling_out`` to recovery (the engine was lost), 404 for an unknown
        deployment, 409 ``deployment-busy`` / ``-stopped``.
        """

        def with_env(deployment: Deployment, current: DeploymentSpec) -> DeploymentSpec:
            data = current.model_dump()
            listed = sorted(set(current.secret_env) | set(secret_names))
            data.update(env=dict(env), secret_env=listed, replicas=deployment.replicas)
            return validated_spec(data, ("body", "env"))

        version = await self.rollouts.launch(actor, deployment_id, with_env, "env", reason, True)
        if version.status != "active":
            if version.status == "failed":
                said = f"version {version.number} was rolled back: {version.failure}"
            else:
                said = (
                    f"version {version.number} did not become active "
                    f"(status {version.status}): {version.failure}"
                )
            raise RolloutFailed(
                said,
                extensions={
                    "version": version.number,
                    "status": version.status,
                    "failure": version.failure,
                },
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
        ``rollback:<n>``) with the replica count that runs now; 404 when there is no
        such version."""
        old = self.rollouts.plain(await self.version(deployment_id, to_version))

        def again(deployment: Deployment, _current: DeploymentSpec) -> DeploymentSpec:
            data = old.model_dump()
            data["replicas"] = deployment.replicas
            return validated_spec(data, ("body", "to_version"))

        return await self.rollouts.launch(
            actor, deployment_id, again, f"rollback:{to_version}", reason, wait
        )

    # --- replicas and state ----------------------------------------------------------------

    async def scale(self, actor: Actor, deployment_id: str, replicas: int) -> DeploymentOut:
        """Run ``replicas`` containers of the active version: new ones are started, the
        highest-numbered ones removed. 409 when stopped or busy."""
        target = target_of(deployment_id)
        async with (
            self.audit.audited(actor, "deployments.scale", target, {"replicas": replicas}),
            self.leases.held(deployment_id, "scale", running=True) as deployment,
        ):
            spec = await self.plain_spec(deployment)
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
            deployment = await self._change(deployment, replicas=replicas)
        await publish_change(
            self.publish, deployment, deployment.current, "scaled", f"replicas={replicas}"
        )
        return self._out(deployment, await self.spec_of(deployment), None)

    async def stop(self, actor: Actor, deployment_id: str) -> DeploymentOut:
        """Stop every container (kept, so :meth:`start` resumes them). 409 when busy."""
        async with (
            self.audit.audited(actor, "deployments.stop", target_of(deployment_id)),
            self.leases.held(deployment_id, "stop") as deployment,
        ):
            host = await self.host_of(deployment.host_id)
            async with self.engines.client(host) as docker:
                for replica in await engine.replicas(docker, deployment.id):
                    await engine.stop(docker, replica.id, self.stop_timeout)
            deployment = await self._change(deployment, status="stopped")
        await publish_change(self.publish, deployment, deployment.current, "stopped")
        return self._out(deployment, await self.spec_of(deployment), None)

    async def start(self, actor: Actor, deployment_id: str) -> DeploymentOut:
        """Start the stopped containers again (and any replica that is missing). 409
        when busy."""
        async with (
            self.audit.audited(actor, "deployments.start", target_of(deployment_id)),
            self.leases.held(deployment_id, "start") as deployment,
        ):
            spec = await self.plain_spec(deployment)
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
            deployment = await self._change(deployment, status="running")
        await publish_change(self.publish, deployment, deployment.current, "deployed", "started")
        return self._out(deployment, await self.spec_of(deployment), None)

    async def remove(self, actor: Actor, deployment_id: str) -> None:
        """Remove every container (named volumes stay), the deployment and its history.
        409 when busy."""
        async with (
            self.audit.audited(actor, "deployments.remove", target_of(deployment_id)),
            self.leases.held(deployment_id, "remove") as deployment,
        ):
            host = await self.host_of(deployment.host_id)
            async with self.engines.client(host) as docker:
                for replica in await engine.replicas(docker, deployment.id):
                    await engine.remove(docker, replica.id)
            async for version in self.store.scan(
                DeploymentVersion, {"deployment_id": deployment.id}
            ):
                await self.store.delete(DeploymentVersion, version.id)
            await self.store.delete(Deployment, deployment.id)
        await publish_change(self.publish, deployment, deployment.current, "removed")

    # --- logs ------------------------------------------------------------------------------

    async def logs(self, deployment_id: str, query: LogQuery) -> list[LogLine]:
        """The last ``tail`` lines of each replica (or of ``replica``), replica by replica;
        secret env values are masked in them."""
        deployment = await self.get(deployment_id)
        host = await self.host_of(deployment.host_id)
        return await last_lines(
            self.engines, host, deployment.id, query, self._secrets_of(deployment)
        )

    async def follow(self, deployment_id: str, query: LogQuery) -> AsyncGenerator[LogLine, None]:
        """The last ``tail`` lines, then each new line as the replicas running now write
        it, until the caller stops iterating (close the iterator: ``aclosing``; that
        releases the engine client) or every chosen replica is gone. 404 is raised
        here, before anything is streamed."""
        deployment = await self.get(deployment_id)
        host = await self.host_of(deployment.host_id)
        return follow_lines(self.engines, host, deployment.id, query, self._secrets_of(deployment))

    # --- lifecycle -------------------------------------------------------------------------

    def start_background(self) -> None:
        """Keep this instance's heartbeat and recover stale rollouts (at once, then
        periodically) without holding up the service's start."""
        self.rollouts.start()

    async def recover(self) -> None:
        """Undo every rollout whose instance is gone (or that no task here runs)."""
        await self.rollouts.recover()

    async def close(self) -> None:
        """Stop: cancel rollouts in progress (recovery undoes what they leave)."""
        await self.rollouts.close()

    # --- helpers ---------------------------------------------------------------------------

    def _secrets_of(self, deployment: Deployment) -> SecretsOf:
        """The secret env values of the versions given (and of the current one): every
        version a chosen replica runs is masked in its logs."""

        async def secrets(numbers: set[int]) -> list[str]:
            values: list[str] = []
            for number in sorted(numbers | {deployment.current}):
                found = await self.store.find(
                    DeploymentVersion,
                    {"deployment_id": deployment.id, "number": number},
                    limit=1,
                )
                for version in found.items:
                    values.extend(secret_values(self.rollouts.plain(version)))
            return sorted(set(values), key=lambda v: (-len(v), v))

        return secrets

    async def _change(self, deployment: Deployment, **changes: Any) -> Deployment:
        """Write ``changes`` under the lease ``deployment`` was claimed with (409 once it
        was taken over)."""
        assert deployment.lease is not None
        return await self.leases.apply(deployment.id, deployment.lease.token, **changes)

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
