"""Provisioning jobs against real sshd processes (this machine, as root, is every host),
a real SQLite store and Redis: idempotence, check mode, file owner and mode, command
guards, users, packages (check mode only), services, timeouts, a host killed mid-job,
restart durability, parallel hosts, cancel, and secrets kept out of every output."""

from __future__ import annotations

import asyncio
import grp
import json
import os
import pwd
import secrets
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import pytest
from pydantic import ValidationError
from redis.asyncio import Redis

from meshkit.contracts.servers import JobFinished
from meshkit.errors import NotFound
from meshkit.services.servers.audit import AuditEntry, AuditLog
from meshkit.services.servers.errors import (
    JobAlreadyFinished,
    MaskedSecretUnknown,
    NoHostsSelected,
    RecipeExists,
    RecipeNotFound,
)
from meshkit.services.servers.hosts.vault import KeyVault
from meshkit.services.servers.jobs import Job, Jobs, JobsConfig, Recipe, Recipes
from meshkit.services.servers.jobs.log import MAX_CHUNK, LineBuffer, log_key
from meshkit.services.servers.jobs.models import (
    HostRun,
    JobIn,
    LogEntry,
    RecipeIn,
    job_out,
    recipe_out,
)
from meshkit.services.servers.jobs.runner import STOPPED, heartbeat_key
from meshkit.services.servers.redact import MASK, scrub
from meshkit.services.servers.ssh import SshPool, SshTarget
from meshkit.store import Store, new_id, open_store
from meshkit.testing import eventually, make_settings
from tests.servers_env import SshHost, make_sshd, sshd

__all__ = ["make_sshd", "sshd"]  # fixtures

H1, H2, H12, H13, H14 = (new_id() for _ in range(5))
"""Host ids (ULIDs, as the registry makes them)."""
MORE = {12: H12, 13: H13, 14: H14}


@dataclass
class Machine:
    """A host as the registry would give it."""

    id: str
    name: str
    sshd: SshHost
    labels: dict[str, str] = field(default_factory=dict)


class Directory:
    """A narrow host source over running sshds (what ``Hosts`` is to the service)."""

    def __init__(self) -> None:
        self.machines: dict[str, Machine] = {}

    def add(self, host_id: str, host: SshHost, **labels: str) -> None:
        self.machines[host_id] = Machine(host_id, f"name-{host_id}", host, labels)

    async def select(
        self, host_ids: list[str] | None, labels: dict[str, str] | None
    ) -> Sequence[Machine]:
        unknown = [i for i in host_ids or () if i not in self.machines]
        if unknown:
            raise NotFound(f"no hosts {unknown}")
        chosen = [self.machines[i] for i in host_ids] if host_ids else self.machines.values()
        wanted = labels or {}
        return [m for m in chosen if all(m.labels.get(k) == v for k, v in wanted.items())]

    async def target(self, host_id: str) -> SshTarget:
        machine = self.machines.get(host_id)
        if machine is None:
            raise NotFound(f"no host {host_id}")
        return machine.sshd.target(host_id)


@dataclass
class World:
    store: Store
    redis: Redis
    pool: SshPool
    directory: Directory
    recipes: Recipes
    jobs: Jobs
    published: list[tuple[Any, str | None]]
    entries: list[tuple[str, LogEntry]]

    async def run(
        self,
        steps: list[dict[str, Any]],
        mode: str = "apply",
        hosts: Sequence[str] = (H1,),
        **kw: Any,
    ) -> Job:
        body = JobIn.model_validate(
            {"recipe": {"steps": steps}, "hosts": {"ids": list(hosts)}, "mode": mode, **kw}
        )
        job = await self.jobs.submit("tester", body)
        return await self.jobs.wait(job.id)

    def output(self, job_id: str) -> str:
        return "".join(e.text for j, e in self.entries if j == job_id and e.type == "output")


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    opened = await open_store(make_settings(tmp_path), service="servers")
    await opened.ensure_indexes([Job, Recipe, AuditEntry])
    try:
        yield opened
    finally:
        await opened.close()


def build_jobs(
    world_store: Store, redis: Redis, pool: SshPool, directory: Directory, **kw: Any
) -> tuple[Jobs, list[Any]]:
    published: list[Any] = []

    async def publish(event: Any, *, subject: str | None = None, id: str | None = None) -> None:
        published.append((event, id))

    audit = AuditLog(world_store)
    jobs = Jobs(
        world_store,
        redis,
        pool,
        directory,
        Recipes(world_store, audit, KeyVault(secrets.token_bytes(32))),
        audit,
        instance=kw.pop("instance", "instance-a"),
        config=JobsConfig(
            parallelism=4, log_max_bytes=kw.pop("log_max_bytes", 1 << 20), heartbeat_ttl=3
        ),
        publish=publish,
    )
    return jobs, published


@pytest.fixture
async def world(store: Store, meshkit_redis: Redis, sshd: SshHost) -> AsyncIterator[World]:
    pool = SshPool(connect_timeout=5, command_timeout=30, keepalive_interval=2)
    directory = Directory()
    directory.add(H1, sshd, role="web")
    jobs, published = build_jobs(store, meshkit_redis, pool, directory)
    entries: list[tuple[str, LogEntry]] = []

    async def listen(job_id: str, entry: LogEntry) -> None:
        entries.append((job_id, entry))

    jobs.listeners.append(listen)
    await jobs.start()
    try:
        yield World(store, meshkit_redis, pool, directory, jobs.recipes, jobs, published, entries)
    finally:
        await jobs.stop()
        await pool.close()


@pytest.fixture
def scratch(tmp_path: Path) -> Path:
    """A directory the hosts (this machine) write in."""
    path = tmp_path / "remote"
    path.mkdir()
    return path


def statuses(job: Job, host: int = 0) -> list[str]:
    return [s.status for s in job.hosts[host].steps]


# --- idempotence and check mode --------------------------------------------------------


def base_recipe(scratch: Path) -> list[dict[str, Any]]:
    return [
        {"kind": "directory", "path": f"{scratch}/app", "mode": "0750"},
        {
            "kind": "file",
            "path": f"{scratch}/app/config.ini",
            "content": "[main]\nanswer = 42\n",
            "owner": "root",
            "group": "root",
            "mode": "0640",
        },
        {
            "kind": "command",
            "cmd": f"echo built > {scratch}/app/built",
            "creates": f"{scratch}/app/built",
        },
        {
            "kind": "command",
            "cmd": f"echo ran >> {scratch}/count",
            "unless": f"grep -q ran {scratch}/count",
        },
    ]


async def test_a_recipe_applied_twice_changes_nothing_the_second_time(
    world: World, scratch: Path
) -> None:
    first = await world.run(base_recipe(scratch))
    assert first.status == "succeeded", first.hosts
    assert statuses(first) == ["changed", "changed", "changed", "changed"]
    config = scratch / "app" / "config.ini"
    assert config.read_text() == "[main]\nanswer = 42\n"
    assert oct(config.stat().st_mode & 0o7777) == "0o640"
    assert oct((scratch / "app").stat().st_mode & 0o7777) == "0o750"
    before = config.stat().st_mtime_ns

    second = await world.run(base_recipe(scratch))
    assert second.status == "succeeded"
    assert statuses(second) == ["ok", "ok", "skipped", "skipped"]
    assert second.hosts[0].status == "ok"
    assert job_out(second).summary.hosts_changed == 0
    assert config.stat().st_mtime_ns == before
    assert (scratch / "count").read_text() == "ran\n"
    # JobFinished, once per job, with a derived id
    finished = [(e, i) for e, i in world.published if isinstance(e, JobFinished)]
    assert [(e.job_id, e.status, e.changed_hosts) for e, _ in finished] == [
        (first.id, "succeeded", 1),
        (second.id, "succeeded", 0),
    ]
    assert finished[0][1] == f"job-finished:{first.id}"


async def test_check_mode_changes_nothing_and_shows_the_diff(world: World, scratch: Path) -> None:
    existing = scratch / "motd"
    existing.write_text("hello\nold line\n")
    existing.chmod(0o644)
    stamp = existing.stat().st_mtime_ns
    steps = [
        {"kind": "file", "path": str(existing), "content": "hello\nnew line\n", "mode": "0600"},
        {"kind": "file", "path": f"{scratch}/fresh", "content": "brand new\n"},
        {"kind": "directory", "path": f"{scratch}/dir"},
        {"kind": "command", "cmd": f"touch {scratch}/ran"},
        {"kind": "file", "path": f"{scratch}/absent-already", "state": "absent"},
    ]
    job = await world.run(steps, mode="check")
    assert job.status == "succeeded"
    assert statuses(job) == ["changed", "changed", "changed", "changed", "ok"]
    diff = job.hosts[0].steps[0].diff or ""
    assert f"--- a{existing}" in diff
    assert f"+++ b{existing}" in diff
    assert "-old line" in diff
    assert "+new line" in diff
    assert "mode 0644 → 0600" in job.hosts[0].steps[0].message
    assert job.hosts[0].steps[0].message.startswith("would update")
    assert "+brand new" in (job.hosts[0].steps[1].diff or "")
    # nothing at all changed
    assert existing.read_text() == "hello\nold line\n"
    assert existing.stat().st_mtime_ns == stamp
    assert oct(existing.stat().st_mode & 0o777) == "0o644"
    assert sorted(os.listdir(scratch)) == ["motd"]
    # the diff is in the log too
    stored = await world.jobs.log_of(job.id)
    assert any("+new line" in e.text for e in stored.entries if e.type == "step")


async def test_files_get_their_owner_group_and_mode_and_metadata_alone_is_fixed(
    world: World, scratch: Path
) -> None:
    nobody = pwd.getpwnam("nobody")
    target = scratch / "owned"
    steps = [
        {"kind": "file", "path": str(target), "content": "x\n", "owner": "nobody", "mode": "0604"}
    ]
    job = await world.run(steps)
    assert statuses(job) == ["changed"]
    info = target.stat()
    assert (info.st_uid, oct(info.st_mode & 0o777)) == (nobody.pw_uid, "0o604")
    # the content is right, the mode drifted: only the mode is fixed, in place
    target.chmod(0o666)
    inode = target.stat().st_ino
    again = await world.run(steps)
    assert statuses(again) == ["changed"]
    assert "mode 0666 → 0604" in again.hosts[0].steps[0].message
    assert oct(target.stat().st_mode & 0o777) == "0o604"
    assert target.stat().st_ino == inode
    # a content change keeps the owner it had, and is written atomically (new inode)
    changed = await world.run([{"kind": "file", "path": str(target), "content": "y\n"}])
    assert statuses(changed) == ["changed"]
    assert target.read_text() == "y\n"
    assert target.stat().st_uid == nobody.pw_uid
    assert target.stat().st_ino != inode
    assert sorted(os.listdir(scratch)) == ["owned"]  # no temporary file, no backup
    removed = await world.run([{"kind": "file", "path": str(target), "state": "absent"}])
    assert statuses(removed) == ["changed"]
    assert not target.exists()


async def test_command_guards(world: World, scratch: Path) -> None:
    (scratch / "exists").touch()
    steps: list[dict[str, Any]] = [
        {"kind": "command", "cmd": "echo one", "creates": f"{scratch}/exists"},
        {"kind": "command", "cmd": "echo two", "creates": f"{scratch}/missing"},
        {"kind": "command", "cmd": "echo three", "unless": "true"},
        {"kind": "command", "cmd": "echo four", "unless": "false"},
        {"kind": "command", "cmd": "echo five", "only_if": "false"},
        {"kind": "command", "cmd": "echo six", "only_if": "test -e " + str(scratch / "exists")},
        {"kind": "command", "cmd": 'echo "seven $GREETING"', "env": {"GREETING": "it's me; $(id)"}},
    ]
    job = await world.run(steps)
    assert statuses(job) == [
        "skipped",
        "changed",
        "skipped",
        "changed",
        "skipped",
        "changed",
        "changed",
    ]
    output = world.output(job.id)
    assert "two\n" in output
    assert "four\n" in output
    assert "six\n" in output
    assert "one" not in output
    assert "three" not in output
    assert "five" not in output
    assert "seven it's me; $(id)\n" in output  # env values are data, never shell syntax
    assert job.hosts[0].steps[1].output == "two\n"


async def test_a_failing_step_stops_its_host_and_the_rest_are_skipped(world: World) -> None:
    steps = [
        {"kind": "command", "cmd": "echo before"},
        {"kind": "command", "cmd": "echo oops >&2; exit 3"},
        {"kind": "command", "cmd": "echo after"},
    ]
    job = await world.run(steps)
    assert job.status == "failed"
    assert statuses(job) == ["changed", "failed", "skipped"]
    assert "status 3" in job.hosts[0].steps[1].message
    assert job.hosts[0].steps[1].output == "oops\n"
    assert job.hosts[0].error
    assert "step 1" in job.hosts[0].error
    assert "after" not in world.output(job.id)


async def test_user_step_creates_changes_and_removes_a_user(world: World) -> None:
    name = f"mk-test-{secrets.token_hex(3)}"
    try:
        create = [{"kind": "user", "user": name, "shell": "/bin/sh", "groups": ["nogroup"]}]
        checked = await world.run(create, mode="check")
        assert statuses(checked) == ["changed"]
        with pytest.raises(KeyError):
            pwd.getpwnam(name)
        made = await world.run(create)
        assert statuses(made) == ["changed"], made.hosts[0].steps
        assert pwd.getpwnam(name).pw_shell == "/bin/sh"
        assert "nogroup" in [g.gr_name for g in grp.getgrall() if name in g.gr_mem]
        assert statuses(await world.run(create)) == ["ok"]
        reshelled = await world.run([{"kind": "user", "user": name, "shell": "/bin/bash"}])
        assert statuses(reshelled) == ["changed"]
        assert pwd.getpwnam(name).pw_shell == "/bin/bash"
        gone = await world.run(
            [{"kind": "user", "user": name, "state": "absent", "remove_home": True}]
        )
        assert statuses(gone) == ["changed"]
        with pytest.raises(KeyError):
            pwd.getpwnam(name)
        assert statuses(await world.run([{"kind": "user", "user": name, "state": "absent"}])) == [
            "ok"
        ]
    finally:
        cleanup = await asyncio.create_subprocess_exec(
            "userdel",
            "-r",
            name,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        await cleanup.wait()


async def test_package_step_in_check_mode(world: World) -> None:
    steps = [
        {"kind": "package", "names": ["coreutils"]},
        {"kind": "package", "names": ["coreutils", "mk-test-no-such-package"]},
        {"kind": "package", "names": ["mk-test-no-such-package"], "state": "absent"},
        {"kind": "package", "names": ["coreutils"], "state": "absent"},
    ]
    job = await world.run(steps, mode="check")
    assert statuses(job) == ["ok", "changed", "ok", "changed"]
    results = job.hosts[0].steps
    assert results[1].message == "would install mk-test-no-such-package"
    assert results[3].message == "would remove coreutils"
    installed = await world.run([{"kind": "package", "names": ["coreutils"]}], mode="check")
    assert statuses(installed) == ["ok"]  # nothing was removed


async def test_service_step_with_an_init_script(world: World, scratch: Path) -> None:
    name = f"mk-test-{secrets.token_hex(3)}"
    script = Path("/etc/init.d") / name
    state = scratch / "running"
    script.write_text(
        "#!/bin/sh\n"
        f'case "$1" in\n'
        f"  start) touch {state} ;;\n"
        f"  stop) rm -f {state} ;;\n"
        f"  restart) rm -f {state}; touch {state} ;;\n"
        f"  status) test -e {state} ;;\n"
        "  *) exit 3 ;;\n"
        "esac\n"
    )
    script.chmod(0o755)
    try:
        start = [{"kind": "service", "service": name, "state": "started"}]
        assert statuses(await world.run(start, mode="check")) == ["changed"]
        assert not state.exists()
        assert statuses(await world.run(start)) == ["changed"]
        assert state.exists()
        assert statuses(await world.run(start)) == ["ok"]
        stop = [{"kind": "service", "service": name, "state": "stopped"}]
        assert statuses(await world.run(stop)) == ["changed"]
        assert not state.exists()
        enable = await world.run([{"kind": "service", "service": name, "enabled": True}])
        assert statuses(enable) == ["failed"]
        assert "systemd" in enable.hosts[0].steps[0].message
    finally:
        script.unlink()


# --- failures: timeouts, a host lost mid-job, restarts ---------------------------------


async def test_a_hanging_command_times_out(world: World) -> None:
    job = await world.run([{"kind": "command", "cmd": "echo waiting; sleep 60", "time_limit": 1}])
    assert job.status == "failed"
    step = job.hosts[0].steps[0]
    assert step.status == "failed"
    assert "timed out after 1 s" in step.message
    assert "waiting" in world.output(job.id)


async def test_sshd_killed_mid_job_fails_it_with_its_partial_log(
    world: World, make_sshd: Callable[..., SshHost]
) -> None:
    host = make_sshd("127.0.0.12")
    world.directory.add(H2, host)
    body = JobIn.model_validate(
        {
            "recipe": {"steps": [{"kind": "command", "cmd": "echo started; sleep 30; echo done"}]},
            "hosts": {"ids": [H2]},
            "mode": "apply",
        }
    )
    job = await world.jobs.submit("tester", body)

    async def started() -> bool:
        return "started" in world.output(job.id)

    await eventually(started, within=15, what="the command to start")
    host.kill()
    finished = await world.jobs.wait(job.id)
    assert finished.status == "failed"
    step = finished.hosts[0].steps[0]
    assert step.status == "failed"
    assert "connection" in step.message or "closed" in step.message, step.message
    texts = [e.text for e in finished.log]
    assert "started\n" in texts
    assert "done\n" not in texts
    assert finished.log[-1].type == "job"
    assert finished.log[-1].status == "failed"
    # the pool recovers once the host is back
    host.start()
    again = await world.run([{"kind": "command", "cmd": "echo back"}], hosts=[H2])
    assert again.status == "succeeded", again.hosts[0]
    assert world.output(again.id) == "back\n"


async def test_an_unreachable_host_fails_without_stopping_the_others(
    world: World, make_sshd: Callable[..., SshHost]
) -> None:
    host = make_sshd("127.0.0.12")
    world.directory.add(H2, host)
    host.kill()
    job = await world.run([{"kind": "command", "cmd": "echo hi"}], hosts=[H1, H2])
    assert job.status == "failed"
    by_id = {h.host_id: h for h in job.hosts}
    assert by_id[H1].status == "changed"
    assert by_id[H2].status == "failed"
    assert by_id[H2].steps[0].status == "failed"
    assert job_out(job).summary.hosts_failed == 1


async def test_a_job_of_a_dead_instance_is_failed_with_the_reason_at_start(
    store: Store, meshkit_redis: Redis, sshd: SshHost
) -> None:
    now = datetime.now(UTC)
    entry = LogEntry(
        seq=1, at=now, type="output", host_id=H1, step=0, stream="stdout", text="half\n"
    )
    steps = JobIn.model_validate(
        {"recipe": {"steps": [{"kind": "command", "cmd": "true"}]}, "hosts": {"ids": [H1]}}
    ).recipe.steps  # type: ignore[union-attr]

    def stored(instance: str) -> Job:
        return Job(
            recipe="inline",
            steps=steps,
            mode="apply",
            parallelism=1,
            status="running",
            instance=instance,
            created_by="tester",
            created_at=now,
            started_at=now,
            hosts=[
                HostRun(host_id=H1, name="one", status="running"),
                HostRun(host_id=H2, name="two"),
            ],
            log=[entry],
        )

    dead = await store.insert(stored("dead-instance"))
    alive = await store.insert(stored("live-instance"))
    await meshkit_redis.set(heartbeat_key("live-instance"), b"1", ex=60)

    pool = SshPool()
    directory = Directory()
    directory.add(H1, sshd)
    jobs, published = build_jobs(store, meshkit_redis, pool, directory, instance="instance-b")
    await jobs.start()
    try:
        failed = await jobs.get(dead.id)
        assert failed.status == "failed"
        assert failed.reason == STOPPED
        assert [h.status for h in failed.hosts] == ["failed", "cancelled"]
        assert failed.log[0].text == "half\n"  # its partial log
        assert failed.log[-1].text == f"job failed: {STOPPED}"
        assert [(e.job_id, e.status) for e, _ in published] == [(dead.id, "failed")]
        assert (await jobs.get(alive.id)).status == "running"
        # the live stream ends too, so followers stop
        events = [e async for _, e in await jobs.follow(dead.id)]
        assert events[-1]["type"] == "end"
        assert events[-1]["status"] == "failed"
        # once the other instance's heartbeat lapses, its job is failed too
        await meshkit_redis.delete(heartbeat_key("live-instance"))
        assert await jobs.recover() == 1
        assert (await jobs.get(alive.id)).status == "failed"
    finally:
        await jobs.stop()
        await pool.close()


async def test_stopping_an_instance_fails_its_running_jobs(
    world: World, store: Store, meshkit_redis: Redis
) -> None:
    body = JobIn.model_validate(
        {
            "recipe": {"steps": [{"kind": "command", "cmd": "echo going; sleep 30"}]},
            "hosts": {"ids": [H1]},
            "mode": "apply",
        }
    )
    job = await world.jobs.submit("tester", body)

    async def started() -> bool:
        return "going" in world.output(job.id)

    await eventually(started, within=15, what="the command to start")
    await world.jobs.stop()
    stopped = await world.jobs.get(job.id)
    assert stopped.status == "failed"
    assert stopped.reason == STOPPED
    assert "going\n" in [e.text for e in stopped.log]
    assert not await meshkit_redis.exists(heartbeat_key("instance-a"))


async def test_cancel(world: World) -> None:
    body = JobIn.model_validate(
        {
            "recipe": {"steps": [{"kind": "command", "cmd": "echo going; sleep 30"}]},
            "hosts": {"ids": [H1]},
            "mode": "apply",
        }
    )
    job = await world.jobs.submit("tester", body)

    async def started() -> bool:
        return "going" in world.output(job.id)

    await eventually(started, within=15, what="the command to start")
    cancelled = await world.jobs.cancel("tester", job.id)
    assert cancelled.status == "cancelled"
    assert cancelled.hosts[0].status == "cancelled"
    with pytest.raises(JobAlreadyFinished):
        await world.jobs.cancel("tester", job.id)
    assert [e.status for e, _ in world.published if e.job_id == job.id] == ["cancelled"]


async def test_a_cancel_asked_through_redis_reaches_the_runner(world: World) -> None:
    body = JobIn.model_validate(
        {
            "recipe": {"steps": [{"kind": "command", "cmd": "echo going; sleep 30"}]},
            "hosts": {"ids": [H1]},
            "mode": "apply",
        }
    )
    job = await world.jobs.submit("tester", body)
    await world.redis.set(f"meshkit:servers:job:{job.id}:cancel", b"1")
    done = await world.jobs.wait(job.id)
    assert done.status == "cancelled"


# --- many hosts ------------------------------------------------------------------------


async def test_many_hosts_run_in_parallel_within_the_bound(
    world: World, make_sshd: Callable[..., SshHost], scratch: Path
) -> None:
    for number in (12, 13, 14):
        world.directory.add(MORE[number], make_sshd(f"127.0.0.{number}"), role="web")
    hosts = [H1, H12, H13, H14]
    # every host (each its own file, named by the address it was reached on) waits until
    # all four have arrived: only a truly parallel run finishes
    mark = f"{scratch}/$(echo $SSH_CONNECTION | cut -d' ' -f3)"
    barrier = (
        f"touch {mark}; i=0; "
        f"while [ $(ls {scratch} | wc -l) -lt 4 ] && [ $i -lt 200 ]; "
        "do sleep 0.1; i=$((i+1)); done; "
        f"[ $(ls {scratch} | wc -l) -ge 4 ] && echo all-here"
    )
    steps = [{"kind": "command", "cmd": barrier}]
    job = await world.run(steps, hosts=hosts, parallelism=4)
    assert job.status == "succeeded", [h.steps for h in job.hosts]
    assert world.output(job.id).count("all-here") == 4
    summary = job_out(job).summary
    assert (summary.hosts, summary.hosts_changed, summary.steps.changed) == (4, 4, 4)

    # with a bound of 2, at most two hosts are ever running at once
    running, most = 0, 0

    async def count(job_id: str, entry: LogEntry) -> None:
        nonlocal running, most
        if entry.type == "host" and entry.status == "running":
            running += 1
            most = max(most, running)
        elif entry.type == "host":
            running -= 1

    world.jobs.listeners.append(count)
    bounded = await world.run([{"kind": "command", "cmd": "sleep 0.2"}], hosts=hosts, parallelism=2)
    assert bounded.status == "succeeded"
    assert most == 2
    # a label selector picks the hosts too
    labelled = await world.jobs.submit(
        "tester",
        JobIn.model_validate(
            {
                "recipe": {"steps": [{"kind": "command", "cmd": "true"}]},
                "hosts": {"labels": {"role": "web"}},
            }
        ),
    )
    assert sorted(h.host_id for h in labelled.hosts) == sorted(hosts)
    await world.jobs.wait(labelled.id)


# --- secrets ---------------------------------------------------------------------------


async def test_secrets_never_reach_logs_output_or_answers(world: World, scratch: Path) -> None:
    password = "hunter2-" + secrets.token_hex(8)
    token = "tok-" + secrets.token_hex(8)
    steps: list[dict[str, Any]] = [
        {
            "kind": "file",
            "path": f"{scratch}/secret.conf",
            "content": f"password = {password}\n",
            "content_secret": True,
            "mode": "0600",
        },
        {
            "kind": "command",
            "cmd": f'cat {scratch}/secret.conf; echo "$API_TOKEN" >&2',
            "env": {"API_TOKEN": token},
        },
    ]
    checked = await world.run(steps, mode="check")
    job = await world.run(steps)
    assert job.status == "succeeded"
    assert (scratch / "secret.conf").read_text() == f"password = {password}\n"
    assert MASK in (checked.hosts[0].steps[0].diff or "")
    for finished in (checked, job):
        stored = await world.store.get(Job, finished.id)
        assert stored is not None
        shown = job_out(stored).model_dump_json()
        assert password not in shown
        assert token not in shown
        assert password not in json.dumps([e.model_dump(mode="json") for e in stored.log])
        assert token not in json.dumps([e.model_dump(mode="json") for e in stored.log])
        assert all(
            password not in h.model_dump_json() and token not in h.model_dump_json()
            for h in stored.hosts
        )
        raw = await world.redis.xrange(log_key(finished.id))
        assert raw
        assert all(
            password.encode() not in f[b"entry"] and token.encode() not in f[b"entry"]
            for _, f in cast(list[tuple[bytes, dict[bytes, bytes]]], raw)
        )
    assert world.output(job.id).count(MASK) == 2  # the file's content, the token
    # a stored recipe masks them in answers too
    recipe = await world.recipes.create(
        "tester", RecipeIn.model_validate({"name": "secret", "steps": steps})
    )
    answer = recipe_out(recipe).model_dump_json()
    assert password not in answer
    assert token not in answer
    assert MASK in answer


# --- recipes ---------------------------------------------------------------------------


async def test_recipes_are_stored_versioned_and_audited(world: World, scratch: Path) -> None:
    body = RecipeIn.model_validate({"name": "base", "steps": base_recipe(scratch)})
    made = await world.recipes.create("tester", body)
    assert made.revision == 1
    with pytest.raises(RecipeExists):
        await world.recipes.create("tester", body)
    changed = RecipeIn.model_validate(
        {"name": "base", "description": "v2", "steps": base_recipe(scratch)[:1]}
    )
    updated = await world.recipes.update("tester", made.id, changed)
    assert (updated.revision, updated.description, len(updated.steps)) == (2, "v2", 1)
    assert updated.updated_at >= made.updated_at
    job = await world.jobs.submit(
        "tester",
        JobIn.model_validate({"recipe": "base", "hosts": {"ids": [H1]}, "mode": "check"}),
    )
    assert (job.recipe, job.recipe_id, job.recipe_revision) == ("base", made.id, 2)
    await world.jobs.wait(job.id)
    with pytest.raises(RecipeNotFound):
        await world.jobs.submit(
            "tester", JobIn.model_validate({"recipe": "nope", "hosts": {"ids": [H1]}})
        )
    await world.recipes.delete("tester", made.id)
    with pytest.raises(RecipeNotFound):
        await world.recipes.get(made.id)
    audit = await world.store.find(AuditEntry, {})
    actions = [(e.action, e.outcome) for e in audit.items]
    for expected in [
        ("recipes.create", "ok"),
        ("recipes.create", "failed"),
        ("recipes.update", "ok"),
        ("jobs.run", "ok"),
        ("jobs.run", "failed"),
        ("recipes.delete", "ok"),
    ]:
        assert expected in actions


async def test_a_selector_must_select_hosts(world: World) -> None:
    steps = {"steps": [{"kind": "command", "cmd": "true"}]}
    selectors: list[dict[str, Any]] = [{}, {"ids": []}, {"labels": {}}, {"ids": ["h1"]}]
    for selector in selectors:
        with pytest.raises(ValidationError):
            JobIn.model_validate({"recipe": steps, "hosts": selector})
    with pytest.raises(NotFound):  # an unknown id
        await world.jobs.submit(
            "tester", JobIn.model_validate({"recipe": steps, "hosts": {"ids": [new_id()]}})
        )
    # listed hosts that carry all the labels: none here
    with pytest.raises(NoHostsSelected):
        await world.jobs.submit(
            "tester",
            JobIn.model_validate(
                {"recipe": steps, "hosts": {"ids": [H1], "labels": {"role": "db"}}}
            ),
        )
    with pytest.raises(NoHostsSelected):
        await world.jobs.submit(
            "tester", JobIn.model_validate({"recipe": steps, "hosts": {"labels": {"role": "db"}}})
        )


async def test_the_log_stays_bounded(store: Store, meshkit_redis: Redis, sshd: SshHost) -> None:
    pool = SshPool()
    directory = Directory()
    directory.add(H1, sshd)
    jobs, _ = build_jobs(store, meshkit_redis, pool, directory, log_max_bytes=8192)
    await jobs.start()
    try:
        body = JobIn.model_validate(
            {
                "recipe": {"steps": [{"kind": "command", "cmd": "seq 1 5000"}]},
                "hosts": {"ids": [H1]},
                "mode": "apply",
            }
        )
        job = await jobs.wait((await jobs.submit("tester", body)).id)
        assert job.status == "succeeded"
        log = await jobs.log_of(job.id)
        size = sum(len(e.text.encode()) + 64 for e in log.entries)
        assert size <= 8192
        assert log.dropped_bytes > 0
        assert log.entries[-1].type == "job"  # the newest entries are the ones kept
    finally:
        await jobs.stop()
        await pool.close()


# --- the schema refuses bad input --------------------------------------------------------


@pytest.mark.parametrize(
    "step",
    [
        {"kind": "file", "path": "relative/path", "content": "x"},
        {"kind": "file", "path": "/etc/motd", "mode": "999"},
        {"kind": "file", "path": "/etc/motd", "mode": "rw-r--r--"},
        {"kind": "file", "path": "/", "content": "x"},
        {"kind": "file", "path": "/etc/motd", "owner": "root; rm -rf /"},
        {"kind": "file", "path": "/tmp/x\nrm -rf /"},
        {"kind": "user", "user": "Bad$(id)"},
        {"kind": "user", "user": "ok", "shell": "sh"},
        {"kind": "package", "names": ["-o=APT::Get"]},
        {"kind": "package", "names": []},
        {"kind": "service", "service": "../../bin/sh"},
        {"kind": "command", "cmd": ""},
        {"kind": "command", "cmd": "true", "env": {"1BAD": "x"}},
        {"kind": "command", "cmd": "true", "surprise": 1},
        {"kind": "teleport", "to": "mars"},
        {"kind": "command", "cmd": "true", "time_limit": 0},
    ],
)
def test_bad_steps_are_refused(step: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        JobIn.model_validate({"recipe": {"steps": [step]}, "hosts": {"ids": [H1]}})


def test_bad_jobs_are_refused() -> None:
    good = {"recipe": "base", "hosts": {"ids": [H1]}}
    for bad in (
        {**good, "mode": "yolo"},
        {**good, "parallelism": 0},
        {**good, "recipe": "has space"},
        {**good, "hosts": {"ids": [H1], "extra": True}},
        {**good, "recipe": {"steps": []}},
    ):
        with pytest.raises(ValidationError):
            JobIn.model_validate(bad)


async def test_following_a_finished_job_replays_its_stored_log(world: World) -> None:
    job = await world.run([{"kind": "command", "cmd": "echo replayed"}])
    await world.redis.delete(log_key(job.id))  # the live stream expired
    events = [e async for _, e in await world.jobs.follow(job.id)]
    assert any(e.get("text") == "replayed\n" for e in events)
    assert events[-1] == {"type": "end", "status": "succeeded", "text": "succeeded"}
    # resuming after an id gives only what follows it
    seq = next(e["seq"] for e in events if e.get("text") == "replayed\n")
    later = [e async for _, e in await world.jobs.follow(job.id, f"{seq}-0")]
    assert all(e.get("seq", seq + 1) > seq for e in later)
    await asyncio.sleep(0)


# --- review fixes ------------------------------------------------------------------------


async def test_a_live_job_outlives_its_heartbeat_keys_and_fails_once_its_lease_lapses(
    world: World, store: Store, meshkit_redis: Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    body = JobIn.model_validate(
        {
            "recipe": {"steps": [{"kind": "command", "cmd": "echo going; sleep 30"}]},
            "hosts": {"ids": [H1]},
            "mode": "apply",
        }
    )
    job = await world.jobs.submit("tester", body)

    async def started() -> bool:
        return "going" in world.output(job.id)

    await eventually(started, within=15, what="the command to start")
    leased = (await world.jobs.get(job.id)).lease_until
    assert leased is not None
    assert leased > datetime.now(UTC)

    async def no_beat() -> None:
        pass

    # Redis restarted: the heartbeat keys are gone (and, here, stay gone)
    monkeypatch.setattr(world.jobs, "_beat", no_beat)
    await meshkit_redis.delete(heartbeat_key("instance-a"))
    assert not await meshkit_redis.exists(heartbeat_key("instance-a"))
    other, published = build_jobs(store, meshkit_redis, world.pool, world.directory, instance="b")
    assert await other.recover() == 0
    assert (await world.jobs.get(job.id)).status == "running"

    async def renewed() -> bool:
        lease = (await world.jobs.get(job.id)).lease_until
        return lease is not None and lease > leased

    await eventually(renewed, within=15, what="the lease to be renewed")
    assert await other.recover() == 0
    # the instance stops renewing (frozen, as far as the store sees): the lease lapses
    monkeypatch.setattr(world.jobs, "lease", lambda: datetime.now(UTC) - timedelta(seconds=1))

    async def failed() -> bool:
        await other.recover()
        return (await world.jobs.get(job.id)).status == "failed"

    await eventually(failed, within=15, what="the job to be failed by recovery")
    done = await world.jobs.wait(job.id)  # the runner notices and stops, leaving it so
    assert (done.status, done.reason) == ("failed", STOPPED)
    assert [(e.job_id, e.status) for e, _ in published] == [(job.id, "failed")]
    assert not [e for e, _ in world.published if e.job_id == job.id]


async def test_a_queued_job_with_a_lease_is_left_alone_until_it_lapses(
    store: Store, meshkit_redis: Redis, world: World
) -> None:
    steps = JobIn.model_validate(
        {"recipe": {"steps": [{"kind": "command", "cmd": "true"}]}, "hosts": {"ids": [H1]}}
    ).recipe.steps  # type: ignore[union-attr]
    now = datetime.now(UTC)
    orphan = await store.insert(
        Job(
            recipe="inline",
            steps=steps,
            mode="apply",
            parallelism=1,
            instance="gone",
            created_by="tester",
            created_at=now,
            lease_until=now + timedelta(seconds=60),
            hosts=[HostRun(host_id=H1, name="one")],
        )
    )
    assert await world.jobs.recover() == 0
    await store.modify(
        Job, orphan.id, lambda j: j.model_copy(update={"lease_until": now - timedelta(seconds=1)})
    )
    assert await world.jobs.recover() == 1
    assert (await world.jobs.get(orphan.id)).status == "failed"


def secret_steps(scratch: Path, password: str, token: str) -> list[dict[str, Any]]:
    return [
        {
            "kind": "file",
            "name": "secret file",
            "path": f"{scratch}/secret.conf",
            "content": f"password = {password}\n",
            "content_secret": True,
        },
        {
            "kind": "command",
            "cmd": f'echo "$API_TOKEN" > {scratch}/token',
            "env": {"API_TOKEN": token},
        },
    ]


async def test_masked_secrets_keep_their_stored_values_and_are_stored_sealed(
    world: World, scratch: Path
) -> None:
    password, token = "pw-" + secrets.token_hex(8), "tok-" + secrets.token_hex(8)
    steps = secret_steps(scratch, password, token)
    made = await world.recipes.create(
        "tester", RecipeIn.model_validate({"name": "s", "steps": steps})
    )
    stored = await world.store.get(Recipe, made.id)
    assert stored is not None
    at_rest = stored.model_dump_json()
    assert password not in at_rest  # sealed, not in clear
    assert token not in at_rest
    assert sorted(stored.sealed) == ["0/content", "1/env.API_TOKEN"]
    # what a client got back, reordered and edited, goes back with the masks
    shown = [s.model_dump(exclude_none=True) for s in recipe_out(stored).steps]
    assert shown[0]["content"] == MASK
    assert shown[1]["env"]["API_TOKEN"] == MASK
    shown[1]["cmd"] += " && echo edited"
    back = RecipeIn.model_validate({"name": "s", "steps": [shown[1], shown[0]]})
    with pytest.raises(MaskedSecretUnknown) as refused:  # the command moved, has no name
        await world.recipes.update("tester", made.id, back)
    assert refused.value.extensions == {"step": 0, "field": "env.API_TOKEN"}
    shown[1]["name"] = "token"  # named steps are matched by name... once stored by it
    back = RecipeIn.model_validate({"name": "s", "steps": [shown[0], shown[1]]})
    updated = await world.recipes.update("tester", made.id, back)
    assert updated.revision == 2
    back = RecipeIn.model_validate({"name": "s", "steps": [shown[1], shown[0]]})
    updated = await world.recipes.update("tester", made.id, back)  # by name, reordered
    job = await world.jobs.submit(
        "tester", JobIn.model_validate({"recipe": "s", "hosts": {"ids": [H1]}, "mode": "apply"})
    )
    done = await world.jobs.wait(job.id)
    assert done.status == "succeeded", done.hosts[0].steps
    assert (scratch / "secret.conf").read_text() == f"password = {password}\n"
    assert (scratch / "token").read_text() == f"{token}\n"
    job_at_rest = done.model_dump_json()
    assert password not in job_at_rest
    assert token not in job_at_rest
    # a mask where nothing is stored is refused, never written
    with pytest.raises(MaskedSecretUnknown):
        await world.recipes.create(
            "tester", RecipeIn.model_validate({"name": "t", "steps": [shown[0]]})
        )
    with pytest.raises(MaskedSecretUnknown):
        await world.run([shown[0]])
    # a job's steps run again, from its answer: the masks take that job's values
    (scratch / "secret.conf").unlink()
    again = job_out(done).model_dump(mode="json")["steps"]
    rerun = await world.jobs.submit(
        "tester",
        JobIn.model_validate(
            {
                "recipe": {"steps": again, "from_job": done.id},
                "hosts": {"ids": [H1]},
                "mode": "apply",
            }
        ),
    )
    assert (await world.jobs.wait(rerun.id)).status == "succeeded"
    assert (scratch / "secret.conf").read_text() == f"password = {password}\n"
    # the audit log says which failed, without the values
    audit = await world.store.find(AuditEntry, {"action": "recipes.update"})
    assert [e.outcome for e in audit.items] == ["failed", "ok", "ok"]
    assert all(password not in e.model_dump_json() for e in audit.items)


async def test_secrets_split_across_chunks_or_lines_are_scrubbed(world: World) -> None:
    token = "tok-" + secrets.token_hex(12)
    key = "-----BEGIN KEY-----\n" + secrets.token_hex(20) + "\n-----END KEY-----"
    second_line = key.splitlines()[1]
    steps = [
        {
            "kind": "command",
            # a long line (past the line buffer's bound) ending in the token's first
            # half, then its second half a moment later; then a multi-line secret whole,
            # and one line of it alone
            "cmd": "head -c 4090 /dev/zero | tr '\\0' x; "
            'printf %s "$API_TOKEN" | head -c 12; sleep 0.5; '
            'printf %s "$API_TOKEN" | tail -c +13; echo; '
            'printf "%s\\n" "$PRIVATE_KEY"; printf "%s\\n" "$PRIVATE_KEY" | sed -n 2p',
            "env": {"API_TOKEN": token, "PRIVATE_KEY": key},
        }
    ]
    job = await world.run(steps)
    assert job.status == "succeeded", job.hosts[0].steps
    output = world.output(job.id)
    assert output.count("x") == 4090
    stored = await world.store.get(Job, job.id)
    assert stored is not None
    for text in (output, stored.model_dump_json(), job.hosts[0].steps[0].output):
        assert token not in text
        assert token[:12] not in text
        assert token[12:] not in text
        assert second_line not in text
    assert output.count(MASK) >= 3


async def test_the_line_buffer_never_cuts_through_a_secret() -> None:
    secret = "s3cret-" + secrets.token_hex(8)
    other = "line one\nline two"
    pieces: list[str] = []

    async def sink(stream: str, text: str) -> None:
        pieces.append(text)

    def shown() -> str:
        return "".join(scrub(p, [secret, other, *other.splitlines()]) for p in pieces)

    lines = LineBuffer(sink, [secret, other, *other.splitlines()])
    await lines.feed("stdout", "x" * (MAX_CHUNK - 3) + secret[:5])
    await lines.feed("stdout", secret[5:9])
    await lines.feed("stdout", secret[9:] + " and more\n")
    await lines.feed("stdout", "y" * (MAX_CHUNK + 10) + secret[:3])  # past the bound
    await lines.feed("stdout", secret[3:] + "\n")
    await lines.feed("stdout", "no secret: s3c")  # a false start is released once clear
    await lines.feed("stdout", "ret? no\n")
    await lines.feed("stdout", "before " + other[:10])
    await lines.feed("stdout", other[10:] + " after\n")
    await lines.close()
    text = shown()
    for piece in (secret, secret[:9], secret[9:], secret[3:], "line one", "line two"):
        assert piece not in text
    assert text.count(MASK) == 3
    assert "no secret: s3cret? no\n" in text
    assert "".join(pieces).count("x") == MAX_CHUNK - 3


async def test_a_file_replaces_a_link_atomically_and_leaves_its_target_alone(
    world: World, scratch: Path
) -> None:
    target = scratch / "target"
    target.write_text("keep me\n")
    link = scratch / "link"
    link.symlink_to(target)
    job = await world.run([{"kind": "file", "path": str(link), "content": "new\n", "mode": "0640"}])
    assert statuses(job) == ["changed"]
    assert not link.is_symlink()
    assert link.read_text() == "new\n"
    assert oct(link.stat().st_mode & 0o777) == "0o640"
    assert target.read_text() == "keep me\n"
    assert sorted(os.listdir(scratch)) == ["link", "target"]  # no temporary file left
    unknown = await world.run(
        [{"kind": "file", "path": f"{scratch}/x", "content": "x", "owner": "no-such-user"}]
    )
    assert statuses(unknown) == ["failed"]
    assert "no user 'no-such-user'" in unknown.hosts[0].steps[0].message
    assert sorted(os.listdir(scratch)) == ["link", "target"]


async def test_entries_logged_at_once_all_reach_the_live_stream_in_order(
    meshkit_redis: Redis,
) -> None:
    """Hosts log at the same time: every entry reaches the stream (its ids must grow,
    so they are published in the order they were numbered), none is refused."""
    from meshkit.services.servers.jobs.log import JobLog

    job = Job.model_construct(id=new_id(), log=[], log_dropped=0)
    log = JobLog(meshkit_redis, job, max_bytes=1 << 20, secrets=[])
    await asyncio.gather(*(log.add("output", f"line {i}\n", host_id="h") for i in range(200)))
    await log.end("succeeded", None)
    entries = await meshkit_redis.xrange(log_key(job.id))
    assert len(entries) == 201
    seqs = [json.loads(fields[b"entry"])["seq"] for _, fields in entries[:-1]]
    assert seqs == list(range(1, 201))
