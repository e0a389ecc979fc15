from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="ParticipantOut")


@_attrs_define
class ParticipantOut:
    """Someone in a voice room now, and their state.

    Attributes:
        joined_at (datetime.datetime):
        user_id (str):
        deafened (bool | Unset): Deafened themselves (hear nothing). Default: False.
        muted (bool | Unset): Muted themselves. Default: False.
        server_muted (bool | Unset): Muted by a moderator: their audio is not forwarded. Default: False.
        speaking (bool | Unset): Sending audio above the speech level. Default: False.
    """

    joined_at: datetime.datetime
    user_id: str
    deafened: bool | Unset = False
    muted: bool | Unset = False
    server_muted: bool | Unset = False
    speaking: bool | Unset = False
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        joined_at = self.joined_at.isoformat()

        user_id = self.user_id

        deafened = self.deafened

        muted = self.muted

        server_muted = self.server_muted

        speaking = self.speaking

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "joined_at": joined_at,
                "user_id": user_id,
            }
        )
        if deafened is not UNSET:
            field_dict["deafened"] = deafened
        if muted is not UNSET:
            field_dict["muted"] = muted
        if server_muted is not UNSET:
            field_dict["server_muted"] = server_muted
        if speaking is not UNSET:
            field_dict["speaking"] = speaking

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        joined_at = datetime.datetime.fromisoformat(d.pop("joined_at"))

        user_id = d.pop("user_id")

        deafened = d.pop("deafened", UNSET)

        muted = d.pop("muted", UNSET)

        server_muted = d.pop("server_muted", UNSET)

        speaking = d.pop("speaking", UNSET)

        participant_out = cls(
            joined_at=joined_at,
            user_id=user_id,
            deafened=deafened,
            muted=muted,
            server_muted=server_muted,
            speaking=speaking,
        )

        participant_out.additional_properties = d
        return participant_out

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
