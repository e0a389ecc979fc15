from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.published_port import PublishedPort


T = TypeVar("T", bound="ReplicaOut")


@_attrs_define
class ReplicaOut:
    """One container of a deployment, as the engine reports it now.

    Attributes:
        container_id (str):
        health (None | str): `starting`, `healthy` or `unhealthy`; null without a health check.
        name (str):
        ports (list[PublishedPort]):
        replica (int):
        state (str):
        version (int):
    """

    container_id: str
    health: None | str
    name: str
    ports: list[PublishedPort]
    replica: int
    state: str
    version: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        container_id = self.container_id

        health: None | str
        health = self.health

        name = self.name

        ports = []
        for ports_item_data in self.ports:
            ports_item = ports_item_data.to_dict()
            ports.append(ports_item)

        replica = self.replica

        state = self.state

        version = self.version

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "container_id": container_id,
                "health": health,
                "name": name,
                "ports": ports,
                "replica": replica,
                "state": state,
                "version": version,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.published_port import PublishedPort

        d = dict(src_dict)
        container_id = d.pop("container_id")

        def _parse_health(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        health = _parse_health(d.pop("health"))

        name = d.pop("name")

        ports = []
        _ports = d.pop("ports")
        for ports_item_data in _ports:
            ports_item = PublishedPort.from_dict(ports_item_data)

            ports.append(ports_item)

        replica = d.pop("replica")

        state = d.pop("state")

        version = d.pop("version")

        replica_out = cls(
            container_id=container_id,
            health=health,
            name=name,
            ports=ports,
            replica=replica,
            state=state,
            version=version,
        )

        replica_out.additional_properties = d
        return replica_out

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
