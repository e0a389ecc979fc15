"""Token-signing keys: one active key signs, retired keys keep verifying until every
token they signed has expired, and the public halves are served as a JWKS.

Keys live in the auth service's store, so every instance of the service signs with the
same key and publishes the same set; an instance re-reads the set at most every
:data:`RELOAD_EVERY` seconds (sooner after it rotated itself). Rotation is
``POST /v1/auth/keys/rotate`` (admin) or ``meshkit auth rotate-keys``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from joserfc import jwt
from joserfc.jwk import ECKey, OKPKey, RSAKey

from meshkit.services.auth.models import SigningKey
from meshkit.store import Asc, Store

if TYPE_CHECKING:
    from joserfc.jwk import KeyParameters

RELOAD_EVERY = 30.0
KeyObject = RSAKey | ECKey | OKPKey
Clock = Callable[[], datetime]


def _utcnow() -> datetime:
    return datetime.now(UTC)


def generate(algorithm: str) -> KeyObject:
    """A new private key for ``algorithm`` (RS256: RSA-3072; ES256: P-256)."""
    parameters: KeyParameters = {"alg": algorithm, "use": "sig"}
    key: KeyObject
    if algorithm.startswith(("RS", "PS")):
        key = RSAKey.generate_key(3072, parameters=parameters)
    elif algorithm == "ES256":
        key = ECKey.generate_key("P-256", parameters=parameters)
    elif algorithm == "Ed25519":
        key = OKPKey.generate_key("Ed25519", parameters=parameters)
    else:
        raise ValueError(f"cannot sign with {algorithm!r}: use RS256, PS256, ES256 or Ed25519")
    key.ensure_kid()
    return key


def _import(data: dict[str, Any]) -> KeyObject:
    kty = data.get("kty")
    if kty == "RSA":
        return RSAKey.import_key(data)
    if kty == "EC":
        return ECKey.import_key(data)
    return OKPKey.import_key(data)


class SigningKeys:
    """The signing key set of the auth service."""

    def __init__(
        self, store: Store, *, algorithm: str, token_ttl: int, clock: Clock = _utcnow
    ) -> None:
        self.store = store
        self.algorithm = algorithm
        self.token_ttl = token_ttl
        self._clock = clock
        self._keys: list[SigningKey] = []
        self._objects: dict[str, KeyObject] = {}
        self._loaded_at = 0.0
        self._lock = asyncio.Lock()

    async def _reload(self, *, force: bool = False) -> None:
        if not force and time.monotonic() - self._loaded_at < RELOAD_EVERY and self._keys:
            return
        async with self._lock:
            if not force and time.monotonic() - self._loaded_at < RELOAD_EVERY and self._keys:
                return
            page = await self.store.find(SigningKey, sort=[Asc("created_at")], limit=1000)
            keys = page.items
            if not any(k.retired_at is None and k.algorithm == self.algorithm for k in keys):
                keys.append(await self._create())
            self._keys = keys
            self._objects = {k.kid: _import(k.private_jwk) for k in keys}
            self._loaded_at = time.monotonic()

    async def _create(self) -> SigningKey:
        key = await asyncio.to_thread(generate, self.algorithm)
        document = SigningKey(
            kid=str(key.kid),
            algorithm=self.algorithm,
            private_jwk=key.as_dict(private=True),
            public_jwk=key.as_dict(private=False),
            created_at=self._clock(),
        )
        return await self.store.insert(document)

    async def active(self) -> SigningKey:
        """The newest unretired key of the configured algorithm."""
        await self._reload()
        usable = [k for k in self._keys if k.retired_at is None and k.algorithm == self.algorithm]
        return usable[-1]

    async def sign(self, claims: dict[str, Any], *, typ: str) -> str:
        """A compact JWS of ``claims`` signed by the active key."""
        key = await self.active()
        header = {"alg": key.algorithm, "kid": key.kid, "typ": typ}
        return jwt.encode(header, claims, self._objects[key.kid], algorithms=[key.algorithm])

    async def jwks(self) -> dict[str, Any]:
        """Public keys that may have signed an unexpired token."""
        await self._reload()
        horizon = self._clock() - timedelta(seconds=self.token_ttl + 60)
        keys = [k.public_jwk for k in self._keys if k.retired_at is None or k.retired_at > horizon]
        return {"keys": keys}

    async def rotate(self) -> SigningKey:
        """Start signing with a new key; the previous ones retire (and still verify)."""
        await self._reload(force=True)
        now = self._clock()
        for key in self._keys:
            if key.retired_at is None:
                await self.store.update(key.model_copy(update={"retired_at": now}))
        fresh = await self._create()
        await self._reload(force=True)
        return fresh

    async def prune(self) -> int:
        """Delete retired keys whose tokens have all expired; how many went."""
        await self._reload(force=True)
        horizon = self._clock() - timedelta(seconds=self.token_ttl + 60)
        gone = 0
        for key in self._keys:
            if key.retired_at is not None and key.retired_at <= horizon:
                gone += await self.store.delete(SigningKey, key.id)
        if gone:
            await self._reload(force=True)
        return gone
