from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.problem_out import ProblemOut


T = TypeVar("T", bound="ConnectionTest")


@_attrs_define
class ConnectionTest:
    """The outcome of logging in to a host and running ``uname``.

    Attributes:
        error (None | ProblemOut): Why it failed: `host-unreachable`, `host-auth-failed`, `host-key-mismatch`, `command-
            timed-out`, `key-unreadable`.
        host_key_fingerprint (None | str): SHA256 fingerprint of the pinned host key (pinned now if it was not).
        latency (float | None): Seconds for the command to come back (connecting included when no pooled connection was
            open).
        ok (bool):
        uname (None | str): What `uname -srm` printed.
    """

    error: None | ProblemOut
    host_key_fingerprint: None | str
    latency: float | None
    ok: bool
    uname: None | str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.problem_out import ProblemOut

        error: dict[str, Any] | None
        if isinstance(self.error, ProblemOut):
            error = self.error.to_dict()
        else:
            error = self.error

        host_key_fingerprint: None | str
        host_key_fingerprint = self.host_key_fingerprint

        latency: float | None
        latency = self.latency

        ok = self.ok

        uname: None | str
        uname = self.uname

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "error": error,
                "host_key_fingerprint": host_key_fingerprint,
                "latency": latency,
                "ok": ok,
                "uname": uname,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.problem_out import ProblemOut

        d = dict(src_dict)

        def _parse_error(data: object) -> None | ProblemOut:
            if data is None:
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                error_type_0 = ProblemOut.from_dict(data)

                return error_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | ProblemOut, data)

        error = _parse_error(d.pop("error"))

        def _parse_host_key_fingerprint(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        host_key_fingerprint = _parse_host_key_fingerprint(d.pop("host_key_fingerprint"))

        def _parse_latency(data: object) -> float | None:
            if data is None:
                return data
            return cast(float | None, data)

        latency = _parse_latency(d.pop("latency"))

        ok = d.pop("ok")

        def _parse_uname(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        uname = _parse_uname(d.pop("uname"))

        connection_test = cls(
            error=error,
            host_key_fingerprint=host_key_fingerprint,
            latency=latency,
            ok=ok,
            uname=uname,
        )

        connection_test.additional_properties = d
        return connection_test

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
