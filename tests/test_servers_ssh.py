"""The servers service's SSH pool against real OpenSSH sshd processes on loopback:
commands, exit codes and output, timeouts that leave nothing running on the host, the
bounds per host, pinned host keys, refused keys, unreachable hosts, an sshd killed in the
middle of a command (and the pool recovering), SFTP, pinning on first contact."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import secrets
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import asyncssh
import pytest

from meshkit.services.servers.errors import (
    CommandTimedOut,
    HostAuthFailed,
    HostKeyMismatch,
    HostUnreachable,
)
from meshkit.services.servers.ssh import SshPool, SshTarget
from meshkit.services.servers.ssh.pool import fingerprint
from meshkit.testing import eventually, free_ports
from tests.servers_env import SshHost, make_sshd, new_key, private_text, sshd

__all__ = ["make_sshd", "sshd"]  # fixtures


@pytest.fixture
async def pool() -> AsyncIterator[SshPool]:
    ssh = SshPool(connect_timeout=5, keepalive_interval=5, command_timeout=60)
    yield ssh
    await ssh.close()


def processes_with(text: str) -> list[int]:
    """Pids of processes whose command line contains ``text`` (sshd runs on this machine)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if text.encode() in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
    return found


def established_to(host: SshHost) -> int:
    """TCP connections to ``host``'s sshd in state ESTABLISHED, from /proc/net/tcp."""
    a, b, c, d = (int(part) for part in host.address.split("."))
    local = f"{d:02X}{c:02X}{b:02X}{a:02X}:{host.port:04X}"
    count = 0
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        # the server side of each connection: local address is sshd's, state 01
        if fields[1] == local and fields[3] == "01":
            count += 1
    return count


async def test_run_answers_output_and_exit_status(pool: SshPool, sshd: SshHost) -> None:
    result = await pool.run(sshd.target(), "echo hello; echo oops >&2")
    assert result.ok
    assert result.exit_status == 0
    assert result.error is None
    assert result.stdout == "hello\n"
    assert result.stderr == "oops\n"
    assert not result.timed_out

    failed = await pool.run(sshd.target(), "echo partial; exit 3")
    assert failed.exit_status == 3
    assert failed.error is None
    assert failed.stdout == "partial\n"

    missing = await pool.run(sshd.target(), "no-such-command-here")
    assert missing.exit_status == 127
    assert "not found" in missing.stderr


async def test_run_feeds_input_and_streams_output(pool: SshPool, sshd: SshHost) -> None:
    chunks: list[tuple[str, str]] = []
    result = await pool.run(
        sshd.target(),
        "cat; echo done >&2",
        input="line one\nline two\n",
        on_output=lambda stream, text: chunks.append((stream, text)),
    )
    assert result.stdout == "line one\nline two\n"
    assert "".join(t for s, t in chunks if s == "stdout") == result.stdout
    assert "".join(t for s, t in chunks if s == "stderr") == "done\n"

    seen: list[str] = []

    async def collect(stream: str, text: str) -> None:
        await asyncio.sleep(0)
        seen.append(text)

    result = await pool.run(sshd.target(), "printf 'a\\nb\\n'", on_output=collect)
    assert "".join(seen) == "a\nb\n" == result.stdout


async def test_a_hanging_command_times_out_and_is_gone_from_the_host(
    pool: SshPool, sshd: SshHost
) -> None:
    marker = f"{3000 + secrets.randbelow(1000)}.{secrets.randbelow(10**6):06d}"
    command = f"echo started; sleep {marker}; echo never"
    result = await pool.run(sshd.target(), command, time_limit=1)
    assert result.timed_out
    assert result.exit_status is None
    assert "timed out" in (result.error or "")
    assert result.stdout == "started\n"
    await eventually(lambda: not processes_with(marker), what="the remote command is gone")

    # the pool is still usable afterwards
    assert (await pool.run(sshd.target(), "echo again")).stdout == "again\n"


async def test_concurrency_stays_within_the_bounds_per_host(
    make_sshd: Callable[..., SshHost],
) -> None:
    host = make_sshd(address="127.0.0.12")
    target = host.target()  # one key text: each export of a key differs (its check bytes)
    ssh = SshPool(max_connections_per_host=2, sessions_per_connection=2, connect_timeout=5)
    peaks = {"connections": 0, "sessions": 0, "tcp": 0}
    running = 0
    most_running = 0

    async def one(i: int) -> str:
        nonlocal running, most_running

        async def note(stream: str, text: str) -> None:
            nonlocal running, most_running
            running += 1
            most_running = max(most_running, running)
            stats = ssh.stats()
            peaks["connections"] = max(peaks["connections"], stats["connections"])
            peaks["sessions"] = max(peaks["sessions"], stats["sessions"])
            peaks["tcp"] = max(peaks["tcp"], established_to(host))

        result = await ssh.run(target, f"echo {i}; sleep 0.3", on_output=note)
        running -= 1
        return result.stdout

    try:
        outputs = await asyncio.gather(*(one(i) for i in range(12)))
        assert sorted(outputs) == sorted(f"{i}\n" for i in range(12))
        assert peaks["connections"] <= 2
        assert peaks["sessions"] <= 4
        assert peaks["tcp"] <= 2, peaks
        assert most_running <= 4
        assert peaks["sessions"] >= 2  # it did run some at once
    finally:
        await ssh.close()


async def test_a_changed_host_key_is_refused_and_nothing_runs(
    pool: SshPool, make_sshd: Callable[..., SshHost], tmp_path: Path
) -> None:
    host = make_sshd(address="127.0.0.12")
    pinned = host.target("moving")
    assert (await pool.run(pinned, "true")).ok
    old_fingerprint = fingerprint(host.host_key_line)

    host.kill()
    host.set_host_key(new_key())
    host.start()

    touched = tmp_path / "ran"
    with pytest.raises(HostKeyMismatch) as caught:
        await pool.run(pinned, f"touch {touched}")
    assert caught.value.extensions["pinned_fingerprint"] == old_fingerprint
    assert caught.value.extensions["presented_fingerprint"] == fingerprint(host.host_key_line)
    assert "nothing was sent" in caught.value.detail
    assert not touched.exists()

    # re-pinned (what PATCH host_key does), it works again
    assert (await pool.run(host.target("moving"), "true")).ok


async def test_a_wrong_key_is_refused(pool: SshPool, sshd: SshHost) -> None:
    target = SshTarget(
        host_id="wrong",
        address=sshd.address,
        port=sshd.port,
        user=sshd.user,
        private_key=private_text(new_key()),
        host_key=sshd.host_key_line,
    )
    with pytest.raises(HostAuthFailed) as caught:
        await pool.run(target, "true")
    assert caught.value.status == 502
    assert "BEGIN OPENSSH" not in str(caught.value)

    garbage = SshTarget("garbage", sshd.address, sshd.port, sshd.user, "not a key", None)
    with pytest.raises(HostAuthFailed):
        await pool.run(garbage, "true")


@pytest.mark.parametrize("address", ["127.0.0.1", "127.0.0.14"])
async def test_an_unreachable_host_fails_fast(pool: SshPool, sshd: SshHost, address: str) -> None:
    (port,) = free_ports(1)
    target = SshTarget("away", address, port, sshd.user, sshd.private_key, None)
    with pytest.raises(HostUnreachable) as caught:
        await pool.run(target, "true")
    assert caught.value.status == 503
    assert f"{address}:{port}" in caught.value.detail
    assert pool.stats()["connections"] == 0


async def test_sshd_killed_mid_command_then_the_pool_recovers(
    pool: SshPool, make_sshd: Callable[..., SshHost]
) -> None:
    host = make_sshd(address="127.0.0.12")
    target = host.target("crashing")
    started = asyncio.Event()

    def on_output(stream: str, text: str) -> None:
        if "started" in text:
            started.set()

    running = asyncio.create_task(
        pool.run(target, "echo started; sleep 30; echo never", on_output=on_output)
    )
    await asyncio.wait_for(started.wait(), 10)
    host.kill()
    result = await asyncio.wait_for(running, 30)
    assert result.error is not None
    assert result.exit_status is None
    assert not result.timed_out
    assert result.stdout == "started\n"

    with pytest.raises(HostUnreachable):
        await pool.run(target, "true")

    host.start()
    again = await pool.run(target, "echo back")
    assert again.stdout == "back\n"
    assert again.ok


async def test_a_restarted_host_costs_no_failed_command(
    pool: SshPool, make_sshd: Callable[..., SshHost]
) -> None:
    host = make_sshd(address="127.0.0.12")
    target = host.target("restarting")
    assert (await pool.run(target, "true")).ok
    host.kill()
    host.start()
    # the pooled connection is dead: the pool notices and opens a fresh one
    assert (await pool.run(target, "echo fresh")).stdout == "fresh\n"


async def test_sftp_writes_and_reads_files(pool: SshPool, sshd: SshHost, tmp_path: Path) -> None:
    remote = tmp_path / "pushed.txt"
    async with pool.sftp(sshd.target()) as sftp:
        async with sftp.open(str(remote), "w") as handle:
            await handle.write("config = 1\n")
        await sftp.chmod(str(remote), 0o640)
        async with sftp.open(str(remote), "r") as handle:
            assert await handle.read() == "config = 1\n"
        assert await sftp.exists(str(remote))
    assert remote.read_text() == "config = 1\n"
    assert remote.stat().st_mode & 0o777 == 0o640
    assert pool.stats()["sessions"] == 0


async def test_connection_lease_allows_a_forward(pool: SshPool, sshd: SshHost) -> None:
    async with pool.connection(sshd.target()) as conn:
        result = await conn.run("echo leased", check=True)
        assert result.stdout == "leased\n"
        assert pool.stats()["sessions"] == 1
    assert pool.stats()["sessions"] == 0


async def test_first_contact_pins_the_key_and_a_later_different_key_is_refused(
    make_sshd: Callable[..., SshHost],
) -> None:
    pins: dict[str, str] = {}

    async def on_pin(host_id: str, line: str) -> None:
        pins[host_id] = line

    ssh = SshPool(connect_timeout=5, on_pin=on_pin)
    host = make_sshd(address="127.0.0.12")
    try:
        assert (await ssh.run(host.target("fresh", pinned=False), "true")).ok
        assert pins == {"fresh": host.host_key_line}

        # what the registry does next: the target carries the pin
        pinned = SshTarget(
            "fresh", host.address, host.port, host.user, host.private_key, pins["fresh"]
        )
        host.kill()
        host.set_host_key(new_key())
        host.start()
        with pytest.raises(HostKeyMismatch):
            await ssh.run(pinned, "true")
        assert len(pins) == 1  # no second pin: a pinned target never re-pins
    finally:
        await ssh.close()


async def test_a_failing_pin_callback_drops_the_connection(sshd: SshHost) -> None:
    async def refuse(host_id: str, line: str) -> None:
        raise HostKeyMismatch("pinned to another key meanwhile")

    ssh = SshPool(connect_timeout=5, on_pin=refuse)
    try:
        with pytest.raises(HostKeyMismatch):
            await ssh.run(sshd.target("raced", pinned=False), "true")
        assert ssh.stats()["connections"] == 0
    finally:
        await ssh.close()


async def test_forget_closes_the_hosts_connections(pool: SshPool, sshd: SshHost) -> None:
    assert (await pool.run(sshd.target("forgotten"), "true")).ok
    assert pool.stats()["connections"] == 1
    await pool.forget("forgotten")
    assert pool.stats()["connections"] == 0
    assert (await pool.run(sshd.target("forgotten"), "true")).ok


async def test_a_closed_pool_refuses(sshd: SshHost) -> None:
    ssh = SshPool()
    await ssh.close()
    with pytest.raises(HostUnreachable):
        await ssh.run(sshd.target(), "true")


async def test_command_text_is_not_logged(
    pool: SshPool, sshd: SshHost, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    secret = f"hunter-{secrets.token_hex(8)}"
    result = await pool.run(sshd.target(), f"PASSWORD={secret} true; echo ok")
    assert result.ok
    assert "Command: (not logged)" in caplog.text
    assert secret not in caplog.text


async def test_callers_waiting_when_a_host_is_forgotten_are_refused(
    make_sshd: Callable[..., SshHost],
) -> None:
    host = make_sshd(address="127.0.0.12")
    target = host.target("busy")
    ssh = SshPool(max_connections_per_host=1, sessions_per_connection=1, connect_timeout=5)
    try:
        started = asyncio.Event()
        first = asyncio.create_task(
            ssh.run(target, "echo go; sleep 30", on_output=lambda s, t: started.set())
        )
        await asyncio.wait_for(started.wait(), 10)
        waiting = asyncio.create_task(ssh.run(target, "echo waited"))
        await eventually(lambda: ssh.stats()["sessions"] == 1, what="one session")
        await asyncio.sleep(0.1)  # the second caller waits for the only slot
        await ssh.forget("busy")
        assert (await asyncio.wait_for(first, 10)).error is not None
        # it was changed or removed: nothing may run with what the waiter had
        with pytest.raises(HostUnreachable, match="changed or removed"):
            await asyncio.wait_for(waiting, 10)
        assert ssh.stats()["connections"] == 0
        await eventually(lambda: established_to(host) == 0, what="no orphan connection")
        assert (await ssh.run(target, "echo again")).stdout == "again\n"
    finally:
        await ssh.close()
    assert ssh.stats()["connections"] == 0
    await eventually(lambda: established_to(host) == 0, what="no connection left open")


async def test_callers_waiting_when_the_pool_closes_are_refused(
    make_sshd: Callable[..., SshHost],
) -> None:
    host = make_sshd(address="127.0.0.12")
    target = host.target("closing")
    ssh = SshPool(max_connections_per_host=1, sessions_per_connection=1, connect_timeout=5)
    started = asyncio.Event()
    first = asyncio.create_task(
        ssh.run(target, "echo go; sleep 30", on_output=lambda s, t: started.set())
    )
    await asyncio.wait_for(started.wait(), 10)
    waiting = asyncio.create_task(ssh.run(target, "echo waited"))
    await asyncio.sleep(0.1)
    await ssh.close()
    assert (await asyncio.wait_for(first, 10)).error is not None
    with pytest.raises(HostUnreachable):
        await asyncio.wait_for(waiting, 10)
    await eventually(lambda: established_to(host) == 0, what="no connection left open")


async def test_a_pinned_key_of_another_algorithm_is_the_one_asked_for(
    make_sshd: Callable[..., SshHost],
) -> None:
    """A host with an Ed25519 and an RSA key, pinned by its RSA key (as pasted from a
    known_hosts file): the pool asks for RSA, so the pin matches."""
    host = make_sshd(address="127.0.0.12")
    host.kill()
    rsa = asyncssh.generate_private_key("ssh-rsa", key_size=2048)
    (host.directory / "host_key_rsa").write_bytes(rsa.export_private_key("openssh"))
    (host.directory / "host_key_rsa").chmod(0o600)
    config = host.config.read_text()
    host.config.write_text(config + f"HostKey {host.directory / 'host_key_rsa'}\n")
    host.start()
    rsa_line = " ".join(rsa.export_public_key("openssh").decode().split()[:2])
    pool = SshPool(connect_timeout=5)
    try:
        pinned_rsa = dataclasses.replace(host.target(), host_key=rsa_line)
        assert (await pool.run(pinned_rsa, "echo rsa")).stdout == "rsa\n"
        pinned_ed = host.target()
        assert (await pool.run(pinned_ed, "echo ed")).stdout == "ed\n"
    finally:
        await pool.close()


async def test_an_sftp_session_past_its_time_limit_is_a_typed_timeout(sshd: SshHost) -> None:
    pool = SshPool(connect_timeout=5)
    try:

        async def stuck() -> None:
            async with pool.sftp(sshd.target(), time_limit=0.2) as sftp:
                await sftp.listdir("/")
                await asyncio.sleep(5)

        with pytest.raises(CommandTimedOut):
            await stuck()
        async with pool.sftp(sshd.target()) as sftp:
            assert "etc" in await sftp.listdir("/")
    finally:
        await pool.close()
