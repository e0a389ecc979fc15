from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define

from ..models.port_spec_protocol import PortSpecProtocol
from ..types import UNSET, Unset

T = TypeVar("T", bound="PortSpec")


@_attrs_define
class PortSpec:
    """A container port published on the host.

    Attributes:
        container_port (int):
        host_ip (str | Unset): Address the port is published on. Defaults to loopback so nothing is exposed by accident;
            `0.0.0.0` publishes it on every interface. Default: '127.0.0.1'.
        host_port (int | None | Unset): The host port. Unset (the default): the engine picks a free one for each replica
            (see `replicas[].ports`), which lets replicas and a rolling update's new containers run side by side. Set: only
            one replica can hold it, so `replicas` must be 1 and updates stop the old container before starting the new one
            (a short downtime; rollback restarts the old one).
        protocol (PortSpecProtocol | Unset):  Default: PortSpecProtocol.TCP.
    """

    container_port: int
    host_ip: str | Unset = "127.0.0.1"
    host_port: int | None | Unset = UNSET
    protocol: PortSpecProtocol | Unset = PortSpecProtocol.TCP

    def to_dict(self) -> dict[str, Any]:
        container_port = self.container_port

        host_ip = self.host_ip

        host_port: int | None | Unset
        if isinstance(self.host_port, Unset):
            host_port = UNSET
        else:
            host_port = self.host_port

        protocol: str | Unset = UNSET
        if not isinstance(self.protocol, Unset):
            protocol = self.protocol.value

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "container_port": container_port,
            }
        )
        if host_ip is not UNSET:
            field_dict["host_ip"] = host_ip
        if host_port is not UNSET:
            field_dict["host_port"] = host_port
        if protocol is not UNSET:
            field_dict["protocol"] = protocol

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        container_port = d.pop("container_port")

        host_ip = d.pop("host_ip", UNSET)

        def _parse_host_port(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        host_port = _parse_host_port(d.pop("host_port", UNSET))

        _protocol = d.pop("protocol", UNSET)
        protocol: PortSpecProtocol | Unset
        if isinstance(_protocol, Unset):
            protocol = UNSET
        else:
            protocol = PortSpecProtocol(_protocol)

        port_spec = cls(
            container_port=container_port,
            host_ip=host_ip,
            host_port=host_port,
            protocol=protocol,
        )

        return port_spec
