"""Choosing the backend from settings."""

from __future__ import annotations

from meshkit.config import Settings
from meshkit.files import secure_tree
from meshkit.store.base import Store
from meshkit.store.errors import StoreError


async def open_store(settings: Settings, service: str) -> Store:
    """``service``'s own store: MongoDB database ``<prefix><service>`` when
    ``MESHKIT_MONGODB_URL`` is set, else ``<data_dir>/<service>.sqlite3``.

    Opening the SQLite file is a service's start, so the data directory is made private
    here (``0700``, everything in it tightened to owner-only: :func:`secure_tree`).
    """
    if settings.mongodb_url is not None and settings.mongodb_url.get_secret_value():
        from meshkit.store.mongo import MongoStore

        return await MongoStore.open(
            settings.mongodb_url.get_secret_value(),
            f"{settings.mongodb_database_prefix}{service}",
        )
    from meshkit.store.sqlite import SQLiteStore

    try:
        secure_tree(settings.data_dir)
    except OSError as exc:
        raise StoreError(f"cannot use the data directory {settings.data_dir}: {exc}") from exc
    return await SQLiteStore.open(settings.data_dir / f"{service}.sqlite3")
