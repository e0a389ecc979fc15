"""One change at a time per deployment, across every instance of the service.

Contract:

- Every operation that changes a deployment (deploy aside: a new one is nobody else's)
  first claims the deployment's ``lease`` with one :meth:`Store.modify
  <meshkit.store.Store.modify>` (an atomic compare-and-set): the operation, the instance
  doing it and a token. Another operation meanwhile gets 409 ``deployment-busy``. The
  lease is released when the operation ends, however it ends.
- A rollout holds the lease for its whole run, and ``rollout`` (the version) stays set
  until it is finished or undone: nothing else may touch the deployment until then.
- Each instance keeps a heartbeat key in Redis (refreshed every third of its TTL) and,
  with each beat, renews the ``until`` of every lease it holds (TTL ahead). A lease whose
  ``until`` has passed *and* whose instance's heartbeat is gone (expired: missing for
  longer than the TTL, or deleted at a clean stop), or one of this instance that no
  running operation holds, is *stale*: another operation may take it over, and a stale
  rollout is undone by recovery
  (:meth:`~meshkit.services.servers.deploy.rollout.Rollouts.recover`).
- A release (and any change made under a lease: :meth:`Leases.apply`) is written only
  while the lease still has the holder's token: a holder whose lease was taken over
  changes nothing (the release is logged and skipped, a change raises 409).
"""

from __future__ import annotations

import contextlib
import logging
import secrets
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

from meshkit.services.servers.deploy.models import Deployment, Lease
from meshkit.services.servers.errors import DeploymentBusy, DeploymentNotFound, DeploymentStopped
from meshkit.store import DocumentNotFound, Store

log = logging.getLogger("meshkit.servers")


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
        self._held: dict[str, str | None] = {}
        """The tokens held here, each with its deployment's id (``None``: not yet known)."""

    def until(self) -> datetime:
        """A lease's ``until`` renewed now."""
        return now() + timedelta(seconds=self.ttl)

    async def beat(self) -> None:
        """Say this instance is alive for ``ttl`` seconds more: renew the ``until`` of
        every lease held here, then the heartbeat key."""
        for token, deployment_id in list(self._held.items()):
            if deployment_id is not None:
                try:
                    await self.renew(deployment_id, token)
                except DocumentNotFound:
                    pass
                except Exception as exc:  # the store away: the heartbeat key still says it
                    log.warning("renewing the lease of %s: %s", deployment_id, exc)
        await self.redis.set(heartbeat_key(self.instance), b"1", px=max(1, int(self.ttl * 1000)))

    async def renew(self, deployment_id: str, token: str) -> None:
        """Push the lease's ``until`` ``ttl`` ahead, if it still has ``token``."""
        until = self.until()

        def push(current: Deployment) -> Deployment:
            lease = current.lease
            if lease is None or lease.token != token:
                return current
            return current.model_copy(update={"lease": lease.model_copy(update={"until": until})})

        await self.store.modify(Deployment, deployment_id, push)

    async def forget(self) -> None:
        """Say this instance is gone (a clean stop): its leases turn stale at once (their
        ``until`` cleared, the heartbeat key deleted)."""
        self._held.clear()
        try:
            async for deployment in self.store.scan(Deployment, {"lease": {"$ne": None}}):
                lease = deployment.lease
                if lease is not None and lease.instance == self.instance:
                    await self._expire(deployment.id, lease.token)
        except Exception as exc:  # the store away: the leases lapse once ``until`` passes
            log.warning("expiring this instance's leases: %s", type(exc).__name__)
        with contextlib.suppress(RedisError):
            await self.redis.delete(heartbeat_key(self.instance))

    async def _expire(self, deployment_id: str, token: str) -> None:
        def clear(current: Deployment) -> Deployment:
            lease = current.lease
            if lease is None or lease.token != token:
                return current
            return current.model_copy(update={"lease": lease.model_copy(update={"until": None})})

        with contextlib.suppress(DocumentNotFound):
            await self.store.modify(Deployment, deployment_id, clear)

    async def alive(self, lease: Lease) -> bool:
        """Whether the lease's holder is still at it (module docstring)."""
        if lease.instance == self.instance:
            return lease.token in self._held
        if lease.until is not None and lease.until > now():
            return True
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
        lease = self.fresh(op, deployment_id)
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
            self.drop(token)
            raise DeploymentNotFound(f"no deployment {deployment_id}") from None
        except BaseException:
            self.drop(token)
            raise
        return deployment, token

    async def release(self, deployment_id: str, token: str, **changes: Any) -> Deployment | None:
        """Give the lease back applying ``changes`` with it, only while it still has
        ``token`` (else nothing is written: logged); the deployment, ``None`` when it is
        gone. The token is held here until the write is done (or the lease is lost)."""
        lost = False

        def give(current: Deployment) -> Deployment:
            nonlocal lost
            lost = current.lease is None or current.lease.token != token
            if lost:
                return current
            update = {**changes, "lease": None, "updated_at": now()}
            return current.model_copy(update=update)

        try:
            deployment = await self.store.modify(Deployment, deployment_id, give)
        except DocumentNotFound:
            self.drop(token)
            return None
        self.drop(token)
        if lost:
            log.warning(
                "deployment %s: the lease was taken over; release (%s) skipped",
                deployment_id,
                ", ".join(sorted(changes)) or "nothing to change",
            )
        return deployment

    async def apply(self, deployment_id: str, token: str, **changes: Any) -> Deployment:
        """Write ``changes`` keeping the lease, only while it still has ``token``: 409
        ``deployment-busy`` once it was taken over, 404 when the deployment is gone."""

        def change(current: Deployment) -> Deployment:
            if current.lease is None or current.lease.token != token:
                log.warning("deployment %s: the lease was taken over", deployment_id)
                raise DeploymentBusy(
                    "the deployment's lease was taken over",
                    extensions={
                        "op": current.lease.op if current.lease else None,
                        "rollout": current.rollout,
                    },
                )
            return current.model_copy(update={**changes, "updated_at": now()})

        try:
            return await self.store.modify(Deployment, deployment_id, change)
        except DocumentNotFound:
            raise DeploymentNotFound(f"no deployment {deployment_id}") from None

    def fresh(self, op: str, deployment_id: str | None = None) -> Lease:
        """A lease of this instance for ``op`` (held here until released or dropped),
        to store with a deployment being made (:meth:`bind` it once it has its id)."""
        token = secrets.token_hex(8)
        self._held[token] = deployment_id
        return Lease(op=op, instance=self.instance, token=token, since=now(), until=self.until())

    def bind(self, token: str, deployment_id: str) -> None:
        """Say which deployment a :meth:`fresh` lease is stored with (its heartbeat
        renews it from now on)."""
        if token in self._held:
            self._held[token] = deployment_id

    def holds(self, token: str) -> bool:
        """Whether ``token`` is still held here."""
        return token in self._held

    def drop(self, token: str) -> None:
        """Stop holding ``token`` here without writing (the lease turns stale: a rollout
        left for recovery)."""
        self._held.pop(token, None)

    @contextlib.asynccontextmanager
    async def held(
        self, deployment_id: str, op: str, *, running: bool = False
    ) -> AsyncIterator[Deployment]:
        """Hold the lease for the block (:meth:`claim`), released however it ends."""
        deployment, token = await self.claim(deployment_id, op, running=running)
        try:
            yield deployment
        finally:
            try:
                await self.release(deployment_id, token)
            finally:
                self.drop(token)
