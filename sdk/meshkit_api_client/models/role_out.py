from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="RoleOut")


@_attrs_define
class RoleOut:
    """A role.

    Attributes:
        builtin (bool):
        description (str):
        name (str):
        permissions (list[str]):
    """

    builtin: bool
    description: str
    name: str
    permissions: list[str]
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        builtin = self.builtin

        description = self.description

        name = self.name

        permissions = self.permissions

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "builtin": builtin,
                "description": description,
                "name": name,
                "permissions": permissions,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        builtin = d.pop("builtin")

        description = d.pop("description")

        name = d.pop("name")

        permissions = cast(list[str], d.pop("permissions"))

        role_out = cls(
            builtin=builtin,
            description=description,
            name=name,
            permissions=permissions,
        )

        role_out.additional_properties = d
        return role_out

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
