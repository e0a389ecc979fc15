"""Sessions and their tokens: short-lived access JWTs and rotating opaque refresh tokens.

A login opens a session. Its refresh token (``mkr_<session id>.<secret>``) is exchanged
for a new pair on every use, and only hashes are stored: the current one and those
already used. Presenting a used one means two parties hold the session's tokens (one of
them stole it), so the whole session is revoked (RFC 6819 §5.2.2.3, OAuth 2.0 Security
BCP §4.14). Revoking a session denylists the session itself, so every access token issued
for it (not only the latest) is refused until the last of them has expired.

A presented refresh token is checked for its exact shape before anything else (no
hashing, no lookup): odd characters, lone surrogates or wrong lengths are simply "not a
refresh token".
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from redis.asyncio import Redis

from meshkit.errors import NotFound, Unauthenticated
from meshkit.services.auth.keys import SigningKeys
from meshkit.services.auth.models import Role, RoleAssignment, Session, TokenOut, User
from meshkit.store import Store, new_id
from meshkit.store.document import CROCKFORD
from meshkit.store.errors import StaleVersion
from meshkit.tokens import deny, deny_session

REFRESH_PREFIX = "mkr_"
ACCESS_TYP = "at+jwt"
MAX_USED_HASHES = 200
SECRET_ALPHABET = "A-Za-z0-9_-"
"""``secrets.token_urlsafe`` characters: the only ones a refresh or reset secret has."""
REFRESH_TOKEN = re.compile(
    rf"mkr_(?P<session>[{CROCKFORD}]{{26}})\.(?P<secret>[{SECRET_ALPHABET}]{{32,128}})"
)
"""``mkr_<session id (a ULID, as the store makes them)>.<secret (43 characters today)>``."""


class InvalidRefreshToken(Unauthenticated):
    """The refresh token is unknown, expired, revoked or was already used."""

    slug = "invalid-refresh-token"
    title = "Invalid refresh token"


def digest(secret: str) -> str:
    """SHA-256 hex of a high-entropy secret (refresh and reset tokens)."""
    return hashlib.sha256(secret.encode()).hexdigest()


def utcnow() -> datetime:
    """Now, in UTC, to the second (token times are whole seconds)."""
    return datetime.now(UTC).replace(microsecond=0)


async def permissions_of(store: Store, roles: Sequence[str]) -> list[str]:
    """The union of the permissions of ``roles``."""
    if not roles:
        return []
    page = await store.find(Role, {"name": {"$in": list(roles)}}, limit=1000)
    return sorted({p for role in page.items for p in role.permissions})


async def roles_of(store: Store, user_id: str) -> list[str]:
    """The roles a user holds, sorted."""
    page = await store.find(RoleAssignment, {"user_id": user_id}, limit=1000)
    return sorted(a.role for a in page.items)


class Sessions:
    """Issues, rotates and revokes the tokens of sessions."""

    def __init__(
        self,
        store: Store,
        redis: Redis,
        keys: SigningKeys,
        *,
        issuer: str,
        audience: str,
        access_ttl: int,
        refresh_ttl: int,
    ) -> None:
        self.store = store
        self.redis = redis
        self.keys = keys
        self.issuer = issuer
        self.audience = audience
        self.access_ttl = access_ttl
        self.refresh_ttl = refresh_ttl

    async def deny_token(self, jti: str, expires_at: datetime) -> None:
        """Denylist one access token (the one presented at logout)."""
        await deny(self.redis, jti, expires_at)

    async def _access_token(self, user: User, session_id: str) -> tuple[str, str, datetime]:
        roles = await roles_of(self.store, user.id)
        now = int(time.time())
        jti = new_id()
        claims = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": user.id,
            "iat": now,
            "nbf": now,
            "exp": now + self.access_ttl,
            "jti": jti,
            "sid": session_id,
            "typ": "access",
            "username": user.username,
            "roles": roles,
            "perms": await permissions_of(self.store, roles),
        }
        token = await self.keys.sign(claims, typ=ACCESS_TYP)
        return token, jti, datetime.fromtimestamp(now + self.access_ttl, UTC)

    async def open(self, user: User, *, user_agent: str | None, ip: str | None) -> TokenOut:
        """Start a session for ``user`` (after the credentials were checked)."""
        now = utcnow()
        session_id = new_id()
        secret = secrets.token_urlsafe(32)
        access, jti, access_expires = await self._access_token(user, session_id)
        await self.store.insert(
            Session(
                id=session_id,
                user_id=user.id,
                created_at=now,
                expires_at=now + timedelta(seconds=self.refresh_ttl),
                last_used_at=now,
                refresh_hash=digest(secret),
                access_jti=jti,
                access_expires_at=access_expires,
                user_agent=(user_agent or "")[:200] or None,
                ip=ip,
            )
        )
        return self._tokens(access, session_id, secret)

    def _tokens(self, access: str, session_id: str, secret: str) -> TokenOut:
        return TokenOut(
            access_token=access,
            refresh_token=f"{REFRESH_PREFIX}{session_id}.{secret}",
            expires_in=self.access_ttl,
            session_id=session_id,
        )

    async def refresh(self, presented: str) -> tuple[TokenOut, User]:
        """Exchange a refresh token for a new pair; reuse revokes the session."""
        session_id, secret = _parse(presented)
        session = await self.store.get(Session, session_id)
        if session is None or session.revoked_at is not None:
            raise InvalidRefreshToken("the session has ended; log in again")
        now = utcnow()
        if session.expires_at <= now:
            raise InvalidRefreshToken("the session expired; log in again")
        presented_hash = digest(secret)
        if not hmac.compare_digest(presented_hash, session.refresh_hash):
            if presented_hash in session.used_hashes:
                await self.revoke(session, reason="refresh token reuse")
                raise InvalidRefreshToken(
                    "this refresh token was already used; the session is revoked"
                )
            raise InvalidRefreshToken("unknown refresh token")
        user = await self.store.get(User, session.user_id)
        if user is None or user.disabled:
            await self.revoke(session, reason="account unavailable")
            raise InvalidRefreshToken("the account is not available")
        fresh = secrets.token_urlsafe(32)
        access, jti, access_expires = await self._access_token(user, session.id)
        used = [*session.used_hashes, session.refresh_hash][-MAX_USED_HASHES:]
        try:
            await self.store.update(
                session.model_copy(
                    update={
                        "refresh_hash": digest(fresh),
                        "used_hashes": used,
                        "last_used_at": now,
                        "access_jti": jti,
                        "access_expires_at": access_expires,
                    }
                )
            )
        except StaleVersion:
            # Another exchange of the same token won the race: this one is the reuse.
            current = await self.store.get_or_raise(Session, session.id)
            await self.revoke(current, reason="refresh token reuse")
            raise InvalidRefreshToken(
                "this refresh token was already used; the session is revoked"
            ) from None
        return self._tokens(access, session.id, fresh), user

    async def revoke(self, session: Session, *, reason: str) -> bool:
        """End a session and denylist it, so that every access token issued for it is
        refused (and its latest one by ``jti`` too); ``False`` if it had already ended."""
        current = session
        for _ in range(5):
            if current.revoked_at is not None:
                return False
            try:
                await self.store.update(
                    current.model_copy(update={"revoked_at": utcnow(), "revoke_reason": reason})
                )
                break
            except StaleVersion:
                current = await self.store.get_or_raise(Session, session.id)
        # A token issued for the session a moment ago expires at most access_ttl from now.
        horizon = max(utcnow() + timedelta(seconds=self.access_ttl), current.access_expires_at)
        await deny_session(self.redis, current.id, horizon)
        await deny(self.redis, current.access_jti, current.access_expires_at)
        return True

    async def revoke_all(self, user_id: str, *, reason: str, keep: str | None = None) -> list[str]:
        """End every open session of a user (but ``keep``); the ids that ended."""
        ended = []
        for session in await self.open_sessions(user_id):
            if session.id != keep and await self.revoke(session, reason=reason):
                ended.append(session.id)
        return ended

    async def open_sessions(self, user_id: str) -> list[Session]:
        """Sessions of a user that are neither revoked nor expired, newest first."""
        now = utcnow()
        found = [
            s
            async for s in self.store.scan(Session, {"user_id": user_id})
            if s.revoked_at is None and s.expires_at > now
        ]
        return sorted(found, key=lambda s: (s.created_at, s.id), reverse=True)

    async def owned(self, user_id: str, session_id: str) -> Session:
        """One open session of ``user_id`` (404 for anyone else's)."""
        session = None
        if SESSION_ID.fullmatch(session_id):  # anything else cannot be one of ours
            session = await self.store.get(Session, session_id)
        if session is None or session.user_id != user_id or session.revoked_at is not None:
            raise NotFound("no such open session")
        return session


SESSION_ID = re.compile(f"[{CROCKFORD}]{{26}}")


def _parse(presented: str) -> tuple[str, str]:
    """Session id and secret of a well-formed refresh token; nothing else gets further."""
    match = REFRESH_TOKEN.fullmatch(presented) if isinstance(presented, str) else None
    if match is None:
        raise InvalidRefreshToken("not a refresh token")
    return match["session"], match["secret"]
