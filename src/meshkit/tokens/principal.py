"""Who a verified token speaks for, permission checks, and the bearer header."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Any, ClassVar

from meshkit.errors import Forbidden
from meshkit.tokens.errors import TokenInvalid, TokenMissing

MAX_TOKEN = 16_384
"""Longest token accepted, in characters (headers and payloads of ours are far smaller)."""
WILDCARD = "*"
SEPARATORS = ":."
B64TOKEN = re.compile(r"[A-Za-z0-9\-._~+/]+=*")  # RFC 6750 §2.1


def _no_claims() -> Mapping[str, Any]:
    return MappingProxyType({})


@dataclass(frozen=True)
class Principal:
    """The caller a verified access token speaks for.

    Built only by :class:`~meshkit.tokens.TokenVerifier` (or by tests): holding one means
    the token behind it passed every check. ``claims`` is the whole verified payload,
    read-only, for the rare handler that needs more than the typed fields.
    """

    subject: str
    roles: frozenset[str]
    permissions: frozenset[str]
    token_id: str
    session_id: str | None
    expires_at: datetime
    claims: Mapping[str, Any] = field(default_factory=_no_claims, compare=False)

    __openapi_security__: ClassVar[tuple[str, dict[str, Any]]] = (
        "bearerAuth",
        {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
    )

    def has_permission(self, permission: str) -> bool:
        """Whether ``permission`` (``service:resource.action``) is granted.

        Granted are: the exact string; ``*`` (everything); and a grant whose last segment
        is ``*``, for everything below the part before it: ``messaging:*`` covers
        ``messaging:channel.create``, ``messaging:channel.*`` covers
        ``messaging:channel.delete`` but not ``messaging:channels.delete``. A ``*`` in
        ``permission`` itself is not a pattern: asking for ``messaging:*`` needs that
        grant (or ``*``). Matching is case-sensitive.
        """
        granted = self.permissions
        if not permission or not granted:
            return False
        if permission in granted or WILDCARD in granted:
            return True
        last = len(permission) - 1
        return any(
            permission[: i + 1] + WILDCARD in granted
            for i, char in enumerate(permission)
            if char in SEPARATORS and i < last
        )


def require_permission(principal: Principal, permission: str) -> None:
    """Refuse with a 403 problem (``required_permission`` names what was missing)."""
    if not principal.has_permission(permission):
        raise Forbidden(
            f"this needs the permission {permission!r}",
            extensions={"required_permission": permission},
        )


def bearer_token(authorization_header: str | None) -> str:
    """The token of an ``Authorization: Bearer <token>`` header (RFC 6750 §2.1).

    No header, an empty one or another scheme (``Basic …``) is :class:`TokenMissing`: the
    client did not try a bearer token. ``Bearer`` with nothing, several parts, or
    characters a token cannot have is :class:`TokenInvalid`. The scheme is
    case-insensitive; the token is returned as sent.
    """
    if authorization_header is None or not authorization_header.strip():
        raise TokenMissing()
    parts = authorization_header.split()
    if parts[0].lower() != "bearer":
        raise TokenMissing("the Authorization header must use the Bearer scheme")
    if len(parts) != 2:
        raise TokenInvalid("malformed Authorization header: expected 'Bearer <token>'")
    token = parts[1]
    if len(token) > MAX_TOKEN:
        raise TokenInvalid("token too large")
    if not B64TOKEN.fullmatch(token):
        raise TokenInvalid("malformed Authorization header: the token has invalid characters")
    return token
