"""Choosing the backend from settings."""

from __future__ import annotations

from meshkit.config import Settings
from meshkit.store.base import Store


async def open_store(settings: Settings, service: str) -> Store:
    """``service``'s own store: MongoDB database ``<prefix><service>`` when
    ``MESHKIT_MONGODB_URL`` is set, else ``<data_dir>/<service>.sqlite3``."""
    if settings.mongodb_url is not None and settings.mongodb_url.get_secret_value():
        from meshkit.store.mongo import MongoStore

        return await MongoStore.open(
            settings.mongodb_url.get_secret_value(),
            f"{settings.mongodb_database_prefix}{service}",
        )
    from meshkit.store.sqlite import SQLiteStore

    return await SQLiteStore.open(settings.data_dir / f"{service}.sqlite3")
