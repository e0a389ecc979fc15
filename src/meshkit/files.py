"""Private files and directories: what meshkit writes to disk is readable by this user only.

The data directory (``MESHKIT_DATA_DIR``) holds secrets: signing keys and password hashes
in the auth service's SQLite file, the service API key, reset tokens in the outbox, the
embedded Redis's data. Any local user who can read them can mint tokens. So every writer
goes through this module, and the rule is one: directories ``0700``, files ``0600``,
whatever the process umask.

A fresh file or directory is created with that mode (the umask can only remove bits, and
a directory is ``chmod``-ed after ``mkdir`` so that even a strange umask cannot leave it
unusable). An existing one with group or other bits (an older meshkit, a ``cp``, a
``umask 000`` container) is *tightened*, never refused, with one WARNING naming the path
and its old and new mode: refusing would stop a service over a mode only its own user
can fix anyway. :func:`secure_tree` does that for a whole data directory at start.

Symbolic links are never followed inside the tree (a link is left alone, a file opened
through one is refused), and a directory is tightened before its entries are looked at:
once it is ``0700`` no other user can swap an entry between our check and our ``chmod``.
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

log = logging.getLogger(__name__)

DIR_MODE = 0o700
FILE_MODE = 0o600
OTHERS = 0o077  # group and other bits: what "private" forbids


class NotPrivate(OSError):
    """A path cannot be made private: not a directory where one is needed, a symbolic
    link, or (in a shared directory such as ``/tmp``) owned by another user. An
    :class:`OSError`, so callers that report "cannot use <dir>" report this too."""


def _tighten(path: Path, mode: int, fd: int | None = None) -> None:
    """Drop the group/other bits of ``path`` (now ``mode``; through ``fd`` when it is
    open), with one warning naming the path and both modes."""
    new = mode & ~OTHERS
    if fd is None:
        path.chmod(new)
    else:
        os.fchmod(fd, new)
    log.warning("%s was mode %04o (open to other users); tightened to %04o", path, mode, new)


def restrict(path: Path) -> None:
    """Remove group/other permissions from ``path`` if it exists (not following a final
    symbolic link, which is left alone), with a warning when it had any."""
    try:
        info = path.lstat()
        mode = stat.S_IMODE(info.st_mode)
        if not stat.S_ISLNK(info.st_mode) and mode & OTHERS:
            _tighten(path, mode)
    except FileNotFoundError:  # removed meanwhile (a -wal at checkpoint, an old socket)
        return


def private_dir(path: Path, *, shared_parent: bool = False) -> Path:
    """Make ``path`` a directory of mode ``0700`` and return it.

    Missing directories on the way are created ``0700`` too; existing ancestors are not
    touched. An existing ``path`` with looser modes is tightened with a warning, unless
    ``shared_parent``: then ``path`` sits in a directory other users can write (``/tmp``),
    and one that is a symbolic link, belongs to another user or is not ``0700`` may have
    been planted, so it is refused with :class:`NotPrivate` instead.
    """
    missing: list[Path] = []
    for directory in (path, *path.parents):
        if os.path.lexists(directory):
            break
        missing.append(directory)
    for directory in reversed(missing):
        try:
            directory.mkdir(mode=DIR_MODE)
        except FileExistsError:
            continue  # a concurrent process made it: checked below like any existing one
        directory.chmod(DIR_MODE)
    info = path.lstat() if shared_parent else path.stat()
    if not stat.S_ISDIR(info.st_mode):
        raise NotPrivate(f"{path} must be a directory")
    if shared_parent:
        if info.st_uid != os.geteuid() or info.st_mode & OTHERS:
            raise NotPrivate(f"{path} must be a directory private to this user (mode 700)")
        return path
    if info.st_mode & OTHERS:  # the directory itself, or where its symbolic link points
        _tighten(path, stat.S_IMODE(info.st_mode))
    return path


def secure_tree(root: Path) -> Path:
    """Make ``root`` a private directory and tighten everything below it: what a service
    calls at start on the data directory, so files written by an older meshkit or copied
    in with loose modes stop being readable by others. Entries that vanish meanwhile
    (other processes keep working in the tree) are skipped. Returns ``root``."""
    private_dir(root)
    for directory, subdirs, files in os.walk(root):
        here = Path(directory)
        for name in (*subdirs, *files):
            restrict(here / name)
    return root


def open_private(path: Path, flags: int) -> int:
    """``os.open(path, flags | O_CREAT | O_NOFOLLOW)`` with mode ``0600``: a new file is
    private at once; an existing one with looser modes is tightened (with a warning);
    a symbolic link or anything but a regular file is refused. Returns the descriptor."""
    fd = os.open(path, flags | os.O_CREAT | os.O_NOFOLLOW, FILE_MODE)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise NotPrivate(f"{path} must be a regular file")
        mode = stat.S_IMODE(info.st_mode)
        if mode & OTHERS:
            _tighten(path, mode, fd)
    except BaseException:
        os.close(fd)
        raise
    return fd


def private_file(path: Path) -> Path:
    """Make sure ``path`` exists as a private regular file (created empty if missing),
    e.g. before a library such as sqlite opens it with the umask's mode. Returns it."""
    os.close(open_private(path, os.O_RDONLY))
    return path


def write_private(path: Path, text: str, *, exclusive: bool = False) -> None:
    """Write ``text`` to ``path`` as a private file, replacing its content; with
    ``exclusive``, only create it (:class:`FileExistsError` when it exists)."""
    flags = os.O_WRONLY | os.O_TRUNC | (os.O_EXCL if exclusive else 0)
    with os.fdopen(open_private(path, flags), "w", encoding="utf-8") as handle:
        handle.write(text)
