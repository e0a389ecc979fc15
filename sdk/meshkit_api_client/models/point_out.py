from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.point_out_name import PointOutName

if TYPE_CHECKING:
    from ..models.point_out_labels import PointOutLabels


T = TypeVar("T", bound="PointOut")


@_attrs_define
class PointOut:
    """One metric value of the latest sample.

    Attributes:
        labels (PointOutLabels):
        name (PointOutName):
        value (float):
    """

    labels: PointOutLabels
    name: PointOutName
    value: float
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        labels = self.labels.to_dict()

        name = self.name.value

        value = self.value

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "labels": labels,
                "name": name,
                "value": value,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.point_out_labels import PointOutLabels

        d = dict(src_dict)
        labels = PointOutLabels.from_dict(d.pop("labels"))

        name = PointOutName(d.pop("name"))

        value = d.pop("value")

        point_out = cls(
            labels=labels,
            name=name,
            value=value,
        )

        point_out.additional_properties = d
        return point_out

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
