from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.host_run_status import HostRunStatus
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.counts import Counts
    from ..models.step_result import StepResult


T = TypeVar("T", bound="HostRun")


@_attrs_define
class HostRun:
    """One host's part of a job.

    Attributes:
        host_id (str):
        name (str):
        counts (Counts | Unset): Steps by outcome.
        error (None | str | Unset): Why the host failed, if it did.
        status (HostRunStatus | Unset):  Default: HostRunStatus.PENDING.
        steps (list[StepResult] | Unset):
    """

    host_id: str
    name: str
    counts: Counts | Unset = UNSET
    error: None | str | Unset = UNSET
    status: HostRunStatus | Unset = HostRunStatus.PENDING
    steps: list[StepResult] | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        host_id = self.host_id

        name = self.name

        counts: dict[str, Any] | Unset = UNSET
        if not isinstance(self.counts, Unset):
            counts = self.counts.to_dict()

        error: None | str | Unset
        if isinstance(self.error, Unset):
            error = UNSET
        else:
            error = self.error

        status: str | Unset = UNSET
        if not isinstance(self.status, Unset):
            status = self.status.value

        steps: list[dict[str, Any]] | Unset = UNSET
        if not isinstance(self.steps, Unset):
            steps = []
            for steps_item_data in self.steps:
                steps_item = steps_item_data.to_dict()
                steps.append(steps_item)

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "host_id": host_id,
                "name": name,
            }
        )
        if counts is not UNSET:
            field_dict["counts"] = counts
        if error is not UNSET:
            field_dict["error"] = error
        if status is not UNSET:
            field_dict["status"] = status
        if steps is not UNSET:
            field_dict["steps"] = steps

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.counts import Counts
        from ..models.step_result import StepResult

        d = dict(src_dict)
        host_id = d.pop("host_id")

        name = d.pop("name")

        _counts = d.pop("counts", UNSET)
        counts: Counts | Unset
        if isinstance(_counts, Unset):
            counts = UNSET
        else:
            counts = Counts.from_dict(_counts)

        def _parse_error(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        error = _parse_error(d.pop("error", UNSET))

        _status = d.pop("status", UNSET)
        status: HostRunStatus | Unset
        if isinstance(_status, Unset):
            status = UNSET
        else:
            status = HostRunStatus(_status)

        _steps = d.pop("steps", UNSET)
        steps: list[StepResult] | Unset = UNSET
        if _steps is not UNSET:
            steps = []
            for steps_item_data in _steps:
                steps_item = StepResult.from_dict(steps_item_data)

                steps.append(steps_item)

        host_run = cls(
            host_id=host_id,
            name=name,
            counts=counts,
            error=error,
            status=status,
            steps=steps,
        )

        host_run.additional_properties = d
        return host_run

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
