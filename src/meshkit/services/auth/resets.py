"""Password reset by single-use token.

Asking for a reset answers at once and the same way for every email: the lookup, token
creation and delivery happen afterwards, in the background, so neither the answer nor
its timing says whether the account exists. Tokens (``mkp_`` + 256 random bits) are
stored hashed, expire, and work once; using one sets the password and ends every
session of the account, and setting a password by any means spends every other reset
token of the account (:meth:`Resets.spend_all`). A presented token is checked for its
exact shape before it is hashed or looked up.
"""

from __future__ import annotations

import contextlib
import hmac
import secrets
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from meshkit.errors import BadRequest
from meshkit.services.auth.models import RESET_TOKEN, ResetToken, User, normalize_email
from meshkit.services.auth.sessions import digest, utcnow
from meshkit.store import Store
from meshkit.store.errors import DocumentNotFound, StaleVersion

TOKEN_PREFIX = "mkp_"
Deliver = Callable[[User, str, datetime], Awaitable[None]]


class InvalidResetToken(BadRequest):
    """The reset token is unknown, used or expired."""

    slug = "invalid-reset-token"
    title = "Invalid or expired reset token"


class Resets:
    """Issue and redeem password-reset tokens."""

    def __init__(self, store: Store, *, ttl: int) -> None:
        self.store = store
        self.ttl = ttl

    async def issue(self, email: str, deliver: Deliver) -> bool:
        """Create and deliver a token if ``email`` has an account; whether it had one."""
        page = await self.store.find(User, {"email": normalize_email(email)}, limit=1)
        if not page.items or page.items[0].disabled:
            return False
        user = page.items[0]
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        now = utcnow()
        expires = now + timedelta(seconds=self.ttl)
        await self.store.insert(
            ResetToken(
                user_id=user.id, token_hash=digest(token), created_at=now, expires_at=expires
            )
        )
        await deliver(user, token, expires)
        return True

    async def redeem(self, token: str, check: Callable[[User], None]) -> User:
        """Mark the token used and return its account; :class:`InvalidResetToken` if not
        usable. ``check`` runs first (the password policy): a refused new password
        leaves the token usable. Concurrent redemptions of one token: exactly one wins."""
        if not isinstance(token, str) or not RESET_TOKEN.fullmatch(token):
            raise InvalidResetToken("not a reset token")
        wanted = digest(token)
        page = await self.store.find(ResetToken, {"token_hash": wanted}, limit=1)
        record = page.items[0] if page.items else None
        now = utcnow()
        if (
            record is None
            or not hmac.compare_digest(record.token_hash, wanted)
            or record.used_at is not None
            or record.expires_at <= now
        ):
            raise InvalidResetToken("this reset token is unknown, used or expired")
        user = await self.store.get(User, record.user_id)
        if user is None or user.disabled:
            raise InvalidResetToken("this reset token is unknown, used or expired")
        check(user)
        try:
            await self.store.update(record.model_copy(update={"used_at": now}))
        except StaleVersion:
            raise InvalidResetToken("this reset token is unknown, used or expired") from None
        return user

    async def spend_all(self, user_id: str) -> int:
        """Mark every unused, unexpired reset token of the account used (its password was
        just set: an older link must not set it again); how many were spent."""
        now = utcnow()
        spent = 0
        async for record in self.store.scan(ResetToken, {"user_id": user_id}):
            if record.used_at is None and record.expires_at > now:
                with contextlib.suppress(DocumentNotFound):
                    await self.store.modify(ResetToken, record.id, _spend(now))
                    spent += 1
        return spent


def _spend(now: datetime) -> Callable[[ResetToken], ResetToken]:
    def change(record: ResetToken) -> ResetToken:
        return record if record.used_at is not None else record.model_copy(update={"used_at": now})

    return change
