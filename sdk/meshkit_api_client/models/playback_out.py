from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="PlaybackOut")


@_attrs_define
class PlaybackOut:
    """A file playing into a room, as a bot participant.

    Attributes:
        duration (float | None): Seconds, when the file says (null: unknown).
        id (str):
        media_type (str):
        position (float): Seconds played so far.
        room_id (str):
        size (int): Bytes uploaded.
        started_at (datetime.datetime):
        started_by (str): The user who started it.
        user_id (str): The bot's participant id (`bot:<id>`).
    """

    duration: float | None
    id: str
    media_type: str
    position: float
    room_id: str
    size: int
    started_at: datetime.datetime
    started_by: str
    user_id: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        duration: float | None
        duration = self.duration

        id = self.id

        media_type = self.media_type

        position = self.position

        room_id = self.room_id

        size = self.size

        started_at = self.started_at.isoformat()

        started_by = self.started_by

        user_id = self.user_id

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "duration": duration,
                "id": id,
                "media_type": media_type,
                "position": position,
                "room_id": room_id,
                "size": size,
                "started_at": started_at,
                "started_by": started_by,
                "user_id": user_id,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)

        def _parse_duration(data: object) -> float | None:
            if data is None:
                return data
            return cast(float | None, data)

        duration = _parse_duration(d.pop("duration"))

        id = d.pop("id")

        media_type = d.pop("media_type")

        position = d.pop("position")

        room_id = d.pop("room_id")

        size = d.pop("size")

        started_at = datetime.datetime.fromisoformat(d.pop("started_at"))

        started_by = d.pop("started_by")

        user_id = d.pop("user_id")

        playback_out = cls(
            duration=duration,
            id=id,
            media_type=media_type,
            position=position,
            room_id=room_id,
            size=size,
            started_at=started_at,
            started_by=started_by,
            user_id=user_id,
        )

        playback_out.additional_properties = d
        return playback_out

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
