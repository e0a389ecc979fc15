from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.config_change import ConfigChange


T = TypeVar("T", bound="DiffOut")


@_attrs_define
class DiffOut:
    """The difference between two versions (or a version and what a target has).

    Attributes:
        changes (list[ConfigChange]):
        from_ (int | None): The older side; `null` when comparing with a target.
        to (int):
        unified (None | str): Unified diff of the file text (file).
    """

    changes: list[ConfigChange]
    from_: int | None
    to: int
    unified: None | str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        changes = []
        for changes_item_data in self.changes:
            changes_item = changes_item_data.to_dict()
            changes.append(changes_item)

        from_: int | None
        from_ = self.from_

        to = self.to

        unified: None | str
        unified = self.unified

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "changes": changes,
                "from": from_,
                "to": to,
                "unified": unified,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.config_change import ConfigChange

        d = dict(src_dict)
        changes = []
        _changes = d.pop("changes")
        for changes_item_data in _changes:
            changes_item = ConfigChange.from_dict(changes_item_data)

            changes.append(changes_item)

        def _parse_from_(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        from_ = _parse_from_(d.pop("from"))

        to = d.pop("to")

        def _parse_unified(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        unified = _parse_unified(d.pop("unified"))

        diff_out = cls(
            changes=changes,
            from_=from_,
            to=to,
            unified=unified,
        )

        diff_out.additional_properties = d
        return diff_out

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
