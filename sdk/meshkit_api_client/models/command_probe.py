from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, Self, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="CommandProbe")


@_attrs_define
class CommandProbe:
    """A shell command over SSH on the subject's host; exit status 0 is success, and it
    is killed at the check's timeout. Defining one also needs ``servers:jobs.run`` (it
    runs commands on the host); results say the exit status, never the output.

        Attributes:
            command (str): Run on the host by the SSH user's login shell, as `ssh host command` does.
            kind (Literal['command'] | Unset):  Default: 'command'.
    """

    command: str
    kind: Literal["command"] | Unset = "command"

    def to_dict(self) -> dict[str, Any]:
        command = self.command

        kind = self.kind

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "command": command,
            }
        )
        if kind is not UNSET:
            field_dict["kind"] = kind

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        command = d.pop("command")

        kind = cast(Literal["command"] | Unset, d.pop("kind", UNSET))
        if kind != "command" and not isinstance(kind, Unset):
            raise ValueError(f"kind must match const 'command', got '{kind}'")

        command_probe = cls(
            command=command,
            kind=kind,
        )

        return command_probe
