"""Secrets on disk are private: the data directory is 0700 and every file meshkit writes
there is 0600, whatever the umask; a data directory with looser modes is tightened at
start with a warning. Real code paths: the auth service with its SQLite store, signing
keys, outbox and an embedded redis-server, under ``umask 022``."""

import asyncio
import logging
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from meshkit.files import NotPrivate, private_dir
from meshkit.outbox import read_messages
from meshkit.redis import EmbeddedRedis
from meshkit.services.auth import AuthService
from meshkit.store import Document, open_store
from meshkit.store.sqlite import SQLiteStore
from meshkit.testing import make_settings

PASSWORD = "correct horse battery staple"


class Note(Document):
    collection = "notes"
    text: str


@pytest.fixture(autouse=True)
def umask_022() -> Iterator[None]:
    """The common default umask, under which a plain ``open``/``mkdir`` is world-readable."""
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def loose_entries(root: Path) -> dict[str, str]:
    """Everything under ``root`` (itself included) that is not private: directories must
    be 0700, files and sockets 0600. Maps the relative path to its mode."""
    found = {}
    for path in [root, *root.rglob("*")]:
        info = path.lstat()
        mode = stat.S_IMODE(info.st_mode)
        wanted = 0o700 if stat.S_ISDIR(info.st_mode) else 0o600
        if mode != wanted:
            found[str(path.relative_to(root))] = f"{mode:04o}"
    return found


def names(root: Path) -> set[str]:
    return {str(path.relative_to(root)) for path in root.rglob("*")}


async def test_a_fresh_data_dir_is_private_through_the_auth_service(tmp_path, service_client):
    """Signing keys and password hashes (SQLite + WAL), the service API key, the outbox and
    the embedded redis-server's socket, config, log, locks and snapshot."""
    data = tmp_path / "data"
    settings = make_settings(
        data,
        MESHKIT_AUTH_BCRYPT_COST="4",
        MESHKIT_AUTH_BOOTSTRAP_ADMIN_EMAIL="root@example.test",
        MESHKIT_AUTH_BOOTSTRAP_ADMIN_PASSWORD=PASSWORD,
    )
    client = await service_client(AuthService, settings=settings)
    response = await client.post(
        "/v1/auth/register",
        json={"email": "ada@example.test", "username": "ada", "password": PASSWORD},
    )
    assert response.status == 201, await response.text()
    reset = await client.post("/v1/auth/password-reset", json={"email": "ada@example.test"})
    assert reset.status == 202
    for _ in range(250):
        if read_messages(settings, kind="password-reset"):
            break
        await asyncio.sleep(0.02)
    running = names(data)
    assert {"auth.sqlite3", "auth.sqlite3-wal", "auth.sqlite3-shm"} <= running
    assert {"redis/redis.sock", "redis/redis.conf", "redis/redis.log"} <= running
    assert {"redis/redis.pid", "redis/users.lock", "service-api-key"} <= running
    assert any(name.startswith("outbox/") for name in running)
    assert stat.S_ISSOCK((data / "redis" / "redis.sock").lstat().st_mode)
    assert loose_entries(data) == {}
    await client.close()  # the last user stops redis-server: it writes its snapshot
    assert "redis/dump.rdb" in names(data)
    assert loose_entries(data) == {}


async def test_sqlite_files_are_private_before_and_after_wal(tmp_path):
    """The database is created 0600 before SQLite opens it; SQLite gives the -wal and
    -shm it creates later the same mode; a missing parent directory is created 0700."""
    path = tmp_path / "fresh" / "nested" / "notes.sqlite3"
    store = await SQLiteStore.open(path)
    try:
        for n in range(20):
            await store.insert(Note(text=f"note {n}"))
        assert {p.name for p in path.parent.iterdir()} == {
            "notes.sqlite3",
            "notes.sqlite3-wal",
            "notes.sqlite3-shm",
        }
        assert loose_entries(tmp_path / "fresh") == {}
    finally:
        await store.close()


async def test_embedded_redis_files_are_private(tmp_path):
    async with EmbeddedRedis(tmp_path / "data") as server:
        assert server.socket_path.exists()
        assert loose_entries(tmp_path / "data") == {}
    assert (tmp_path / "data" / "redis" / "dump.rdb").exists()
    assert loose_entries(tmp_path / "data") == {}


async def test_the_fallback_socket_of_a_long_data_dir_is_private(tmp_path):
    data = tmp_path / ("d" * 60) / ("e" * 60)
    async with EmbeddedRedis(data) as server:
        assert not server.socket_path.is_relative_to(data)
        assert stat.S_IMODE(server.socket_path.parent.lstat().st_mode) == 0o700
        assert stat.S_IMODE(server.socket_path.lstat().st_mode) == 0o600
        assert loose_entries(data) == {}


async def test_a_loose_data_dir_is_tightened_at_start_with_a_warning(tmp_path, caplog):
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    data.chmod(0o755)
    database = data / "auth.sqlite3"
    database.write_bytes(b"")
    database.chmod(0o644)
    wal = data / "auth.sqlite3-wal"
    wal.write_bytes(b"")
    wal.chmod(0o644)
    outbox = data / "outbox"
    outbox.mkdir(mode=0o755)
    outbox.chmod(0o755)
    message = outbox / "01.json"
    message.write_text("{}")
    message.chmod(0o644)
    (data / "elsewhere").symlink_to(tmp_path)
    outside = stat.S_IMODE(tmp_path.stat().st_mode)

    with caplog.at_level(logging.WARNING, logger="meshkit.files"):
        store = await open_store(make_settings(data), service="auth")
        await store.close()

    assert loose_entries(data) == {"elsewhere": "0777"}, "links are left alone"
    assert stat.S_IMODE(tmp_path.stat().st_mode) == outside, "nothing outside is changed"
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    for path, old, new in [
        (data, "0755", "0700"),
        (database, "0644", "0600"),
        (wal, "0644", "0600"),
        (outbox, "0755", "0700"),
        (message, "0644", "0600"),
    ]:
        expected = f"{path} was mode {old} (open to other users); tightened to {new}"
        assert warnings.count(expected) == 1, (expected, warnings)
    assert len(warnings) == 5

    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="meshkit.files"):
        store = await open_store(make_settings(data), service="auth")
        await store.close()
    assert not caplog.records, "a private data dir is left as it is, silently"


def test_a_shared_socket_dir_that_is_not_private_is_refused(tmp_path):
    """In /tmp another user may have planted the directory: refused, not tightened."""
    planted = tmp_path / "meshkit-redis-x"
    planted.mkdir()
    planted.chmod(0o755)
    with pytest.raises(NotPrivate, match="private to this user"):
        private_dir(planted, shared_parent=True)
    assert stat.S_IMODE(planted.stat().st_mode) == 0o755
    link = tmp_path / "link"
    link.symlink_to(tmp_path / "private")
    private_dir(tmp_path / "private")
    with pytest.raises(NotPrivate):
        private_dir(link, shared_parent=True)
