"""Store errors: each is a :class:`~meshkit.errors.Problem`, so the edge renders it."""

from __future__ import annotations

from collections.abc import Sequence

from meshkit.errors import BadRequest, Conflict, NotFound, ServiceUnavailable


class StoreError(ServiceUnavailable):
    """The backend failed or cannot be reached (503)."""

    slug = "store-unavailable"
    title = "Storage unavailable"


class DocumentNotFound(NotFound):
    """No document with that id (404)."""

    slug = "not-found"
    title = "Not found"


class StaleVersion(Conflict):
    """Optimistic concurrency: the stored version is not the one the writer read (409)."""

    slug = "stale-version"
    title = "The resource was changed by someone else"

    @classmethod
    def of(cls, model: type, id: str, current: int, expected: int) -> StaleVersion:
        """The error for a write against ``expected`` when ``current`` is stored."""
        return cls(
            f"{model.__name__} {id} is at version {current}, not {expected}",
            extensions={"current_version": current},
        )


class DuplicateKey(Conflict):
    """An insert or update would break a unique index; ``fields`` names it (409)."""

    slug = "duplicate-key"
    title = "A unique value is already taken"

    def __init__(self, fields: Sequence[str], detail: str | None = None) -> None:
        names = list(fields)
        super().__init__(
            detail or f"another document already has this {', '.join(names)}",
            extensions={"fields": names},
        )
        self.fields = names


class InvalidQuery(BadRequest):
    """A query names an unknown field, a bad operator, a limit out of range or a cursor
    from another query (400)."""

    slug = "invalid-query"
    title = "Invalid query"
