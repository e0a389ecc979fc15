from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.point_out import PointOut


T = TypeVar("T", bound="LatestOut")


@_attrs_define
class LatestOut:
    """The latest sample of one host.

    Attributes:
        at (datetime.datetime):
        host_id (str):
        metrics (list[PointOut]):
        up (bool): The host answered this sample.
    """

    at: datetime.datetime
    host_id: str
    metrics: list[PointOut]
    up: bool
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        at = self.at.isoformat()

        host_id = self.host_id

        metrics = []
        for metrics_item_data in self.metrics:
            metrics_item = metrics_item_data.to_dict()
            metrics.append(metrics_item)

        up = self.up

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "at": at,
                "host_id": host_id,
                "metrics": metrics,
                "up": up,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.point_out import PointOut

        d = dict(src_dict)
        at = datetime.datetime.fromisoformat(d.pop("at"))

        host_id = d.pop("host_id")

        metrics = []
        _metrics = d.pop("metrics")
        for metrics_item_data in _metrics:
            metrics_item = PointOut.from_dict(metrics_item_data)

            metrics.append(metrics_item)

        up = d.pop("up")

        latest_out = cls(
            at=at,
            host_id=host_id,
            metrics=metrics,
            up=up,
        )

        latest_out.additional_properties = d
        return latest_out

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
