from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.check_summary_state import CheckSummaryState

T = TypeVar("T", bound="CheckSummary")


@_attrs_define
class CheckSummary:
    """One check in the health summary.

    Attributes:
        detail (None | str): The last result's detail.
        enabled (bool):
        id (str):
        name (str):
        since (datetime.datetime | None):
        state (CheckSummaryState):
        subject (str):
    """

    detail: None | str
    enabled: bool
    id: str
    name: str
    since: datetime.datetime | None
    state: CheckSummaryState
    subject: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        detail: None | str
        detail = self.detail

        enabled = self.enabled

        id = self.id

        name = self.name

        since: None | str
        if isinstance(self.since, datetime.datetime):
            since = self.since.isoformat()
        else:
            since = self.since

        state = self.state.value

        subject = self.subject

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "detail": detail,
                "enabled": enabled,
                "id": id,
                "name": name,
                "since": since,
                "state": state,
                "subject": subject,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)

        def _parse_detail(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        detail = _parse_detail(d.pop("detail"))

        enabled = d.pop("enabled")

        id = d.pop("id")

        name = d.pop("name")

        def _parse_since(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                since_type_0 = datetime.datetime.fromisoformat(data)

                return since_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        since = _parse_since(d.pop("since"))

        state = CheckSummaryState(d.pop("state"))

        subject = d.pop("subject")

        check_summary = cls(
            detail=detail,
            enabled=enabled,
            id=id,
            name=name,
            since=since,
            state=state,
            subject=subject,
        )

        check_summary.additional_properties = d
        return check_summary

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
