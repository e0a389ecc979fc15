from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define

from ..models.host_patch_engine_type_0 import HostPatchEngineType0
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.host_patch_labels_type_0 import HostPatchLabelsType0


T = TypeVar("T", bound="HostPatch")


@_attrs_define
class HostPatch:
    """Changes to a host; an absent field is left as it is, and so is ``null`` for all
    but ``host_key`` and ``engine_socket``.

    ``labels`` replaces all labels. ``private_key`` replaces the login key. ``host_key``
    re-pins the host key (after a reinstall), and ``host_key: null`` unpins it: the next
    key presented is pinned. ``engine_socket: null`` returns to the default. A changed
    address, port, user, key or pin closes the pooled connections to the host.

        Attributes:
            address (None | str | Unset):
            engine (HostPatchEngineType0 | None | Unset):
            engine_socket (None | str | Unset):
            host_key (None | str | Unset):
            labels (HostPatchLabelsType0 | None | Unset):
            name (None | str | Unset):
            port (int | None | Unset):
            private_key (None | str | Unset):
            user (None | str | Unset):
    """

    address: None | str | Unset = UNSET
    engine: HostPatchEngineType0 | None | Unset = UNSET
    engine_socket: None | str | Unset = UNSET
    host_key: None | str | Unset = UNSET
    labels: HostPatchLabelsType0 | None | Unset = UNSET
    name: None | str | Unset = UNSET
    port: int | None | Unset = UNSET
    private_key: None | str | Unset = UNSET
    user: None | str | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        from ..models.host_patch_labels_type_0 import HostPatchLabelsType0

        address: None | str | Unset
        if isinstance(self.address, Unset):
            address = UNSET
        else:
            address = self.address

        engine: None | str | Unset
        if isinstance(self.engine, Unset):
            engine = UNSET
        elif isinstance(self.engine, HostPatchEngineType0):
            engine = self.engine.value
        else:
            engine = self.engine

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

        labels: dict[str, Any] | None | Unset
        if isinstance(self.labels, Unset):
            labels = UNSET
        elif isinstance(self.labels, HostPatchLabelsType0):
            labels = self.labels.to_dict()
        else:
            labels = self.labels

        name: None | str | Unset
        if isinstance(self.name, Unset):
            name = UNSET
        else:
            name = self.name

        port: int | None | Unset
        if isinstance(self.port, Unset):
            port = UNSET
        else:
            port = self.port

        private_key: None | str | Unset
        if isinstance(self.private_key, Unset):
            private_key = UNSET
        else:
            private_key = self.private_key

        user: None | str | Unset
        if isinstance(self.user, Unset):
            user = UNSET
        else:
            user = self.user

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if address is not UNSET:
            field_dict["address"] = address
        if engine is not UNSET:
            field_dict["engine"] = engine
        if engine_socket is not UNSET:
            field_dict["engine_socket"] = engine_socket
        if host_key is not UNSET:
            field_dict["host_key"] = host_key
        if labels is not UNSET:
            field_dict["labels"] = labels
        if name is not UNSET:
            field_dict["name"] = name
        if port is not UNSET:
            field_dict["port"] = port
        if private_key is not UNSET:
            field_dict["private_key"] = private_key
        if user is not UNSET:
            field_dict["user"] = user

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.host_patch_labels_type_0 import HostPatchLabelsType0

        d = dict(src_dict)

        def _parse_address(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        address = _parse_address(d.pop("address", UNSET))

        def _parse_engine(data: object) -> HostPatchEngineType0 | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                engine_type_0 = HostPatchEngineType0(data)

                return engine_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(HostPatchEngineType0 | None | Unset, data)

        engine = _parse_engine(d.pop("engine", UNSET))

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

        def _parse_labels(data: object) -> HostPatchLabelsType0 | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                labels_type_0 = HostPatchLabelsType0.from_dict(data)

                return labels_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(HostPatchLabelsType0 | None | Unset, data)

        labels = _parse_labels(d.pop("labels", UNSET))

        def _parse_name(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        name = _parse_name(d.pop("name", UNSET))

        def _parse_port(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        port = _parse_port(d.pop("port", UNSET))

        def _parse_private_key(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        private_key = _parse_private_key(d.pop("private_key", UNSET))

        def _parse_user(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        user = _parse_user(d.pop("user", UNSET))

        host_patch = cls(
            address=address,
            engine=engine,
            engine_socket=engine_socket,
            host_key=host_key,
            labels=labels,
            name=name,
            port=port,
            private_key=private_key,
            user=user,
        )

        return host_patch
