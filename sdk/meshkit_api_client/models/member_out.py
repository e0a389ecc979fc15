from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.member_out_role import MemberOutRole

T = TypeVar("T", bound="MemberOut")


@_attrs_define
class MemberOut:
    """A member of a channel.

    Attributes:
        joined_at (datetime.datetime):
        role (MemberOutRole):
        user_id (str):
    """

    joined_at: datetime.datetime
    role: MemberOutRole
    user_id: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        joined_at = self.joined_at.isoformat()

        role = self.role.value

        user_id = self.user_id

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "joined_at": joined_at,
                "role": role,
                "user_id": user_id,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        joined_at = datetime.datetime.fromisoformat(d.pop("joined_at"))

        role = MemberOutRole(d.pop("role"))

        user_id = d.pop("user_id")

        member_out = cls(
            joined_at=joined_at,
            role=role,
            user_id=user_id,
        )

        member_out.additional_properties = d
        return member_out

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
