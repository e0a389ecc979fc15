from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define

T = TypeVar("T", bound="MoveIn")


@_attrs_define
class MoveIn:
    """Where a moderator moves a participant.

    Attributes:
        room_id (str): The room to move them to (it must have room).
    """

    room_id: str

    def to_dict(self) -> dict[str, Any]:
        room_id = self.room_id

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "room_id": room_id,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        room_id = d.pop("room_id")

        move_in = cls(
            room_id=room_id,
        )

        return move_in
