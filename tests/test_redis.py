"""open_redis and the embedded redis-server: real processes, unix sockets, no fakes."""

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from redis import Redis as SyncRedis
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError

from meshkit.config import Settings
from meshkit.redis import (
    MAX_SOCKET_PATH,
    EmbeddedRedis,
    RedisUnavailable,
    _probe,
    open_redis,
    redis_url_for_display,
)

# A second meshkit process: uses the data dir's Redis, writes a key, reports, then
# holds the server until its stdin closes (or it is killed).
CHILD = """
import asyncio, sys
from meshkit.config import Settings
from meshkit.redis import open_redis

async def main():
    settings = Settings.from_env({"MESHKIT_DATA_DIR": sys.argv[1]})
    async with open_redis(settings) as client:
        await client.set("written-by", sys.argv[2])
        info = await client.info("server")
        print("ready", info["process_id"], flush=True)
        sys.stdin.readline()

asyncio.run(main())
"""


def settings_for(data_dir: Path, **env: str) -> Settings:
    return Settings.from_env({"MESHKIT_DATA_DIR": str(data_dir), **env})


def alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie nobody reaped counts as gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"


async def server_pid(client: Redis) -> int:
    return int((await client.info("server"))["process_id"])


@contextlib.asynccontextmanager
async def child_user(data_dir: Path, name: str):
    """Run CHILD on ``data_dir``; yield (process, server pid) once it is connected."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        CHILD,
        str(data_dir),
        name,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None
        line = await asyncio.wait_for(proc.stdout.readline(), 15)
        word, pid = line.decode().split()
        assert word == "ready"
        yield proc, int(pid)
    finally:
        if proc.returncode is None:
            proc.stdin.close()
        await asyncio.wait_for(proc.communicate(), 15)


async def test_embedded_server_serves_and_is_gone_after_exit(tmp_path):
    settings = settings_for(tmp_path)
    server = EmbeddedRedis(tmp_path)
    async with open_redis(settings) as client:
        assert await client.ping() is True
        await client.set("greeting", "hello")
        assert await client.get("greeting") == b"hello"
        entry = await client.xadd("events", {"kind": "joined"})
        assert await client.xrange("events") == [(entry, {b"kind": b"joined"})]
        pid = await server_pid(client)
        assert alive(pid)
        assert server.socket_path == tmp_path / "redis" / "redis.sock"
        assert server.socket_path.exists()
        assert redis_url_for_display(settings) == server.url
    assert not alive(pid)
    assert not server.socket_path.exists()
    assert not server.pid_path.exists()
    assert (tmp_path / "redis" / "dump.rdb").exists(), "a clean stop writes a snapshot"


async def test_two_users_in_one_process_share_one_server(tmp_path):
    settings = settings_for(tmp_path)
    async with open_redis(settings) as first:
        pid = await server_pid(first)
        async with open_redis(settings) as second:
            assert await server_pid(second) == pid
            await first.set("k", "v")
            assert await second.get("k") == b"v"
        assert alive(pid), "the server must outlive one of its two users"
        assert await first.ping() is True
    assert not alive(pid)


async def test_concurrent_starts_in_one_process_agree(tmp_path):
    settings = settings_for(tmp_path)
    async with contextlib.AsyncExitStack() as stack:
        clients = await asyncio.gather(
            *(stack.enter_async_context(open_redis(settings)) for _ in range(4))
        )
        pids = {await server_pid(client) for client in clients}
        assert len(pids) == 1
    assert not alive(pids.pop())


async def test_two_processes_share_one_server(tmp_path):
    settings = settings_for(tmp_path)
    async with child_user(tmp_path, "child") as (_, pid):
        async with open_redis(settings) as client:
            assert await server_pid(client) == pid
            assert await client.get("written-by") == b"child"
            await client.set("written-by", "parent")
            # The child started the server; it leaves first, we stay.
            async with child_user(tmp_path, "second-child") as (_, again):
                assert again == pid
            assert alive(pid)
        assert alive(pid), "the first child still uses it"
    assert not alive(pid)


async def test_sigkilled_user_leaves_an_orphan_that_the_next_start_removes(tmp_path):
    async with child_user(tmp_path, "killed") as (proc, orphan):
        proc.kill()
        await proc.wait()
    assert alive(orphan), "SIGKILL of its user does not stop redis-server"
    async with open_redis(settings_for(tmp_path)) as client:
        assert not alive(orphan)
        fresh = await server_pid(client)
        assert fresh != orphan
        assert await client.get("written-by") == b"killed", "the orphan saved its snapshot"
    assert not alive(fresh)


async def test_server_that_died_under_its_users_is_replaced(tmp_path):
    async with EmbeddedRedis(tmp_path) as first:
        dead = first.pid
        assert dead is not None
        os.kill(dead, signal.SIGKILL)
        async with EmbeddedRedis(tmp_path) as second:
            fresh = second.pid
            assert fresh not in (None, dead)
            client = Redis.from_url(second.url)
            try:
                assert await client.ping() is True
            finally:
                await client.aclose()
        assert alive(fresh), "the first user still uses the replacement"
    assert not alive(fresh)


async def test_stale_files_naming_an_unrelated_process_are_not_trusted(tmp_path):
    """A reused pid is never signalled, even one whose command line says redis-server."""
    decoy = await asyncio.create_subprocess_exec(
        sys.executable, "-c", "import time; time.sleep(60)", "redis-server"
    )
    try:
        server = EmbeddedRedis(tmp_path)
        server.directory.mkdir(parents=True)
        server.pid_path.write_text(f"{decoy.pid}\n")
        with socket.socket(socket.AF_UNIX) as stale:  # leaves a dead socket file behind
            stale.bind(str(server.socket_path))
        async with open_redis(settings_for(tmp_path)) as client:
            assert await server_pid(client) != decoy.pid
        assert decoy.returncode is None
        assert alive(decoy.pid)
        assert alive(os.getpid())
    finally:
        decoy.kill()
        await decoy.wait()


async def test_long_data_dir_falls_back_to_a_short_shared_socket(tmp_path):
    data_dir = tmp_path / ("d" * 60) / ("e" * 60)
    server = EmbeddedRedis(data_dir)
    assert not server.socket_path.is_relative_to(data_dir)
    assert len(os.fsencode(server.socket_path)) <= MAX_SOCKET_PATH
    assert EmbeddedRedis(data_dir).socket_path == server.socket_path
    assert EmbeddedRedis(tmp_path / "other").socket_path != server.socket_path
    settings = settings_for(data_dir)
    async with open_redis(settings) as first, open_redis(settings) as second:
        await first.set("k", "v")
        assert await second.get("k") == b"v"
        pid = await server_pid(first)
        assert server.socket_path.exists()
    assert not alive(pid)
    assert not server.socket_path.exists()


async def test_redis_url_is_used_and_never_stopped(tmp_path):
    async with EmbeddedRedis(tmp_path / "a") as external:
        settings = settings_for(tmp_path / "b", MESHKIT_REDIS_URL=external.url)
        assert redis_url_for_display(settings) == external.url
        async with open_redis(settings) as client:
            await client.set("via-url", "yes")
            assert await server_pid(client) == external.pid
        assert alive(external.pid)
        assert not (tmp_path / "b" / "redis").exists()
        client = Redis.from_url(external.url)
        try:
            assert await client.get("via-url") == b"yes"
        finally:
            await client.aclose()


async def test_unreachable_url_names_it_without_the_password(tmp_path):
    settings = settings_for(tmp_path, MESHKIT_REDIS_URL="redis://:hunter2@127.0.0.1:1")
    with pytest.raises(RedisUnavailable, match="cannot reach Redis") as caught:
        async with open_redis(settings):
            pytest.fail("connected to port 1")
    message = str(caught.value)
    assert "redis://:****@127.0.0.1:1" in message
    assert "hunter2" not in message
    assert not (tmp_path / "redis").exists()


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("redis://:hunter2@127.0.0.1:1/0", "redis://:****@127.0.0.1:1/0"),
        ("rediss://ada:hunter2@example.test:6380", "rediss://ada:****@example.test:6380"),
        ("unix:///run/r.sock?db=1&password=hunter2", "unix:///run/r.sock?db=1&password=****"),
        ("redis://127.0.0.1:6379", "redis://127.0.0.1:6379"),
    ],
)
def test_url_for_display_masks_the_password(tmp_path, url, shown):
    assert redis_url_for_display(settings_for(tmp_path, MESHKIT_REDIS_URL=url)) == shown


async def test_invalid_url_scheme_is_reported(tmp_path):
    settings = settings_for(tmp_path, MESHKIT_REDIS_URL="http://:hunter2@127.0.0.1:1")
    with pytest.raises(RedisUnavailable, match="invalid Redis URL") as caught:
        async with open_redis(settings):
            pass
    assert "hunter2" not in str(caught.value)


async def test_failed_start_reports_the_log_and_releases_the_locks(tmp_path):
    broken = tmp_path / "broken-redis-server"
    broken.write_text("#!/bin/sh\necho '*** FATAL CONFIG FILE ERROR: bad option' >&2\nexit 1\n")
    broken.chmod(0o755)
    with pytest.raises(RedisUnavailable, match=r"(?s)exited with status 1.*FATAL CONFIG"):
        await EmbeddedRedis(tmp_path, executable=str(broken)).start()
    async with EmbeddedRedis(tmp_path) as server:
        assert server.pid is not None
        assert alive(server.pid)


async def test_unusable_data_dir_is_reported_and_stop_without_start_is_a_no_op(tmp_path):
    (tmp_path / "a-file").write_text("")
    server = EmbeddedRedis(tmp_path / "a-file" / "data")
    await server.stop()
    with pytest.raises(RedisUnavailable, match="cannot use"):
        await server.start()
    assert server.pid is None


def restart_blocking(server: EmbeddedRedis, dead: int) -> int:
    """SIGKILL redis-server ``dead`` of ``server``'s directory and start it again from
    its own config, without yielding to the event loop: as under load, the loop has not
    yet noticed that the pooled connections died. Returns the new pid once it answers."""
    os.kill(dead, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while alive(dead):
        assert time.monotonic() < deadline, "redis-server did not die"
        time.sleep(0.01)
    server.socket_path.unlink(missing_ok=True)
    subprocess.run([server.executable, str(server.conf_path)], check=True, timeout=10)
    probe = SyncRedis(unix_socket_path=str(server.socket_path), socket_timeout=1)
    try:
        while True:
            with contextlib.suppress(RedisError):
                if probe.ping():
                    return int(probe.info("server")["process_id"])
            assert time.monotonic() < deadline, "redis-server did not come back"
            time.sleep(0.01)
    finally:
        probe.close()


async def test_pooled_connections_survive_a_server_restart(tmp_path):
    """Connections pooled before redis-server restarted answer the first command after
    it: a dead connection is retried once on a fresh one, not turned into an error."""
    async with open_redis(settings_for(tmp_path)) as client:
        # Four commands at once leave four connections in the pool.
        await asyncio.gather(*(client.set(f"k{n}", "before") for n in range(4)))
        fresh = restart_blocking(EmbeddedRedis(tmp_path), await server_pid(client))
        # Each command is issued once by the test: no retry loop here.
        results = await asyncio.gather(*(client.set(f"k{n}", "after") for n in range(4)))
        assert results == [True] * 4
        assert await server_pid(client) == fresh
    assert not alive(fresh), "the last user stops the replacement too"


async def test_the_probe_client_does_not_retry(tmp_path):
    """Readiness checks and SHUTDOWN must fail fast, so the probe never retries."""
    probe = _probe(tmp_path / "nothing.sock", 0.5)
    try:
        with pytest.raises(RedisConnectionError):
            await probe.ping()
        assert probe.get_retry() is not None
        assert probe.get_retry().get_retries() == 0
    finally:
        await probe.aclose()
