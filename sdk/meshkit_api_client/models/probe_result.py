from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="ProbeResult")


@_attrs_define
class ProbeResult:
    """One run of a check.

    Attributes:
        at (datetime.datetime):
        detail (str): What happened: the status, the error, the exit status.
        latency_ms (float): How long the probe took, milliseconds.
        ok (bool): The probe succeeded (a slow success is still `ok`).
    """

    at: datetime.datetime
    detail: str
    latency_ms: float
    ok: bool
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        at = self.at.isoformat()

        detail = self.detail

        latency_ms = self.latency_ms

        ok = self.ok

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "at": at,
                "detail": detail,
                "latency_ms": latency_ms,
                "ok": ok,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        at = datetime.datetime.fromisoformat(d.pop("at"))

        detail = d.pop("detail")

        latency_ms = d.pop("latency_ms")

        ok = d.pop("ok")

        probe_result = cls(
            at=at,
            detail=detail,
            latency_ms=latency_ms,
            ok=ok,
        )

        probe_result.additional_properties = d
        return probe_result

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
