"""Verifying access tokens, in every service and the gateway (RFC 8725, RFC 9068).

An access token is a JWS the auth service signed (header ``typ: at+jwt`` and ``kid``).
:class:`TokenVerifier` trusts nothing in the token before the signature checks out:
the algorithm must be on an explicit allow-list (``none`` and HMAC never are), the key
comes only from the JWKS by ``kid`` (never from ``jwk``/``jku``/``x5u``/``x5c``
headers), must be of the algorithm's type, and an unknown ``kid`` refetches the JWKS at
most once per ``refetch_interval``. Then ``iss``, ``aud``, ``exp`` (required), ``nbf``,
``iat``, ``typ`` are checked, and finally the Redis denylist that logout writes.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar, Protocol

import aiohttp
from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, KeySet, OKPKey, RSAKey
from redis.asyncio import Redis

from meshkit.config import ConfigError, Settings
from meshkit.errors import Forbidden, ServiceUnavailable, Unauthenticated

DENYLIST_PREFIX = "meshkit:auth:denylist:"
ACCESS_TYP = "at+jwt"
FORBIDDEN_ALGORITHMS = frozenset({"none", "hs256", "hs384", "hs512"})
KEY_TYPES = {"RS": "RSA", "PS": "RSA", "ES": "EC", "Ed": "OKP"}
UNTRUSTED_HEADERS = ("jwk", "jku", "x5u", "x5c")
MAX_TOKEN = 16_384
BEARER_CHALLENGE = 'Bearer error="invalid_token"'


class TokenMissing(Unauthenticated):
    """No access token was presented."""

    slug = "token-missing"
    title = "Access token missing"

    def __init__(self, detail: str = "send an access token: Authorization: Bearer <token>") -> None:
        super().__init__(detail, headers={"WWW-Authenticate": "Bearer"})


class TokenInvalid(Unauthenticated):
    """The access token is not acceptable; ``detail`` says why, never echoing it."""

    slug = "invalid-token"
    title = "Invalid access token"

    def __init__(self, detail: str) -> None:
        super().__init__(detail, headers={"WWW-Authenticate": BEARER_CHALLENGE})


class KeysUnavailable(ServiceUnavailable):
    """The signing keys could not be fetched and none are cached."""

    slug = "keys-unavailable"
    title = "Token signing keys unavailable"


@dataclass(frozen=True)
class Principal:
    """Who a verified access token speaks for, and what they may do."""

    subject: str
    roles: frozenset[str]
    permissions: frozenset[str]
    token_id: str
    session_id: str | None
    expires_at: datetime
    claims: Mapping[str, Any] = field(default_factory=dict)

    __openapi_security__: ClassVar[tuple[str, dict[str, Any]]] = (
        "bearerAuth",
        {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
    )

    def has_permission(self, permission: str) -> bool:
        """``permission`` is granted exactly, by ``*``, or by ``<service>:*``."""
        if permission in self.permissions or "*" in self.permissions:
            return True
        service, _, _ = permission.partition(":")
        return f"{service}:*" in self.permissions


def require_permission(principal: Principal, permission: str) -> None:
    """Refuse with 403 unless ``principal`` holds ``permission``."""
    if not principal.has_permission(permission):
        raise Forbidden(
            f"this needs the permission {permission!r}",
            extensions={"required_permission": permission},
        )


def bearer_token(authorization: str | None) -> str:
    """The token of an ``Authorization: Bearer <token>`` header."""
    if not authorization or not authorization.strip():
        raise TokenMissing()
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer":
        raise TokenMissing("the Authorization header must use the Bearer scheme")
    token = token.strip()
    if not token or " " in token:
        raise TokenInvalid("malformed Authorization header")
    return token


async def deny(redis: Redis, jti: str, expires_at: datetime) -> None:
    """Put a token id on the denylist until the token would have expired anyway."""
    seconds = int(expires_at.timestamp() - time.time()) + 1
    if seconds > 0:
        await redis.set(DENYLIST_PREFIX + jti, "1", ex=seconds)


class JwksSource(Protocol):
    """Where a verifier gets the JWKS (a ``{"keys": [...]}`` document)."""

    async def fetch(self) -> Mapping[str, Any]:
        """The current key set; raise on failure."""
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
    """A key set from a coroutine function (the auth service's own key store, or a
    fetch through meshkit's internal REST client)."""

    function: Callable[[], Awaitable[Mapping[str, Any]]]

    async def fetch(self) -> Mapping[str, Any]:
        """Whatever the function answers."""
        return await self.function()


@dataclass(frozen=True)
class HttpJwks:
    """A key set at a URL (``MESHKIT_JWKS_URL``)."""

    url: str
    timeout: float = 5.0

    async def fetch(self) -> Mapping[str, Any]:
        """GET the URL; raise on any failure."""
        timeout = aiohttp.ClientTimeout(total=self.timeout)
        async with aiohttp.ClientSession(timeout=timeout) as http, http.get(self.url) as answer:
            answer.raise_for_status()
            document: Mapping[str, Any] = await answer.json(content_type=None)
            return document


def _segment(part: str) -> Any:
    try:
        return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise TokenInvalid("malformed token") from None


class TokenVerifier:
    """Verifies access tokens against a JWKS; see the module docs for every check."""

    def __init__(
        self,
        source: JwksSource,
        *,
        issuer: str,
        audience: str,
        algorithms: Sequence[str] = ("RS256",),
        redis: Redis | None = None,
        leeway: float = 30.0,
        refetch_interval: float = 30.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        chosen = [a.strip() for a in algorithms if a.strip()]
        refused = [a for a in chosen if a.lower() in FORBIDDEN_ALGORITHMS or a.startswith("HS")]
        if refused or not chosen:
            raise ConfigError(
                f"MESHKIT_JWT_ALGORITHMS: {', '.join(refused) or 'empty'} cannot verify "
                "access tokens (none and HMAC are refused; use RS256, PS256, ES256 or Ed25519)"
            )
        self.source = source
        self.issuer = issuer
        self.audience = audience
        self.algorithms = frozenset(chosen)
        self.redis = redis
        self.leeway = leeway
        self.refetch_interval = refetch_interval
        self._clock = clock
        self._keys: dict[str, RSAKey | ECKey | OKPKey] = {}
        self._fetched_at: float | None = None
        self._fetching: asyncio.Task[None] | None = None

    @classmethod
    def for_settings(
        cls, settings: Settings, source: JwksSource, redis: Redis | None = None
    ) -> TokenVerifier:
        """A verifier configured by ``MESHKIT_JWT_*``."""
        return cls(
            source,
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
            algorithms=settings.jwt_algorithms.split(","),
            redis=redis,
        )

    async def _refresh(self) -> None:
        try:
            document = await self.source.fetch()
            keys: dict[str, RSAKey | ECKey | OKPKey] = {}
            for key in KeySet.import_key_set(dict(document)).keys:  # type: ignore[arg-type]
                if key.kid and isinstance(key, RSAKey | ECKey | OKPKey):
                    keys[str(key.kid)] = key
        finally:
            self._fetched_at = time.monotonic()
        self._keys = keys

    async def _key(self, kid: str) -> RSAKey | ECKey | OKPKey:
        if kid in self._keys:
            return self._keys[kid]
        due = self._fetched_at is None or (
            time.monotonic() - self._fetched_at >= self.refetch_interval
        )
        if due and (self._fetching is None or self._fetching.done()):
            self._fetching = asyncio.create_task(self._refresh())
        if self._fetching is not None and not self._fetching.done():
            try:
                await asyncio.shield(self._fetching)
            except Exception as exc:
                if not self._keys:
                    raise KeysUnavailable(
                        f"cannot fetch the token signing keys: {type(exc).__name__}"
                    ) from None
        if kid not in self._keys:
            raise TokenInvalid("unknown signing key")
        return self._keys[kid]

    async def verify(self, token: str) -> Principal:
        """The principal of a valid token, or :class:`TokenInvalid` saying why."""
        if not token or len(token) > MAX_TOKEN or token.count(".") != 2:
            raise TokenInvalid("malformed token")
        header = _segment(token.split(".", 1)[0])
        if not isinstance(header, dict):
            raise TokenInvalid("malformed token")
        algorithm = header.get("alg")
        if not isinstance(algorithm, str) or algorithm not in self.algorithms:
            raise TokenInvalid("signing algorithm not allowed")
        typ = str(header.get("typ", "")).lower().removeprefix("application/")
        if typ != ACCESS_TYP:
            raise TokenInvalid("not an access token")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid or len(kid) > 200:
            raise TokenInvalid("unknown signing key")
        key = await self._key(kid)
        if KEY_TYPES.get(algorithm[:2]) != key.key_type:
            raise TokenInvalid("signing key does not match the algorithm")
        declared = key.get("alg")
        if declared is not None and declared != algorithm:
            raise TokenInvalid("signing key does not match the algorithm")
        try:
            verified = jws.deserialize_compact(token, key, algorithms=[algorithm])
        except JoseError:
            raise TokenInvalid("signature invalid") from None
        try:
            claims = json.loads(verified.payload)
        except (ValueError, UnicodeDecodeError):
            raise TokenInvalid("malformed claims") from None
        if not isinstance(claims, dict):
            raise TokenInvalid("malformed claims")
        return await self._check(claims)

    async def _check(self, claims: dict[str, Any]) -> Principal:
        now = self._clock()
        if claims.get("iss") != self.issuer:
            raise TokenInvalid("wrong issuer")
        audience = claims.get("aud")
        audiences = audience if isinstance(audience, list) else [audience]
        if self.audience not in audiences:
            raise TokenInvalid("wrong audience")
        expires = claims.get("exp")
        if not isinstance(expires, int | float) or isinstance(expires, bool):
            raise TokenInvalid("token has no expiry")
        if expires <= now - self.leeway:
            raise TokenInvalid("token expired")
        not_before = claims.get("nbf")
        if isinstance(not_before, int | float) and not_before > now + self.leeway:
            raise TokenInvalid("token not valid yet")
        issued = claims.get("iat")
        if isinstance(issued, int | float) and issued > now + self.leeway:
            raise TokenInvalid("token issued in the future")
        if claims.get("typ") != "access":
            raise TokenInvalid("not an access token")
        subject, jti = claims.get("sub"), claims.get("jti")
        if not isinstance(subject, str) or not subject or not isinstance(jti, str) or not jti:
            raise TokenInvalid("token lacks sub or jti")
        if self.redis is not None and await self.redis.exists(DENYLIST_PREFIX + jti):
            raise TokenInvalid("token revoked")
        roles, permissions = claims.get("roles", []), claims.get("perms", [])
        session = claims.get("sid")
        return Principal(
            subject=subject,
            roles=frozenset(str(r) for r in roles) if isinstance(roles, list) else frozenset(),
            permissions=(
                frozenset(str(p) for p in permissions)
                if isinstance(permissions, list)
                else frozenset()
            ),
            token_id=jti,
            session_id=session if isinstance(session, str) else None,
            expires_at=datetime.fromtimestamp(expires, UTC),
            claims=claims,
        )
