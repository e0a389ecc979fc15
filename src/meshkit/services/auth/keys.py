"""Token-signing keys: one active key signs, retired keys keep verifying until every
token they signed has expired, and the public halves are served as a JWKS.

Keys live in the auth service's store, so every instance of the service signs with the
same key and publishes the same set; an instance re-reads the set at most every
:data:`RELOAD_EVERY` seconds (sooner after it rotated itself). Rotation is
``POST /v1/auth/keys/rotate`` (admin) or ``meshkit auth rotate-keys``.

*Rotation publishes before it signs.* Verifiers cache the JWKS (``KeyCache``: an unknown
``kid`` refetches at most every 30 s), so a token signed with a key published a moment
ago would be refused for up to that long. A rotated key is therefore created with
``activates_at`` = now + ``MESHKIT_AUTH_KEY_PUBLISH_DELAY`` (60 s): it is in the JWKS at
once, the previous key keeps signing until then (its ``retired_at`` is that moment), and
from then on the new key signs. The delay also covers the other instances of the auth
service, which see the new key within :data:`RELOAD_EVERY` seconds.

Every algorithm of :data:`meshkit.tokens.ALGORITHMS` can sign: RS*/PS* with RSA-3072
keys, ES256/384/512 on P-256/384/521, EdDSA and Ed25519 with Ed25519 keys, Ed448 with
Ed448 keys (when joserfc knows the algorithm). Signing goes through
:func:`meshkit.tokens.jws_registry`, which allows exactly that algorithm (and ``EdDSA``
without joserfc's deprecation warning).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from joserfc import jwt
from joserfc.jwk import ECKey, OKPKey, RSAKey
from joserfc.jws import JWSRegistry

from meshkit.config import ConfigError
from meshkit.services.auth.models import SigningKey
from meshkit.store import Asc, Store
from meshkit.tokens import ALGORITHMS, allowed_algorithms, jws_registry

if TYPE_CHECKING:
    from joserfc.jwk import KeyParameters

RELOAD_EVERY = 30.0
DEFAULT_PUBLISH_DELAY = 60.0
"""Seconds a rotated key is published before it signs: more than a verifier's JWKS
refetch interval (30 s) and than :data:`RELOAD_EVERY`."""
RSA_BITS = 3072
EC_CURVES = {"ES256": "P-256", "ES384": "P-384", "ES512": "P-521"}
OKP_CURVES = {"EdDSA": "Ed25519", "Ed25519": "Ed25519", "Ed448": "Ed448"}
KeyObject = RSAKey | ECKey | OKPKey
Clock = Callable[[], datetime]


def _utcnow() -> datetime:
    return datetime.now(UTC)


def signing_algorithm(configured: str, *, setting: str = "MESHKIT_JWT_ALGORITHMS") -> str:
    """The algorithm tokens are signed with: the first of the comma-separated allow-list
    ``configured``, canonically spelt. :class:`ConfigError` when it cannot sign."""
    algorithm = allowed_algorithms(configured.split(","), setting=setting)[0]
    if algorithm not in ALGORITHMS or not (
        algorithm.startswith(("RS", "PS")) or algorithm in EC_CURVES or algorithm in OKP_CURVES
    ):
        raise ConfigError(f"{setting}: the auth service cannot sign with {algorithm}")
    if algorithm not in JWSRegistry.algorithms:
        raise ConfigError(
            f"{setting}: the installed joserfc cannot sign with {algorithm}; "
            "upgrade joserfc or sign with EdDSA, ES256 or RS256"
        )
    return algorithm


def generate(algorithm: str) -> KeyObject:
    """A new private key for ``algorithm`` (RS*/PS*: RSA-3072; ES256/384/512: P-256,
    P-384, P-521; EdDSA and Ed25519: Ed25519; Ed448: Ed448)."""
    parameters: KeyParameters = {"alg": algorithm, "use": "sig"}
    key: KeyObject
    if algorithm in ALGORITHMS and algorithm.startswith(("RS", "PS")):
        key = RSAKey.generate_key(RSA_BITS, parameters=parameters)
    elif algorithm in EC_CURVES:
        key = ECKey.generate_key(EC_CURVES[algorithm], parameters=parameters)
    elif algorithm in OKP_CURVES:
        key = OKPKey.generate_key(OKP_CURVES[algorithm], parameters=parameters)  # type: ignore[arg-type]
    else:
        raise ConfigError(f"cannot sign with {algorithm!r}: use one of {', '.join(ALGORITHMS)}")
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
        self,
        store: Store,
        *,
        algorithm: str,
        token_ttl: int,
        publish_delay: float = DEFAULT_PUBLISH_DELAY,
        clock: Clock = _utcnow,
    ) -> None:
        """``algorithm``: what new keys are for and what signs (see
        :func:`signing_algorithm`). ``publish_delay``: seconds between a rotation and
        the new key's first signature."""
        self.store = store
        self.algorithm = algorithm
        self.token_ttl = token_ttl
        self.publish_delay = publish_delay
        self._clock = clock
        self._registry = jws_registry([algorithm])
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
            if not self._candidates(keys):
                keys.append(await self._create(activates_at=None))  # the first, or a new alg
            self._keys = keys
            self._objects = {k.kid: _import(k.private_jwk) for k in keys}
            self._loaded_at = time.monotonic()

    def _candidates(self, keys: list[SigningKey]) -> list[SigningKey]:
        """Keys of the configured algorithm that sign now or will (not retired yet)."""
        now = self._clock()
        return [
            k
            for k in keys
            if k.algorithm == self.algorithm and (k.retired_at is None or k.retired_at > now)
        ]

    async def _create(self, *, activates_at: datetime | None) -> SigningKey:
        key = await asyncio.to_thread(generate, self.algorithm)
        document = SigningKey(
            kid=str(key.kid),
            algorithm=self.algorithm,
            private_jwk=key.as_dict(private=True),
            public_jwk=key.as_dict(private=False),
            created_at=self._clock(),
            activates_at=activates_at,
        )
        return await self.store.insert(document)

    async def active(self) -> SigningKey:
        """The key that signs now: of the configured algorithm, not retired, and the
        newest whose ``activates_at`` has passed (a rotated key waits for it)."""
        await self._reload()
        candidates = self._candidates(self._keys)
        if not candidates:  # another instance changed the set: read it again
            await self._reload(force=True)
            candidates = self._candidates(self._keys)
        now = self._clock()
        started = [k for k in candidates if k.activates_at is None or k.activates_at <= now]
        if started:
            return max(started, key=lambda k: (k.activates_at or k.created_at, k.created_at))
        # Only keys still waiting (cannot happen after a rotation, which retires the old
        # key when the new one starts): the one that starts first.
        return min(candidates, key=lambda k: (k.activates_at or k.created_at, k.created_at))

    async def sign(self, claims: dict[str, Any], *, typ: str) -> str:
        """A compact JWS of ``claims`` signed by the active key."""
        key = await self.active()
        header = {"alg": key.algorithm, "kid": key.kid, "typ": typ}
        return jwt.encode(header, claims, self._objects[key.kid], registry=self._registry)

    async def jwks(self) -> dict[str, Any]:
        """Public keys that may have signed an unexpired token."""
        await self._reload()
        horizon = self._clock() - timedelta(seconds=self.token_ttl + 60)
        keys = [k.public_jwk for k in self._keys if k.retired_at is None or k.retired_at > horizon]
        return {"keys": keys}

    async def rotate(self) -> SigningKey:
        """A new key, published at once, that signs from ``publish_delay`` seconds on;
        the previous ones retire at that moment (and still verify until their tokens
        have expired)."""
        await self._reload(force=True)
        starts = self._clock() + timedelta(seconds=self.publish_delay)
        fresh = await self._create(activates_at=starts)
        for key in self._keys:
            if key.retired_at is None or key.retired_at > starts:
                await self.store.update(key.model_copy(update={"retired_at": starts}))
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
