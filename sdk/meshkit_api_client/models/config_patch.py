from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.config_patch_env_type_0 import ConfigPatchEnvType0
    from ..models.config_patch_secrets_type_0 import ConfigPatchSecretsType0


T = TypeVar("T", bound="ConfigPatch")


@_attrs_define
class ConfigPatch:
    """A change. ``name`` and ``hosts`` change the document; any of ``content``,
    ``owner``, ``group``, ``mode``, ``env`` and ``secrets`` makes a new version (with
    ``message``) and leaves the others as they were. ``env`` replaces the whole plain
    environment; ``secrets`` is merged: a value sets a secret, ``null`` removes it,
    ``********`` keeps it. Nothing is pushed.

        Attributes:
            content (None | str | Unset):
            env (ConfigPatchEnvType0 | None | Unset):
            group (None | str | Unset):
            hosts (Any | None | Unset):
            message (None | str | Unset):
            mode (None | str | Unset):
            name (None | str | Unset):
            owner (None | str | Unset):
            secrets (ConfigPatchSecretsType0 | None | Unset):
    """

    content: None | str | Unset = UNSET
    env: ConfigPatchEnvType0 | None | Unset = UNSET
    group: None | str | Unset = UNSET
    hosts: Any | None | Unset = UNSET
    message: None | str | Unset = UNSET
    mode: None | str | Unset = UNSET
    name: None | str | Unset = UNSET
    owner: None | str | Unset = UNSET
    secrets: ConfigPatchSecretsType0 | None | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        from ..models.config_patch_env_type_0 import ConfigPatchEnvType0
        from ..models.config_patch_secrets_type_0 import ConfigPatchSecretsType0

        content: None | str | Unset
        if isinstance(self.content, Unset):
            content = UNSET
        else:
            content = self.content

        env: dict[str, Any] | None | Unset
        if isinstance(self.env, Unset):
            env = UNSET
        elif isinstance(self.env, ConfigPatchEnvType0):
            env = self.env.to_dict()
        else:
            env = self.env

        group: None | str | Unset
        if isinstance(self.group, Unset):
            group = UNSET
        else:
            group = self.group

        hosts: Any | None | Unset
        if isinstance(self.hosts, Unset):
            hosts = UNSET
        else:
            hosts = self.hosts

        message: None | str | Unset
        if isinstance(self.message, Unset):
            message = UNSET
        else:
            message = self.message

        mode: None | str | Unset
        if isinstance(self.mode, Unset):
            mode = UNSET
        else:
            mode = self.mode

        name: None | str | Unset
        if isinstance(self.name, Unset):
            name = UNSET
        else:
            name = self.name

        owner: None | str | Unset
        if isinstance(self.owner, Unset):
            owner = UNSET
        else:
            owner = self.owner

        secrets: dict[str, Any] | None | Unset
        if isinstance(self.secrets, Unset):
            secrets = UNSET
        elif isinstance(self.secrets, ConfigPatchSecretsType0):
            secrets = self.secrets.to_dict()
        else:
            secrets = self.secrets

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if content is not UNSET:
            field_dict["content"] = content
        if env is not UNSET:
            field_dict["env"] = env
        if group is not UNSET:
            field_dict["group"] = group
        if hosts is not UNSET:
            field_dict["hosts"] = hosts
        if message is not UNSET:
            field_dict["message"] = message
        if mode is not UNSET:
            field_dict["mode"] = mode
        if name is not UNSET:
            field_dict["name"] = name
        if owner is not UNSET:
            field_dict["owner"] = owner
        if secrets is not UNSET:
            field_dict["secrets"] = secrets

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.config_patch_env_type_0 import ConfigPatchEnvType0
        from ..models.config_patch_secrets_type_0 import ConfigPatchSecretsType0

        d = dict(src_dict)

        def _parse_content(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        content = _parse_content(d.pop("content", UNSET))

        def _parse_env(data: object) -> ConfigPatchEnvType0 | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                env_type_0 = ConfigPatchEnvType0.from_dict(data)

                return env_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(ConfigPatchEnvType0 | None | Unset, data)

        env = _parse_env(d.pop("env", UNSET))

        def _parse_group(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        group = _parse_group(d.pop("group", UNSET))

        def _parse_hosts(data: object) -> Any | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(Any | None | Unset, data)

        hosts = _parse_hosts(d.pop("hosts", UNSET))

        def _parse_message(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        message = _parse_message(d.pop("message", UNSET))

        def _parse_mode(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        mode = _parse_mode(d.pop("mode", UNSET))

        def _parse_name(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        name = _parse_name(d.pop("name", UNSET))

        def _parse_owner(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        owner = _parse_owner(d.pop("owner", UNSET))

        def _parse_secrets(data: object) -> ConfigPatchSecretsType0 | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                secrets_type_0 = ConfigPatchSecretsType0.from_dict(data)

                return secrets_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(ConfigPatchSecretsType0 | None | Unset, data)

        secrets = _parse_secrets(d.pop("secrets", UNSET))

        config_patch = cls(
            content=content,
            env=env,
            group=group,
            hosts=hosts,
            message=message,
            mode=mode,
            name=name,
            owner=owner,
            secrets=secrets,
        )

        return config_patch
