from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.config_change_change import ConfigChangeChange

T = TypeVar("T", bound="ConfigChange")


@_attrs_define
class ConfigChange:
    """One key that differs: a variable, or a file attribute (`mode`, `owner`, `group`).

    Attributes:
        change (ConfigChangeChange):
        key (str):
        new (None | str):
        old (None | str):
        secret (bool): The values are secret (shown as `********`).
    """

    change: ConfigChangeChange
    key: str
    new: None | str
    old: None | str
    secret: bool
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        change = self.change.value

        key = self.key

        new: None | str
        new = self.new

        old: None | str
        old = self.old

        secret = self.secret

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "change": change,
                "key": key,
                "new": new,
                "old": old,
                "secret": secret,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        change = ConfigChangeChange(d.pop("change"))

        key = d.pop("key")

        def _parse_new(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        new = _parse_new(d.pop("new"))

        def _parse_old(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        old = _parse_old(d.pop("old"))

        secret = d.pop("secret")

        config_change = cls(
            change=change,
            key=key,
            new=new,
            old=old,
            secret=secret,
        )

        config_change.additional_properties = d
        return config_change

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
