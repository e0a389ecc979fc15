from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.audit_entry_out_outcome import AuditEntryOutOutcome

if TYPE_CHECKING:
    from ..models.audit_entry_out_detail import AuditEntryOutDetail


T = TypeVar("T", bound="AuditEntryOut")


@_attrs_define
class AuditEntryOut:
    """One action in the audit log.

    Attributes:
        action (str):
        actor (str): The user id (token subject), or `system`.
        at (datetime.datetime):
        detail (AuditEntryOutDetail): What the action was given; secrets masked.
        id (str):
        outcome (AuditEntryOutOutcome):
        target (str):
    """

    action: str
    actor: str
    at: datetime.datetime
    detail: AuditEntryOutDetail
    id: str
    outcome: AuditEntryOutOutcome
    target: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        action = self.action

        actor = self.actor

        at = self.at.isoformat()

        detail = self.detail.to_dict()

        id = self.id

        outcome = self.outcome.value

        target = self.target

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "action": action,
                "actor": actor,
                "at": at,
                "detail": detail,
                "id": id,
                "outcome": outcome,
                "target": target,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.audit_entry_out_detail import AuditEntryOutDetail

        d = dict(src_dict)
        action = d.pop("action")

        actor = d.pop("actor")

        at = datetime.datetime.fromisoformat(d.pop("at"))

        detail = AuditEntryOutDetail.from_dict(d.pop("detail"))

        id = d.pop("id")

        outcome = AuditEntryOutOutcome(d.pop("outcome"))

        target = d.pop("target")

        audit_entry_out = cls(
            action=action,
            actor=actor,
            at=at,
            detail=detail,
            id=id,
            outcome=outcome,
            target=target,
        )

        audit_entry_out.additional_properties = d
        return audit_entry_out

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
