from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, Self, TypeVar, cast

from attrs import define as _attrs_define

from ..models.package_step_state import PackageStepState
from ..types import UNSET, Unset

T = TypeVar("T", bound="PackageStep")


@_attrs_define
class PackageStep:
    """Debian packages installed (``present``) or removed (``absent``), with apt.

    Check mode asks ``dpkg-query`` only and reports what would be installed or removed.

        Attributes:
            kind (Literal['package']):
            names (list[str]):
            name (None | str | Unset):
            state (PackageStepState | Unset):  Default: PackageStepState.PRESENT.
            time_limit (float | None | Unset):
    """

    kind: Literal["package"]
    names: list[str]
    name: None | str | Unset = UNSET
    state: PackageStepState | Unset = PackageStepState.PRESENT
    time_limit: float | None | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        kind = self.kind

        names = self.names

        name: None | str | Unset
        if isinstance(self.name, Unset):
            name = UNSET
        else:
            name = self.name

        state: str | Unset = UNSET
        if not isinstance(self.state, Unset):
            state = self.state.value

        time_limit: float | None | Unset
        if isinstance(self.time_limit, Unset):
            time_limit = UNSET
        else:
            time_limit = self.time_limit

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "kind": kind,
                "names": names,
            }
        )
        if name is not UNSET:
            field_dict["name"] = name
        if state is not UNSET:
            field_dict["state"] = state
        if time_limit is not UNSET:
            field_dict["time_limit"] = time_limit

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        kind = cast(Literal["package"], d.pop("kind"))
        if kind != "package":
            raise ValueError(f"kind must match const 'package', got '{kind}'")

        names = cast(list[str], d.pop("names"))

        def _parse_name(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        name = _parse_name(d.pop("name", UNSET))

        _state = d.pop("state", UNSET)
        state: PackageStepState | Unset
        if isinstance(_state, Unset):
            state = UNSET
        else:
            state = PackageStepState(_state)

        def _parse_time_limit(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        time_limit = _parse_time_limit(d.pop("time_limit", UNSET))

        package_step = cls(
            kind=kind,
            names=names,
            name=name,
            state=state,
            time_limit=time_limit,
        )

        return package_step
