"""The problems token verification raises (RFC 6750 §3 challenges on the 401s).

A refused token is the client's fault (401, never retried with the same token); keys or
the denylist being unreachable is ours (503, retry later): the two are kept apart so an
auth-service outage never looks like "your token is bad" and makes clients log out.
"""

from __future__ import annotations

import math

from meshkit.errors import ServiceUnavailable, Unauthenticated

BEARER_CHALLENGE = 'Bearer error="invalid_token"'


class TokenMissing(Unauthenticated):
    """No bearer token was presented (RFC 6750: the challenge carries no error code)."""

    slug = "token-missing"
    title = "Access token missing"

    def __init__(self, detail: str = "send an access token: Authorization: Bearer <token>") -> None:
        super().__init__(detail, headers={"WWW-Authenticate": "Bearer"})


class TokenInvalid(Unauthenticated):
    """The access token is not acceptable.

    ``detail`` names the reason in words safe to show ("token expired", "unknown signing
    key", …). It never contains the token or any value taken from it, so it can be
    logged and returned as is.
    """

    slug = "invalid-token"
    title = "Invalid access token"

    def __init__(self, detail: str) -> None:
        super().__init__(detail, headers={"WWW-Authenticate": BEARER_CHALLENGE})


class KeysUnavailable(ServiceUnavailable):
    """The JWKS could not be fetched and no key is cached: the token cannot be judged."""

    slug = "keys-unavailable"
    title = "Token signing keys unavailable"

    def __init__(self, detail: str, *, retry_after: float) -> None:
        seconds = str(max(1, math.ceil(retry_after)))
        super().__init__(detail, headers={"Retry-After": seconds})


class RevocationUnavailable(ServiceUnavailable):
    """The denylist (Redis) could not be read; the token is refused rather than trusted."""

    slug = "revocation-unavailable"
    title = "Token revocation list unavailable"
