"""Pushing one version to one target: a host (a file over SFTP) or a deployment (env).

Each function answers a :class:`~meshkit.services.servers.configs.models.TargetResult`
and never raises for a failure of the target itself (unreachable host, missing
directory, refused update, a file server that does not finish within the SSH pool's
command time limit): that is the result's ``failed`` outcome with the reason, scrubbed
of every secret value it was given.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Protocol

from meshkit.errors import Problem
from meshkit.services.servers.configs import remote
from meshkit.services.servers.configs.models import ConfigChange, TargetResult
from meshkit.services.servers.configs.render import env_digest, key_changes, unified
from meshkit.services.servers.redact import MASK, scrub
from meshkit.services.servers.ssh import SshPool, SshTarget
from meshkit.tokens import Principal

log = logging.getLogger("meshkit.servers.configs")

TargetOf = Callable[[str], Awaitable[SshTarget]]
"""The SSH target of a host id (``Hosts.target``)."""


class Rollout(Protocol):
    """How a deployment's update ended (a ``DeploymentVersion``): ``status`` is
    ``failed`` (with the ``failure``) when the new version was rolled back."""

    @property
    def status(self) -> str: ...

    @property
    def failure(self) -> str | None: ...


class UpdateEnv(Protocol):
    """Gives a deployment a new environment (``Deployments.update_env``): a rolling
    update, awaited to its end; raises when it could not start (unknown deployment,
    a rollout in progress) or was rolled back. ``secret_names`` are the variables whose
    values the deployment must treat as secrets (masked in its answers, versions and
    audit entries, whatever their names look like)."""

    async def __call__(
        self,
        deployment_id: str,
        env: dict[str, str],
        actor: Principal | str,
        *,
        reason: str,
        secret_names: frozenset[str],
    ) -> Rollout: ...


def failed(target: str, exc: BaseException, secrets: Sequence[str]) -> TargetResult:
    """The result of a target whose push raised ``exc`` (its message scrubbed)."""
    reason = exc.detail if isinstance(exc, Problem) else str(exc) or type(exc).__name__
    return TargetResult(
        target=target,
        outcome="failed",
        sha256=None,
        previous_sha256=None,
        unified=None,
        changes=[],
        error=scrub(reason, secrets),
    )


async def push_file(
    ssh: SshPool,
    target_of: TargetOf,
    host_id: str,
    *,
    path: str,
    data: bytes,
    mode: int,
    owner: str | None,
    group: str | None,
    label: str,
    dry_run: bool,
    secrets: Sequence[str],
) -> TargetResult:
    """Write ``data`` to ``path`` on the host (atomically, previous kept), unless it is
    there already; with ``dry_run`` only compare. ``label`` names the version in diffs."""
    name = f"host:{host_id}"
    try:
        target = await target_of(host_id)
        uid, gid = await remote.resolve_ids(ssh, target, owner, group)
        wanted = remote.Wanted(path, data, mode, uid, gid)
        async with ssh.sftp(target) as sftp:
            found = await remote.read(sftp, path)
            diff = _file_diff(name, label, found, wanted, secrets)
            if wanted.matches(found):
                return _result(name, "unchanged", found, found, diff)
            if dry_run:
                return _result(name, "would-change", found, found, diff)
            await remote.write_atomic(sftp, wanted, found)
            written = await remote.read(sftp, path)
        if written.data != data:
            raise remote.RemoteError(f"{path} does not hold what was written")
        log.info("configuration file %s written on host %s", path, host_id)
        return _result(name, "changed", written, found, diff)
    except Exception as exc:  # one host's failure is its result, not the push's
        log.warning("configuration push to host %s failed: %s", host_id, scrub(str(exc), secrets))
        return failed(name, exc, secrets)


def _file_diff(
    name: str,
    label: str,
    found: remote.RemoteFile,
    wanted: remote.Wanted,
    secrets: Sequence[str],
) -> tuple[str, list[ConfigChange]]:
    old_text = "" if found.data is None else found.data.decode(errors="replace")
    text = unified(old_text, wanted.data.decode(errors="replace"), name, label, secrets)

    def attributes(mode: int | None, uid: int | None, gid: int | None) -> dict[str, str | None]:
        shown = {"mode": None if mode is None else f"{mode:04o}"}
        if wanted.uid is not None:
            shown["owner"] = None if uid is None else str(uid)
        if wanted.gid is not None:
            shown["group"] = None if gid is None else str(gid)
        return shown

    before = attributes(found.mode, found.uid, found.gid) if found.data is not None else {}
    after = attributes(wanted.mode, wanted.uid, wanted.gid)
    changes = key_changes(before, after)
    if found.data is not None and found.data != wanted.data and not text:
        # Only secret values differ: the masked texts are equal, so say that much.
        changes.append(
            ConfigChange(key="content", change="changed", old=MASK, new=MASK, secret=True)
        )
    return text, changes


def _result(
    name: str,
    outcome: str,
    now: remote.RemoteFile,
    before: remote.RemoteFile,
    diff: tuple[str, list[ConfigChange]],
) -> TargetResult:
    return TargetResult.model_validate(
        {
            "target": name,
            "outcome": outcome,
            "sha256": now.sha256,
            "previous_sha256": before.sha256,
            "unified": diff[0],
            "changes": diff[1],
        }
    )


async def push_env(
    update_env: UpdateEnv | None,
    deployment_id: str,
    *,
    env: Mapping[str, str],
    given_secrets: frozenset[str],
    secret_names: Sequence[str],
    live_env: Mapping[str, str] | None,
    live_digest: str | None,
    actor: Principal | str,
    reason: str,
    dry_run: bool,
    secrets: Sequence[str],
) -> TargetResult:
    """Give the deployment ``env`` (a rolling update), unless its live version has it
    already; ``given_secrets`` are the names in ``env`` that are secrets (the deployment
    is told, so it masks them); ``secret_names`` are those the answer's changes mask
    (the live version's too); ``live_env`` is what the last push gave it (``None``:
    never pushed)."""
    name = f"deployment:{deployment_id}"
    digest = env_digest(env)
    changes = key_changes(live_env or {}, env, secret_names)
    result = TargetResult(
        target=name,
        outcome="unchanged",
        sha256=live_digest,
        previous_sha256=live_digest,
        unified=None,
        changes=changes,
    )
    if digest == live_digest:
        return result
    if dry_run:
        return result.model_copy(update={"outcome": "would-change"})
    if update_env is None:
        return result.model_copy(
            update={"outcome": "failed", "error": "deployments are not available here"}
        )
    try:
        rollout = await update_env(
            deployment_id, dict(env), actor, reason=reason, secret_names=given_secrets
        )
        if rollout.status == "failed":
            raise RuntimeError(f"the update was rolled back: {rollout.failure or 'failed'}")
    except Exception as exc:
        why = scrub(str(exc.detail if isinstance(exc, Problem) else exc), secrets)
        log.warning("configuration push to deployment %s failed: %s", deployment_id, why)
        return failed(name, exc, secrets)
    log.info("configuration env given to deployment %s", deployment_id)
    return result.model_copy(update={"outcome": "changed", "sha256": digest})
