"""Where verification keys come from, which keys may verify what, and the key cache.

Keys only ever come from a JWKS the operator configured, looked up by ``kid``. Each
algorithm is bound to one key type (and curve): an RSA key never verifies an EdDSA
token, and no symmetric (``oct``) key is ever loaded, so a published public key can
never turn into an HMAC secret. The cache refetches the JWKS on an unknown ``kid`` at
most once per interval and shares that fetch between concurrent verifications.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import copy
import json
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import aiohttp
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, OKPKey, RSAKey
from joserfc.jws import JWSRegistry

from meshkit.config import ConfigError
from meshkit.tokens.errors import KeysUnavailable

log = logging.getLogger("meshkit.tokens")

VerifyKey = RSAKey | ECKey | OKPKey
Clock = Callable[[], float]

ALGORITHMS: Mapping[str, tuple[str, frozenset[str] | None]] = {
    # alg: (kty the key must have, curves it may use; None = not a curve key)
    "EdDSA": ("OKP", frozenset({"Ed25519"})),
    "Ed25519": ("OKP", frozenset({"Ed25519"})),
    "Ed448": ("OKP", frozenset({"Ed448"})),
    "ES256": ("EC", frozenset({"P-256"})),
    "ES384": ("EC", frozenset({"P-384"})),
    "ES512": ("EC", frozenset({"P-521"})),
    "RS256": ("RSA", None),
    "RS384": ("RSA", None),
    "RS512": ("RSA", None),
    "PS256": ("RSA", None),
    "PS384": ("RSA", None),
    "PS512": ("RSA", None),
}
"""Every algorithm a verifier can be configured with, and the only key that fits it."""
MIN_RSA_BITS = 2048
MAX_JWKS_KEYS = 100
MAX_JWKS_BYTES = 256 * 1024
RETRY_WITHOUT_KEYS = 1.0
"""Seconds between fetch attempts while no key is cached (every request fails until then)."""


def allowed_algorithms(
    names: Sequence[str], *, setting: str = "MESHKIT_JWT_ALGORITHMS"
) -> tuple[str, ...]:
    """The canonical spelling of each configured algorithm; :class:`ConfigError` otherwise.

    ``none`` (any case) and HMAC (``HS*``) are refused even when asked for: a verifier
    holding only public keys has no business with shared secrets, and allowing them is
    what makes "alg: none" and the RS/HS key-confusion attacks possible (RFC 8725 §2.1).
    Config spelling is forgiving (``eddsa``); token headers are matched exactly.
    """
    canonical = {name.lower(): name for name in ALGORITHMS}
    chosen: list[str] = []
    for raw in names:
        name = raw.strip()
        if not name:
            continue
        if name.lower() == "none" or name.lower().startswith("hs"):
            raise ConfigError(
                f"{setting}: {name!r} is never accepted for access tokens "
                "(unsigned and HMAC tokens are refused); use EdDSA or RS256"
            )
        if name.lower() not in canonical:
            raise ConfigError(
                f"{setting}: unknown algorithm {name!r}; known: {', '.join(ALGORITHMS)}"
            )
        if canonical[name.lower()] not in chosen:
            chosen.append(canonical[name.lower()])
    if not chosen:
        raise ConfigError(f"{setting}: no algorithm configured (default: RS256)")
    return tuple(chosen)


# RFC 9864 deprecates the polymorphic "EdDSA" name in favour of "Ed25519", and joserfc
# warns on every use. Our token contract says "EdDSA" and ALGORITHMS pins it to Ed25519
# keys, which is exactly what "Ed25519" means: the warning is answered here, not muted.
_EDDSA = copy.copy(JWSRegistry.algorithms["EdDSA"])
_EDDSA.security_warning = None


def jws_registry(algorithms: Sequence[str]) -> JWSRegistry:
    """A joserfc registry that allows exactly ``algorithms`` (checked as above).

    Pass it to ``joserfc.jws``/``jwt`` calls, for signing too (the auth service): it
    allows ``EdDSA`` without joserfc's RFC 9864 deprecation warning.
    """
    registry = JWSRegistry(algorithms=list(allowed_algorithms(algorithms)))
    registry.algorithms = {**JWSRegistry.algorithms, "EdDSA": _EDDSA}  # this instance only
    return registry


def fits(key: VerifyKey, algorithm: str) -> bool:
    """Whether ``key`` may verify a token signed with ``algorithm`` (type, curve, alg)."""
    kty, curves = ALGORITHMS[algorithm]
    if key.key_type != kty:
        return False
    if curves is not None and not (isinstance(key, OKPKey | ECKey) and key.curve_name in curves):
        return False
    return key.alg is None or key.alg == algorithm


def import_jwks(document: Mapping[str, Any]) -> dict[str, VerifyKey]:
    """The usable verification keys of a JWKS document, by ``kid``.

    Raises ``ValueError`` when the document is not a JWKS at all (the caller then keeps
    the keys it has). Single entries that cannot be used are skipped with a warning:
    symmetric keys, private keys (a JWKS that leaks one is compromised, its key must
    not be trusted), RSA under 2048 bits, keys not for signatures, keys without ``kid``,
    and a second key with the same ``kid``.
    """
    entries = document.get("keys") if isinstance(document, Mapping) else None
    if not isinstance(entries, list):
        raise ValueError("not a JWKS document (no 'keys' list)")
    keys: dict[str, VerifyKey] = {}
    for entry in entries[:MAX_JWKS_KEYS]:
        kid = entry.get("kid") if isinstance(entry, dict) else None
        try:
            key = _import_key(entry)
        except (JoseError, ValueError, TypeError, KeyError, binascii.Error) as exc:
            log.warning("JWKS: skipping key %.64r: %s", kid, exc)
            continue
        if key.kid in keys:
            log.warning("JWKS: skipping a second key with kid %.64r", key.kid)
            continue
        keys[str(key.kid)] = key
    return keys


def _import_key(entry: Any) -> VerifyKey:
    if not isinstance(entry, dict):
        raise ValueError("entry is not an object")
    kid = entry.get("kid")
    if not isinstance(kid, str) or not kid:
        raise ValueError("no kid")
    if entry.get("use", "sig") != "sig":
        raise ValueError("not a signing key (use)")
    operations = entry.get("key_ops")
    if operations is not None and (not isinstance(operations, list) or "verify" not in operations):
        raise ValueError("not a verification key (key_ops)")
    kty = entry.get("kty")
    key: VerifyKey
    if kty == "RSA":
        if _rsa_bits(entry.get("n")) < MIN_RSA_BITS:  # before joserfc, which only warns
            raise ValueError(f"RSA key under {MIN_RSA_BITS} bits")
        key = RSAKey.import_key(entry)
    elif kty == "EC":
        key = ECKey.import_key(entry)
    elif kty == "OKP":
        key = OKPKey.import_key(entry)
        if key.curve_name not in ("Ed25519", "Ed448"):
            raise ValueError("OKP key is not a signature key")
    else:
        raise ValueError(f"key type {kty!r} cannot verify access tokens")
    if key.is_private:
        log.error("JWKS: key %.64r includes its PRIVATE part; refusing it", kid)
        raise ValueError("private key published")
    return key


def _rsa_bits(modulus: Any) -> int:
    if not isinstance(modulus, str):
        raise ValueError("RSA key without modulus")
    return int.from_bytes(
        base64.urlsafe_b64decode(modulus + "=" * (-len(modulus) % 4))
    ).bit_length()


class JwksSource(Protocol):
    """Where a verifier gets the JWKS (RFC 7517 ``{"keys": [...]}``).

    ``fetch`` raises on any failure; the verifier treats that as temporary.
    """

    async def fetch(self) -> Mapping[str, Any]:
        """The current key set."""
        ...


@dataclass(frozen=True)
class StaticJwks:
    """A fixed key set (tests, benchmarks, offline tools)."""

    document: Mapping[str, Any]

    async def fetch(self) -> Mapping[str, Any]:
        """The document given."""
        return self.document


@dataclass(frozen=True)
class CallableJwks:
    """A key set from a coroutine function: the auth service's own key store, or a
    fetch through meshkit's internal REST client (discovery, retries, API key)."""

    function: Callable[[], Awaitable[Mapping[str, Any]]]

    async def fetch(self) -> Mapping[str, Any]:
        """Whatever the function answers."""
        return await self.function()


@dataclass(frozen=True)
class HttpJwks:
    """A key set at a URL (``MESHKIT_JWKS_URL``), fetched with aiohttp.

    Bounded in time (``timeout``) and size (``max_bytes``). ``session`` lets an app share
    its client session; without one each (rare, rate-limited) fetch opens its own.
    """

    url: str
    timeout: float = 5.0
    max_bytes: int = MAX_JWKS_BYTES
    session: aiohttp.ClientSession | None = None

    def __post_init__(self) -> None:
        if not self.url.startswith(("http://", "https://")):
            raise ConfigError("MESHKIT_JWKS_URL: expected an http:// or https:// URL")

    async def fetch(self) -> Mapping[str, Any]:
        """GET the URL; raise on a non-2xx answer, an oversized body or non-JSON."""
        if self.session is not None:
            return await self._get(self.session)
        async with aiohttp.ClientSession() as session:
            return await self._get(session)

    async def _get(self, session: aiohttp.ClientSession) -> Mapping[str, Any]:
        timeout = aiohttp.ClientTimeout(total=self.timeout)
        headers = {"Accept": "application/jwk-set+json, application/json"}
        async with session.get(self.url, timeout=timeout, headers=headers) as answer:
            answer.raise_for_status()
            body = bytearray()
            async for chunk in answer.content.iter_chunked(16_384):
                body += chunk
                if len(body) > self.max_bytes:
                    raise ValueError(f"JWKS larger than {self.max_bytes} bytes")
        document = json.loads(body)
        if not isinstance(document, dict):
            raise ValueError("JWKS is not a JSON object")
        return document


class KeyCache:
    """The verification keys of one JWKS source, refreshed sparingly.

    * A known ``kid`` answers from memory. When the set is older than ``max_age`` a
      refresh starts in the background (so a key removed from the JWKS stops verifying
      within ``max_age`` even if no unknown ``kid`` ever shows up).
    * An unknown ``kid`` waits for a refetch, but attempts are at least
      ``refetch_interval`` apart (1 s while no key is cached), however many random
      kids arrive; concurrent callers share one fetch.
    * A failed fetch keeps the previous keys. With none, :class:`KeysUnavailable`.
    """

    def __init__(
        self, source: JwksSource, *, refetch_interval: float, max_age: float, clock: Clock
    ) -> None:
        self.source = source
        self.refetch_interval = refetch_interval
        self.max_age = max_age
        self._clock = clock
        self._keys: dict[str, VerifyKey] = {}
        self._fetched_at: float | None = None
        self._attempted_at: float | None = None
        self._error: str | None = None
        self._task: asyncio.Task[None] | None = None

    async def get(self, kid: str) -> VerifyKey | None:
        """The key with ``kid``, ``None`` if the JWKS has none; may raise KeysUnavailable."""
        now = self._clock()
        key = self._keys.get(kid)
        if key is not None:
            if self._fetched_at is not None and now - self._fetched_at >= self.max_age:
                self._start(now)
            return key
        self._start(now)
        if self._task is not None and not self._task.done():
            await asyncio.shield(self._task)
        if not self._keys and self._error is not None:
            raise KeysUnavailable(
                f"cannot fetch the token signing keys ({self._error})",
                retry_after=self._wait(self._clock()),
            )
        return self._keys.get(kid)

    def _wait(self, now: float) -> float:
        """Seconds until another fetch may be attempted."""
        if self._attempted_at is None:
            return 0.0
        interval = (
            self.refetch_interval if self._keys else min(self.refetch_interval, RETRY_WITHOUT_KEYS)
        )
        elapsed = now - self._attempted_at
        return 0.0 if elapsed < 0 else max(0.0, interval - elapsed)  # clock went back: allow

    def _start(self, now: float) -> None:
        if (self._task is None or self._task.done()) and self._wait(now) <= 0:
            self._attempted_at = now
            self._task = asyncio.create_task(self._refresh(), name="meshkit.tokens.jwks")

    async def _refresh(self) -> None:
        try:
            keys = import_jwks(await self.source.fetch())
        except Exception as exc:  # any failure of the source is temporary: keep what we have
            self._error = type(exc).__name__
            level = logging.WARNING if self._keys else logging.ERROR
            log.log(level, "cannot fetch the JWKS (%d keys cached): %r", len(self._keys), exc)
            return
        if set(keys) != set(self._keys):
            log.info("JWKS now has the keys %s", sorted(keys))
        self._keys, self._error = keys, None
        self._fetched_at = self._clock()

    @property
    def kids(self) -> frozenset[str]:
        """The ``kid`` of every cached key."""
        return frozenset(self._keys)
