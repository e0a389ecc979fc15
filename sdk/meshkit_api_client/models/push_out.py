from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.target_result import TargetResult


T = TypeVar("T", bound="PushOut")


@_attrs_define
class PushOut:
    """The outcome of a push, per target.

    Attributes:
        changed (int): Targets changed (or, dry run, that would change).
        config_id (str):
        dry_run (bool):
        failed (int):
        targets (list[TargetResult]):
        version (int):
        rollback_of (int | None | Unset):
    """

    changed: int
    config_id: str
    dry_run: bool
    failed: int
    targets: list[TargetResult]
    version: int
    rollback_of: int | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        changed = self.changed

        config_id = self.config_id

        dry_run = self.dry_run

        failed = self.failed

        targets = []
        for targets_item_data in self.targets:
            targets_item = targets_item_data.to_dict()
            targets.append(targets_item)

        version = self.version

        rollback_of: int | None | Unset
        if isinstance(self.rollback_of, Unset):
            rollback_of = UNSET
        else:
            rollback_of = self.rollback_of

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "changed": changed,
                "config_id": config_id,
                "dry_run": dry_run,
                "failed": failed,
                "targets": targets,
                "version": version,
            }
        )
        if rollback_of is not UNSET:
            field_dict["rollback_of"] = rollback_of

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.target_result import TargetResult

        d = dict(src_dict)
        changed = d.pop("changed")

        config_id = d.pop("config_id")

        dry_run = d.pop("dry_run")

        failed = d.pop("failed")

        targets = []
        _targets = d.pop("targets")
        for targets_item_data in _targets:
            targets_item = TargetResult.from_dict(targets_item_data)

            targets.append(targets_item)

        version = d.pop("version")

        def _parse_rollback_of(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        rollback_of = _parse_rollback_of(d.pop("rollback_of", UNSET))

        push_out = cls(
            changed=changed,
            config_id=config_id,
            dry_run=dry_run,
            failed=failed,
            targets=targets,
            version=version,
            rollback_of=rollback_of,
        )

        push_out.additional_properties = d
        return push_out

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
