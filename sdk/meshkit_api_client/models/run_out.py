from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.run_out_previous import RunOutPrevious

if TYPE_CHECKING:
    from ..models.check_state import CheckState
    from ..models.probe_result import ProbeResult


T = TypeVar("T", bound="RunOut")


@_attrs_define
class RunOut:
    """What a run gave and what it did to the check's state.

    Attributes:
        changed (bool): The run changed the check's state.
        previous (RunOutPrevious):
        result (ProbeResult): One run of a check.
        status (CheckState): Where a check's state machine stands (kept in Redis, shared by instances).
    """

    changed: bool
    previous: RunOutPrevious
    result: ProbeResult
    status: CheckState
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        changed = self.changed

        previous = self.previous.value

        result = self.result.to_dict()

        status = self.status.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "changed": changed,
                "previous": previous,
                "result": result,
                "status": status,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.check_state import CheckState
        from ..models.probe_result import ProbeResult

        d = dict(src_dict)
        changed = d.pop("changed")

        previous = RunOutPrevious(d.pop("previous"))

        result = ProbeResult.from_dict(d.pop("result"))

        status = CheckState.from_dict(d.pop("status"))

        run_out = cls(
            changed=changed,
            previous=previous,
            result=result,
            status=status,
        )

        run_out.additional_properties = d
        return run_out

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
