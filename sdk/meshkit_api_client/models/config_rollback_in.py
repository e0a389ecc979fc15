from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="ConfigRollbackIn")


@_attrs_define
class ConfigRollbackIn:
    """Make a new version with the content of ``version`` and push it.

    Attributes:
        version (int):
        message (None | str | Unset):
    """

    version: int
    message: None | str | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        version = self.version

        message: None | str | Unset
        if isinstance(self.message, Unset):
            message = UNSET
        else:
            message = self.message

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "version": version,
            }
        )
        if message is not UNSET:
            field_dict["message"] = message

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        version = d.pop("version")

        def _parse_message(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        message = _parse_message(d.pop("message", UNSET))

        config_rollback_in = cls(
            version=version,
            message=message,
        )

        return config_rollback_in
