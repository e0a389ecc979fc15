"""Roles and their assignment (RBAC).

Two built-in roles exist from the first start: ``admin`` (``*``: everything) and
``user`` (what every registered account may do). Their permissions can be changed but
they cannot be deleted. Permission strings are ``<service>:<action>``; a role may hold
``<service>:*`` or ``*``.
"""

from __future__ import annotations

import contextlib

from meshkit.errors import Conflict, NotFound
from meshkit.services.auth.models import Role, RoleAssignment, User
from meshkit.services.auth.sessions import utcnow
from meshkit.store import Store
from meshkit.store.errors import DuplicateKey

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
            raise NotFound(f"no role {name!r}")
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
            changes["permissions"] = sorted(set(permissions))
        return await self.store.modify(Role, role.id, lambda r: r.model_copy(update=changes))

    async def delete(self, name: str) -> None:
        """Delete a role that is not built in and that nobody holds."""
        role = await self.get(name)
        if role.builtin:
            raise Conflict(f"role {name!r} is built in and cannot be deleted")
        if await self.store.count(RoleAssignment, {"role": name}):
            raise Conflict(f"role {name!r} is still assigned; revoke it first")
        await self.store.delete(Role, role.id)

    async def assign(self, user: User, name: str, *, by: str | None) -> bool:
        """Give ``user`` the role; ``False`` if they already had it."""
        await self.get(name)
        try:
            await self.store.insert(
                RoleAssignment(user_id=user.id, role=name, assigned_at=utcnow(), assigned_by=by)
            )
        except DuplicateKey:
            return False
        return True

    async def revoke(self, user: User, name: str) -> bool:
        """Take the role from ``user``; ``False`` if they did not have it."""
        page = await self.store.find(RoleAssignment, {"user_id": user.id, "role": name}, limit=1)
        if not page.items:
            return False
        if name == ADMIN and await self.store.count(RoleAssignment, {"role": ADMIN}) <= 1:
            raise Conflict("the last administrator cannot lose the admin role")
        return await self.store.delete(RoleAssignment, page.items[0].id)

    async def has_admin(self) -> bool:
        """Whether anybody holds the admin role."""
        return await self.store.count(RoleAssignment, {"role": ADMIN}) > 0
