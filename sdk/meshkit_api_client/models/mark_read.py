from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="MarkRead")


@_attrs_define
class MarkRead:
    """Exactly one of: ``ids`` (up to 100 of the caller's notifications) or ``all: true``.

    The schema says so with ``if``/``then``/``else`` (which generated clients accept
    where they choke on a ``oneOf`` beside ``properties``): with ``all: true``, ``ids``
    is absent or null; otherwise ``ids`` is required.

        Attributes:
            all_ (bool | Unset):  Default: False.
            ids (list[str] | None | Unset):
    """

    all_: bool | Unset = False
    ids: list[str] | None | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        all_ = self.all_

        ids: list[str] | None | Unset
        if isinstance(self.ids, Unset):
            ids = UNSET
        elif isinstance(self.ids, list):
            ids = self.ids

        else:
            ids = self.ids

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if all_ is not UNSET:
            field_dict["all"] = all_
        if ids is not UNSET:
            field_dict["ids"] = ids

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        all_ = d.pop("all", UNSET)

        def _parse_ids(data: object) -> list[str] | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, list):
                    raise TypeError()
                ids_type_0 = cast(list[str], data)

                return ids_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(list[str] | None | Unset, data)

        ids = _parse_ids(d.pop("ids", UNSET))

        mark_read = cls(
            all_=all_,
            ids=ids,
        )

        return mark_read
