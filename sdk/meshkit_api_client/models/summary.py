from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.counts import Counts


T = TypeVar("T", bound="Summary")


@_attrs_define
class Summary:
    """A job's outcome in numbers: hosts by result, steps by outcome.

    Attributes:
        hosts (int):
        hosts_changed (int):
        hosts_failed (int):
        hosts_ok (int):
        steps (Counts): Steps by outcome.
    """

    hosts: int
    hosts_changed: int
    hosts_failed: int
    hosts_ok: int
    steps: Counts
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        hosts = self.hosts

        hosts_changed = self.hosts_changed

        hosts_failed = self.hosts_failed

        hosts_ok = self.hosts_ok

        steps = self.steps.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "hosts": hosts,
                "hosts_changed": hosts_changed,
                "hosts_failed": hosts_failed,
                "hosts_ok": hosts_ok,
                "steps": steps,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.counts import Counts

        d = dict(src_dict)
        hosts = d.pop("hosts")

        hosts_changed = d.pop("hosts_changed")

        hosts_failed = d.pop("hosts_failed")

        hosts_ok = d.pop("hosts_ok")

        steps = Counts.from_dict(d.pop("steps"))

        summary = cls(
            hosts=hosts,
            hosts_changed=hosts_changed,
            hosts_failed=hosts_failed,
            hosts_ok=hosts_ok,
            steps=steps,
        )

        summary.additional_properties = d
        return summary

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
