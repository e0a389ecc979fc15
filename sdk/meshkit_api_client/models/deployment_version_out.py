from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.deployment_version_out_status import DeploymentVersionOutStatus

if TYPE_CHECKING:
    from ..models.deployment_version_out_spec import DeploymentVersionOutSpec
    from ..models.spec_change import SpecChange


T = TypeVar("T", bound="DeploymentVersionOut")


@_attrs_define
class DeploymentVersionOut:
    """One version in a deployment's history.

    Attributes:
        actor (str):
        created_at (datetime.datetime):
        diff (list[SpecChange]): What changed from the version before it.
        failure (None | str): Why the rollout failed (it was rolled back).
        finished_at (datetime.datetime | None):
        number (int):
        reason (str):
        source (str):
        spec (DeploymentVersionOutSpec): The spec, secret env values masked.
        status (DeploymentVersionOutStatus):
    """

    actor: str
    created_at: datetime.datetime
    diff: list[SpecChange]
    failure: None | str
    finished_at: datetime.datetime | None
    number: int
    reason: str
    source: str
    spec: DeploymentVersionOutSpec
    status: DeploymentVersionOutStatus
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        actor = self.actor

        created_at = self.created_at.isoformat()

        diff = []
        for diff_item_data in self.diff:
            diff_item = diff_item_data.to_dict()
            diff.append(diff_item)

        failure: None | str
        failure = self.failure

        finished_at: None | str
        if isinstance(self.finished_at, datetime.datetime):
            finished_at = self.finished_at.isoformat()
        else:
            finished_at = self.finished_at

        number = self.number

        reason = self.reason

        source = self.source

        spec = self.spec.to_dict()

        status = self.status.value

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "actor": actor,
                "created_at": created_at,
                "diff": diff,
                "failure": failure,
                "finished_at": finished_at,
                "number": number,
                "reason": reason,
                "source": source,
                "spec": spec,
                "status": status,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.deployment_version_out_spec import DeploymentVersionOutSpec
        from ..models.spec_change import SpecChange

        d = dict(src_dict)
        actor = d.pop("actor")

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        diff = []
        _diff = d.pop("diff")
        for diff_item_data in _diff:
            diff_item = SpecChange.from_dict(diff_item_data)

            diff.append(diff_item)

        def _parse_failure(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        failure = _parse_failure(d.pop("failure"))

        def _parse_finished_at(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                finished_at_type_0 = datetime.datetime.fromisoformat(data)

                return finished_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        finished_at = _parse_finished_at(d.pop("finished_at"))

        number = d.pop("number")

        reason = d.pop("reason")

        source = d.pop("source")

        spec = DeploymentVersionOutSpec.from_dict(d.pop("spec"))

        status = DeploymentVersionOutStatus(d.pop("status"))

        deployment_version_out = cls(
            actor=actor,
            created_at=created_at,
            diff=diff,
            failure=failure,
            finished_at=finished_at,
            number=number,
            reason=reason,
            source=source,
            spec=spec,
            status=status,
        )

        deployment_version_out.additional_properties = d
        return deployment_version_out

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
