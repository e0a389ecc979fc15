from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.config_version_out_env_type_0 import ConfigVersionOutEnvType0
    from ..models.config_version_out_secrets import ConfigVersionOutSecrets


T = TypeVar("T", bound="ConfigVersionOut")


@_attrs_define
class ConfigVersionOut:
    """One version (secrets masked).

    Attributes:
        author (str):
        config_id (str):
        content (None | str):
        created_at (datetime.datetime):
        env (ConfigVersionOutEnvType0 | None):
        group (None | str):
        message (str):
        mode (None | str):
        number (int):
        owner (None | str):
        rollback_of (int | None): The version this one restores, if any.
        secrets (ConfigVersionOutSecrets):
        sha256 (str):
    """

    author: str
    config_id: str
    content: None | str
    created_at: datetime.datetime
    env: ConfigVersionOutEnvType0 | None
    group: None | str
    message: str
    mode: None | str
    number: int
    owner: None | str
    rollback_of: int | None
    secrets: ConfigVersionOutSecrets
    sha256: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.config_version_out_env_type_0 import ConfigVersionOutEnvType0

        author = self.author

        config_id = self.config_id

        content: None | str
        content = self.content

        created_at = self.created_at.isoformat()

        env: dict[str, Any] | None
        if isinstance(self.env, ConfigVersionOutEnvType0):
            env = self.env.to_dict()
        else:
            env = self.env

        group: None | str
        group = self.group

        message = self.message

        mode: None | str
        mode = self.mode

        number = self.number

        owner: None | str
        owner = self.owner

        rollback_of: int | None
        rollback_of = self.rollback_of

        secrets = self.secrets.to_dict()

        sha256 = self.sha256

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "author": author,
                "config_id": config_id,
                "content": content,
                "created_at": created_at,
                "env": env,
                "group": group,
                "message": message,
                "mode": mode,
                "number": number,
                "owner": owner,
                "rollback_of": rollback_of,
                "secrets": secrets,
                "sha256": sha256,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.config_version_out_env_type_0 import ConfigVersionOutEnvType0
        from ..models.config_version_out_secrets import ConfigVersionOutSecrets

        d = dict(src_dict)
        author = d.pop("author")

        config_id = d.pop("config_id")

        def _parse_content(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        content = _parse_content(d.pop("content"))

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        def _parse_env(data: object) -> ConfigVersionOutEnvType0 | None:
            if data is None:
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                env_type_0 = ConfigVersionOutEnvType0.from_dict(data)

                return env_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(ConfigVersionOutEnvType0 | None, data)

        env = _parse_env(d.pop("env"))

        def _parse_group(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        group = _parse_group(d.pop("group"))

        message = d.pop("message")

        def _parse_mode(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        mode = _parse_mode(d.pop("mode"))

        number = d.pop("number")

        def _parse_owner(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        owner = _parse_owner(d.pop("owner"))

        def _parse_rollback_of(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        rollback_of = _parse_rollback_of(d.pop("rollback_of"))

        secrets = ConfigVersionOutSecrets.from_dict(d.pop("secrets"))

        sha256 = d.pop("sha256")

        config_version_out = cls(
            author=author,
            config_id=config_id,
            content=content,
            created_at=created_at,
            env=env,
            group=group,
            message=message,
            mode=mode,
            number=number,
            owner=owner,
            rollback_of=rollback_of,
            secrets=secrets,
            sha256=sha256,
        )

        config_version_out.additional_properties = d
        return config_version_out

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
