"""The document store: typed documents, one port, SQLite (embedded) or MongoDB backends.

See ``docs/storage.md``.
"""

from meshkit.store.base import Page, Store
from meshkit.store.document import Document, Index, new_id
from meshkit.store.errors import (
    DocumentNotFound,
    DuplicateKey,
    InvalidQuery,
    StaleVersion,
    StoreError,
)
from meshkit.store.factory import open_store
from meshkit.store.query import Asc, Desc, Sort

__all__ = [
    "Asc",
    "Desc",
    "Document",
    "DocumentNotFound",
    "DuplicateKey",
    "Index",
    "InvalidQuery",
    "Page",
    "Sort",
    "StaleVersion",
    "Store",
    "StoreError",
    "new_id",
    "open_store",
]
