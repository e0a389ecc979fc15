from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define

from ..models.alert_rule_patch_metric_type_0 import AlertRulePatchMetricType0
from ..models.alert_rule_patch_operator_type_0 import AlertRulePatchOperatorType0
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.alert_rule_patch_host_labels_type_0 import AlertRulePatchHostLabelsType0
    from ..models.alert_rule_patch_series_labels_type_0 import AlertRulePatchSeriesLabelsType0


T = TypeVar("T", bound="AlertRulePatch")


@_attrs_define
class AlertRulePatch:
    """Fields of a rule to change; absent ones are kept (``host_id: null`` means every
    host again).

        Attributes:
            enabled (bool | None | Unset):
            for_seconds (float | None | Unset):
            host_id (None | str | Unset):
            host_labels (AlertRulePatchHostLabelsType0 | None | Unset):
            metric (AlertRulePatchMetricType0 | None | Unset):
            name (None | str | Unset):
            operator (AlertRulePatchOperatorType0 | None | Unset):
            series_labels (AlertRulePatchSeriesLabelsType0 | None | Unset):
            threshold (float | None | Unset):
    """

    enabled: bool | None | Unset = UNSET
    for_seconds: float | None | Unset = UNSET
    host_id: None | str | Unset = UNSET
    host_labels: AlertRulePatchHostLabelsType0 | None | Unset = UNSET
    metric: AlertRulePatchMetricType0 | None | Unset = UNSET
    name: None | str | Unset = UNSET
    operator: AlertRulePatchOperatorType0 | None | Unset = UNSET
    series_labels: AlertRulePatchSeriesLabelsType0 | None | Unset = UNSET
    threshold: float | None | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        from ..models.alert_rule_patch_host_labels_type_0 import AlertRulePatchHostLabelsType0
        from ..models.alert_rule_patch_series_labels_type_0 import AlertRulePatchSeriesLabelsType0

        enabled: bool | None | Unset
        if isinstance(self.enabled, Unset):
            enabled = UNSET
        else:
            enabled = self.enabled

        for_seconds: float | None | Unset
        if isinstance(self.for_seconds, Unset):
            for_seconds = UNSET
        else:
            for_seconds = self.for_seconds

        host_id: None | str | Unset
        if isinstance(self.host_id, Unset):
            host_id = UNSET
        else:
            host_id = self.host_id

        host_labels: dict[str, Any] | None | Unset
        if isinstance(self.host_labels, Unset):
            host_labels = UNSET
        elif isinstance(self.host_labels, AlertRulePatchHostLabelsType0):
            host_labels = self.host_labels.to_dict()
        else:
            host_labels = self.host_labels

        metric: None | str | Unset
        if isinstance(self.metric, Unset):
            metric = UNSET
        elif isinstance(self.metric, AlertRulePatchMetricType0):
            metric = self.metric.value
        else:
            metric = self.metric

        name: None | str | Unset
        if isinstance(self.name, Unset):
            name = UNSET
        else:
            name = self.name

        operator: None | str | Unset
        if isinstance(self.operator, Unset):
            operator = UNSET
        elif isinstance(self.operator, AlertRulePatchOperatorType0):
            operator = self.operator.value
        else:
            operator = self.operator

        series_labels: dict[str, Any] | None | Unset
        if isinstance(self.series_labels, Unset):
            series_labels = UNSET
        elif isinstance(self.series_labels, AlertRulePatchSeriesLabelsType0):
            series_labels = self.series_labels.to_dict()
        else:
            series_labels = self.series_labels

        threshold: float | None | Unset
        if isinstance(self.threshold, Unset):
            threshold = UNSET
        else:
            threshold = self.threshold

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if enabled is not UNSET:
            field_dict["enabled"] = enabled
        if for_seconds is not UNSET:
            field_dict["for_seconds"] = for_seconds
        if host_id is not UNSET:
            field_dict["host_id"] = host_id
        if host_labels is not UNSET:
            field_dict["host_labels"] = host_labels
        if metric is not UNSET:
            field_dict["metric"] = metric
        if name is not UNSET:
            field_dict["name"] = name
        if operator is not UNSET:
            field_dict["operator"] = operator
        if series_labels is not UNSET:
            field_dict["series_labels"] = series_labels
        if threshold is not UNSET:
            field_dict["threshold"] = threshold

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.alert_rule_patch_host_labels_type_0 import AlertRulePatchHostLabelsType0
        from ..models.alert_rule_patch_series_labels_type_0 import AlertRulePatchSeriesLabelsType0

        d = dict(src_dict)

        def _parse_enabled(data: object) -> bool | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(bool | None | Unset, data)

        enabled = _parse_enabled(d.pop("enabled", UNSET))

        def _parse_for_seconds(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        for_seconds = _parse_for_seconds(d.pop("for_seconds", UNSET))

        def _parse_host_id(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        host_id = _parse_host_id(d.pop("host_id", UNSET))

        def _parse_host_labels(data: object) -> AlertRulePatchHostLabelsType0 | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                host_labels_type_0 = AlertRulePatchHostLabelsType0.from_dict(data)

                return host_labels_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(AlertRulePatchHostLabelsType0 | None | Unset, data)

        host_labels = _parse_host_labels(d.pop("host_labels", UNSET))

        def _parse_metric(data: object) -> AlertRulePatchMetricType0 | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                metric_type_0 = AlertRulePatchMetricType0(data)

                return metric_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(AlertRulePatchMetricType0 | None | Unset, data)

        metric = _parse_metric(d.pop("metric", UNSET))

        def _parse_name(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        name = _parse_name(d.pop("name", UNSET))

        def _parse_operator(data: object) -> AlertRulePatchOperatorType0 | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                operator_type_0 = AlertRulePatchOperatorType0(data)

                return operator_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(AlertRulePatchOperatorType0 | None | Unset, data)

        operator = _parse_operator(d.pop("operator", UNSET))

        def _parse_series_labels(data: object) -> AlertRulePatchSeriesLabelsType0 | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                series_labels_type_0 = AlertRulePatchSeriesLabelsType0.from_dict(data)

                return series_labels_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(AlertRulePatchSeriesLabelsType0 | None | Unset, data)

        series_labels = _parse_series_labels(d.pop("series_labels", UNSET))

        def _parse_threshold(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        threshold = _parse_threshold(d.pop("threshold", UNSET))

        alert_rule_patch = cls(
            enabled=enabled,
            for_seconds=for_seconds,
            host_id=host_id,
            host_labels=host_labels,
            metric=metric,
            name=name,
            operator=operator,
            series_labels=series_labels,
            threshold=threshold,
        )

        return alert_rule_patch
