from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.attachment import Attachment
    from ..models.message_out_reactions import MessageOutReactions


T = TypeVar("T", bound="MessageOut")


@_attrs_define
class MessageOut:
    """A message; a deleted one keeps its place with empty content and ``deleted``.

    Attributes:
        attachments (list[Attachment]):
        author_id (str):
        channel_id (str):
        content (str):
        created_at (datetime.datetime):
        deleted (bool):
        edited_at (datetime.datetime | None):
        id (str):
        mentions (list[str]):
        mentions_channel (bool):
        reactions (MessageOutReactions): Count of each emoji.
        reply_to (None | str):
        system (bool):
        nonce (None | str | Unset):
    """

    attachments: list[Attachment]
    author_id: str
    channel_id: str
    content: str
    created_at: datetime.datetime
    deleted: bool
    edited_at: datetime.datetime | None
    id: str
    mentions: list[str]
    mentions_channel: bool
    reactions: MessageOutReactions
    reply_to: None | str
    system: bool
    nonce: None | str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        attachments = []
        for attachments_item_data in self.attachments:
            attachments_item = attachments_item_data.to_dict()
            attachments.append(attachments_item)

        author_id = self.author_id

        channel_id = self.channel_id

        content = self.content

        created_at = self.created_at.isoformat()

        deleted = self.deleted

        edited_at: None | str
        if isinstance(self.edited_at, datetime.datetime):
            edited_at = self.edited_at.isoformat()
        else:
            edited_at = self.edited_at

        id = self.id

        mentions = self.mentions

        mentions_channel = self.mentions_channel

        reactions = self.reactions.to_dict()

        reply_to: None | str
        reply_to = self.reply_to

        system = self.system

        nonce: None | str | Unset
        if isinstance(self.nonce, Unset):
            nonce = UNSET
        else:
            nonce = self.nonce

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "attachments": attachments,
                "author_id": author_id,
                "channel_id": channel_id,
                "content": content,
                "created_at": created_at,
                "deleted": deleted,
                "edited_at": edited_at,
                "id": id,
                "mentions": mentions,
                "mentions_channel": mentions_channel,
                "reactions": reactions,
                "reply_to": reply_to,
                "system": system,
            }
        )
        if nonce is not UNSET:
            field_dict["nonce"] = nonce

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.attachment import Attachment
        from ..models.message_out_reactions import MessageOutReactions

        d = dict(src_dict)
        attachments = []
        _attachments = d.pop("attachments")
        for attachments_item_data in _attachments:
            attachments_item = Attachment.from_dict(attachments_item_data)

            attachments.append(attachments_item)

        author_id = d.pop("author_id")

        channel_id = d.pop("channel_id")

        content = d.pop("content")

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        deleted = d.pop("deleted")

        def _parse_edited_at(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                edited_at_type_0 = datetime.datetime.fromisoformat(data)

                return edited_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        edited_at = _parse_edited_at(d.pop("edited_at"))

        id = d.pop("id")

        mentions = cast(list[str], d.pop("mentions"))

        mentions_channel = d.pop("mentions_channel")

        reactions = MessageOutReactions.from_dict(d.pop("reactions"))

        def _parse_reply_to(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        reply_to = _parse_reply_to(d.pop("reply_to"))

        system = d.pop("system")

        def _parse_nonce(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        nonce = _parse_nonce(d.pop("nonce", UNSET))

        message_out = cls(
            attachments=attachments,
            author_id=author_id,
            channel_id=channel_id,
            content=content,
            created_at=created_at,
            deleted=deleted,
            edited_at=edited_at,
            id=id,
            mentions=mentions,
            mentions_channel=mentions_channel,
            reactions=reactions,
            reply_to=reply_to,
            system=system,
            nonce=nonce,
        )

        message_out.additional_properties = d
        return message_out

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
