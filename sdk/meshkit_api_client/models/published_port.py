from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="PublishedPort")


@_attrs_define
class PublishedPort:
    """Where a replica's container port is reachable on the host.

    Attributes:
        container_port (int):
        host_ip (str):
        host_port (int):
        protocol (str):
    """

    container_port: int
    host_ip: str
    host_port: int
    protocol: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        container_port = self.container_port

        host_ip = self.host_ip

        host_port = self.host_port

        protocol = self.protocol

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "container_port": container_port,
                "host_ip": host_ip,
                "host_port": host_port,
                "protocol": protocol,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        container_port = d.pop("container_port")

        host_ip = d.pop("host_ip")

        host_port = d.pop("host_port")

        protocol = d.pop("protocol")

        published_port = cls(
            container_port=container_port,
            host_ip=host_ip,
            host_port=host_port,
            protocol=protocol,
        )

        published_port.additional_properties = d
        return published_port

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
