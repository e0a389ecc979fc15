from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.metric_series_out_metric import MetricSeriesOutMetric

if TYPE_CHECKING:
    from ..models.series_out import SeriesOut


T = TypeVar("T", bound="MetricSeriesOut")


@_attrs_define
class MetricSeriesOut:
    """A metric of a host over a range.

    Attributes:
        host_id (str):
        metric (MetricSeriesOutMetric):
        series (list[SeriesOut]):
        since (datetime.datetime):
        step (float | None): Seconds per point, when downsampled.
        until (datetime.datetime):
    """

    host_id: str
    metric: MetricSeriesOutMetric
    series: list[SeriesOut]
    since: datetime.datetime
    step: float | None
    until: datetime.datetime
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        host_id = self.host_id

        metric = self.metric.value

        series = []
        for series_item_data in self.series:
            series_item = series_item_data.to_dict()
            series.append(series_item)

        since = self.since.isoformat()

        step: float | None
        step = self.step

        until = self.until.isoformat()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "host_id": host_id,
                "metric": metric,
                "series": series,
                "since": since,
                "step": step,
                "until": until,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.series_out import SeriesOut

        d = dict(src_dict)
        host_id = d.pop("host_id")

        metric = MetricSeriesOutMetric(d.pop("metric"))

        series = []
        _series = d.pop("series")
        for series_item_data in _series:
            series_item = SeriesOut.from_dict(series_item_data)

            series.append(series_item)

        since = datetime.datetime.fromisoformat(d.pop("since"))

        def _parse_step(data: object) -> float | None:
            if data is None:
                return data
            return cast(float | None, data)

        step = _parse_step(d.pop("step"))

        until = datetime.datetime.fromisoformat(d.pop("until"))

        metric_series_out = cls(
            host_id=host_id,
            metric=metric,
            series=series,
            since=since,
            step=step,
            until=until,
        )

        metric_series_out.additional_properties = d
        return metric_series_out

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
