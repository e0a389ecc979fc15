from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.config_out_kind import ConfigOutKind

if TYPE_CHECKING:
    from ..models.config_out_env_type_0 import ConfigOutEnvType0
    from ..models.config_out_hosts_type_0 import ConfigOutHostsType0
    from ..models.config_out_secrets import ConfigOutSecrets
    from ..models.live_out import LiveOut


T = TypeVar("T", bound="ConfigOut")


@_attrs_define
class ConfigOut:
    """A configuration document with its latest version's content (secrets masked).

    Attributes:
        content (None | str):
        created_at (datetime.datetime):
        created_by (str):
        deployment_id (None | str):
        env (ConfigOutEnvType0 | None):
        group (None | str):
        hosts (ConfigOutHostsType0 | None): Which hosts (file): `ids` and/or `labels`, as given.
        id (str):
        kind (ConfigOutKind):
        latest (int): The newest version's number.
        live (list[LiveOut]):
        mode (None | str):
        name (str):
        owner (None | str):
        path (None | str):
        secrets (ConfigOutSecrets): Secret names; each value is `********`.
        updated_at (datetime.datetime):
    """

    content: None | str
    created_at: datetime.datetime
    created_by: str
    deployment_id: None | str
    env: ConfigOutEnvType0 | None
    group: None | str
    hosts: ConfigOutHostsType0 | None
    id: str
    kind: ConfigOutKind
    latest: int
    live: list[LiveOut]
    mode: None | str
    name: str
    owner: None | str
    path: None | str
    secrets: ConfigOutSecrets
    updated_at: datetime.datetime
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.config_out_env_type_0 import ConfigOutEnvType0
        from ..models.config_out_hosts_type_0 import ConfigOutHostsType0

        content: None | str
        content = self.content

        created_at = self.created_at.isoformat()

        created_by = self.created_by

        deployment_id: None | str
        deployment_id = self.deployment_id

        env: dict[str, Any] | None
        if isinstance(self.env, ConfigOutEnvType0):
            env = self.env.to_dict()
        else:
            env = self.env

        group: None | str
        group = self.group

        hosts: dict[str, Any] | None
        if isinstance(self.hosts, ConfigOutHostsType0):
            hosts = self.hosts.to_dict()
        else:
            hosts = self.hosts

        id = self.id

        kind = self.kind.value

        latest = self.latest

        live = []
        for live_item_data in self.live:
            live_item = live_item_data.to_dict()
            live.append(live_item)

        mode: None | str
        mode = self.mode

        name = self.name

        owner: None | str
        owner = self.owner

        path: None | str
        path = self.path

        secrets = self.secrets.to_dict()

        updated_at = self.updated_at.isoformat()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "content": content,
                "created_at": created_at,
                "created_by": created_by,
                "deployment_id": deployment_id,
                "env": env,
                "group": group,
                "hosts": hosts,
                "id": id,
                "kind": kind,
                "latest": latest,
                "live": live,
                "mode": mode,
                "name": name,
                "owner": owner,
                "path": path,
                "secrets": secrets,
                "updated_at": updated_at,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.config_out_env_type_0 import ConfigOutEnvType0
        from ..models.config_out_hosts_type_0 import ConfigOutHostsType0
        from ..models.config_out_secrets import ConfigOutSecrets
        from ..models.live_out import LiveOut

        d = dict(src_dict)

        def _parse_content(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        content = _parse_content(d.pop("content"))

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        created_by = d.pop("created_by")

        def _parse_deployment_id(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        deployment_id = _parse_deployment_id(d.pop("deployment_id"))

        def _parse_env(data: object) -> ConfigOutEnvType0 | None:
            if data is None:
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                env_type_0 = ConfigOutEnvType0.from_dict(data)

                return env_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(ConfigOutEnvType0 | None, data)

        env = _parse_env(d.pop("env"))

        def _parse_group(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        group = _parse_group(d.pop("group"))

        def _parse_hosts(data: object) -> ConfigOutHostsType0 | None:
            if data is None:
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                hosts_type_0 = ConfigOutHostsType0.from_dict(data)

                return hosts_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(ConfigOutHostsType0 | None, data)

        hosts = _parse_hosts(d.pop("hosts"))

        id = d.pop("id")

        kind = ConfigOutKind(d.pop("kind"))

        latest = d.pop("latest")

        live = []
        _live = d.pop("live")
        for live_item_data in _live:
            live_item = LiveOut.from_dict(live_item_data)

            live.append(live_item)

        def _parse_mode(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        mode = _parse_mode(d.pop("mode"))

        name = d.pop("name")

        def _parse_owner(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        owner = _parse_owner(d.pop("owner"))

        def _parse_path(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        path = _parse_path(d.pop("path"))

        secrets = ConfigOutSecrets.from_dict(d.pop("secrets"))

        updated_at = datetime.datetime.fromisoformat(d.pop("updated_at"))

        config_out = cls(
            content=content,
            created_at=created_at,
            created_by=created_by,
            deployment_id=deployment_id,
            env=env,
            group=group,
            hosts=hosts,
            id=id,
            kind=kind,
            latest=latest,
            live=live,
            mode=mode,
            name=name,
            owner=owner,
            path=path,
            secrets=secrets,
            updated_at=updated_at,
        )

        config_out.additional_properties = d
        return config_out

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
