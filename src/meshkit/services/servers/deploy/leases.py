"""One change at a time per deployment, across every instance of the service.

Contract:

- Every operation that changes a deployment (deploy aside: a new one is nobody else's)
  first claims the deployment's ``lease`` with one :meth:`Store.modify
  <meshkit.store.Store.modify>` (an atomic compare-and-set): the operation, the instance
  doing it and a token. Another operation meanwhile gets 409 ``deployment-busy``. The
  lease is released when the operation ends, however it ends.
- A rollout holds the lease for its whole run, and ``rollout`` (the version) stays set
  until it is finished or undone: nothing else may touch the deployment until then.
- Each instance keeps a heartbeat key in Redis (refreshed every third of its TTL). A
  lease whose instance's heartbeat is gone (expired: missing for longer than the TTL, or
  deleted at a clean stop), or one of this instance that no running operation holds, is
  *stale*: another operation may take it over, and a stale rollout is undone by
  recovery (:meth:`~meshkit.services.servers.deploy.rollout.Rollouts.recover`).
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

from meshkit.services.servers.deploy.models import Deployment, Lease
from meshkit.services.servers.errors import DeploymentBusy, DeploymentNotFound, DeploymentStopped
from meshkit.store import DocumentNotFound, Store


def heartbeat_key(instance: str) -> str:
    """The Redis key that says instance ``instance`` is alive (it expires otherwise)."""
    return f"meshkit:servers:deployments:instance:{instance}"


def now() -> datetime:
    return datetime.now(UTC)


class Leases:
    """Claims and releases deployments' leases for one instance (module docstring)."""

    def __init__(self, store: Store, redis: Redis, instance: str, *, ttl: float = 30.0) -> None:
        self.store = store
        self.redis = redis
        self.instance = instance
        self.ttl = ttl
        self._held: set[str] = set()

    async def beat(self) -> None:
        """Say this instance is alive for ``ttl`` seconds more."""
        await self.redis.set(heartbeat_key(self.instance), b"1", px=max(1, int(self.ttl * 1000)))

    async def forget(self) -> None:
        """Say this instance is gone (a clean stop): its leases turn stale at once."""
        with contextlib.suppress(RedisError):
            await self.redis.delete(heartbeat_key(self.instance))

    async def alive(self, lease: Lease) -> bool:
        """Whether the lease's holder is still at it (module docstring)."""
        if lease.instance == self.instance:
            return lease.token in self._held
        return bool(await self.redis.exists(heartbeat_key(lease.instance)))

    async def claim(
        self,
        deployment_id: str,
        op: str,
        *,
        running: bool = False,
        rollout: int | None = None,
        recovering: bool = False,
    ) -> tuple[Deployment, str]:
        """Take the deployment's lease for ``op``; the deployment and the lease's token.

        409 ``deployment-busy`` while another holds it or a rollout is set (unless
        ``recovering``, which takes over a stale one), 409 ``deployment-stopped`` when
        ``running`` is asked and it is not, 404 for an unknown deployment. ``rollout``
        marks the version being rolled out.
        """
        found = await self.store.get(Deployment, deployment_id)
        if found is None:
            raise DeploymentNotFound(f"no deployment {deployment_id}")
        stale = None
        if found.lease is not None and not await self.alive(found.lease):
            stale = found.lease.token
        lease = self.fresh(op)
        token = lease.token

        def take(current: Deployment) -> Deployment:
            held = current.lease
            if held is not None and held.token != stale:
                raise DeploymentBusy(
                    f"the deployment is busy ({held.op})",
                    extensions={"op": held.op, "rollout": current.rollout},
                )
            if current.rollout is not None and not recovering:
                raise DeploymentBusy(
                    f"version {current.rollout} is being rolled out",
                    extensions={"op": "rollout", "rollout": current.rollout},
                )
            if running and current.status != "running":
                raise DeploymentStopped("the deployment is stopped; start it first")
            update: dict[str, Any] = {"lease": lease, "updated_at": now()}
            if rollout is not None:
                update["rollout"] = rollout
            return current.model_copy(update=update)

        try:
            deployment = await self.store.modify(Deployment, deployment_id, take)
        except DocumentNotFound:
            self._held.discard(token)
            raise DeploymentNotFound(f"no deployment {deployment_id}") from None
        except BaseException:
            self._held.discard(token)
            raise
        return deployment, token

    async def release(self, deployment_id: str, token: str, **changes: Any) -> Deployment | None:
        """Give the lease back (if still ours), applying ``changes`` with it; the
        deployment, ``None`` when it is gone."""
        self._held.discard(token)

        def give(current: Deployment) -> Deployment:
            update = {**changes, "updated_at": now()}
            if current.lease is not None and current.lease.token == token:
                update["lease"] = None
            return current.model_copy(update=update)

        try:
            return await self.store.modify(Deployment, deployment_id, give)
        except DocumentNotFound:
            return None

    def fresh(self, op: str) -> Lease:
        """A lease of this instance for ``op`` (held here until released or dropped),
        to store with a deployment being made."""
        token = secrets.token_hex(8)
        self._held.add(token)
        return Lease(op=op, instance=self.instance, token=token, since=now())

    def drop(self, token: str) -> None:
        """Stop holding ``token`` here without writing (the lease turns stale: a rollout
        left for recovery)."""
        self._held.discard(token)

    @contextlib.asynccontextmanager
    async def held(
        self, deployment_id: str, op: str, *, running: bool = False
    ) -> AsyncIterator[Deployment]:
        """Hold the lease for the block (:meth:`claim`), released however it ends."""
        deployment, token = await self.claim(deployment_id, op, running=running)
        try:
            yield deployment
        finally:
            await self.release(deployment_id, token)
