"""Accounts: registration, credential checks, profile, password change, deletion.

Credential checks take the same time and give the same answer whether or not the
account exists (an unknown login still costs one bcrypt verification), and every
failure counts towards the account's and the client address's lockout.
"""

from __future__ import annotations

from datetime import datetime

from meshkit.errors import Conflict, Forbidden, Unauthenticated
from meshkit.services.auth.lockout import LoginThrottle
from meshkit.services.auth.models import (
    RoleAssignment,
    User,
    normalize_email,
    normalize_username,
)
from meshkit.services.auth.passwords import (
    PasswordPolicy,
    burn_verify_time,
    hash_password,
    needs_rehash,
    verify_password,
)
from meshkit.services.auth.sessions import utcnow
from meshkit.store import Store
from meshkit.store.errors import DuplicateKey

DEFAULT_ROLE = "user"


class InvalidCredentials(Unauthenticated):
    """Login or password wrong (which one is never said)."""

    slug = "invalid-credentials"
    title = "Invalid credentials"


class AccountDisabled(Forbidden):
    """The credentials are right but the account is disabled."""

    slug = "account-disabled"
    title = "Account disabled"


class Accounts:
    """User accounts in the auth service's store."""

    def __init__(
        self, store: Store, policy: PasswordPolicy, throttle: LoginThrottle, *, cost: int
    ) -> None:
        self.store = store
        self.policy = policy
        self.throttle = throttle
        self.cost = cost

    async def register(
        self,
        *,
        email: str,
        username: str,
        password: str,
        display_name: str | None,
        roles: tuple[str, ...] = (DEFAULT_ROLE,),
    ) -> User:
        """Create an account; 409 if the email or username is taken."""
        self.policy.check(password, context=(email.split("@")[0], username))
        await self._ensure_free(email, username)
        now = utcnow()
        user = User(
            email=normalize_email(email),
            username=username,
            username_key=normalize_username(username),
            password_hash=await hash_password(password, self.cost),
            display_name=display_name,
            created_at=now,
            updated_at=now,
            password_changed_at=now,
        )
        try:
            stored = await self.store.insert(user)
        except DuplicateKey as exc:
            raise self._taken(exc) from None
        for role in roles:
            await self.store.insert(RoleAssignment(user_id=stored.id, role=role, assigned_at=now))
        return stored

    async def _ensure_free(self, email: str, username: str) -> None:
        # Checked before hashing so a taken name costs no bcrypt; the unique indexes
        # still decide races.
        taken = []
        if await self.store.count(User, {"email": normalize_email(email)}):
            taken.append("email")
        if await self.store.count(User, {"username_key": normalize_username(username)}):
            taken.append("username")
        if taken:
            raise Conflict(
                f"{' and '.join(taken)} already registered", extensions={"fields": taken}
            )

    @staticmethod
    def _taken(exc: DuplicateKey) -> Conflict:
        fields = [
            "username" if f == "username_key" else f
            for f in exc.extensions.get("fields", [])
            if f in {"email", "username_key"}
        ]
        return Conflict(
            f"{' and '.join(fields) or 'account'} already registered",
            extensions={"fields": fields},
        )

    async def find_by_login(self, login: str) -> User | None:
        """The account whose email or username is ``login``."""
        if "@" in login:
            page = await self.store.find(User, {"email": normalize_email(login)}, limit=1)
        else:
            page = await self.store.find(User, {"username_key": normalize_username(login)}, limit=1)
        return page.items[0] if page.items else None

    async def authenticate(self, login: str, password: str, *, ip: str | None) -> User:
        """The account these credentials open, or :class:`InvalidCredentials`."""
        account = normalize_email(login) if "@" in login else normalize_username(login)
        await self.throttle.check(account, ip)
        user = await self.find_by_login(login)
        if user is None:
            await burn_verify_time(self.cost)
            await self.throttle.failure(account, ip)
            raise InvalidCredentials("login or password is wrong")
        if not await verify_password(password, user.password_hash):
            await self.throttle.failure(account, ip)
            raise InvalidCredentials("login or password is wrong")
        await self.throttle.success(account)
        if user.disabled:
            raise AccountDisabled("this account is disabled")
        if needs_rehash(user.password_hash, self.cost):
            rehashed = await hash_password(password, self.cost)
            user = await self.store.modify(
                User, user.id, lambda u: u.model_copy(update={"password_hash": rehashed})
            )
        return user

    async def change_password(self, user: User, current: str, new: str) -> User:
        """Set a new password after checking the current one."""
        if not await verify_password(current, user.password_hash):
            raise InvalidCredentials("the current password is wrong")
        return await self.set_password(user, new)

    async def set_password(self, user: User, new: str) -> User:
        """Set a new password (policy applies); sessions are the caller's to revoke."""
        self.policy.check(new, context=(user.email.split("@")[0], user.username))
        hashed = await hash_password(new, self.cost)
        now = utcnow()
        return await self.store.modify(
            User,
            user.id,
            lambda u: u.model_copy(
                update={"password_hash": hashed, "password_changed_at": now, "updated_at": now}
            ),
        )

    async def update_profile(self, user_id: str, changes: dict[str, object]) -> User:
        """Apply profile changes (already validated)."""
        now: datetime = utcnow()
        return await self.store.modify(
            User, user_id, lambda u: u.model_copy(update={**changes, "updated_at": now})
        )

    async def delete(self, user: User) -> None:
        """Delete the account and its role assignments."""
        page = await self.store.find(RoleAssignment, {"user_id": user.id}, limit=1000)
        for assignment in page.items:
            await self.store.delete(RoleAssignment, assignment.id)
        await self.store.delete(User, user.id)
