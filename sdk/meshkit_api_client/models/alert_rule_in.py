from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define

from ..models.alert_rule_in_metric import AlertRuleInMetric
from ..models.alert_rule_in_operator import AlertRuleInOperator
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.alert_rule_in_host_labels import AlertRuleInHostLabels
    from ..models.alert_rule_in_series_labels import AlertRuleInSeriesLabels


T = TypeVar("T", bound="AlertRuleIn")


@_attrs_define
class AlertRuleIn:
    """A new alert rule: when ``metric`` ``operator`` ``threshold`` holds on a host for
    ``for_seconds``, the alert fires (an ``AlertChanged`` event, posted in the operations
    channel); when it stops holding, it resolves.

        Attributes:
            metric (AlertRuleInMetric): A metric name (see `docs/servers.md`, "Monitoring").
            name (str): Unique name of the rule.
            operator (AlertRuleInOperator):
            threshold (float): The value compared with `operator`.
            enabled (bool | Unset):  Default: True.
            for_seconds (float | Unset): Seconds the condition must hold in consecutive samples before the alert fires (0:
                at the first sample that crosses). Default: 0.0.
            host_id (None | str | Unset): Only this host (default: every host `host_labels` selects).
            host_labels (AlertRuleInHostLabels | Unset): Only hosts with all these labels (default: all).
            series_labels (AlertRuleInSeriesLabels | Unset): Only the series with these labels, e.g. `{"mount": "/"}`
                (default: each series of the metric is watched on its own).
    """

    metric: AlertRuleInMetric
    name: str
    operator: AlertRuleInOperator
    threshold: float
    enabled: bool | Unset = True
    for_seconds: float | Unset = 0.0
    host_id: None | str | Unset = UNSET
    host_labels: AlertRuleInHostLabels | Unset = UNSET
    series_labels: AlertRuleInSeriesLabels | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        metric = self.metric.value

        name = self.name

        operator = self.operator.value

        threshold = self.threshold

        enabled = self.enabled

        for_seconds = self.for_seconds

        host_id: None | str | Unset
        if isinstance(self.host_id, Unset):
            host_id = UNSET
        else:
            host_id = self.host_id

        host_labels: dict[str, Any] | Unset = UNSET
        if not isinstance(self.host_labels, Unset):
            host_labels = self.host_labels.to_dict()

        series_labels: dict[str, Any] | Unset = UNSET
        if not isinstance(self.series_labels, Unset):
            series_labels = self.series_labels.to_dict()

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "metric": metric,
                "name": name,
                "operator": operator,
                "threshold": threshold,
            }
        )
        if enabled is not UNSET:
            field_dict["enabled"] = enabled
        if for_seconds is not UNSET:
            field_dict["for_seconds"] = for_seconds
        if host_id is not UNSET:
            field_dict["host_id"] = host_id
        if host_labels is not UNSET:
            field_dict["host_labels"] = host_labels
        if series_labels is not UNSET:
            field_dict["series_labels"] = series_labels

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.alert_rule_in_host_labels import AlertRuleInHostLabels
        from ..models.alert_rule_in_series_labels import AlertRuleInSeriesLabels

        d = dict(src_dict)
        metric = AlertRuleInMetric(d.pop("metric"))

        name = d.pop("name")

        operator = AlertRuleInOperator(d.pop("operator"))

        threshold = d.pop("threshold")

        enabled = d.pop("enabled", UNSET)

        for_seconds = d.pop("for_seconds", UNSET)

        def _parse_host_id(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        host_id = _parse_host_id(d.pop("host_id", UNSET))

        _host_labels = d.pop("host_labels", UNSET)
        host_labels: AlertRuleInHostLabels | Unset
        if isinstance(_host_labels, Unset):
            host_labels = UNSET
        else:
            host_labels = AlertRuleInHostLabels.from_dict(_host_labels)

        _series_labels = d.pop("series_labels", UNSET)
        series_labels: AlertRuleInSeriesLabels | Unset
        if isinstance(_series_labels, Unset):
            series_labels = UNSET
        else:
            series_labels = AlertRuleInSeriesLabels.from_dict(_series_labels)

        alert_rule_in = cls(
            metric=metric,
            name=name,
            operator=operator,
            threshold=threshold,
            enabled=enabled,
            for_seconds=for_seconds,
            host_id=host_id,
            host_labels=host_labels,
            series_labels=series_labels,
        )

        return alert_rule_in
