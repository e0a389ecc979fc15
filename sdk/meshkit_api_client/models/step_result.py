from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.step_result_status import StepResultStatus
from ..types import UNSET, Unset

T = TypeVar("T", bound="StepResult")


@_attrs_define
class StepResult:
    """What one step did on one host (``skipped`` also when an earlier step failed).

    Attributes:
        duration (float): Seconds.
        index (int): The step's position in the recipe, from 0.
        kind (str):
        label (str):
        message (str):
        status (StepResultStatus):
        diff (None | str | Unset): The unified diff of a file's content (check mode too).
        output (str | Unset): What its commands printed (the last 64 KiB). Default: ''.
    """

    duration: float
    index: int
    kind: str
    label: str
    message: str
    status: StepResultStatus
    diff: None | str | Unset = UNSET
    output: str | Unset = ""
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        duration = self.duration

        index = self.index

        kind = self.kind

        label = self.label

        message = self.message

        status = self.status.value

        diff: None | str | Unset
        if isinstance(self.diff, Unset):
            diff = UNSET
        else:
            diff = self.diff

        output = self.output

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "duration": duration,
                "index": index,
                "kind": kind,
                "label": label,
                "message": message,
                "status": status,
            }
        )
        if diff is not UNSET:
            field_dict["diff"] = diff
        if output is not UNSET:
            field_dict["output"] = output

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        duration = d.pop("duration")

        index = d.pop("index")

        kind = d.pop("kind")

        label = d.pop("label")

        message = d.pop("message")

        status = StepResultStatus(d.pop("status"))

        def _parse_diff(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        diff = _parse_diff(d.pop("diff", UNSET))

        output = d.pop("output", UNSET)

        step_result = cls(
            duration=duration,
            index=index,
            kind=kind,
            label=label,
            message=message,
            status=status,
            diff=diff,
            output=output,
        )

        step_result.additional_properties = d
        return step_result

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
