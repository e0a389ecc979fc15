from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, Self, TypeVar, cast

from attrs import define as _attrs_define

from ..models.directory_step_state import DirectoryStepState
from ..types import UNSET, Unset

T = TypeVar("T", bound="DirectoryStep")


@_attrs_define
class DirectoryStep:
    """A directory with this owner, group and mode (``mkdir -p``), or none (``absent``:
    removed with everything in it).

        Attributes:
            kind (Literal['directory']):
            path (str): An absolute path (not `/` itself; no control characters, no trailing `/`).
            group (None | str | Unset):
            mode (None | str | Unset):
            name (None | str | Unset):
            owner (None | str | Unset):
            state (DirectoryStepState | Unset):  Default: DirectoryStepState.PRESENT.
            time_limit (float | None | Unset):
    """

    kind: Literal["directory"]
    path: str
    group: None | str | Unset = UNSET
    mode: None | str | Unset = UNSET
    name: None | str | Unset = UNSET
    owner: None | str | Unset = UNSET
    state: DirectoryStepState | Unset = DirectoryStepState.PRESENT
    time_limit: float | None | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        kind = self.kind

        path = self.path

        group: None | str | Unset
        if isinstance(self.group, Unset):
            group = UNSET
        else:
            group = self.group

        mode: None | str | Unset
        if isinstance(self.mode, Unset):
            mode = UNSET
        else:
            mode = self.mode

        name: None | str | Unset
        if isinstance(self.name, Unset):
            name = UNSET
        else:
            name = self.name

        owner: None | str | Unset
        if isinstance(self.owner, Unset):
            owner = UNSET
        else:
            owner = self.owner

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
                "path": path,
            }
        )
        if group is not UNSET:
            field_dict["group"] = group
        if mode is not UNSET:
            field_dict["mode"] = mode
        if name is not UNSET:
            field_dict["name"] = name
        if owner is not UNSET:
            field_dict["owner"] = owner
        if state is not UNSET:
            field_dict["state"] = state
        if time_limit is not UNSET:
            field_dict["time_limit"] = time_limit

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        kind = cast(Literal["directory"], d.pop("kind"))
        if kind != "directory":
            raise ValueError(f"kind must match const 'directory', got '{kind}'")

        path = d.pop("path")

        def _parse_group(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        group = _parse_group(d.pop("group", UNSET))

        def _parse_mode(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        mode = _parse_mode(d.pop("mode", UNSET))

        def _parse_name(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        name = _parse_name(d.pop("name", UNSET))

        def _parse_owner(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        owner = _parse_owner(d.pop("owner", UNSET))

        _state = d.pop("state", UNSET)
        state: DirectoryStepState | Unset
        if isinstance(_state, Unset):
            state = UNSET
        else:
            state = DirectoryStepState(_state)

        def _parse_time_limit(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        time_limit = _parse_time_limit(d.pop("time_limit", UNSET))

        directory_step = cls(
            kind=kind,
            path=path,
            group=group,
            mode=mode,
            name=name,
            owner=owner,
            state=state,
            time_limit=time_limit,
        )

        return directory_step
