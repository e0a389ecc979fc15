"""Service API keys issued by the auth service.

A key is shown once, at creation; the store keeps its SHA-256 digest. Every process of
the system learns the accepted digests from the Redis hash :data:`ACTIVE_KEYS`, which
this module keeps in step with the store (``meshkit.security.KeyRing`` reads it), and
from the ``auth.api_keys`` events.
"""

from __future__ import annotations

import json

from redis.asyncio import Redis

from meshkit.errors import NotFound
from meshkit.security import ACTIVE_KEYS, digest_of, generate_key
from meshkit.services.auth.models import ApiKey, check_scopes
from meshkit.services.auth.sessions import utcnow
from meshkit.store import Desc, Store


class ApiKeys:
    """Create, list and revoke service API keys."""

    def __init__(self, store: Store, redis: Redis) -> None:
        self.store = store
        self.redis = redis

    async def create(self, name: str, scopes: list[str], *, by: str | None) -> tuple[ApiKey, str]:
        """A new key: the stored record and the key itself (to show once).

        ``ValueError`` without a scope or with a malformed one (the HTTP API refuses
        those with a 422 before they get here).
        """
        check_scopes(scopes)
        key = generate_key()
        record = await self.store.insert(
            ApiKey(
                name=name,
                digest=digest_of(key),
                prefix=key[:10],
                scopes=sorted(set(scopes)),
                created_at=utcnow(),
                created_by=by,
            )
        )
        await self._publish(record)
        return record, key

    async def list(self) -> list[ApiKey]:
        """Every key, newest first (revoked ones included)."""
        page = await self.store.find(ApiKey, sort=[Desc("created_at")], limit=1000)
        return page.items

    async def revoke(self, key_id: str) -> ApiKey:
        """Stop accepting a key (idempotent)."""
        record = await self.store.get(ApiKey, key_id)
        if record is None:
            raise NotFound("no such API key")
        if record.revoked_at is None:
            record = await self.store.modify(
                ApiKey, key_id, lambda k: k.model_copy(update={"revoked_at": utcnow()})
            )
        await self.redis.hdel(ACTIVE_KEYS, record.digest)
        return record

    async def _publish(self, record: ApiKey) -> None:
        entry = json.dumps({"key_id": record.id, "name": record.name, "scopes": record.scopes})
        await self.redis.hset(ACTIVE_KEYS, record.digest, entry)

    async def resync(self) -> None:
        """Make the Redis hash match the store (at start: Redis may have been emptied)."""
        active = {k.digest: k for k in await self.list() if k.revoked_at is None}
        listed = await self.redis.hkeys(ACTIVE_KEYS)
        for stale in {d.decode() if isinstance(d, bytes) else d for d in listed} - set(active):
            await self.redis.hdel(ACTIVE_KEYS, stale)
        for record in active.values():
            await self._publish(record)
