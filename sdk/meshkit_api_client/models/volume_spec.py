from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="VolumeSpec")


@_attrs_define
class VolumeSpec:
    """A named volume or a host directory mounted into the containers.

    Attributes:
        source (str): A named volume (`data`, created by the engine when missing) or an absolute path on the host (a
            bind mount; it must exist).
        target (str): Absolute path in the container.
        read_only (bool | Unset):  Default: False.
    """

    source: str
    target: str
    read_only: bool | Unset = False

    def to_dict(self) -> dict[str, Any]:
        source = self.source

        target = self.target

        read_only = self.read_only

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "source": source,
                "target": target,
            }
        )
        if read_only is not UNSET:
            field_dict["read_only"] = read_only

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        source = d.pop("source")

        target = d.pop("target")

        read_only = d.pop("read_only", UNSET)

        volume_spec = cls(
            source=source,
            target=target,
            read_only=read_only,
        )

        return volume_spec
