from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define

from ..models.channel_in_kind import ChannelInKind
from ..types import UNSET, Unset

T = TypeVar("T", bound="ChannelIn")


@_attrs_define
class ChannelIn:
    """A new channel; for a DM, ``members`` are the other people in it.

    A public or private channel needs a ``name``; a DM has none (it is named by its
    people) and needs someone besides the caller in ``members``. The rule is in the
    schema too (``if``/``then``/``else`` on ``kind``): a missing ``kind`` is ``public``.

        Attributes:
            kind (ChannelInKind | Unset):  Default: ChannelInKind.PUBLIC.
            members (list[str] | Unset): For a DM: the other people in it (at least one, not only the caller); for a
                channel: people to add at once.
            name (None | str | Unset): Required for a public or private channel; none for a DM.
            topic (str | Unset):  Default: ''.
    """

    kind: ChannelInKind | Unset = ChannelInKind.PUBLIC
    members: list[str] | Unset = UNSET
    name: None | str | Unset = UNSET
    topic: str | Unset = ""

    def to_dict(self) -> dict[str, Any]:
        kind: str | Unset = UNSET
        if not isinstance(self.kind, Unset):
            kind = self.kind.value

        members: list[str] | Unset = UNSET
        if not isinstance(self.members, Unset):
            members = self.members

        name: None | str | Unset
        if isinstance(self.name, Unset):
            name = UNSET
        else:
            name = self.name

        topic = self.topic

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if kind is not UNSET:
            field_dict["kind"] = kind
        if members is not UNSET:
            field_dict["members"] = members
        if name is not UNSET:
            field_dict["name"] = name
        if topic is not UNSET:
            field_dict["topic"] = topic

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        _kind = d.pop("kind", UNSET)
        kind: ChannelInKind | Unset
        if isinstance(_kind, Unset):
            kind = UNSET
        else:
            kind = ChannelInKind(_kind)

        members = cast(list[str], d.pop("members", UNSET))

        def _parse_name(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        name = _parse_name(d.pop("name", UNSET))

        topic = d.pop("topic", UNSET)

        channel_in = cls(
            kind=kind,
            members=members,
            name=name,
            topic=topic,
        )

        return channel_in
