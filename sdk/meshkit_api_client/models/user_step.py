from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, Self, TypeVar, cast

from attrs import define as _attrs_define

from ..models.user_step_state import UserStepState
from ..types import UNSET, Unset

T = TypeVar("T", bound="UserStep")


@_attrs_define
class UserStep:
    """A local user account (``useradd``/``usermod``/``userdel``).

    ``groups`` are supplementary groups the user is added to (never removed from
    others); ``shell`` is set when given. ``remove_home`` removes the home directory
    with an ``absent`` user.

        Attributes:
            kind (Literal['user']):
            user (str): A user or group name (the portable form `useradd` accepts).
            create_home (bool | Unset):  Default: True.
            groups (list[str] | Unset):
            name (None | str | Unset):
            remove_home (bool | Unset):  Default: False.
            shell (None | str | Unset):
            state (UserStepState | Unset):  Default: UserStepState.PRESENT.
            time_limit (float | None | Unset):
    """

    kind: Literal["user"]
    user: str
    create_home: bool | Unset = True
    groups: list[str] | Unset = UNSET
    name: None | str | Unset = UNSET
    remove_home: bool | Unset = False
    shell: None | str | Unset = UNSET
    state: UserStepState | Unset = UserStepState.PRESENT
    time_limit: float | None | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        kind = self.kind

        user = self.user

        create_home = self.create_home

        groups: list[str] | Unset = UNSET
        if not isinstance(self.groups, Unset):
            groups = self.groups

        name: None | str | Unset
        if isinstance(self.name, Unset):
            name = UNSET
        else:
            name = self.name

        remove_home = self.remove_home

        shell: None | str | Unset
        if isinstance(self.shell, Unset):
            shell = UNSET
        else:
            shell = self.shell

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
                "user": user,
            }
        )
        if create_home is not UNSET:
            field_dict["create_home"] = create_home
        if groups is not UNSET:
            field_dict["groups"] = groups
        if name is not UNSET:
            field_dict["name"] = name
        if remove_home is not UNSET:
            field_dict["remove_home"] = remove_home
        if shell is not UNSET:
            field_dict["shell"] = shell
        if state is not UNSET:
            field_dict["state"] = state
        if time_limit is not UNSET:
            field_dict["time_limit"] = time_limit

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        kind = cast(Literal["user"], d.pop("kind"))
        if kind != "user":
            raise ValueError(f"kind must match const 'user', got '{kind}'")

        user = d.pop("user")

        create_home = d.pop("create_home", UNSET)

        groups = cast(list[str], d.pop("groups", UNSET))

        def _parse_name(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        name = _parse_name(d.pop("name", UNSET))

        remove_home = d.pop("remove_home", UNSET)

        def _parse_shell(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        shell = _parse_shell(d.pop("shell", UNSET))

        _state = d.pop("state", UNSET)
        state: UserStepState | Unset
        if isinstance(_state, Unset):
            state = UNSET
        else:
            state = UserStepState(_state)

        def _parse_time_limit(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        time_limit = _parse_time_limit(d.pop("time_limit", UNSET))

        user_step = cls(
            kind=kind,
            user=user,
            create_home=create_home,
            groups=groups,
            name=name,
            remove_home=remove_home,
            shell=shell,
            state=state,
            time_limit=time_limit,
        )

        return user_step
