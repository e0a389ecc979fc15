from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.voice_participant_ref import VoiceParticipantRef


T = TypeVar("T", bound="ChannelVoiceOut")


@_attrs_define
class ChannelVoiceOut:
    """Who is in the voice rooms linked to a channel, now.

    Attributes:
        channel_id (str):
        participants (list[VoiceParticipantRef]): Who is in which room (a user may be in several rooms).
        user_ids (list[str]): Everyone in voice, each once, sorted.
    """

    channel_id: str
    participants: list[VoiceParticipantRef]
    user_ids: list[str]
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        channel_id = self.channel_id

        participants = []
        for participants_item_data in self.participants:
            participants_item = participants_item_data.to_dict()
            participants.append(participants_item)

        user_ids = self.user_ids

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "channel_id": channel_id,
                "participants": participants,
                "user_ids": user_ids,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.voice_participant_ref import VoiceParticipantRef

        d = dict(src_dict)
        channel_id = d.pop("channel_id")

        participants = []
        _participants = d.pop("participants")
        for participants_item_data in _participants:
            participants_item = VoiceParticipantRef.from_dict(participants_item_data)

            participants.append(participants_item)

        user_ids = cast(list[str], d.pop("user_ids"))

        channel_voice_out = cls(
            channel_id=channel_id,
            participants=participants,
            user_ids=user_ids,
        )

        channel_voice_out.additional_properties = d
        return channel_voice_out

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
