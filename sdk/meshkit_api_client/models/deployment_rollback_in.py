from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="DeploymentRollbackIn")


@_attrs_define
class DeploymentRollbackIn:
    """Roll back to an earlier version: a new version whose spec equals it.

    Attributes:
        to_version (int): The version whose spec to run again.
        reason (str | Unset):  Default: ''.
    """

    to_version: int
    reason: str | Unset = ""

    def to_dict(self) -> dict[str, Any]:
        to_version = self.to_version

        reason = self.reason

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "to_version": to_version,
            }
        )
        if reason is not UNSET:
            field_dict["reason"] = reason

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        to_version = d.pop("to_version")

        reason = d.pop("reason", UNSET)

        deployment_rollback_in = cls(
            to_version=to_version,
            reason=reason,
        )

        return deployment_rollback_in
