from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.disk import Disk


T = TypeVar("T", bound="Facts")


@_attrs_define
class Facts:
    """What a host is, as gathered over SSH (``None``: the host did not say).

    Attributes:
        arch (None | str | Unset): `uname -m` (`x86_64`, `aarch64`).
        cpu_count (int | None | Unset):
        cpu_model (None | str | Unset):
        disks (list[Disk] | Unset):
        engine_present (bool | Unset): A Docker Engine socket exists at the host's engine socket. Default: False.
        engine_version (None | str | Unset): The engine's version, when the host could tell it.
        gathered_at (datetime.datetime | None | Unset):
        hostname (None | str | Unset):
        kernel (None | str | Unset): `uname -r`.
        memory_total (int | None | Unset): Bytes (MemTotal).
        os_id (None | str | Unset): `ID` of /etc/os-release (`debian`).
        os_name (None | str | Unset): `NAME` of /etc/os-release.
        os_version (None | str | Unset): `VERSION_ID` of /etc/os-release.
        uptime (float | None | Unset): Seconds since boot.
    """

    arch: None | str | Unset = UNSET
    cpu_count: int | None | Unset = UNSET
    cpu_model: None | str | Unset = UNSET
    disks: list[Disk] | Unset = UNSET
    engine_present: bool | Unset = False
    engine_version: None | str | Unset = UNSET
    gathered_at: datetime.datetime | None | Unset = UNSET
    hostname: None | str | Unset = UNSET
    kernel: None | str | Unset = UNSET
    memory_total: int | None | Unset = UNSET
    os_id: None | str | Unset = UNSET
    os_name: None | str | Unset = UNSET
    os_version: None | str | Unset = UNSET
    uptime: float | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        arch: None | str | Unset
        if isinstance(self.arch, Unset):
            arch = UNSET
        else:
            arch = self.arch

        cpu_count: int | None | Unset
        if isinstance(self.cpu_count, Unset):
            cpu_count = UNSET
        else:
            cpu_count = self.cpu_count

        cpu_model: None | str | Unset
        if isinstance(self.cpu_model, Unset):
            cpu_model = UNSET
        else:
            cpu_model = self.cpu_model

        disks: list[dict[str, Any]] | Unset = UNSET
        if not isinstance(self.disks, Unset):
            disks = []
            for disks_item_data in self.disks:
                disks_item = disks_item_data.to_dict()
                disks.append(disks_item)

        engine_present = self.engine_present

        engine_version: None | str | Unset
        if isinstance(self.engine_version, Unset):
            engine_version = UNSET
        else:
            engine_version = self.engine_version

        gathered_at: None | str | Unset
        if isinstance(self.gathered_at, Unset):
            gathered_at = UNSET
        elif isinstance(self.gathered_at, datetime.datetime):
            gathered_at = self.gathered_at.isoformat()
        else:
            gathered_at = self.gathered_at

        hostname: None | str | Unset
        if isinstance(self.hostname, Unset):
            hostname = UNSET
        else:
            hostname = self.hostname

        kernel: None | str | Unset
        if isinstance(self.kernel, Unset):
            kernel = UNSET
        else:
            kernel = self.kernel

        memory_total: int | None | Unset
        if isinstance(self.memory_total, Unset):
            memory_total = UNSET
        else:
            memory_total = self.memory_total

        os_id: None | str | Unset
        if isinstance(self.os_id, Unset):
            os_id = UNSET
        else:
            os_id = self.os_id

        os_name: None | str | Unset
        if isinstance(self.os_name, Unset):
            os_name = UNSET
        else:
            os_name = self.os_name

        os_version: None | str | Unset
        if isinstance(self.os_version, Unset):
            os_version = UNSET
        else:
            os_version = self.os_version

        uptime: float | None | Unset
        if isinstance(self.uptime, Unset):
            uptime = UNSET
        else:
            uptime = self.uptime

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({})
        if arch is not UNSET:
            field_dict["arch"] = arch
        if cpu_count is not UNSET:
            field_dict["cpu_count"] = cpu_count
        if cpu_model is not UNSET:
            field_dict["cpu_model"] = cpu_model
        if disks is not UNSET:
            field_dict["disks"] = disks
        if engine_present is not UNSET:
            field_dict["engine_present"] = engine_present
        if engine_version is not UNSET:
            field_dict["engine_version"] = engine_version
        if gathered_at is not UNSET:
            field_dict["gathered_at"] = gathered_at
        if hostname is not UNSET:
            field_dict["hostname"] = hostname
        if kernel is not UNSET:
            field_dict["kernel"] = kernel
        if memory_total is not UNSET:
            field_dict["memory_total"] = memory_total
        if os_id is not UNSET:
            field_dict["os_id"] = os_id
        if os_name is not UNSET:
            field_dict["os_name"] = os_name
        if os_version is not UNSET:
            field_dict["os_version"] = os_version
        if uptime is not UNSET:
            field_dict["uptime"] = uptime

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.disk import Disk

        d = dict(src_dict)

        def _parse_arch(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        arch = _parse_arch(d.pop("arch", UNSET))

        def _parse_cpu_count(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        cpu_count = _parse_cpu_count(d.pop("cpu_count", UNSET))

        def _parse_cpu_model(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        cpu_model = _parse_cpu_model(d.pop("cpu_model", UNSET))

        _disks = d.pop("disks", UNSET)
        disks: list[Disk] | Unset = UNSET
        if _disks is not UNSET:
            disks = []
            for disks_item_data in _disks:
                disks_item = Disk.from_dict(disks_item_data)

                disks.append(disks_item)

        engine_present = d.pop("engine_present", UNSET)

        def _parse_engine_version(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        engine_version = _parse_engine_version(d.pop("engine_version", UNSET))

        def _parse_gathered_at(data: object) -> datetime.datetime | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                gathered_at_type_0 = datetime.datetime.fromisoformat(data)

                return gathered_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None | Unset, data)

        gathered_at = _parse_gathered_at(d.pop("gathered_at", UNSET))

        def _parse_hostname(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        hostname = _parse_hostname(d.pop("hostname", UNSET))

        def _parse_kernel(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        kernel = _parse_kernel(d.pop("kernel", UNSET))

        def _parse_memory_total(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        memory_total = _parse_memory_total(d.pop("memory_total", UNSET))

        def _parse_os_id(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        os_id = _parse_os_id(d.pop("os_id", UNSET))

        def _parse_os_name(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        os_name = _parse_os_name(d.pop("os_name", UNSET))

        def _parse_os_version(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        os_version = _parse_os_version(d.pop("os_version", UNSET))

        def _parse_uptime(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        uptime = _parse_uptime(d.pop("uptime", UNSET))

        facts = cls(
            arch=arch,
            cpu_count=cpu_count,
            cpu_model=cpu_model,
            disks=disks,
            engine_present=engine_present,
            engine_version=engine_version,
            gathered_at=gathered_at,
            hostname=hostname,
            kernel=kernel,
            memory_total=memory_total,
            os_id=os_id,
            os_name=os_name,
            os_version=os_version,
            uptime=uptime,
        )

        facts.additional_properties = d
        return facts

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
