from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.alert_rule_out_metric import AlertRuleOutMetric
from ..models.alert_rule_out_operator import AlertRuleOutOperator

if TYPE_CHECKING:
    from ..models.alert_rule_out_host_labels import AlertRuleOutHostLabels
    from ..models.alert_rule_out_series_labels import AlertRuleOutSeriesLabels


T = TypeVar("T", bound="AlertRuleOut")


@_attrs_define
class AlertRuleOut:
    """An alert rule.

    Attributes:
        created_at (datetime.datetime):
        created_by (str):
        enabled (bool):
        for_seconds (float):
        host_id (None | str):
        host_labels (AlertRuleOutHostLabels):
        id (str):
        metric (AlertRuleOutMetric):
        name (str):
        operator (AlertRuleOutOperator):
        series_labels (AlertRuleOutSeriesLabels):
        threshold (float):
        updated_at (datetime.datetime):
    """

    created_at: datetime.datetime
    created_by: str
    enabled: bool
    for_seconds: float
    host_id: None | str
    host_labels: AlertRuleOutHostLabels
    id: str
    metric: AlertRuleOutMetric
    name: str
    operator: AlertRuleOutOperator
    series_labels: AlertRuleOutSeriesLabels
    threshold: float
    updated_at: datetime.datetime
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        created_at = self.created_at.isoformat()

        created_by = self.created_by

        enabled = self.enabled

        for_seconds = self.for_seconds

        host_id: None | str
        host_id = self.host_id

        host_labels = self.host_labels.to_dict()

        id = self.id

        metric = self.metric.value

        name = self.name

        operator = self.operator.value

        series_labels = self.series_labels.to_dict()

        threshold = self.threshold

        updated_at = self.updated_at.isoformat()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "created_at": created_at,
                "created_by": created_by,
                "enabled": enabled,
                "for_seconds": for_seconds,
                "host_id": host_id,
                "host_labels": host_labels,
                "id": id,
                "metric": metric,
                "name": name,
                "operator": operator,
                "series_labels": series_labels,
                "threshold": threshold,
                "updated_at": updated_at,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.alert_rule_out_host_labels import AlertRuleOutHostLabels
        from ..models.alert_rule_out_series_labels import AlertRuleOutSeriesLabels

        d = dict(src_dict)
        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        created_by = d.pop("created_by")

        enabled = d.pop("enabled")

        for_seconds = d.pop("for_seconds")

        def _parse_host_id(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        host_id = _parse_host_id(d.pop("host_id"))

        host_labels = AlertRuleOutHostLabels.from_dict(d.pop("host_labels"))

        id = d.pop("id")

        metric = AlertRuleOutMetric(d.pop("metric"))

        name = d.pop("name")

        operator = AlertRuleOutOperator(d.pop("operator"))

        series_labels = AlertRuleOutSeriesLabels.from_dict(d.pop("series_labels"))

        threshold = d.pop("threshold")

        updated_at = datetime.datetime.fromisoformat(d.pop("updated_at"))

        alert_rule_out = cls(
            created_at=created_at,
            created_by=created_by,
            enabled=enabled,
            for_seconds=for_seconds,
            host_id=host_id,
            host_labels=host_labels,
            id=id,
            metric=metric,
            name=name,
            operator=operator,
            series_labels=series_labels,
            threshold=threshold,
            updated_at=updated_at,
        )

        alert_rule_out.additional_properties = d
        return alert_rule_out

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
