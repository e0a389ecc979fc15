from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define

T = TypeVar("T", bound="HostInLabels")


@_attrs_define
class HostInLabels:
    """Free labels to select hosts by (`env: prod`); keys and values are letters, digits, `.`, `_`, `-` (63 at most,
    starting and ending alphanumeric).

    """

    def to_dict(self) -> dict[str, Any]:

        field_dict: dict[str, Any] = {}

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        host_in_labels = cls()

        return host_in_labels
