from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.target_result_outcome import TargetResultOutcome
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.config_change import ConfigChange


T = TypeVar("T", bound="TargetResult")


@_attrs_define
class TargetResult:
    """What a push did (or would do) on one host or deployment.

    Attributes:
        changes (list[ConfigChange]):
        outcome (TargetResultOutcome):
        previous_sha256 (None | str): Of what was there before.
        sha256 (None | str): Of what is on the target now.
        target (str):
        unified (None | str): The change to the file's text (secrets masked).
        error (None | str | Unset):
    """

    changes: list[ConfigChange]
    outcome: TargetResultOutcome
    previous_sha256: None | str
    sha256: None | str
    target: str
    unified: None | str
    error: None | str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        changes = []
        for changes_item_data in self.changes:
            changes_item = changes_item_data.to_dict()
            changes.append(changes_item)

        outcome = self.outcome.value

        previous_sha256: None | str
        previous_sha256 = self.previous_sha256

        sha256: None | str
        sha256 = self.sha256

        target = self.target

        unified: None | str
        unified = self.unified

        error: None | str | Unset
        if isinstance(self.error, Unset):
            error = UNSET
        else:
            error = self.error

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "changes": changes,
                "outcome": outcome,
                "previous_sha256": previous_sha256,
                "sha256": sha256,
                "target": target,
                "unified": unified,
            }
        )
        if error is not UNSET:
            field_dict["error"] = error

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.config_change import ConfigChange

        d = dict(src_dict)
        changes = []
        _changes = d.pop("changes")
        for changes_item_data in _changes:
            changes_item = ConfigChange.from_dict(changes_item_data)

            changes.append(changes_item)

        outcome = TargetResultOutcome(d.pop("outcome"))

        def _parse_previous_sha256(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        previous_sha256 = _parse_previous_sha256(d.pop("previous_sha256"))

        def _parse_sha256(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        sha256 = _parse_sha256(d.pop("sha256"))

        target = d.pop("target")

        def _parse_unified(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        unified = _parse_unified(d.pop("unified"))

        def _parse_error(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        error = _parse_error(d.pop("error", UNSET))

        target_result = cls(
            changes=changes,
            outcome=outcome,
            previous_sha256=previous_sha256,
            sha256=sha256,
            target=target,
            unified=unified,
            error=error,
        )

        target_result.additional_properties = d
        return target_result

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
