from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="VoiceRoomIn")


@_attrs_define
class VoiceRoomIn:
    """A new voice room; its creator owns it.

    Attributes:
        name (str):
        bitrate (int | Unset): Opus bitrate, bits per second, that clients are asked to send. Default: 32000.
        channel_id (None | str | Unset): A messaging channel to link the room to.
        max_participants (int | Unset): Most participants in the room at once; one more is refused (409 `room-full`).
            Default: 25.
    """

    name: str
    bitrate: int | Unset = 32000
    channel_id: None | str | Unset = UNSET
    max_participants: int | Unset = 25

    def to_dict(self) -> dict[str, Any]:
        name = self.name

        bitrate = self.bitrate

        channel_id: None | str | Unset
        if isinstance(self.channel_id, Unset):
            channel_id = UNSET
        else:
            channel_id = self.channel_id

        max_participants = self.max_participants

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "name": name,
            }
        )
        if bitrate is not UNSET:
            field_dict["bitrate"] = bitrate
        if channel_id is not UNSET:
            field_dict["channel_id"] = channel_id
        if max_participants is not UNSET:
            field_dict["max_participants"] = max_participants

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        name = d.pop("name")

        bitrate = d.pop("bitrate", UNSET)

        def _parse_channel_id(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        channel_id = _parse_channel_id(d.pop("channel_id", UNSET))

        max_participants = d.pop("max_participants", UNSET)

        voice_room_in = cls(
            name=name,
            bitrate=bitrate,
            channel_id=channel_id,
            max_participants=max_participants,
        )

        return voice_room_in
