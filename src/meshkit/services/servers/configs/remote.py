"""Files on one host over SFTP, for configuration pushes: read what is there, write a
new file atomically (keeping the one it replaces as ``<path>.meshkit-prev``).

The implementation is shared with provisioning's file steps and lives in
:mod:`meshkit.services.servers.ssh.files` (its docstring is the contract); this module
re-exports it under the names the configs part uses.
"""

from __future__ import annotations

from meshkit.services.servers.ssh.files import (
    BACKUP_SUFFIX,
    CREATE_NEW,
    MAX_REMOTE_BYTES,
    TEMP_MARK,
    RemoteError,
    RemoteFile,
    Wanted,
    read,
    resolve_ids,
    write_atomic,
)

__all__ = [
    "BACKUP_SUFFIX",
    "CREATE_NEW",
    "MAX_REMOTE_BYTES",
    "TEMP_MARK",
    "RemoteError",
    "RemoteFile",
    "Wanted",
    "read",
    "resolve_ids",
    "write_atomic",
]
