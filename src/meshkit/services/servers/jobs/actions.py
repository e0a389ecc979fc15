"""How each provisioning step runs on one host: look, compare, change only what differs.

:func:`run_step` is the one entry point: it takes a step and a :class:`Remote` (the host,
the mode, where live output goes) and returns a :class:`StepOutcome` (``ok`` nothing to
do, ``changed`` done or, in check mode, would be done, ``failed``, ``skipped`` a guard
said no). In check mode only read-only commands run (``stat``, ``dpkg-query``,
``getent``, guards), and SFTP only reads.

Every user value in a command is passed through :func:`shlex.quote` (and was validated
by the step's schema before that).
"""

from __future__ import annotations

import difflib
import hashlib
import shlex
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Literal, cast

import asyncssh

from meshkit.errors import Problem
from meshkit.services.servers.jobs.steps import (
    CommandStep,
    DirectoryStep,
    FileStep,
    PackageStep,
    ServiceStep,
    Step,
    UserStep,
)
from meshkit.services.servers.redact import MASK
from meshkit.services.servers.ssh import CommandResult, SshPool, SshTarget, files

StepStatus = Literal["ok", "changed", "failed", "skipped"]
Emit = Callable[[str, str], Awaitable[None]]
"""``emit(stream, text)``: live output of a step (``stdout``/``stderr``)."""
MAX_DIFF_SOURCE = 1024 * 1024
"""Largest current file read to make a diff, in bytes."""
MAX_OUTPUT = 64 * 1024
"""Most output kept in a step's result (the end of it); the job log has all of it."""
q = shlex.quote


class StepFailed(Exception):
    """A step cannot go on; ``message`` says why (``output`` what the command printed)."""

    def __init__(self, message: str, output: str = "") -> None:
        super().__init__(message)
        self.message, self.output = message, output


@dataclass
class StepOutcome:
    """What a step did (or would do) on one host."""

    status: StepStatus
    message: str
    diff: str | None = None
    output: str = ""


@dataclass
class Remote:
    """One host as a step sees it: commands and SFTP over the pool, in a mode.

    ``emit`` receives the live output of the commands that change things (the step's
    own command, package installs); queries are quiet. ``time_limit`` is the step's (or
    ``None``: the pool's default). ``scrub`` takes the job's secrets out of output kept
    in results (before it is cut to its end, so no piece of a secret is left).
    """

    pool: SshPool
    target: SshTarget
    check: bool
    emit: Emit
    time_limit: float | None = None
    scrub: Callable[[str], str] = str
    _captured: list[str] = field(default_factory=list)

    async def run(
        self, command: str, *, input: str | None = None, live: bool = False
    ) -> CommandResult:
        """Run ``command``; a timeout or a lost connection is :class:`StepFailed`."""

        async def relay(stream: str, text: str) -> None:
            self._captured.append(text)
            await self.emit(stream, text)

        result = await self.pool.run(
            self.target,
            command,
            time_limit=self.time_limit,
            input=input,
            on_output=relay if live else None,
        )
        if result.error is not None:
            raise StepFailed(result.error, result.stdout + result.stderr)
        return result

    async def must(self, command: str, what: str, *, live: bool = False) -> CommandResult:
        """Run ``command``; a non-zero exit is :class:`StepFailed` (``what`` failed)."""
        result = await self.run(command, live=live)
        if not result.ok:
            detail = (result.stderr or result.stdout).strip().splitlines()
            reason = detail[-1] if detail else f"exit status {result.exit_status}"
            raise StepFailed(f"{what} failed: {reason}", result.stdout + result.stderr)
        return result

    def output(self, fallback: str = "") -> str:
        """What the live commands printed (else ``fallback``), scrubbed, the last
        :data:`MAX_OUTPUT` characters."""
        text = "".join(self._captured) or fallback
        return self.scrub(text)[-MAX_OUTPUT:]


async def run_step(step: Step, remote: Remote) -> StepOutcome:
    """Bring the host to what ``step`` says (or, in check mode, say what would change)."""
    try:
        match step:
            case PackageStep():
                outcome = await _package(step, remote)
            case FileStep():
                outcome = await _file(step, remote)
            case DirectoryStep():
                outcome = await _directory(step, remote)
            case UserStep():
                outcome = await _user(step, remote)
            case ServiceStep():
                outcome = await _service(step, remote)
            case CommandStep():
                outcome = await _command(step, remote)
    except StepFailed as exc:
        return StepOutcome("failed", exc.message, output=remote.output(exc.output))
    except Problem as exc:  # could not reach the host (HostUnreachable, HostAuthFailed...)
        return StepOutcome("failed", exc.detail, output=remote.output())
    except (OSError, asyncssh.Error) as exc:
        return StepOutcome("failed", f"{type(exc).__name__}: {exc}", output=remote.output())
    if not outcome.output:
        outcome.output = remote.output()
    return outcome


def _would(remote: Remote, message: str, diff: str | None = None) -> StepOutcome:
    """``changed``: in check mode, what would be done; else what was."""
    prefix = "would " if remote.check else ""
    return StepOutcome("changed", prefix + message, diff)


# --- package ---------------------------------------------------------------------------


async def _package(step: PackageStep, remote: Remote) -> StepOutcome:
    probe = "command -v dpkg-query >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1"
    if not (await remote.run(probe)).ok:
        raise StepFailed("no supported package manager on the host (apt and dpkg are needed)")
    names = " ".join(q(n) for n in step.names)
    listed = await remote.run(f"dpkg-query -W -f='${{Package}} ${{Status}}\\n' -- {names}")
    installed = {
        line.split()[0]
        for line in listed.stdout.splitlines()
        if line.split() and line.split()[-1] == "installed"
    }
    if step.state == "present":
        todo = [n for n in step.names if n not in installed]
        if not todo:
            return StepOutcome("ok", "installed already")
        verb, command = "install", "install -y -q --no-install-recommends"
    else:
        todo = [n for n in step.names if n in installed]
        if not todo:
            return StepOutcome("ok", "not installed")
        verb, command = "remove", "remove -y -q"
    if not remote.check:
        packages = " ".join(q(n) for n in todo)
        await remote.must(
            f"DEBIAN_FRONTEND=noninteractive apt-get {command} {packages}",
            f"apt-get {verb}",
            live=True,
        )
    return _would(remote, f"{verb} {' '.join(todo)}")


# --- files and directories -------------------------------------------------------------


@dataclass(frozen=True)
class _Stat:
    """What a path is on the host now."""

    kind: Literal["missing", "file", "directory", "other"]
    owner: str = ""
    group: str = ""
    mode: int = 0
    sha256: str = ""
    size: int = 0
    uid: int = 0
    gid: int = 0


async def _stat(remote: Remote, path: str) -> _Stat:
    p = q(path)
    script = (
        f"if [ -f {p} ]; then echo file; stat -L -c '%U %G %a %s %u %g' -- {p} && "
        f"sha256sum < {p} | cut -d' ' -f1; "
        f"elif [ -d {p} ]; then echo directory; stat -L -c '%U %G %a 0 %u %g' -- {p}; "
        f"elif [ -e {p} ] || [ -L {p} ]; then echo other; else echo missing; fi"
    )
    result = await remote.run(script)
    lines = result.stdout.split("\n")
    if not result.ok or not lines or lines[0] not in ("file", "directory", "other", "missing"):
        raise StepFailed(f"cannot inspect {path}: {result.stderr.strip() or result.stdout.strip()}")
    kind = lines[0]
    if kind in ("missing", "other"):
        return _Stat(kind)  # type: ignore[arg-type]
    owner, group, mode, size, uid, gid = lines[1].split()
    digest = lines[2].strip() if kind == "file" else ""
    return _Stat(
        kind,  # type: ignore[arg-type]
        owner,
        group,
        int(mode, 8),
        digest,
        int(size),
        int(uid),
        int(gid),
    )


def _metadata_changes(
    now: _Stat | None, owner: str | None, group: str | None, mode: str | None
) -> list[str]:
    """``owner a → b``-style descriptions of what differs (everything, for a new path)."""
    changes = []
    if owner and (now is None or now.owner != owner):
        changes.append(f"owner {now.owner if now else '-'} → {owner}")
    if group and (now is None or now.group != group):
        changes.append(f"group {now.group if now else '-'} → {group}")
    if mode and (now is None or now.mode != int(mode, 8)):
        changes.append(f"mode {format(now.mode, '04o') if now else '-'} → {int(mode, 8):04o}")
    return changes


def _set_metadata(path: str, owner: str | None, group: str | None, mode: str | None) -> str:
    """Commands giving ``path`` this owner, group and mode (the given ones)."""
    p, parts = q(path), []
    if owner:
        parts.append(f"chown {q(owner)} -- {p}")
    if group:
        parts.append(f"chgrp {q(group)} -- {p}")
    if mode:
        parts.append(f"chmod {int(mode, 8):04o} -- {p}")
    return " && ".join(parts)


async def _read_text(remote: Remote, path: str, size: int) -> str | None:
    """The current content of ``path`` as text, or ``None`` when it is too large or binary."""
    if size > MAX_DIFF_SOURCE:
        return None
    async with (
        remote.pool.sftp(remote.target, time_limit=remote.time_limit) as sftp,
        sftp.open(path, "rb") as handle,
    ):
        data: bytes = cast(bytes, await handle.read())
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _diff(path: str, before: str | None, after: str | None) -> str:
    """A unified diff of a file's content (``None``: missing)."""
    old = (before or "").splitlines(keepends=True)
    new = (after or "").splitlines(keepends=True)
    lines = difflib.unified_diff(
        old,
        new,
        fromfile="/dev/null" if before is None else f"a{path}",
        tofile="/dev/null" if after is None else f"b{path}",
    )
    return "".join(
        line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines
    )


async def _file(step: FileStep, remote: Remote) -> StepOutcome:
    now = await _stat(remote, step.path)
    if now.kind in ("directory", "other"):
        raise StepFailed(f"{step.path} exists and is not a regular file")
    if step.state == "absent":
        if now.kind == "missing":
            return StepOutcome("ok", "absent already")
        removed = await _file_diff(step, remote, now, None)
        if not remote.check:
            await remote.must(f"rm -f -- {q(step.path)}", "removing the file")
        return _would(remote, f"remove {step.path}", removed)
    wanted = step.content if step.content is not None else ("" if now.kind == "missing" else None)
    content_changes = wanted is not None and (
        now.kind == "missing" or now.sha256 != hashlib.sha256(wanted.encode()).hexdigest()
    )
    meta = _metadata_changes(
        None if now.kind == "missing" else now, step.owner, step.group, step.mode
    )
    if not content_changes and not meta:
        return StepOutcome("ok", "up to date")
    diff: str | None = None
    if content_changes:
        diff = await _file_diff(step, remote, now, wanted)
    what = ("create" if now.kind == "missing" else "update") if content_changes else "change"
    message = f"{what} {step.path}" + (f" ({', '.join(meta)})" if meta else "")
    if not remote.check:
        if content_changes:
            assert wanted is not None
            await _write_atomically(step, remote, now, wanted)
        else:
            await remote.must(
                _set_metadata(step.path, step.owner, step.group, step.mode), "changing metadata"
            )
    return _would(remote, message, diff)


async def _file_diff(step: FileStep, remote: Remote, now: _Stat, wanted: str | None) -> str:
    if step.content_secret:
        return f"(the content of {step.path} is secret: {MASK})\n"
    before = None
    if now.kind == "file":
        before = await _read_text(remote, step.path, now.size)
        if before is None:
            return f"(the current content of {step.path} is binary or too large to compare)\n"
    return _diff(step.path, before, wanted)


async def _write_atomically(step: FileStep, remote: Remote, now: _Stat, content: str) -> None:
    """Write ``content`` over the path with the wanted (else the current, else default)
    owner, group and mode: :func:`meshkit.services.servers.ssh.files.write_atomic`."""
    try:
        uid, gid = await files.resolve_ids(
            remote.pool, remote.target, step.owner, step.group, time_limit=remote.time_limit
        )
    except files.RemoteError as exc:
        raise StepFailed(str(exc)) from None
    if now.kind == "file":
        uid = now.uid if uid is None else uid
        gid = now.gid if gid is None else gid
    mode = int(step.mode, 8) if step.mode else (now.mode if now.kind == "file" else 0o644)
    wanted = files.Wanted(step.path, content.encode(), mode, uid, gid)
    try:
        async with remote.pool.sftp(remote.target, time_limit=remote.time_limit) as sftp:
            await files.write_atomic(sftp, wanted, keep_previous=False)
    except files.RemoteError as exc:
        raise StepFailed(str(exc)) from None


async def _directory(step: DirectoryStep, remote: Remote) -> StepOutcome:
    now = await _stat(remote, step.path)
    if now.kind in ("file", "other"):
        raise StepFailed(f"{step.path} exists and is not a directory")
    p = q(step.path)
    if step.state == "absent":
        if now.kind == "missing":
            return StepOutcome("ok", "absent already")
        if not remote.check:
            await remote.must(f"rm -rf -- {p}", "removing the directory")
        return _would(remote, f"remove {step.path} and everything in it")
    if now.kind == "missing":
        if not remote.check:
            setup = _set_metadata(step.path, step.owner, step.group, step.mode)
            await remote.must(
                f"mkdir -p -- {p}" + (f" && {setup}" if setup else ""), "creating the directory"
            )
        return _would(remote, f"create {step.path}")
    meta = _metadata_changes(now, step.owner, step.group, step.mode)
    if not meta:
        return StepOutcome("ok", "up to date")
    if not remote.check:
        await remote.must(
            _set_metadata(step.path, step.owner, step.group, step.mode), "changing metadata"
        )
    return _would(remote, f"change {step.path} ({', '.join(meta)})")


# --- users -----------------------------------------------------------------------------


async def _user(step: UserStep, remote: Remote) -> StepOutcome:
    name = q(step.user)
    found = await remote.run(f"getent passwd -- {name}")
    exists = found.ok and found.stdout.strip() != ""
    if step.state == "absent":
        if not exists:
            return StepOutcome("ok", "absent already")
        if not remote.check:
            flag = "-r " if step.remove_home else ""
            await remote.must(f"userdel {flag}-- {name}", "userdel")
        return _would(remote, f"remove user {step.user}")
    if not exists:
        if not remote.check:
            options = ["-m" if step.create_home else "-M"]
            if step.shell:
                options.append(f"-s {q(step.shell)}")
            if step.groups:
                options.append(f"-G {q(','.join(step.groups))}")
            await remote.must(f"useradd {' '.join(options)} -- {name}", "useradd")
        return _would(remote, f"create user {step.user}")
    changes, options = [], []
    shell = found.stdout.strip().split(":")[-1]
    if step.shell and shell != step.shell:
        changes.append(f"shell {shell} → {step.shell}")
        options.append(f"-s {q(step.shell)}")
    if step.groups:
        listed = await remote.must(f"id -nG -- {name}", "listing the groups")
        missing = [g for g in step.groups if g not in listed.stdout.split()]
        if missing:
            changes.append(f"add to {', '.join(missing)}")
            options.append(f"-a -G {q(','.join(missing))}")
    if not changes:
        return StepOutcome("ok", "up to date")
    if not remote.check:
        await remote.must(f"usermod {' '.join(options)} -- {name}", "usermod")
    return _would(remote, f"change user {step.user} ({'; '.join(changes)})")


# --- services --------------------------------------------------------------------------


async def _service(step: ServiceStep, remote: Remote) -> StepOutcome:
    name = q(step.service)
    systemd = (
        await remote.run("[ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1")
    ).ok
    if not systemd and not (await remote.run("command -v service >/dev/null 2>&1")).ok:
        raise StepFailed("neither systemctl (with systemd running) nor service is available")
    if systemd:
        active = (await remote.run(f"systemctl is-active --quiet -- {name}")).ok
    else:
        active = (await remote.run(f"service {name} status >/dev/null 2>&1")).ok
    actions: list[tuple[str, str]] = []  # (description, command)
    control = f"systemctl {{}} -- {name}" if systemd else f"service {name} {{}}"
    if step.state == "started" and not active:
        actions.append(("start", control.format("start")))
    elif step.state == "stopped" and active:
        actions.append(("stop", control.format("stop")))
    elif step.state == "restarted":
        actions.append(("restart", control.format("restart")))
    if step.enabled is not None:
        if not systemd:
            raise StepFailed("enabling or disabling a service needs systemd on the host")
        enabled = (await remote.run(f"systemctl is-enabled --quiet -- {name}")).ok
        if enabled != step.enabled:
            verb = "enable" if step.enabled else "disable"
            actions.append((verb, f"systemctl {verb} -- {name}"))
    if not actions:
        return StepOutcome("ok", "up to date")
    if not remote.check:
        for verb, command in actions:
            await remote.must(command, f"{verb} {step.service}", live=True)
    return _would(remote, f"{' and '.join(v for v, _ in actions)} {step.service}")


# --- commands --------------------------------------------------------------------------


def with_env(command: str, env: dict[str, str]) -> tuple[str, str | None]:
    """``command`` and its standard input such that ``env`` reaches it without being in
    any command line (``ps`` on the host shows none of the values)."""
    if not env:
        return command, None
    assignments = "".join(f"{name}={q(value)}\n" for name, value in env.items())
    wrapped = f'set -a; eval "$(cat)"; set +a; exec /bin/sh -c {q(command)}'
    return wrapped, assignments


async def _command(step: CommandStep, remote: Remote) -> StepOutcome:
    if step.creates and (await remote.run(f"test -e {q(step.creates)}")).ok:
        return StepOutcome("skipped", f"{step.creates} exists")
    if step.unless is not None:
        command, stdin = with_env(step.unless, step.env)
        if (await remote.run(command, input=stdin)).ok:
            return StepOutcome("skipped", "the `unless` command succeeded")
    if step.only_if is not None:
        command, stdin = with_env(step.only_if, step.env)
        if not (await remote.run(command, input=stdin)).ok:
            return StepOutcome("skipped", "the `only_if` command failed")
    if remote.check:
        return _would(remote, "run the command")
    command, stdin = with_env(step.cmd, step.env)
    result = await remote.run(command, input=stdin, live=True)
    if not result.ok:
        return StepOutcome("failed", f"the command exited with status {result.exit_status}")
    return StepOutcome("changed", "ran the command")
