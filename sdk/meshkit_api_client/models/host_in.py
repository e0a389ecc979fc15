from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define

from ..models.host_in_engine import HostInEngine
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.host_in_labels import HostInLabels


T = TypeVar("T", bound="HostIn")


@_attrs_define
class HostIn:
    """A host to manage over SSH.

    Attributes:
        address (str): DNS name, IPv4 or IPv6 address (without brackets) the service connects to; a dotted all-digit
            name must be a valid IPv4 address, one with `:` a valid IPv6 address.
        name (str): Unique name of the host (letters, digits, `.`, `_`, `-`).
        private_key (str): The SSH private key the service logs in with: OpenSSH (`-----BEGIN OPENSSH PRIVATE KEY-----`)
            or PEM text, without a passphrase. Write-only: stored encrypted, never returned (see `key_fingerprint`).
        engine (HostInEngine | Unset): How deployments reach the host's Docker Engine: `ssh` (its socket forwarded over
            SSH), `local` (the engine this service runs beside) or `none`. Default: HostInEngine.NONE.
        engine_socket (None | str | Unset):
        host_key (None | str | Unset):
        labels (HostInLabels | Unset): Free labels to select hosts by (`env: prod`); keys and values are letters,
            digits, `.`, `_`, `-` (63 at most, starting and ending alphanumeric).
        port (int | Unset): The host's SSH port. Default: 22.
        user (str | Unset): The user to log in as. Default: 'root'.
    """

    address: str
    name: str
    private_key: str
    engine: HostInEngine | Unset = HostInEngine.NONE
    engine_socket: None | str | Unset = UNSET
    host_key: None | str | Unset = UNSET
    labels: HostInLabels | Unset = UNSET
    port: int | Unset = 22
    user: str | Unset = "root"

    def to_dict(self) -> dict[str, Any]:
        address = self.address

        name = self.name

        private_key = self.private_key

        engine: str | Unset = UNSET
        if not isinstance(self.engine, Unset):
            engine = self.engine.value

        engine_socket: None | str | Unset
        if isinstance(self.engine_socket, Unset):
            engine_socket = UNSET
        else:
            engine_socket = self.engine_socket

        host_key: None | str | Unset
        if isinstance(self.host_key, Unset):
            host_key = UNSET
        else:
            host_key = self.host_key

        labels: dict[str, Any] | Unset = UNSET
        if not isinstance(self.labels, Unset):
            labels = self.labels.to_dict()

        port = self.port

        user = self.user

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "address": address,
                "name": name,
                "private_key": private_key,
            }
        )
        if engine is not UNSET:
            field_dict["engine"] = engine
        if engine_socket is not UNSET:
            field_dict["engine_socket"] = engine_socket
        if host_key is not UNSET:
            field_dict["host_key"] = host_key
        if labels is not UNSET:
            field_dict["labels"] = labels
        if port is not UNSET:
            field_dict["port"] = port
        if user is not UNSET:
            field_dict["user"] = user

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.host_in_labels import HostInLabels

        d = dict(src_dict)
        address = d.pop("address")

        name = d.pop("name")

        private_key = d.pop("private_key")

        _engine = d.pop("engine", UNSET)
        engine: HostInEngine | Unset
        if isinstance(_engine, Unset):
            engine = UNSET
        else:
            engine = HostInEngine(_engine)

        def _parse_engine_socket(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        engine_socket = _parse_engine_socket(d.pop("engine_socket", UNSET))

        def _parse_host_key(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        host_key = _parse_host_key(d.pop("host_key", UNSET))

        _labels = d.pop("labels", UNSET)
        labels: HostInLabels | Unset
        if isinstance(_labels, Unset):
            labels = UNSET
        else:
            labels = HostInLabels.from_dict(_labels)

        port = d.pop("port", UNSET)

        user = d.pop("user", UNSET)

        host_in = cls(
            address=address,
            name=name,
            private_key=private_key,
            engine=engine,
            engine_socket=engine_socket,
            host_key=host_key,
            labels=labels,
            port=port,
            user=user,
        )

        return host_in
