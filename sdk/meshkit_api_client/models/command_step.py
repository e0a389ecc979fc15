from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal, Self, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.command_step_env import CommandStepEnv


T = TypeVar("T", bound="CommandStep")


@_attrs_define
class CommandStep:
    """A shell command, run unless a guard says it is done already.

    Skipped (``skipped``) when the ``creates`` path exists, when the ``unless`` command
    exits 0, or when the ``only_if`` command exits non-zero; otherwise run and reported
    ``changed`` (failed on a non-zero exit). Guards are read-only queries: they run in
    check mode too, the command does not. ``env`` values are given to the command (and
    guards) without appearing in its command line; those whose name looks secret
    (``*_PASSWORD``, ``*TOKEN*``...) or all of them with ``secret_env`` are scrubbed from
    output and masked in answers.

        Attributes:
            cmd (str): Shell text run by `/bin/sh -c` on the host.
            kind (Literal['command']):
            creates (None | str | Unset):
            env (CommandStepEnv | Unset):
            name (None | str | Unset):
            only_if (None | str | Unset):
            secret_env (bool | Unset):  Default: False.
            time_limit (float | None | Unset):
            unless (None | str | Unset):
    """

    cmd: str
    kind: Literal["command"]
    creates: None | str | Unset = UNSET
    env: CommandStepEnv | Unset = UNSET
    name: None | str | Unset = UNSET
    only_if: None | str | Unset = UNSET
    secret_env: bool | Unset = False
    time_limit: float | None | Unset = UNSET
    unless: None | str | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        cmd = self.cmd

        kind = self.kind

        creates: None | str | Unset
        if isinstance(self.creates, Unset):
            creates = UNSET
        else:
            creates = self.creates

        env: dict[str, Any] | Unset = UNSET
        if not isinstance(self.env, Unset):
            env = self.env.to_dict()

        name: None | str | Unset
        if isinstance(self.name, Unset):
            name = UNSET
        else:
            name = self.name

        only_if: None | str | Unset
        if isinstance(self.only_if, Unset):
            only_if = UNSET
        else:
            only_if = self.only_if

        secret_env = self.secret_env

        time_limit: float | None | Unset
        if isinstance(self.time_limit, Unset):
            time_limit = UNSET
        else:
            time_limit = self.time_limit

        unless: None | str | Unset
        if isinstance(self.unless, Unset):
            unless = UNSET
        else:
            unless = self.unless

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "cmd": cmd,
                "kind": kind,
            }
        )
        if creates is not UNSET:
            field_dict["creates"] = creates
        if env is not UNSET:
            field_dict["env"] = env
        if name is not UNSET:
            field_dict["name"] = name
        if only_if is not UNSET:
            field_dict["only_if"] = only_if
        if secret_env is not UNSET:
            field_dict["secret_env"] = secret_env
        if time_limit is not UNSET:
            field_dict["time_limit"] = time_limit
        if unless is not UNSET:
            field_dict["unless"] = unless

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.command_step_env import CommandStepEnv

        d = dict(src_dict)
        cmd = d.pop("cmd")

        kind = cast(Literal["command"], d.pop("kind"))
        if kind != "command":
            raise ValueError(f"kind must match const 'command', got '{kind}'")

        def _parse_creates(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        creates = _parse_creates(d.pop("creates", UNSET))

        _env = d.pop("env", UNSET)
        env: CommandStepEnv | Unset
        if isinstance(_env, Unset):
            env = UNSET
        else:
            env = CommandStepEnv.from_dict(_env)

        def _parse_name(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        name = _parse_name(d.pop("name", UNSET))

        def _parse_only_if(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        only_if = _parse_only_if(d.pop("only_if", UNSET))

        secret_env = d.pop("secret_env", UNSET)

        def _parse_time_limit(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        time_limit = _parse_time_limit(d.pop("time_limit", UNSET))

        def _parse_unless(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        unless = _parse_unless(d.pop("unless", UNSET))

        command_step = cls(
            cmd=cmd,
            kind=kind,
            creates=creates,
            env=env,
            name=name,
            only_if=only_if,
            secret_env=secret_env,
            time_limit=time_limit,
            unless=unless,
        )

        return command_step
