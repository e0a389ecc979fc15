"""Verifying one access token: the checks of RFC 8725 and RFC 9068, in a fixed order.

Everything that needs no key is checked first, so junk is refused without touching the
key cache. Nothing in the header is trusted before the signature checks out, and even
then only ``alg`` (already on the allow-list) and ``kid`` (only a lookup key) matter.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import math
import re
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any, NoReturn

from joserfc import jws
from joserfc.errors import BadSignatureError, JoseError
from redis.asyncio import Redis
from redis.exceptions import RedisError

from meshkit.config import Settings
from meshkit.observability import ThrottledLog
from meshkit.tokens.errors import RevocationUnavailable, TokenInvalid
from meshkit.tokens.keys import JwksSource, KeyCache, allowed_algorithms, fits, jws_registry
from meshkit.tokens.principal import MAX_TOKEN, Principal

log = logging.getLogger("meshkit.tokens")

DENYLIST_PREFIX = "meshkit:auth:denylist:"
"""Redis key prefix of revoked token ids: ``<prefix><jti>`` exists until the token expires."""
SESSION_DENYLIST_PREFIX = "meshkit:auth:denylist-sid:"
"""Redis key prefix of revoked sessions: ``<prefix><sid>`` exists until every access token
issued for the session has expired; it refuses all of them, whatever their ``jti``."""
ACCESS_TYP = "at+jwt"
ACCESS_TYPE_CLAIM = "access"
KEY_HEADERS = ("jwk", "jku", "x5u", "x5c")
MAX_KID = 256
MAX_LEEWAY = 300.0
"""Largest clock-skew allowance; the denylist keeps entries this much past ``exp``."""
LATEST_TIMESTAMP = 253_402_300_799  # 9999-12-31T23:59:59Z
SEGMENT = re.compile(r"[A-Za-z0-9_-]*")


WARN_INTERVAL = 10.0
"""Least seconds between two "cannot read the token denylist" warnings of one verifier."""
VERIFIED_CACHE = 4096
"""Tokens whose signature and claims checked out, remembered (least recently used go)."""


@dataclass(frozen=True)
class _Verified:
    principal: Principal
    kid: str
    key: object


def _refuse(detail: str) -> NoReturn:
    raise TokenInvalid(detail)


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise ValueError("duplicate member")  # parsers disagree on which one wins
    return result


def _no_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not JSON")


def _json_object(data: bytes, what: str) -> dict[str, Any]:
    try:
        value = json.loads(data, object_pairs_hook=_no_duplicates, parse_constant=_no_constant)
    except (ValueError, UnicodeDecodeError, RecursionError):
        _refuse(f"malformed {what}")
    if not isinstance(value, dict):
        _refuse(f"malformed {what}")
    return value


def _segment(part: str) -> bytes:
    if len(part) % 4 == 1 or not SEGMENT.fullmatch(part):
        _refuse("malformed token")
    try:
        return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
    except (binascii.Error, ValueError):
        _refuse("malformed token")


def _timestamp(claims: dict[str, Any], name: str) -> float | None:
    value = claims.get(name)
    if value is None:
        return None
    if (
        not isinstance(value, int | float)
        or isinstance(value, bool)
        or not math.isfinite(value)
        or not 0 <= value <= LATEST_TIMESTAMP
    ):
        _refuse(f"malformed {name} claim")
    return float(value)


def _strings(claims: dict[str, Any], name: str) -> frozenset[str]:
    value = claims.get(name, [])
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        _refuse(f"malformed {name} claim")
    return frozenset(value)


def _seconds_left(expires_at: datetime) -> int:
    """Seconds until ``expires_at`` plus :data:`MAX_LEEWAY` (naive means UTC)."""
    if expires_at.tzinfo is None:
        expires_at = expires_at.replace(tzinfo=UTC)
    return math.ceil(expires_at.timestamp() + MAX_LEEWAY - time.time())


async def deny(redis: Redis, jti: str, expires_at: datetime) -> None:
    """Revoke the access token ``jti`` (logout): every verifier with Redis refuses it.

    The entry lives until ``expires_at`` plus :data:`MAX_LEEWAY` (a verifier still accepts
    a token that long after ``exp``), then Redis drops it. A naive ``expires_at`` is
    taken as UTC. A token already past that horizon is not written.
    """
    if not jti:
        raise ValueError("deny() needs the token's jti")
    seconds = _seconds_left(expires_at)
    if seconds > 0:
        await redis.set(DENYLIST_PREFIX + jti, "1", ex=seconds)


async def deny_session(redis: Redis, sid: str, expires_at: datetime) -> None:
    """Revoke every access token of session ``sid`` (whatever its ``jti``).

    ``expires_at`` is the latest expiry any token of the session can have (when the
    session is revoked: now plus the access-token lifetime). The entry lives until then
    plus :data:`MAX_LEEWAY`; a naive ``expires_at`` is taken as UTC.
    """
    if not sid:
        raise ValueError("deny_session() needs the session id")
    seconds = _seconds_left(expires_at)
    if seconds > 0:
        await redis.set(SESSION_DENYLIST_PREFIX + sid, "1", ex=seconds)


class TokenVerifier:
    """Turns an access token into a :class:`Principal`, or refuses it with a reason.

    :param source: the JWKS (``HttpJwks``, ``CallableJwks``, ``StaticJwks``).
    :param issuer: required ``iss``. :param audience: required in ``aud``.
    :param algorithms: allow-list of JWS algorithms; ``none`` and HMAC raise ConfigError.
    :param redis: when given, the denylist is checked (and Redis being down is a 503).
    :param leeway: seconds of clock skew tolerated on ``exp``, ``nbf`` and ``iat``.
    :param refetch_interval: least seconds between two JWKS fetches.
    :param max_age: cached keys older than this are refreshed in the background.
    :param clock: wall-clock seconds, for claims and the fetch rate limit (tests).
    :param warn_interval: least seconds between two "cannot read the token denylist"
        warnings: while Redis is down every check fails, and one line per request would
        flood the log (the next line says how many were not logged).
    """

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
        max_age: float = 300.0,
        clock: Callable[[], float] = time.time,
        warn_interval: float = WARN_INTERVAL,
    ) -> None:
        if not issuer or not audience:
            raise ValueError("issuer and audience must not be empty")
        if not 0 <= leeway <= MAX_LEEWAY:
            raise ValueError(f"leeway must be between 0 and {MAX_LEEWAY:.0f} seconds")
        if refetch_interval < 0 or max_age <= 0:
            raise ValueError("refetch_interval must be >= 0 and max_age > 0")
        self.algorithms = allowed_algorithms(algorithms)
        self.issuer = issuer
        self.audience = audience
        self.redis = redis
        self.leeway = leeway
        self.keys = KeyCache(
            source, refetch_interval=refetch_interval, max_age=max_age, clock=clock
        )
        self.clock = clock
        self._registries = {alg: jws_registry([alg]) for alg in self.algorithms}
        self._verified: OrderedDict[str, _Verified] = OrderedDict()
        self.denylist_warnings = ThrottledLog(log, warn_interval)

    @classmethod
    def for_settings(
        cls, settings: Settings, source: JwksSource, redis: Redis | None = None
    ) -> TokenVerifier:
        """A verifier for ``MESHKIT_JWT_ISSUER``, ``_AUDIENCE`` and ``_ALGORITHMS``."""
        return cls(
            source,
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
            algorithms=settings.jwt_algorithms.split(","),
            redis=redis,
        )

    async def verify(self, token: str) -> Principal:
        """The principal of ``token``, or :class:`TokenInvalid` whose detail says why.

        May also raise :class:`KeysUnavailable` (no keys could be fetched) or
        :class:`RevocationUnavailable` (Redis down): 503s, the token was not judged.
        The order of the checks is in ``docs/tokens.md``.
        """
        principal = await self.authenticate(token)
        await self.check_not_revoked(principal)
        return principal

    async def authenticate(self, token: str) -> Principal:
        """Every check of :meth:`verify` but the denylist (for callers that batch it).

        A token that passed is remembered (at most :data:`VERIFIED_CACHE` of them) and
        answered from memory while the key that verified it is still the one the JWKS
        gives for its ``kid``; expiry is checked again on every use. Signature checks
        are most of a verification's cost, and a client sends the same token many times.
        """
        cached = self._verified.get(token)
        if cached is not None:
            if await self.keys.get(cached.kid) is cached.key:  # may suspend: others run
                if self.expired(cached.principal):
                    self._verified.pop(token, None)
                    _refuse("token expired")
                if token in self._verified:
                    self._verified.move_to_end(token)
                return cached.principal
            self._verified.pop(token, None)
        header, algorithm, kid = self._header(token)
        key = await self.keys.get(kid)
        if key is None:
            _refuse("unknown signing key")
        if not fits(key, algorithm):
            _refuse("signing key does not fit the token's algorithm")
        try:
            signed = jws.deserialize_compact(token, key, registry=self._registries[algorithm])
        except BadSignatureError:
            _refuse("signature invalid")
        except JoseError as exc:
            log.debug("token refused by joserfc: %s", type(exc).__name__)
            _refuse("malformed token")
        if signed.protected != header:  # the library must have read the header we checked
            _refuse("malformed token")
        principal = self._principal(_json_object(signed.payload, "claims"))
        self._verified[token] = _Verified(principal, kid, key)
        if len(self._verified) > VERIFIED_CACHE:
            self._verified.popitem(last=False)
        return principal

    def expired(self, principal: Principal) -> bool:
        """Whether ``principal``'s token is past its expiry (and the leeway) by now.

        For holders of a long-lived connection, who verified the token once and must
        stop trusting it when it runs out.
        """
        return self.clock() >= principal.expires_at.timestamp() + self.leeway

    def revocation_keys(self, principal: Principal) -> list[str]:
        """The denylist keys whose existence means ``principal``'s token is revoked."""
        keys = [DENYLIST_PREFIX + principal.token_id]
        if principal.session_id:
            keys.append(SESSION_DENYLIST_PREFIX + principal.session_id)
        return keys

    async def check_not_revoked(self, principal: Principal) -> None:
        """Refuse a token whose id or session is denylisted (one ``EXISTS``).

        Without Redis this checks nothing; with Redis down it raises
        :class:`RevocationUnavailable`.
        """
        if self.redis is None:
            return
        try:
            revoked = await self.redis.exists(*self.revocation_keys(principal))
        except (RedisError, OSError) as exc:
            self.denylist_warnings.warning("cannot read the token denylist: %r", exc)
            raise RevocationUnavailable("cannot check whether the token was revoked") from None
        if revoked:
            _refuse("token revoked")

    async def revoked(self, principals: Sequence[Principal]) -> list[bool]:
        """For each principal, whether its token or session was revoked (one round trip).

        For holders of many long-lived connections, who re-check them all at once.
        Without Redis nothing is revoked; with Redis down it raises
        :class:`RevocationUnavailable`.
        """
        if self.redis is None or not principals:
            return [False] * len(principals)
        try:
            async with self.redis.pipeline(transaction=False) as pipe:
                for principal in principals:
                    pipe.exists(*self.revocation_keys(principal))
                counts = await pipe.execute()
        except (RedisError, OSError) as exc:
            self.denylist_warnings.warning("cannot read the token denylist: %r", exc)
            raise RevocationUnavailable("cannot check whether tokens were revoked") from None
        return [bool(count) for count in counts]

    def _header(self, token: str) -> tuple[dict[str, Any], str, str]:
        """Shape and header checks, before any key is looked up."""
        if not isinstance(token, str) or not token:
            _refuse("malformed token")
        if len(token) > MAX_TOKEN:
            _refuse("token too large")
        parts = token.split(".")
        if len(parts) != 3:
            _refuse("malformed token: not a JWS compact token")
        header = _json_object(_segment(parts[0]), "token header")
        algorithm = header.get("alg")
        if not isinstance(algorithm, str) or algorithm not in self.algorithms:
            _refuse("signing algorithm not allowed")
        typ = header.get("typ")
        if not isinstance(typ, str) or typ.lower().removeprefix("application/") != ACCESS_TYP:
            _refuse("not an access token (header typ must be at+jwt)")
        if any(name in header for name in KEY_HEADERS):
            _refuse("token must not carry or point to a key (jwk, jku, x5u, x5c)")
        if "crit" in header or "b64" in header:
            _refuse("unsupported critical header")
        kid = header.get("kid")
        if not isinstance(kid, str) or not 0 < len(kid) <= MAX_KID:
            _refuse("token has no valid key id (kid)")
        if not parts[1] or not parts[2]:
            _refuse("malformed token: empty payload or signature")
        if not SEGMENT.fullmatch(parts[1]) or not SEGMENT.fullmatch(parts[2]):
            _refuse("malformed token")
        return header, algorithm, kid

    def _principal(self, claims: dict[str, Any]) -> Principal:
        """The claim checks, in the documented order."""
        now = self.clock()
        if claims.get("iss") != self.issuer:
            _refuse("wrong issuer")
        audience = claims.get("aud")
        if not (
            audience == self.audience or (isinstance(audience, list) and self.audience in audience)
        ):
            _refuse("wrong audience")
        expires = _timestamp(claims, "exp")
        if expires is None:
            _refuse("token has no expiry (exp)")
        if now >= expires + self.leeway:
            _refuse("token expired")
        not_before = _timestamp(claims, "nbf")
        if not_before is not None and not_before > now + self.leeway:
            _refuse("token not valid yet (nbf)")
        issued = _timestamp(claims, "iat")
        if issued is not None and issued > now + self.leeway:
            _refuse("token issued in the future (iat)")
        if claims.get("typ") != ACCESS_TYPE_CLAIM:
            _refuse("not an access token (typ claim must be access)")
        subject, jti, session = claims.get("sub"), claims.get("jti"), claims.get("sid")
        if not isinstance(subject, str) or not subject:
            _refuse("token has no subject (sub)")
        if not isinstance(jti, str) or not jti:
            _refuse("token has no id (jti)")
        if session is not None and not isinstance(session, str):
            _refuse("malformed sid claim")
        return Principal(
            subject=subject,
            roles=_strings(claims, "roles"),
            permissions=_strings(claims, "perms"),
            token_id=jti,
            session_id=session,
            expires_at=datetime.fromtimestamp(expires, UTC),
            claims=MappingProxyType(claims),
        )
