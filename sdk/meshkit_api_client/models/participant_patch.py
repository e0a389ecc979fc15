from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define

T = TypeVar("T", bound="ParticipantPatch")


@_attrs_define
class ParticipantPatch:
    """A moderator's change to a participant.

    Attributes:
        server_muted (bool): Mute (`true`) or unmute the participant for everyone in the room; it stays until undone,
            across leaving and joining again.
    """

    server_muted: bool

    def to_dict(self) -> dict[str, Any]:
        server_muted = self.server_muted

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "server_muted": server_muted,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        server_muted = d.pop("server_muted")

        participant_patch = cls(
            server_muted=server_muted,
        )

        return participant_patch
