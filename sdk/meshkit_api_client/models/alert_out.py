from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.alert_out_metric import AlertOutMetric
from ..models.alert_out_state import AlertOutState

if TYPE_CHECKING:
    from ..models.alert_out_labels import AlertOutLabels


T = TypeVar("T", bound="AlertOut")


@_attrs_define
class AlertOut:
    """An alert: firing, pending (crossing, not yet for long enough) or resolved.

    Attributes:
        fired_at (datetime.datetime | None):
        host_id (str):
        id (str):
        labels (AlertOutLabels):
        metric (AlertOutMetric):
        resolved_at (datetime.datetime | None):
        rule_id (str):
        rule_name (str):
        since (datetime.datetime):
        state (AlertOutState):
        subject (str):
        threshold (float):
        value (float): The value of the sample that last changed the state.
    """

    fired_at: datetime.datetime | None
    host_id: str
    id: str
    labels: AlertOutLabels
    metric: AlertOutMetric
    resolved_at: datetime.datetime | None
    rule_id: str
    rule_name: str
    since: datetime.datetime
    state: AlertOutState
    subject: str
    threshold: float
    value: float
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        fired_at: None | str
        if isinstance(self.fired_at, datetime.datetime):
            fired_at = self.fired_at.isoformat()
        else:
            fired_at = self.fired_at

        host_id = self.host_id

        id = self.id

        labels = self.labels.to_dict()

        metric = self.metric.value

        resolved_at: None | str
        if isinstance(self.resolved_at, datetime.datetime):
            resolved_at = self.resolved_at.isoformat()
        else:
            resolved_at = self.resolved_at

        rule_id = self.rule_id

        rule_name = self.rule_name

        since = self.since.isoformat()

        state = self.state.value

        subject = self.subject

        threshold = self.threshold

        value = self.value

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "fired_at": fired_at,
                "host_id": host_id,
                "id": id,
                "labels": labels,
                "metric": metric,
                "resolved_at": resolved_at,
                "rule_id": rule_id,
                "rule_name": rule_name,
                "since": since,
                "state": state,
                "subject": subject,
                "threshold": threshold,
                "value": value,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.alert_out_labels import AlertOutLabels

        d = dict(src_dict)

        def _parse_fired_at(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                fired_at_type_0 = datetime.datetime.fromisoformat(data)

                return fired_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        fired_at = _parse_fired_at(d.pop("fired_at"))

        host_id = d.pop("host_id")

        id = d.pop("id")

        labels = AlertOutLabels.from_dict(d.pop("labels"))

        metric = AlertOutMetric(d.pop("metric"))

        def _parse_resolved_at(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                resolved_at_type_0 = datetime.datetime.fromisoformat(data)

                return resolved_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        resolved_at = _parse_resolved_at(d.pop("resolved_at"))

        rule_id = d.pop("rule_id")

        rule_name = d.pop("rule_name")

        since = datetime.datetime.fromisoformat(d.pop("since"))

        state = AlertOutState(d.pop("state"))

        subject = d.pop("subject")

        threshold = d.pop("threshold")

        value = d.pop("value")

        alert_out = cls(
            fired_at=fired_at,
            host_id=host_id,
            id=id,
            labels=labels,
            metric=metric,
            resolved_at=resolved_at,
            rule_id=rule_id,
            rule_name=rule_name,
            since=since,
            state=state,
            subject=subject,
            threshold=threshold,
            value=value,
        )

        alert_out.additional_properties = d
        return alert_out

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
