from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="LiveOut")


@_attrs_define
class LiveOut:
    """The version live on one target.

    Attributes:
        pushed_at (datetime.datetime):
        pushed_by (str):
        sha256 (str):
        target (str):
        version (int):
    """

    pushed_at: datetime.datetime
    pushed_by: str
    sha256: str
    target: str
    version: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        pushed_at = self.pushed_at.isoformat()

        pushed_by = self.pushed_by

        sha256 = self.sha256

        target = self.target

        version = self.version

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "pushed_at": pushed_at,
                "pushed_by": pushed_by,
                "sha256": sha256,
                "target": target,
                "version": version,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        pushed_at = datetime.datetime.fromisoformat(d.pop("pushed_at"))

        pushed_by = d.pop("pushed_by")

        sha256 = d.pop("sha256")

        target = d.pop("target")

        version = d.pop("version")

        live_out = cls(
            pushed_at=pushed_at,
            pushed_by=pushed_by,
            sha256=sha256,
            target=target,
            version=version,
        )

        live_out.additional_properties = d
        return live_out

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
