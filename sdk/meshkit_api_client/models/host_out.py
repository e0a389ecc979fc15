from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.host_out_engine import HostOutEngine

if TYPE_CHECKING:
    from ..models.facts import Facts
    from ..models.host_out_labels import HostOutLabels


T = TypeVar("T", bound="HostOut")


@_attrs_define
class HostOut:
    """A managed host. Its private key is never answered: ``public_key`` and
    ``key_fingerprint`` identify it.

        Attributes:
            address (str):
            created_at (datetime.datetime):
            engine (HostOutEngine):
            engine_socket (None | str):
            facts (Facts | None): The facts gathered last (`null`: never).
            facts_at (datetime.datetime | None):
            host_key (None | str): The pinned host key (`null`: not yet pinned).
            host_key_fingerprint (None | str):
            id (str):
            key_fingerprint (str): SHA256 fingerprint of the login key.
            labels (HostOutLabels):
            name (str):
            port (int):
            public_key (str): The login key's public half (for authorized_keys).
            updated_at (datetime.datetime):
            user (str):
    """

    address: str
    created_at: datetime.datetime
    engine: HostOutEngine
    engine_socket: None | str
    facts: Facts | None
    facts_at: datetime.datetime | None
    host_key: None | str
    host_key_fingerprint: None | str
    id: str
    key_fingerprint: str
    labels: HostOutLabels
    name: str
    port: int
    public_key: str
    updated_at: datetime.datetime
    user: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.facts import Facts

        address = self.address

        created_at = self.created_at.isoformat()

        engine = self.engine.value

        engine_socket: None | str
        engine_socket = self.engine_socket

        facts: dict[str, Any] | None
        if isinstance(self.facts, Facts):
            facts = self.facts.to_dict()
        else:
            facts = self.facts

        facts_at: None | str
        if isinstance(self.facts_at, datetime.datetime):
            facts_at = self.facts_at.isoformat()
        else:
            facts_at = self.facts_at

        host_key: None | str
        host_key = self.host_key

        host_key_fingerprint: None | str
        host_key_fingerprint = self.host_key_fingerprint

        id = self.id

        key_fingerprint = self.key_fingerprint

        labels = self.labels.to_dict()

        name = self.name

        port = self.port

        public_key = self.public_key

        updated_at = self.updated_at.isoformat()

        user = self.user

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "address": address,
                "created_at": created_at,
                "engine": engine,
                "engine_socket": engine_socket,
                "facts": facts,
                "facts_at": facts_at,
                "host_key": host_key,
                "host_key_fingerprint": host_key_fingerprint,
                "id": id,
                "key_fingerprint": key_fingerprint,
                "labels": labels,
                "name": name,
                "port": port,
                "public_key": public_key,
                "updated_at": updated_at,
                "user": user,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.facts import Facts
        from ..models.host_out_labels import HostOutLabels

        d = dict(src_dict)
        address = d.pop("address")

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        engine = HostOutEngine(d.pop("engine"))

        def _parse_engine_socket(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        engine_socket = _parse_engine_socket(d.pop("engine_socket"))

        def _parse_facts(data: object) -> Facts | None:
            if data is None:
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                facts_type_0 = Facts.from_dict(data)

                return facts_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(Facts | None, data)

        facts = _parse_facts(d.pop("facts"))

        def _parse_facts_at(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                facts_at_type_0 = datetime.datetime.fromisoformat(data)

                return facts_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        facts_at = _parse_facts_at(d.pop("facts_at"))

        def _parse_host_key(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        host_key = _parse_host_key(d.pop("host_key"))

        def _parse_host_key_fingerprint(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        host_key_fingerprint = _parse_host_key_fingerprint(d.pop("host_key_fingerprint"))

        id = d.pop("id")

        key_fingerprint = d.pop("key_fingerprint")

        labels = HostOutLabels.from_dict(d.pop("labels"))

        name = d.pop("name")

        port = d.pop("port")

        public_key = d.pop("public_key")

        updated_at = datetime.datetime.fromisoformat(d.pop("updated_at"))

        user = d.pop("user")

        host_out = cls(
            address=address,
            created_at=created_at,
            engine=engine,
            engine_socket=engine_socket,
            facts=facts,
            facts_at=facts_at,
            host_key=host_key,
            host_key_fingerprint=host_key_fingerprint,
            id=id,
            key_fingerprint=key_fingerprint,
            labels=labels,
            name=name,
            port=port,
            public_key=public_key,
            updated_at=updated_at,
            user=user,
        )

        host_out.additional_properties = d
        return host_out

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
