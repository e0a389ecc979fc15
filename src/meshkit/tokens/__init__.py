"""Verifying access tokens, in every service and the gateway (RFC 8725, RFC 9068).

An access token is a JWS the auth service signed (header ``alg`` from
``MESHKIT_JWT_ALGORITHMS``, ``RS256`` by default; ``kid``; ``typ: at+jwt``).
:class:`TokenVerifier` trusts nothing in it before the signature checks out: the
algorithm must be on an explicit allow-list (``none`` and HMAC never are), the key comes
only from the JWKS by ``kid`` (a token naming its own key through
``jwk``/``jku``/``x5u``/``x5c`` is refused), and must be of the algorithm's type; an
unknown ``kid`` refetches the JWKS at most once per interval. Then ``iss``, ``aud``,
``exp`` (required), ``nbf``, ``iat``, ``typ``, ``sub`` and ``jti`` are checked, and
last the Redis denylists that logout and session revocation write with :func:`deny`
(one token) and :func:`deny_session` (every token of a session), in one ``EXISTS``.
See ``docs/tokens.md``.
"""

from meshkit.tokens.errors import KeysUnavailable, RevocationUnavailable, TokenInvalid, TokenMissing
from meshkit.tokens.keys import (
    ALGORITHMS,
    CallableJwks,
    HttpJwks,
    JwksSource,
    KeyCache,
    StaticJwks,
    allowed_algorithms,
    jws_registry,
)
from meshkit.tokens.principal import Principal, bearer_token, require_permission
from meshkit.tokens.verifier import (
    ACCESS_TYP,
    DENYLIST_PREFIX,
    MAX_LEEWAY,
    SESSION_DENYLIST_PREFIX,
    TokenVerifier,
    deny,
    deny_session,
)

__all__ = [
    "ACCESS_TYP",
    "ALGORITHMS",
    "DENYLIST_PREFIX",
    "MAX_LEEWAY",
    "SESSION_DENYLIST_PREFIX",
    "CallableJwks",
    "HttpJwks",
    "JwksSource",
    "KeyCache",
    "KeysUnavailable",
    "Principal",
    "RevocationUnavailable",
    "StaticJwks",
    "TokenInvalid",
    "TokenMissing",
    "TokenVerifier",
    "allowed_algorithms",
    "bearer_token",
    "deny",
    "deny_session",
    "jws_registry",
    "require_permission",
]
