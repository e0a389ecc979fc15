from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define

T = TypeVar("T", bound="ScaleIn")


@_attrs_define
class ScaleIn:
    """How many replicas should run.

    Attributes:
        replicas (int):
    """

    replicas: int

    def to_dict(self) -> dict[str, Any]:
        replicas = self.replicas

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "replicas": replicas,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        replicas = d.pop("replicas")

        scale_in = cls(
            replicas=replicas,
        )

        return scale_in
