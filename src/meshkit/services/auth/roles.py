"""Roles and their assignment (RBAC).

Two built-in roles exist from the first start: ``admin`` (``*``: everything) and
``user`` (what every registered account may do). Neither can be deleted; ``user``'s
permissions can be changed, ``admin``'s cannot (it is how the system stays manageable).
Permission strings are ``<service>:<action>``; a role may hold ``<service>:*`` or ``*``.

The last administrator cannot lose the role: a revocation of ``admin`` checks before and
after its change, and puts the assignment back if nobody is left (two admins revoking
each other at once both fail rather than both succeed). Every assignment and revocation
bumps the user document's version, which the role events carry, so consumers can order
them (and :class:`~meshkit.contracts.auth.UserEvent` versions) per user.
"""

from __future__ import annotations

import contextlib

from meshkit.errors import Conflict, NotFound
from meshkit.services.auth.models import Role, RoleAssignment, User
from meshkit.services.auth.sessions import utcnow
from meshkit.store import Store
from meshkit.store.errors import DocumentNotFound, DuplicateKey

ADMIN = "admin"
USER = "user"
BUILTIN_ROLES = (
    Role(name=ADMIN, description="Everything, everywhere.", permissions=["*"], builtin=True),
    Role(
        name=USER,
        description="What every registered account may do.",
        permissions=[
            "messaging:channel.create",
            "messaging:channel.read",
            "messaging:message.send",
            "voice:room.create",
            "voice:room.join",
        ],
        builtin=True,
    ),
)
MANAGE_ROLES = "auth:roles.manage"
MANAGE_KEYS = "auth:api_keys.manage"
MANAGE_SIGNING_KEYS = "auth:keys.rotate"
ADMIN_PERMISSIONS = ["*"]
LAST_ADMIN = "the last administrator cannot lose the admin role"


class LastAdmin(Conflict):
    """The change would leave nobody with the admin role."""

    slug = "last-admin"
    title = "The last administrator must stay"


class Roles:
    """Role definitions and who holds them."""

    def __init__(self, store: Store) -> None:
        self.store = store

    async def ensure_builtin(self) -> None:
        """Create the built-in roles if missing (idempotent, safe across instances)."""
        for role in BUILTIN_ROLES:
            if await self.store.count(Role, {"name": role.name}) == 0:
                with contextlib.suppress(DuplicateKey):
                    await self.store.insert(role.model_copy())

    async def all(self) -> list[Role]:
        """Every role, by name."""
        page = await self.store.find(Role, limit=1000)
        return sorted(page.items, key=lambda r: r.name)

    async def get(self, name: str) -> Role:
        """One role; 404 if unknown."""
        page = await self.store.find(Role, {"name": name}, limit=1)
        if not page.items:
            raise NotFound("no such role")
        return page.items[0]

    async def create(self, name: str, description: str, permissions: list[str]) -> Role:
        """A new role; 409 if the name is taken."""
        try:
            return await self.store.insert(
                Role(name=name, description=description, permissions=sorted(set(permissions)))
            )
        except DuplicateKey:
            raise Conflict(f"role {name!r} exists", extensions={"fields": ["name"]}) from None

    async def update(
        self, name: str, description: str | None, permissions: list[str] | None
    ) -> Role:
        """Change a role's description or permissions."""
        role = await self.get(name)
        changes: dict[str, object] = {}
        if description is not None:
            changes["description"] = description
        if permissions is not None:
            wanted = sorted(set(permissions))
            if role.name == ADMIN and role.builtin and wanted != ADMIN_PERMISSIONS:
                raise Conflict("the permissions of the built-in admin role cannot change")
            changes["permissions"] = wanted
        return await self.store.modify(Role, role.id, lambda r: r.model_copy(update=changes))

    async def delete(self, name: str) -> None:
        """Delete a role that is not built in and that nobody holds."""
        role = await self.get(name)
        if role.builtin:
            raise Conflict("a built-in role cannot be deleted")
        if await self.store.count(RoleAssignment, {"role": name}):
            raise Conflict("the role is still assigned; revoke it first")
        await self.store.delete(Role, role.id)

    async def assign(self, user: User, name: str, *, by: str | None) -> int | None:
        """Give ``user`` the role: the user's new version (for the event), ``None`` if
        they already had it."""
        await self.get(name)
        try:
            await self.store.insert(
                RoleAssignment(user_id=user.id, role=name, assigned_at=utcnow(), assigned_by=by)
            )
        except DuplicateKey:
            return None
        return await self._bump(user.id)

    async def revoke(self, user: User, name: str) -> int | None:
        """Take the role from ``user``: the user's new version (for the event), ``None``
        if they did not have it. :class:`LastAdmin` (409) for the last administrator."""
        page = await self.store.find(RoleAssignment, {"user_id": user.id, "role": name}, limit=1)
        if not page.items:
            return None
        assignment = page.items[0]
        if name == ADMIN and await self.admin_count() <= 1:
            raise LastAdmin(LAST_ADMIN)
        if not await self.store.delete(RoleAssignment, assignment.id):
            return None  # a concurrent revocation took it
        if name == ADMIN and await self.admin_count() == 0:
            # Another admin lost the role at the same moment: put this one back.
            with contextlib.suppress(DuplicateKey):
                await self.store.insert(assignment.model_copy(update={"version": 0}))
            raise LastAdmin(LAST_ADMIN)
        return await self._bump(user.id)

    async def _bump(self, user_id: str) -> int | None:
        """Bump the user document's version (the role events carry it); ``None`` if the
        user no longer exists."""
        now = utcnow()
        try:
            user = await self.store.modify(
                User, user_id, lambda u: u.model_copy(update={"updated_at": now})
            )
        except DocumentNotFound:
            return None
        return user.version

    async def admin_count(self) -> int:
        """How many users hold the admin role."""
        return await self.store.count(RoleAssignment, {"role": ADMIN})

    async def has_admin(self) -> bool:
        """Whether anybody holds the admin role."""
        return await self.store.count(RoleAssignment, {"role": ADMIN}) > 0
