"""Accounts: registration, credential checks, profile, password change, deletion.

Credential checks take the same time and give the same answer whether or not the
account exists or is disabled (an unknown login still costs one bcrypt verification),
and every failure counts towards the lockout of the identifier typed, the account (by
id) and the client address. Asking a logged-in user's password again counts towards the
account's lockout too.
"""

from __future__ import annotations

from datetime import datetime

from meshkit.errors import Conflict, Unauthenticated
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
        user = await self.find_by_login(login)
        user_id = user.id if user is not None else None
        await self.throttle.check(account, ip, user=user_id)
        if user is None:
            await burn_verify_time(self.cost)
            await self.throttle.failure(account, ip)
            raise InvalidCredentials("login or password is wrong")
        # A disabled account answers exactly like a wrong password, and counts as one:
        # neither the answer nor the lockout tells that the password was right.
        if not await verify_password(password, user.password_hash) or user.disabled:
            await self.throttle.failure(account, ip, user=user.id)
            raise InvalidCredentials("login or password is wrong")
        await self.throttle.success(account, user=user.id)
        if needs_rehash(user.password_hash, self.cost):
            rehashed = await hash_password(password, self.cost)
            user = await self.store.modify(
                User, user.id, lambda u: u.model_copy(update={"password_hash": rehashed})
            )
        return user

    async def reauthenticate(self, user: User, password: str) -> None:
        """Check a logged-in user's password again (:class:`InvalidCredentials` if wrong).

        Throttled by the account's id like a login (429 once locked), so an access token
        in the wrong hands cannot be used to guess the password.
        """
        await self.throttle.check(None, None, user=user.id)
        if not await verify_password(password, user.password_hash):
            await self.throttle.failure(None, None, user=user.id)
            raise InvalidCredentials("the password is wrong")
        await self.throttle.success(None, user=user.id)

    async def change_password(self, user: User, current: str, new: str) -> User:
        """Set a new password after checking the current one (throttled)."""
        await self.reauthenticate(user, current)
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
