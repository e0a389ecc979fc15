from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="VoiceRoomOut")


@_attrs_define
class VoiceRoomOut:
    """A voice room, with how many are in it now.

    Attributes:
        bitrate (int):
        channel_id (None | str):
        created_at (datetime.datetime):
        id (str):
        max_participants (int):
        name (str):
        owner_id (str):
        participant_count (int): Participants in the room right now.
    """

    bitrate: int
    channel_id: None | str
    created_at: datetime.datetime
    id: str
    max_participants: int
    name: str
    owner_id: str
    participant_count: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        bitrate = self.bitrate

        channel_id: None | str
        channel_id = self.channel_id

        created_at = self.created_at.isoformat()

        id = self.id

        max_participants = self.max_participants

        name = self.name

        owner_id = self.owner_id

        participant_count = self.participant_count

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "bitrate": bitrate,
                "channel_id": channel_id,
                "created_at": created_at,
                "id": id,
                "max_participants": max_participants,
                "name": name,
                "owner_id": owner_id,
                "participant_count": participant_count,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        bitrate = d.pop("bitrate")

        def _parse_channel_id(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        channel_id = _parse_channel_id(d.pop("channel_id"))

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        id = d.pop("id")

        max_participants = d.pop("max_participants")

        name = d.pop("name")

        owner_id = d.pop("owner_id")

        participant_count = d.pop("participant_count")

        voice_room_out = cls(
            bitrate=bitrate,
            channel_id=channel_id,
            created_at=created_at,
            id=id,
            max_participants=max_participants,
            name=name,
            owner_id=owner_id,
            participant_count=participant_count,
        )

        voice_room_out.additional_properties = d
        return voice_room_out

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
