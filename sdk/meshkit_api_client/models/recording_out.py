from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.recording_out_state import RecordingOutState

T = TypeVar("T", bound="RecordingOut")


@_attrs_define
class RecordingOut:
    """A room recording.

    Attributes:
        duration (float): Seconds recorded (so far, while recording).
        ended_at (datetime.datetime | None):
        error (None | str): Why it failed, when it did.
        id (str):
        loudness (float | None): Integrated loudness, LUFS (when ready).
        room_id (str):
        size (int): Bytes of the file (0 until it is ready).
        started_at (datetime.datetime):
        started_by (str): Who started it.
        state (RecordingOutState): `recording`, `processing` (being loudness-normalised), `ready` (downloadable) or
            `failed`.
        stop_reason (None | str): Why it stopped: `stopped`, `empty`, `max-duration`, `shutdown`, `recovered`.
    """

    duration: float
    ended_at: datetime.datetime | None
    error: None | str
    id: str
    loudness: float | None
    room_id: str
    size: int
    started_at: datetime.datetime
    started_by: str
    state: RecordingOutState
    stop_reason: None | str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        duration = self.duration

        ended_at: None | str
        if isinstance(self.ended_at, datetime.datetime):
            ended_at = self.ended_at.isoformat()
        else:
            ended_at = self.ended_at

        error: None | str
        error = self.error

        id = self.id

        loudness: float | None
        loudness = self.loudness

        room_id = self.room_id

        size = self.size

        started_at = self.started_at.isoformat()

        started_by = self.started_by

        state = self.state.value

        stop_reason: None | str
        stop_reason = self.stop_reason

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "duration": duration,
                "ended_at": ended_at,
                "error": error,
                "id": id,
                "loudness": loudness,
                "room_id": room_id,
                "size": size,
                "started_at": started_at,
                "started_by": started_by,
                "state": state,
                "stop_reason": stop_reason,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        duration = d.pop("duration")

        def _parse_ended_at(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                ended_at_type_0 = datetime.datetime.fromisoformat(data)

                return ended_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        ended_at = _parse_ended_at(d.pop("ended_at"))

        def _parse_error(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        error = _parse_error(d.pop("error"))

        id = d.pop("id")

        def _parse_loudness(data: object) -> float | None:
            if data is None:
                return data
            return cast(float | None, data)

        loudness = _parse_loudness(d.pop("loudness"))

        room_id = d.pop("room_id")

        size = d.pop("size")

        started_at = datetime.datetime.fromisoformat(d.pop("started_at"))

        started_by = d.pop("started_by")

        state = RecordingOutState(d.pop("state"))

        def _parse_stop_reason(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        stop_reason = _parse_stop_reason(d.pop("stop_reason"))

        recording_out = cls(
            duration=duration,
            ended_at=ended_at,
            error=error,
            id=id,
            loudness=loudness,
            room_id=room_id,
            size=size,
            started_at=started_at,
            started_by=started_by,
            state=state,
            stop_reason=stop_reason,
        )

        recording_out.additional_properties = d
        return recording_out

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
