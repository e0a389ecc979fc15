from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.check_summary import CheckSummary
    from ..models.health_summary_counts import HealthSummaryCounts
    from ..models.subject_summary import SubjectSummary


T = TypeVar("T", bound="HealthSummary")


@_attrs_define
class HealthSummary:
    """Every check's state, counts by state (enabled checks), and a rollup per subject.

    Attributes:
        checks (list[CheckSummary]):
        counts (HealthSummaryCounts):
        subjects (list[SubjectSummary]):
    """

    checks: list[CheckSummary]
    counts: HealthSummaryCounts
    subjects: list[SubjectSummary]
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        checks = []
        for checks_item_data in self.checks:
            checks_item = checks_item_data.to_dict()
            checks.append(checks_item)

        counts = self.counts.to_dict()

        subjects = []
        for subjects_item_data in self.subjects:
            subjects_item = subjects_item_data.to_dict()
            subjects.append(subjects_item)

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "checks": checks,
                "counts": counts,
                "subjects": subjects,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.check_summary import CheckSummary
        from ..models.health_summary_counts import HealthSummaryCounts
        from ..models.subject_summary import SubjectSummary

        d = dict(src_dict)
        checks = []
        _checks = d.pop("checks")
        for checks_item_data in _checks:
            checks_item = CheckSummary.from_dict(checks_item_data)

            checks.append(checks_item)

        counts = HealthSummaryCounts.from_dict(d.pop("counts"))

        subjects = []
        _subjects = d.pop("subjects")
        for subjects_item_data in _subjects:
            subjects_item = SubjectSummary.from_dict(subjects_item_data)

            subjects.append(subjects_item)

        health_summary = cls(
            checks=checks,
            counts=counts,
            subjects=subjects,
        )

        health_summary.additional_properties = d
        return health_summary

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
