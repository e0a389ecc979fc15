from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define

T = TypeVar("T", bound="HostPatchLabelsType0")


@_attrs_define
class HostPatchLabelsType0:
    """Free labels to select hosts by (`env: prod`); keys and values are letters, digits, `.`, `_`, `-` (63 at most,
    starting and ending alphanumeric).

    """

    def to_dict(self) -> dict[str, Any]:

        field_dict: dict[str, Any] = {}

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        host_patch_labels_type_0 = cls()

        return host_patch_labels_type_0
