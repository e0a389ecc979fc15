"""Recipes: named, stored lists of steps (one core function per operation).

Every change lands in the audit log (``recipes.create``, ``recipes.update``,
``recipes.delete``; ``failed`` when it raised). Names are unique; an update replaces
the steps and counts one more ``revision``. Jobs copy the steps they run, so changing
or deleting a recipe never changes a job that ran it.
"""

from __future__ import annotations

from datetime import UTC, datetime

from meshkit.services.servers.audit import AuditLog
from meshkit.services.servers.errors import RecipeExists, RecipeNotFound
from meshkit.services.servers.jobs.models import Recipe, RecipeIn
from meshkit.store import Asc, DuplicateKey, Store
from meshkit.tokens import Principal

MAX_RECIPES = 1000
"""Most recipes listed at once."""


class Recipes:
    """Stored recipes; ``audit`` records every change."""

    def __init__(self, store: Store, audit: AuditLog) -> None:
        self.store = store
        self.audit = audit

    async def create(self, actor: Principal | str, body: RecipeIn) -> Recipe:
        """Store a new recipe; :class:`RecipeExists` when the name is taken."""
        now = datetime.now(UTC)
        recipe = Recipe(
            name=body.name,
            description=body.description,
            steps=body.steps,
            created_by=actor if isinstance(actor, str) else actor.subject,
            created_at=now,
            updated_at=now,
        )
        detail = {"name": body.name, "steps": len(body.steps)}
        try:
            stored = await self.store.insert(recipe)
        except DuplicateKey:
            await self.audit.record(
                actor, "recipes.create", f"recipe:{body.name}", outcome="failed", detail=detail
            )
            raise RecipeExists(f"a recipe named {body.name!r} exists") from None
        await self.audit.record(actor, "recipes.create", f"recipe:{stored.id}", detail=detail)
        return stored

    async def get(self, recipe_id: str) -> Recipe:
        """The recipe with this id; :class:`RecipeNotFound` when there is none."""
        found = await self.store.get(Recipe, recipe_id)
        if found is None:
            raise RecipeNotFound(f"no recipe with id {recipe_id!r}")
        return found

    async def named(self, name: str) -> Recipe:
        """The recipe with this name; :class:`RecipeNotFound` when there is none."""
        page = await self.store.find(Recipe, {"name": name}, limit=1)
        if not page.items:
            raise RecipeNotFound(f"no recipe named {name!r}")
        return page.items[0]

    async def every(self) -> list[Recipe]:
        """Every recipe, by name."""
        page = await self.store.find(Recipe, sort=[Asc("name")], limit=MAX_RECIPES)
        return page.items

    async def update(self, actor: Principal | str, recipe_id: str, body: RecipeIn) -> Recipe:
        """Replace a recipe's name, description and steps (one more ``revision``)."""
        detail = {"name": body.name, "steps": len(body.steps)}
        target = f"recipe:{recipe_id}"
        try:
            await self.get(recipe_id)
            updated = await self.store.modify(
                Recipe,
                recipe_id,
                lambda current: current.model_copy(
                    update={
                        "name": body.name,
                        "description": body.description,
                        "steps": body.steps,
                        "revision": current.revision + 1,
                        "updated_at": datetime.now(UTC),
                    }
                ),
            )
        except DuplicateKey:
            await self.audit.record(
                actor, "recipes.update", target, outcome="failed", detail=detail
            )
            raise RecipeExists(f"a recipe named {body.name!r} exists") from None
        except Exception:
            await self.audit.record(
                actor, "recipes.update", target, outcome="failed", detail=detail
            )
            raise
        await self.audit.record(actor, "recipes.update", target, detail=detail)
        return updated

    async def delete(self, actor: Principal | str, recipe_id: str) -> None:
        """Delete a recipe (jobs that ran it keep their copy of the steps)."""
        target = f"recipe:{recipe_id}"
        if not await self.store.delete(Recipe, recipe_id):
            await self.audit.record(actor, "recipes.delete", target, outcome="failed")
            raise RecipeNotFound(f"no recipe with id {recipe_id!r}")
        await self.audit.record(actor, "recipes.delete", target)
