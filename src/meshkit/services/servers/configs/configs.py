"""The one core of configuration management: REST (and any later adapter) calls :class:`Configs`.

Each operation stores, pushes and records itself in the audit log (``configs.create``,
``configs.update``, ``configs.delete``, ``configs.push``, ``configs.rollback``; outcome
``failed`` when it raised, or when a push failed on some target). Versions are
immutable and numbered from 1 without gaps; a rollback makes a new version with an old
one's content, so history stays linear. A push (not a dry run) or rollback holds the
configuration's push lock, shared by every instance (:mod:`.lock`): while one runs,
another is refused with 409 ``config-busy``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

from redis.asyncio import Redis

from meshkit.services.servers.audit import AuditLog, AuditNote, actor_of
from meshkit.services.servers.configs.drafts import (
    Draft,
    attributes,
    changed,
    check,
    merge_secrets,
    names_of,
    no_overlap,
    with_env,
)
from meshkit.services.servers.configs.lock import PushLocks
from meshkit.services.servers.configs.models import (
    Config,
    ConfigPatch,
    ConfigQuery,
    ConfigRollbackIn,
    ConfigVersion,
    DiffOut,
    EnvConfigIn,
    FileConfigIn,
    Live,
    PushIn,
    PushOut,
    TargetResult,
    VersionQuery,
)
from meshkit.services.servers.configs.push import TargetOf, UpdateEnv, push_env, push_file
from meshkit.services.servers.configs.render import (
    env_digest,
    key_changes,
    render,
    sha256_hex,
    unified,
)
from meshkit.services.servers.errors import (
    ConfigInvalid,
    ConfigNameTaken,
    ConfigNotFound,
    ConfigTargetUnavailable,
    ConfigVersionNotFound,
)
from meshkit.services.servers.ssh import SshPool
from meshkit.services.servers.types import Actor, Vault
from meshkit.store import Asc, Desc, DuplicateKey, StaleVersion, Store, new_id

CHANGES_CONTENT = ("content", "owner", "group", "mode", "env", "secrets")


class HostRef(Protocol):
    """What configuration management needs of a host: its id."""

    @property
    def id(self) -> str: ...


SelectHosts = Callable[[list[str] | None, dict[str, str] | None], Awaitable[Sequence[HostRef]]]
"""The hosts of a group: listed ids and/or labels (``Hosts.select``)."""


def utcnow() -> datetime:
    return datetime.now(UTC)


class Configs:
    """Configuration documents, their versions, diffs, pushes and rollbacks.

    ``ssh``, ``select_hosts`` and ``target_of`` reach hosts (file configurations);
    ``update_env`` reaches deployments (env configurations). A push to a kind whose
    collaborators are missing fails with ``config-target-unavailable``. ``redis`` holds
    the push locks (shared by every instance).
    """

    def __init__(
        self,
        store: Store,
        audit: AuditLog,
        box: Vault,
        *,
        redis: Redis,
        ssh: SshPool | None = None,
        select_hosts: SelectHosts | None = None,
        target_of: TargetOf | None = None,
        update_env: UpdateEnv | None = None,
        parallelism: int = 25,
    ) -> None:
        self.store = store
        self.audit = audit
        self.box = box
        self.ssh = ssh
        self.select_hosts = select_hosts
        self.target_of = target_of
        self.update_env = update_env
        self.parallelism = parallelism
        self.locks = PushLocks(redis)

    # --- documents ---

    async def create(
        self, actor: Actor, body: FileConfigIn | EnvConfigIn
    ) -> tuple[Config, ConfigVersion]:
        """Store a new configuration and its version 1 (nothing is pushed)."""
        config_id = new_id()
        detail: dict[str, Any] = {"name": body.name, "kind": body.kind}
        async with self.audit.audited(actor, "configs.create", _target(config_id), detail) as note:
            detail = note.detail
            now = utcnow()
            fields: dict[str, Any] = {"id": config_id, "name": body.name, "kind": body.kind}
            if isinstance(body, FileConfigIn):
                hosts = body.hosts.model_dump(exclude_none=True)
                fields |= {"path": body.path, "host_ids": body.hosts.ids}
                fields["labels"] = body.hosts.labels
                detail |= {"path": body.path, "hosts": hosts}
                secrets = merge_secrets({}, dict(body.secrets), keep_allowed=False)
                draft = Draft(body.content, body.owner, body.group, body.mode, {}, secrets)
            else:
                no_overlap(body.env, body.secrets)
                fields["deployment_id"] = detail["deployment_id"] = body.deployment_id
                draft = with_env(Draft(), body.env, dict(body.secrets), keep_allowed=False)
            check(body.kind, draft)
            config = Config(**fields, created_at=now, created_by=actor_of(actor), updated_at=now)
            try:
                config = await self.store.insert(config)
            except DuplicateKey:
                raise ConfigNameTaken(f"a configuration is named {body.name!r} already") from None
            try:
                version = await self._add_version(config, draft, actor, body.message)
            except BaseException:
                await self.store.delete(Config, config.id)
                raise
            detail["version"] = version.number
            return config, version

    async def get(self, config_id: str) -> tuple[Config, ConfigVersion]:
        """A configuration and its latest version."""
        config = await self._config(config_id)
        return config, await self._latest(config.id)

    async def list_configs(self, query: ConfigQuery) -> list[tuple[Config, ConfigVersion]]:
        """A page of configurations, oldest first, each with its latest version."""
        where: dict[str, Any] = {}
        if query.after:
            where["id"] = {"$gt": query.after}
        if query.kind:
            where["kind"] = query.kind
        page = await self.store.find(Config, where, sort=[Asc("id")], limit=query.limit)
        return [(config, await self._latest(config.id)) for config in page.items]

    async def update(
        self, actor: Actor, config_id: str, patch: ConfigPatch
    ) -> tuple[Config, ConfigVersion]:
        """Rename, retarget, and/or make a new version (when the content changes)."""
        given = {name for name in patch.model_fields_set if getattr(patch, name) is not None}
        detail: dict[str, Any] = {"fields": sorted(given - {"message"})}
        async with self.audit.audited(actor, "configs.update", _target(config_id), detail) as note:
            detail = note.detail
            config = await self._config(config_id)
            wrong = given & ({"env"} if config.kind == "file" else {"hosts", *CHANGES_CONTENT[:4]})
            if wrong:
                raise ConfigInvalid(
                    f"{', '.join(sorted(wrong))}: not fields of a {config.kind} configuration",
                    extensions={"fields": sorted(wrong)},
                )
            if patch.name is not None or patch.hosts is not None:
                config = await self._retarget(config, patch)
            latest = await self._latest(config.id)
            if given & set(CHANGES_CONTENT):
                current = self._draft(latest)
                draft = changed(current, patch)
                check(config.kind, draft)
                if draft != current:
                    latest = await self._add_version(
                        config, draft, actor, patch.message or "changed"
                    )
                    config = await self._config(config.id)
            detail["version"] = latest.number
            return config, latest

    async def delete(self, actor: Actor, config_id: str) -> None:
        """Delete a configuration and its versions; files on hosts stay as they are."""
        async with self.audit.audited(actor, "configs.delete", _target(config_id)) as note:
            config = await self._config(config_id)
            note.detail["name"] = config.name
            async for version in self.store.scan(ConfigVersion, {"config_id": config.id}):
                await self.store.delete(ConfigVersion, version.id)
            await self.store.delete(Config, config.id)

    # --- versions ---

    async def versions(self, config_id: str, query: VersionQuery) -> list[ConfigVersion]:
        """A page of versions, newest first."""
        config = await self._config(config_id)
        where: dict[str, Any] = {"config_id": config.id}
        if query.before is not None:
            where["number"] = {"$lt": query.before}
        page = await self.store.find(ConfigVersion, where, sort=[Desc("number")], limit=query.limit)
        return page.items

    async def version(self, config_id: str, number: int) -> ConfigVersion:
        """One version; ``config-version-not-found`` when there is none such."""
        config = await self._config(config_id)
        return await self._version(config, number)

    async def diff(self, config_id: str, old: int, new: int) -> DiffOut:
        """What changed from version ``old`` to ``new`` (secrets masked)."""
        config = await self._config(config_id)
        a = self._draft(await self._version(config, old))
        b = self._draft(await self._version(config, new))
        known = await self._known_secrets(config.id)
        if config.kind == "env":
            names = a.secrets.keys() | b.secrets.keys()
            changes = key_changes({**a.env, **a.secrets}, {**b.env, **b.secrets}, names)
            return DiffOut(from_=old, to=new, unified=None, changes=changes)
        text = unified(a.content or "", b.content or "", f"version {old}", f"version {new}", known)
        changes = key_changes(
            attributes(a), attributes(b), {f"secrets.{n}" for n in names_of(a, b)}
        )
        return DiffOut(from_=old, to=new, unified=text, changes=changes)

    # --- pushing ---

    async def push(self, actor: Actor, config_id: str, body: PushIn) -> PushOut:
        """Push a version (default: the latest) to every target, or with ``dry_run``
        compare each target with it; per-target outcomes, failures included. A push
        holds the configuration's push lock (409 ``config-busy`` while another push or
        rollback of it runs anywhere); a dry run writes nothing and takes no lock."""
        detail: dict[str, Any] = {"version": body.version, "dry_run": body.dry_run}
        async with self.audit.audited(actor, "configs.push", _target(config_id), detail) as note:
            held = contextlib.nullcontext() if body.dry_run else self.locks.hold(config_id)
            async with held:
                return await self._pushed(actor, note, config_id, body)

    async def rollback(self, actor: Actor, config_id: str, body: ConfigRollbackIn) -> PushOut:
        """Make a new version with version ``body.version``'s content, and push it; the
        push lock is held from before the version is made to the push's end."""
        target = _target(config_id)
        async with contextlib.AsyncExitStack() as locked:
            detail: dict[str, Any] = {"to": body.version}
            async with self.audit.audited(actor, "configs.rollback", target, detail) as note:
                await locked.enter_async_context(self.locks.hold(config_id))
                config = await self._config(config_id)
                source = await self._version(config, body.version)
                message = body.message or f"rollback to version {source.number}"
                made = await self._add_version(
                    config, self._draft(source), actor, message, rollback_of=source.number
                )
                note.detail["version"] = made.number
            push = PushIn(version=made.number)
            detail = {"version": made.number, "dry_run": False}
            async with self.audit.audited(actor, "configs.push", target, detail) as note:
                pushed = await self._pushed(actor, note, config_id, push)
        return pushed

    async def _pushed(self, actor: Actor, note: AuditNote, config_id: str, body: PushIn) -> PushOut:
        """The push itself, the lock held (or a dry run); ``note`` is its audit entry."""
        config = await self._config(config_id)
        version = await self._version(config, body.version or config.latest)
        note.detail["version"] = version.number
        results = await self._push(actor, config, version, body.dry_run)
        note.detail["targets"] = {r.target: r.outcome for r in results}
        failed = sum(r.outcome == "failed" for r in results)
        note.failed = failed > 0
        return PushOut(
            config_id=config.id,
            version=version.number,
            dry_run=body.dry_run,
            rollback_of=version.rollback_of,
            targets=results,
            changed=sum(r.outcome in ("changed", "would-change") for r in results),
            failed=failed,
        )

    async def _push(
        self, actor: Actor, config: Config, version: ConfigVersion, dry_run: bool
    ) -> list[TargetResult]:
        draft = self._draft(version)
        known = await self._known_secrets(config.id)
        if config.kind == "file":
            results = await self._push_files(config, version, draft, dry_run, known)
        else:
            results = [await self._push_env(actor, config, version, draft, dry_run, known)]
        if not dry_run:
            await self._record_live(config.id, version.number, results, actor)
        return results

    async def _push_files(
        self,
        config: Config,
        version: ConfigVersion,
        draft: Draft,
        dry_run: bool,
        known: list[str],
    ) -> list[TargetResult]:
        if self.ssh is None or self.select_hosts is None or self.target_of is None:
            raise ConfigTargetUnavailable("hosts are not available to this service")
        ssh, target_of = self.ssh, self.target_of
        assert draft.content is not None
        hosts = await self.select_hosts(config.host_ids, config.labels)
        data = render(draft.content, draft.secrets)
        slots = asyncio.Semaphore(self.parallelism)

        async def one(host_id: str) -> TargetResult:
            async with slots:
                return await push_file(
                    ssh,
                    target_of,
                    host_id,
                    path=config.path or "",
                    data=data,
                    mode=int(draft.mode or "644", 8),
                    owner=draft.owner,
                    group=draft.group,
                    label=f"version {version.number}",
                    dry_run=dry_run,
                    secrets=known,
                )

        return list(await asyncio.gather(*(one(host.id) for host in hosts)))

    async def _push_env(
        self,
        actor: Actor,
        config: Config,
        version: ConfigVersion,
        draft: Draft,
        dry_run: bool,
        known: list[str],
    ) -> TargetResult:
        assert config.deployment_id is not None
        live = config.live.get(f"deployment:{config.deployment_id}")
        live_env: dict[str, str] | None = None
        secret_names = set(draft.secrets)
        if live is not None:
            pushed = await self._find_version(config.id, live.version)
            if pushed is not None:
                before = self._draft(pushed)
                live_env = {**before.env, **before.secrets}
                secret_names |= set(before.secrets)
        return await push_env(
            self.update_env,
            config.deployment_id,
            env={**draft.env, **draft.secrets},
            given_secrets=frozenset(draft.secrets),
            secret_names=sorted(secret_names),
            live_env=live_env,
            live_digest=live.sha256 if live is not None else None,
            actor=actor,
            reason=f"configuration {config.name} version {version.number}",
            dry_run=dry_run,
            secrets=known,
        )

    async def _record_live(
        self, config_id: str, number: int, results: list[TargetResult], actor: Actor
    ) -> None:
        now, by = utcnow(), actor_of(actor)
        landed = {
            r.target: Live(version=number, sha256=r.sha256 or "", pushed_at=now, pushed_by=by)
            for r in results
            if r.outcome in ("changed", "unchanged")
        }
        if landed:
            await self.store.modify(
                Config, config_id, lambda c: c.model_copy(update={"live": {**c.live, **landed}})
            )

    # --- internals ---

    async def _config(self, config_id: str) -> Config:
        found = await self.store.get(Config, config_id)
        if found is None:
            raise ConfigNotFound(f"no configuration with id {config_id!r}")
        return found

    async def _find_version(self, config_id: str, number: int) -> ConfigVersion | None:
        page = await self.store.find(
            ConfigVersion, {"config_id": config_id, "number": number}, limit=1
        )
        return page.items[0] if page.items else None

    async def _version(self, config: Config, number: int) -> ConfigVersion:
        found = await self._find_version(config.id, number)
        if found is None:
            raise ConfigVersionNotFound(
                f"configuration {config.name!r} has no version {number}",
                extensions={"latest": config.latest},
            )
        return found

    async def _latest(self, config_id: str) -> ConfigVersion:
        page = await self.store.find(
            ConfigVersion, {"config_id": config_id}, sort=[Desc("number")], limit=1
        )
        if not page.items:
            raise ConfigNotFound(f"configuration {config_id!r} has no version")
        return page.items[0]

    async def _retarget(self, config: Config, patch: ConfigPatch) -> Config:
        change: dict[str, Any] = {"updated_at": utcnow()}
        if patch.name is not None:
            change["name"] = patch.name
        if patch.hosts is not None:
            change["host_ids"] = patch.hosts.ids
            change["labels"] = patch.hosts.labels
        try:
            return await self.store.modify(Config, config.id, lambda c: c.model_copy(update=change))
        except DuplicateKey:
            raise ConfigNameTaken(f"a configuration is named {patch.name!r} already") from None

    async def _add_version(
        self,
        config: Config,
        draft: Draft,
        actor: Actor,
        message: str,
        *,
        rollback_of: int | None = None,
    ) -> ConfigVersion:
        latest = await self.store.find(
            ConfigVersion, {"config_id": config.id}, sort=[Desc("number")], limit=1
        )
        number = latest.items[0].number + 1 if latest.items else 1
        if config.kind == "file":
            digest = sha256_hex(render(draft.content or "", draft.secrets))
        else:
            digest = env_digest({**draft.env, **draft.secrets})
        version = ConfigVersion(
            config_id=config.id,
            number=number,
            author=actor_of(actor),
            created_at=utcnow(),
            message=message,
            sha256=digest,
            rollback_of=rollback_of,
            content=draft.content,
            owner=draft.owner,
            group=draft.group,
            mode=draft.mode,
            env=draft.env,
            sealed={k: self.box.seal(v, _context(config.id, k)) for k, v in draft.secrets.items()},
        )
        try:
            version = await self.store.insert(version)
        except DuplicateKey:
            raise StaleVersion(
                f"configuration {config.name!r} got version {number} from another change "
                "at the same time; try again"
            ) from None
        await self.store.modify(
            Config,
            config.id,
            lambda c: c.model_copy(
                update={"latest": max(c.latest, number), "updated_at": utcnow()}
            ),
        )
        return version

    def _draft(self, version: ConfigVersion) -> Draft:
        secrets = {
            name: self.box.open(sealed, _context(version.config_id, name))
            for name, sealed in version.sealed.items()
        }
        return Draft(
            version.content, version.owner, version.group, version.mode, dict(version.env), secrets
        )

    async def _known_secrets(self, config_id: str) -> list[str]:
        """Every secret value any version of the configuration ever had (to scrub)."""
        values: set[str] = set()
        async for version in self.store.scan(ConfigVersion, {"config_id": config_id}):
            values |= set(self._draft(version).secrets.values())
        return sorted(values)


def _target(config_id: str) -> str:
    return f"config:{config_id}"


def _context(config_id: str, name: str) -> str:
    return f"config:{config_id}/secret:{name}"
