"""Files on one host over SFTP: read what is there, write a new file atomically. Shared by
the parts that put files on hosts (configuration pushes, provisioning file steps).

Contract of :func:`write_atomic`:

- The new content goes to a temporary file in the same directory
  (``.<name>.meshkit-tmp-<random>``, created ``0600`` and exclusively, so nothing already
  there, a symbolic link included, is ever written through), is flushed (``fsync`` where
  the server offers it), gets its owner, group and mode over SFTP (on the temporary file
  itself, never through a link), and only then is renamed over the path
  (``posix-rename``: atomic, so a reader sees the old file or the new one, never a part).
  Whatever fails, the temporary file is removed.
- With ``keep_previous`` (the default), the file it replaces is kept as
  ``<path>.meshkit-prev`` (a hard link, else a copy), itself replaced atomically, so one
  previous version is always on the host.
- A symbolic link at the path is replaced by the file (its target is left alone).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import posixpath
import secrets
import shlex
import stat
from dataclasses import dataclass

import asyncssh

from meshkit.services.servers.ssh.pool import SshPool
from meshkit.services.servers.ssh.target import SshTarget

BACKUP_SUFFIX = ".meshkit-prev"
TEMP_MARK = ".meshkit-tmp-"
MAX_REMOTE_BYTES = 16 * 1024 * 1024
"""Largest existing file read back from a host (for its diff and digest)."""
CREATE_NEW = asyncssh.FXF_WRITE | asyncssh.FXF_CREAT | asyncssh.FXF_EXCL


class RemoteError(Exception):
    """A host refused a step of reading or writing a file; the message says which,
    without content."""


@dataclass(frozen=True)
class RemoteFile:
    """A file as found on a host; ``data`` is ``None`` when there is none."""

    data: bytes | None
    mode: int | None = None
    uid: int | None = None
    gid: int | None = None

    @property
    def sha256(self) -> str | None:
        """Hex SHA-256 of the content, as ``sha256sum`` prints it (``None``: no file)."""
        return None if self.data is None else hashlib.sha256(self.data).hexdigest()


@dataclass(frozen=True)
class Wanted:
    """The file a write should leave: its bytes, mode and (numeric) owner and group;
    ``None`` owner or group means the SSH user's."""

    path: str
    data: bytes
    mode: int
    uid: int | None
    gid: int | None

    def matches(self, found: RemoteFile) -> bool:
        """Whether ``found`` already is this file (content, mode, owner, group)."""
        return (
            found.data == self.data
            and found.mode == self.mode
            and (self.uid is None or found.uid == self.uid)
            and (self.gid is None or found.gid == self.gid)
        )


async def read(sftp: asyncssh.SFTPClient, path: str) -> RemoteFile:
    """The file at ``path`` (followed through links), or an empty :class:`RemoteFile`."""
    try:
        attrs = await sftp.stat(path)
    except asyncssh.SFTPNoSuchFile:
        return RemoteFile(None)
    except asyncssh.SFTPError as exc:
        raise RemoteError(f"cannot read {path}: {exc.reason}") from None
    if attrs.permissions is None or not stat.S_ISREG(attrs.permissions):
        raise RemoteError(f"{path} exists and is not a regular file")
    if (attrs.size or 0) > MAX_REMOTE_BYTES:
        raise RemoteError(f"{path} is larger than {MAX_REMOTE_BYTES} bytes")
    try:
        async with sftp.open(path, "rb") as handle:
            data = await handle.read()
    except asyncssh.SFTPError as exc:
        raise RemoteError(f"cannot read {path}: {exc.reason}") from None
    assert isinstance(data, bytes)
    return RemoteFile(data, stat.S_IMODE(attrs.permissions), attrs.uid, attrs.gid)


async def resolve_ids(
    ssh: SshPool,
    target: SshTarget,
    owner: str | None,
    group: str | None,
    *,
    time_limit: float | None = 30,
) -> tuple[int | None, int | None]:
    """Numeric ids of ``owner`` and ``group`` on the host (numbers pass as they are);
    :class:`RemoteError` when the host has no such user or group."""
    uid = int(owner) if owner is not None and owner.isdigit() else None
    gid = int(group) if group is not None and group.isdigit() else None
    script = []
    if owner is not None and uid is None:
        script.append(f"id -u -- {shlex.quote(owner)} || echo x")
    if group is not None and gid is None:
        script.append(f"(getent group {shlex.quote(group)} || echo ::x) | cut -d: -f3")
    if not script:
        return uid, gid
    result = await ssh.run(target, "; ".join(script), time_limit=time_limit)
    if not result.ok:
        raise RemoteError(f"cannot look up owner and group: {result.error or result.stderr}")
    answers = iter(result.stdout.split())
    if owner is not None and uid is None:
        uid = _number(next(answers, "x"), f"no user {owner!r} on the host")
    if group is not None and gid is None:
        gid = _number(next(answers, "x"), f"no group {group!r} on the host")
    return uid, gid


def _number(text: str, missing: str) -> int:
    if not text.isdigit():
        raise RemoteError(missing)
    return int(text)


async def write_atomic(
    sftp: asyncssh.SFTPClient,
    wanted: Wanted,
    found: RemoteFile | None = None,
    *,
    keep_previous: bool = True,
) -> None:
    """Replace ``wanted.path`` as the module docstring says (``found``: what is there,
    kept as the previous version with ``keep_previous``)."""
    directory, name = posixpath.split(wanted.path)
    temp = posixpath.join(directory, f".{name}{TEMP_MARK}{secrets.token_hex(6)}")
    try:
        try:
            handle = await sftp.open(
                temp, CREATE_NEW, asyncssh.SFTPAttrs(permissions=0o600), encoding=None
            )
        except asyncssh.SFTPNoSuchFile:
            raise RemoteError(f"the directory {directory} does not exist") from None
        async with handle:
            await handle.write(wanted.data)
            with contextlib.suppress(asyncssh.SFTPOpUnsupported):
                await handle.fsync()
        if wanted.uid is not None or wanted.gid is not None:
            made = await sftp.lstat(temp)
            uid = made.uid if wanted.uid is None else wanted.uid
            gid = made.gid if wanted.gid is None else wanted.gid
            if uid is None or gid is None:
                raise RemoteError(f"the host does not say who owns {temp}")
            await sftp.chown(temp, uid=uid, gid=gid)
        await sftp.chmod(temp, wanted.mode)  # after chown, which may clear set-id bits
        if keep_previous and found is not None and found.data is not None:
            await _keep_previous(sftp, wanted.path, found)
        await sftp.posix_rename(temp, wanted.path)
    except asyncssh.SFTPError as exc:
        await _discard(sftp, temp)
        raise RemoteError(f"cannot write {wanted.path}: {exc.reason}") from None
    except BaseException:
        await _discard(sftp, temp)
        raise


async def _keep_previous(sftp: asyncssh.SFTPClient, path: str, found: RemoteFile) -> None:
    """``path`` (still the old file) also as ``<path>.meshkit-prev``, replaced atomically."""
    backup = path + BACKUP_SUFFIX
    staged = f"{backup}{TEMP_MARK}{secrets.token_hex(6)}"
    try:
        try:
            await sftp.link(path, staged)
        except asyncssh.SFTPError:  # no hard links there: copy it
            assert found.data is not None
            attrs = asyncssh.SFTPAttrs(permissions=0o600)
            async with await sftp.open(staged, CREATE_NEW, attrs, encoding=None) as handle:
                await handle.write(found.data)
            if found.mode is not None:
                await sftp.chmod(staged, found.mode)
        await sftp.posix_rename(staged, backup)
    except BaseException:
        await _discard(sftp, staged)
        raise


DISCARD_WITHIN = 2.0
"""Seconds a failed write waits to remove its temporary file: a file server that stopped
answering (the reason of many failures) would otherwise hold the cleanup forever."""


async def _discard(sftp: asyncssh.SFTPClient, path: str) -> None:
    with contextlib.suppress(Exception):
        await asyncio.wait_for(asyncio.shield(sftp.remove(path)), DISCARD_WITHIN)
