from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.subject_summary_state import SubjectSummaryState

if TYPE_CHECKING:
    from ..models.subject_summary_checks import SubjectSummaryChecks


T = TypeVar("T", bound="SubjectSummary")


@_attrs_define
class SubjectSummary:
    """A host's or deployment's rollup of its enabled checks: `down` if any is down,
    else `degraded` if any is degraded, else `up` if any is up, else `unknown`.

        Attributes:
            checks (SubjectSummaryChecks): Its enabled checks by state.
            state (SubjectSummaryState):
            subject (str):
    """

    checks: SubjectSummaryChecks
    state: SubjectSummaryState
    subject: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        checks = self.checks.to_dict()

        state = self.state.value

        subject = self.subject

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "checks": checks,
                "state": state,
                "subject": subject,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.subject_summary_checks import SubjectSummaryChecks

        d = dict(src_dict)
        checks = SubjectSummaryChecks.from_dict(d.pop("checks"))

        state = SubjectSummaryState(d.pop("state"))

        subject = d.pop("subject")

        subject_summary = cls(
            checks=checks,
            state=state,
            subject=subject,
        )

        subject_summary.additional_properties = d
        return subject_summary

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
