from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.channel_out_kind import ChannelOutKind
from ..models.channel_out_role_type_0 import ChannelOutRoleType0
from ..types import UNSET, Unset

T = TypeVar("T", bound="ChannelOut")


@_attrs_define
class ChannelOut:
    """A channel as its members see it.

    Attributes:
        archived (bool):
        created_at (datetime.datetime):
        created_by (str):
        id (str):
        kind (ChannelOutKind):
        member_count (int):
        name (None | str):
        topic (str):
        role (ChannelOutRoleType0 | None | Unset): The caller's role; null when not a member.
        unread (int | Unset): Messages after the caller's read marker. Default: 0.
    """

    archived: bool
    created_at: datetime.datetime
    created_by: str
    id: str
    kind: ChannelOutKind
    member_count: int
    name: None | str
    topic: str
    role: ChannelOutRoleType0 | None | Unset = UNSET
    unread: int | Unset = 0
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        archived = self.archived

        created_at = self.created_at.isoformat()

        created_by = self.created_by

        id = self.id

        kind = self.kind.value

        member_count = self.member_count

        name: None | str
        name = self.name

        topic = self.topic

        role: None | str | Unset
        if isinstance(self.role, Unset):
            role = UNSET
        elif isinstance(self.role, ChannelOutRoleType0):
            role = self.role.value
        else:
            role = self.role

        unread = self.unread

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "archived": archived,
                "created_at": created_at,
                "created_by": created_by,
                "id": id,
                "kind": kind,
                "member_count": member_count,
                "name": name,
                "topic": topic,
            }
        )
        if role is not UNSET:
            field_dict["role"] = role
        if unread is not UNSET:
            field_dict["unread"] = unread

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        archived = d.pop("archived")

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        created_by = d.pop("created_by")

        id = d.pop("id")

        kind = ChannelOutKind(d.pop("kind"))

        member_count = d.pop("member_count")

        def _parse_name(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        name = _parse_name(d.pop("name"))

        topic = d.pop("topic")

        def _parse_role(data: object) -> ChannelOutRoleType0 | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                role_type_0 = ChannelOutRoleType0(data)

                return role_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(ChannelOutRoleType0 | None | Unset, data)

        role = _parse_role(d.pop("role", UNSET))

        unread = d.pop("unread", UNSET)

        channel_out = cls(
            archived=archived,
            created_at=created_at,
            created_by=created_by,
            id=id,
            kind=kind,
            member_count=member_count,
            name=name,
            topic=topic,
            role=role,
            unread=unread,
        )

        channel_out.additional_properties = d
        return channel_out

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
