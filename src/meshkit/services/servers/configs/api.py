"""Configuration management over REST (thin: parse, call :class:`Configs`, answer).

Paths (``servers:configs.read`` to read, ``servers:configs.manage`` for the rest)::

    POST   /v1/servers/configs                               create (version 1)
    GET    /v1/servers/configs                               list (?after, kind, limit)
    GET    /v1/servers/configs/{config_id}                   one, with its latest version
    PATCH  /v1/servers/configs/{config_id}                   rename, retarget, new version
    DELETE /v1/servers/configs/{config_id}                   delete (hosts are left alone)
    GET    /v1/servers/configs/{config_id}/versions          versions, newest first
    GET    /v1/servers/configs/{config_id}/versions/{number} one version
    GET    /v1/servers/configs/{config_id}/diff?from=&to=    diff between two versions
    POST   /v1/servers/configs/{config_id}/push              push a version (or dry run)
    POST   /v1/servers/configs/{config_id}/rollback          new version from an old one, pushed

A push or rollback while another of the same configuration runs (on any instance) is
409 ``config-busy``.
"""

from __future__ import annotations

from meshkit import Service, delete, get, patch, post
from meshkit.services.servers.configs.configs import Configs
from meshkit.services.servers.configs.models import (
    Config,
    ConfigIn,
    ConfigOut,
    ConfigPatch,
    ConfigQuery,
    ConfigRollbackIn,
    ConfigVersion,
    ConfigVersionOut,
    DiffOut,
    DiffQuery,
    LiveOut,
    PushIn,
    PushOut,
    VersionNumber,
    VersionQuery,
)
from meshkit.services.servers.configs.render import masked
from meshkit.services.servers.permissions import CONFIGS_MANAGE, CONFIGS_READ
from meshkit.services.servers.types import Id
from meshkit.tokens import Principal

TAGS = ("servers",)
BASE = "/v1/servers/configs"
ONE = BASE + "/{config_id}"


def config_out(config: Config, version: ConfigVersion) -> ConfigOut:
    """The API shape of a configuration with its latest version (secrets masked)."""
    hosts = None
    if config.kind == "file":
        hosts = {"ids": config.host_ids, "labels": config.labels}
        hosts = {k: v for k, v in hosts.items() if v is not None}
    return ConfigOut(
        id=config.id,
        name=config.name,
        kind=config.kind,
        path=config.path,
        hosts=hosts,
        deployment_id=config.deployment_id,
        latest=version.number,
        owner=version.owner,
        group=version.group,
        mode=version.mode,
        content=version.content,
        env=version.env if config.kind == "env" else None,
        secrets=masked(version.sealed),
        created_at=config.created_at,
        created_by=config.created_by,
        updated_at=config.updated_at,
        live=[LiveOut(target=target, **live.model_dump()) for target, live in config.live.items()],
    )


def version_out(version: ConfigVersion) -> ConfigVersionOut:
    """The API shape of a version (secrets masked)."""
    return ConfigVersionOut(
        config_id=version.config_id,
        number=version.number,
        author=version.author,
        created_at=version.created_at,
        message=version.message,
        sha256=version.sha256,
        rollback_of=version.rollback_of,
        content=version.content,
        owner=version.owner,
        group=version.group,
        mode=version.mode,
        env=version.env if version.content is None else None,
        secrets=masked(version.sealed),
    )


class ConfigsApi(Service):
    """Route handlers of configuration management; the service builds :attr:`configs`
    in its lifespan."""

    configs: Configs

    @post(BASE, status=201, tags=TAGS, errors=(401, 403, 409), permission=CONFIGS_MANAGE)
    async def create_config(self, principal: Principal, body: ConfigIn) -> ConfigOut:
        """Create a configuration (version 1): a `file` for a group of hosts, or the `env`
        of a deployment. Nothing is pushed. 409 `config-name-taken`; 422
        `config-invalid` for a `{{ secret:NAME }}` without its secret."""
        return config_out(*await self.configs.create(principal, body.root))

    @get(BASE, tags=TAGS, errors=(401, 403), permission=CONFIGS_READ)
    async def list_configs(self, principal: Principal, query: ConfigQuery) -> list[ConfigOut]:
        """A page of configurations, oldest first (secrets masked)."""
        return [config_out(*found) for found in await self.configs.list_configs(query)]

    @get(ONE, tags=TAGS, errors=(401, 403, 404), permission=CONFIGS_READ)
    async def get_config(self, principal: Principal, config_id: Id) -> ConfigOut:
        """One configuration with its latest version and what is live where."""
        return config_out(*await self.configs.get(config_id))

    @patch(ONE, tags=TAGS, errors=(401, 403, 404, 409), permission=CONFIGS_MANAGE)
    async def patch_config(
        self, principal: Principal, config_id: Id, body: ConfigPatch
    ) -> ConfigOut:
        """Rename or retarget it, and/or make a new version (when the content, a file
        attribute, the environment or a secret changes). Nothing is pushed."""
        return config_out(*await self.configs.update(principal, config_id, body))

    @delete(ONE, status=204, tags=TAGS, errors=(401, 403, 404), permission=CONFIGS_MANAGE)
    async def delete_config(self, principal: Principal, config_id: Id) -> None:
        """Delete a configuration and its history; files on hosts are left as they are."""
        await self.configs.delete(principal, config_id)

    @get(ONE + "/versions", tags=TAGS, errors=(401, 403, 404), permission=CONFIGS_READ)
    async def list_config_versions(
        self, principal: Principal, config_id: Id, query: VersionQuery
    ) -> list[ConfigVersionOut]:
        """Versions, newest first: number, author, time, message, SHA-256, content."""
        return [version_out(v) for v in await self.configs.versions(config_id, query)]

    @get(ONE + "/versions/{number}", tags=TAGS, errors=(401, 403, 404), permission=CONFIGS_READ)
    async def get_config_version(
        self, principal: Principal, config_id: Id, number: VersionNumber
    ) -> ConfigVersionOut:
        """One version; 404 `config-version-not-found` (with `latest`) if none such."""
        return version_out(await self.configs.version(config_id, number))

    @get(ONE + "/diff", tags=TAGS, errors=(401, 403, 404), permission=CONFIGS_READ)
    async def diff_config(self, principal: Principal, config_id: Id, query: DiffQuery) -> DiffOut:
        """What changed between two versions: a unified diff of a file's text plus its
        attributes, or the variables added, removed and changed (secrets masked)."""
        return await self.configs.diff(config_id, query.from_, query.to)

    @post(ONE + "/push", tags=TAGS, errors=(401, 403, 404, 409, 503), permission=CONFIGS_MANAGE)
    async def push_config(self, principal: Principal, config_id: Id, body: PushIn) -> PushOut:
        """Push a version (default: the latest) to every host of the group (atomic write,
        previous file kept as `<path>.meshkit-prev`) or to the deployment (a rolling
        update); `dry_run` answers what would change and writes nothing. A target that
        fails is reported in `targets`, the others are pushed all the same. 409
        `config-busy` while another push or rollback of it runs (a dry run is never
        busy)."""
        return await self.configs.push(principal, config_id, body)

    @post(ONE + "/rollback", tags=TAGS, errors=(401, 403, 404, 409, 503), permission=CONFIGS_MANAGE)
    async def rollback_config(
        self, principal: Principal, config_id: Id, body: ConfigRollbackIn
    ) -> PushOut:
        """Make a new version with an earlier version's content (history stays linear)
        and push it, as `push` does; 409 `config-busy` (and no new version) while
        another push or rollback of it runs."""
        return await self.configs.rollback(principal, config_id, body)
