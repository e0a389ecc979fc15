from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, Self, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="TcpProbe")


@_attrs_define
class TcpProbe:
    """A TCP connection that must open within the check's timeout (then it is closed).

    Attributes:
        port (int): Port to connect to (on a deployment: the container port, resolved to the host port it is published
            on, unless `host` is given).
        host (None | str | Unset): Connect here instead of the subject's address (a name or an IP address).
        kind (Literal['tcp'] | Unset):  Default: 'tcp'.
    """

    port: int
    host: None | str | Unset = UNSET
    kind: Literal["tcp"] | Unset = "tcp"

    def to_dict(self) -> dict[str, Any]:
        port = self.port

        host: None | str | Unset
        if isinstance(self.host, Unset):
            host = UNSET
        else:
            host = self.host

        kind = self.kind

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "port": port,
            }
        )
        if host is not UNSET:
            field_dict["host"] = host
        if kind is not UNSET:
            field_dict["kind"] = kind

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        port = d.pop("port")

        def _parse_host(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        host = _parse_host(d.pop("host", UNSET))

        kind = cast(Literal["tcp"] | Unset, d.pop("kind", UNSET))
        if kind != "tcp" and not isinstance(kind, Unset):
            raise ValueError(f"kind must match const 'tcp', got '{kind}'")

        tcp_probe = cls(
            port=port,
            host=host,
            kind=kind,
        )

        return tcp_probe
