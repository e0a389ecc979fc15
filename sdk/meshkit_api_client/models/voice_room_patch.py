from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="VoiceRoomPatch")


@_attrs_define
class VoiceRoomPatch:
    """Fields of a room its owner (or ``voice:room.manage``) may change.

    An absent field is left as it is, and so is ``null`` for ``name``,
    ``max_participants`` and ``bitrate``; ``channel_id: null`` unlinks the channel.
    Lowering ``max_participants`` below the number in the room drops nobody: only new
    joins are refused.

        Attributes:
            bitrate (int | None | Unset):
            channel_id (None | str | Unset): The messaging channel to link; `null` unlinks it.
            max_participants (int | None | Unset):
            name (None | str | Unset):
    """

    bitrate: int | None | Unset = UNSET
    channel_id: None | str | Unset = UNSET
    max_participants: int | None | Unset = UNSET
    name: None | str | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        bitrate: int | None | Unset
        if isinstance(self.bitrate, Unset):
            bitrate = UNSET
        else:
            bitrate = self.bitrate

        channel_id: None | str | Unset
        if isinstance(self.channel_id, Unset):
            channel_id = UNSET
        else:
            channel_id = self.channel_id

        max_participants: int | None | Unset
        if isinstance(self.max_participants, Unset):
            max_participants = UNSET
        else:
            max_participants = self.max_participants

        name: None | str | Unset
        if isinstance(self.name, Unset):
            name = UNSET
        else:
            name = self.name

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if bitrate is not UNSET:
            field_dict["bitrate"] = bitrate
        if channel_id is not UNSET:
            field_dict["channel_id"] = channel_id
        if max_participants is not UNSET:
            field_dict["max_participants"] = max_participants
        if name is not UNSET:
            field_dict["name"] = name

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)

        def _parse_bitrate(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        bitrate = _parse_bitrate(d.pop("bitrate", UNSET))

        def _parse_channel_id(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        channel_id = _parse_channel_id(d.pop("channel_id", UNSET))

        def _parse_max_participants(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        max_participants = _parse_max_participants(d.pop("max_participants", UNSET))

        def _parse_name(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        name = _parse_name(d.pop("name", UNSET))

        voice_room_patch = cls(
            bitrate=bitrate,
            channel_id=channel_id,
            max_participants=max_participants,
            name=name,
        )

        return voice_room_patch
