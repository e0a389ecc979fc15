from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.notification_out_kind import NotificationOutKind

T = TypeVar("T", bound="NotificationOut")


@_attrs_define
class NotificationOut:
    """A notification as its recipient sees it.

    Attributes:
        author_id (str):
        channel_id (str):
        created_at (datetime.datetime):
        excerpt (str): The start of the message (up to 140 characters).
        id (str):
        kind (NotificationOutKind):
        message_id (str):
        read (bool):
        read_at (datetime.datetime | None):
    """

    author_id: str
    channel_id: str
    created_at: datetime.datetime
    excerpt: str
    id: str
    kind: NotificationOutKind
    message_id: str
    read: bool
    read_at: datetime.datetime | None
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        author_id = self.author_id

        channel_id = self.channel_id

        created_at = self.created_at.isoformat()

        excerpt = self.excerpt

        id = self.id

        kind = self.kind.value

        message_id = self.message_id

        read = self.read

        read_at: None | str
        if isinstance(self.read_at, datetime.datetime):
            read_at = self.read_at.isoformat()
        else:
            read_at = self.read_at

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "author_id": author_id,
                "channel_id": channel_id,
                "created_at": created_at,
                "excerpt": excerpt,
                "id": id,
                "kind": kind,
                "message_id": message_id,
                "read": read,
                "read_at": read_at,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        author_id = d.pop("author_id")

        channel_id = d.pop("channel_id")

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        excerpt = d.pop("excerpt")

        id = d.pop("id")

        kind = NotificationOutKind(d.pop("kind"))

        message_id = d.pop("message_id")

        read = d.pop("read")

        def _parse_read_at(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                read_at_type_0 = datetime.datetime.fromisoformat(data)

                return read_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        read_at = _parse_read_at(d.pop("read_at"))

        notification_out = cls(
            author_id=author_id,
            channel_id=channel_id,
            created_at=created_at,
            excerpt=excerpt,
            id=id,
            kind=kind,
            message_id=message_id,
            read=read,
            read_at=read_at,
        )

        notification_out.additional_properties = d
        return notification_out

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
