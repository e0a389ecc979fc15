from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="Disk")


@_attrs_define
class Disk:
    """One mounted file system (from ``df -P``).

    Attributes:
        filesystem (str):
        mount (str):
        size (int): Bytes.
        used (int): Bytes.
    """

    filesystem: str
    mount: str
    size: int
    used: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        filesystem = self.filesystem

        mount = self.mount

        size = self.size

        used = self.used

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "filesystem": filesystem,
                "mount": mount,
                "size": size,
                "used": used,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        filesystem = d.pop("filesystem")

        mount = d.pop("mount")

        size = d.pop("size")

        used = d.pop("used")

        disk = cls(
            filesystem=filesystem,
            mount=mount,
            size=size,
            used=used,
        )

        disk.additional_properties = d
        return disk

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
