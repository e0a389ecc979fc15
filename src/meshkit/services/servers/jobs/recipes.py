"""Recipes: named, stored lists of steps (one core function per operation).

Every change lands in the audit log (``recipes.create``, ``recipes.update``,
``recipes.delete``; ``failed`` when it raised). Names are unique; an update replaces
the steps and counts one more ``revision``. Jobs copy the steps they run, so changing
or deleting a recipe never changes a job that ran it. Secret values are stored sealed
and kept across a masked round trip (:mod:`meshkit.services.servers.jobs.secrets`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from meshkit.services.servers.audit import AuditLog
from meshkit.services.servers.errors import RecipeExists, RecipeNotFound
from meshkit.services.servers.jobs import secrets
from meshkit.services.servers.jobs.models import Recipe, RecipeIn
from meshkit.services.servers.jobs.steps import Step
from meshkit.services.servers.types import Vault
from meshkit.store import Asc, DuplicateKey, Store
from meshkit.tokens import Principal

MAX_RECIPES = 1000
"""Most recipes listed at once."""


def context(recipe_id: str) -> str:
    """What a recipe's sealed secrets are bound to."""
    return f"recipe:{recipe_id}"


class Recipes:
    """Stored recipes; ``audit`` records every change, ``vault`` seals their secrets."""

    def __init__(self, store: Store, audit: AuditLog, vault: Vault) -> None:
        self.store = store
        self.audit = audit
        self.vault = vault

    async def create(self, actor: Principal | str, body: RecipeIn) -> Recipe:
        """Store a new recipe; :class:`RecipeExists` when the name is taken,
        ``MaskedSecretUnknown`` when a secret is given as the mask."""
        detail: dict[str, Any] = {"name": body.name, "steps": len(body.steps)}
        target = f"recipe:{body.name}"
        async with self.audit.audited(actor, "recipes.create", target, detail) as note:
            now = datetime.now(UTC)
            recipe = Recipe(
                name=body.name,
                description=body.description,
                steps=[],
                created_by=actor if isinstance(actor, str) else actor.subject,
                created_at=now,
                updated_at=now,
            )
            steps, sealed = secrets.seal(
                self.vault, secrets.keep(body.steps, []), context(recipe.id)
            )
            recipe = recipe.model_copy(update={"steps": steps, "sealed": sealed})
            try:
                stored = await self.store.insert(recipe)
            except DuplicateKey:
                raise RecipeExists(f"a recipe named {body.name!r} exists") from None
            note.target = f"recipe:{stored.id}"
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

    def steps_of(self, recipe: Recipe) -> list[Step]:
        """A stored recipe's steps with their secrets in clear: only to run them."""
        return secrets.unseal(self.vault, recipe.steps, recipe.sealed, context(recipe.id))

    async def every(self) -> list[Recipe]:
        """Every recipe, by name."""
        page = await self.store.find(Recipe, sort=[Asc("name")], limit=MAX_RECIPES)
        return page.items

    async def update(self, actor: Principal | str, recipe_id: str, body: RecipeIn) -> Recipe:
        """Replace a recipe's name, description and steps (one more ``revision``); a
        secret given as the mask keeps the stored value of the step it stands for
        (:func:`~meshkit.services.servers.jobs.secrets.keep`)."""
        detail: dict[str, Any] = {"name": body.name, "steps": len(body.steps)}
        async with self.audit.audited(actor, "recipes.update", f"recipe:{recipe_id}", detail):
            current = await self.get(recipe_id)
            steps = secrets.keep(body.steps, self.steps_of(current))
            masked, sealed = secrets.seal(self.vault, steps, context(recipe_id))
            try:
                updated = await self.store.modify(
                    Recipe,
                    recipe_id,
                    lambda now: now.model_copy(
                        update={
                            "name": body.name,
                            "description": body.description,
                            "steps": masked,
                            "sealed": sealed,
                            "revision": now.revision + 1,
                            "updated_at": datetime.now(UTC),
                        }
                    ),
                )
            except DuplicateKey:
                raise RecipeExists(f"a recipe named {body.name!r} exists") from None
        return updated

    async def delete(self, actor: Principal | str, recipe_id: str) -> None:
        """Delete a recipe (jobs that ran it keep their copy of the steps)."""
        async with self.audit.audited(actor, "recipes.delete", f"recipe:{recipe_id}"):
            if not await self.store.delete(Recipe, recipe_id):
                raise RecipeNotFound(f"no recipe with id {recipe_id!r}")
