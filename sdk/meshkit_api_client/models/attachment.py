from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="Attachment")


@_attrs_define
class Attachment:
    """Metadata of a linked file or page: no bytes are stored here.

    Attributes:
        url (str):
        content_type (str | Unset):  Default: ''.
        name (str | Unset):  Default: ''.
        size (int | None | Unset):
    """

    url: str
    content_type: str | Unset = ""
    name: str | Unset = ""
    size: int | None | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        url = self.url

        content_type = self.content_type

        name = self.name

        size: int | None | Unset
        if isinstance(self.size, Unset):
            size = UNSET
        else:
            size = self.size

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "url": url,
            }
        )
        if content_type is not UNSET:
            field_dict["content_type"] = content_type
        if name is not UNSET:
            field_dict["name"] = name
        if size is not UNSET:
            field_dict["size"] = size

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        url = d.pop("url")

        content_type = d.pop("content_type", UNSET)

        name = d.pop("name", UNSET)

        def _parse_size(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        size = _parse_size(d.pop("size", UNSET))

        attachment = cls(
            url=url,
            content_type=content_type,
            name=name,
            size=size,
        )

        return attachment
