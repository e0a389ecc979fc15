from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="Counts")


@_attrs_define
class Counts:
    """Steps by outcome.

    Attributes:
        changed (int | Unset):  Default: 0.
        failed (int | Unset):  Default: 0.
        ok (int | Unset):  Default: 0.
        skipped (int | Unset):  Default: 0.
    """

    changed: int | Unset = 0
    failed: int | Unset = 0
    ok: int | Unset = 0
    skipped: int | Unset = 0
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        changed = self.changed

        failed = self.failed

        ok = self.ok

        skipped = self.skipped

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({})
        if changed is not UNSET:
            field_dict["changed"] = changed
        if failed is not UNSET:
            field_dict["failed"] = failed
        if ok is not UNSET:
            field_dict["ok"] = ok
        if skipped is not UNSET:
            field_dict["skipped"] = skipped

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        changed = d.pop("changed", UNSET)

        failed = d.pop("failed", UNSET)

        ok = d.pop("ok", UNSET)

        skipped = d.pop("skipped", UNSET)

        counts = cls(
            changed=changed,
            failed=failed,
            ok=ok,
            skipped=skipped,
        )

        counts.additional_properties = d
        return counts

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
