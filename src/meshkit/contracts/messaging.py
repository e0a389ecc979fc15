"""Events the messaging service publishes (topic ``messaging.messages``)."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from meshkit.events import Event


class MessagePosted(Event):
    """A message was stored in a channel (REST, Socket.IO or a system message).

    It carries ids, not the text: a consumer that needs the content asks messaging, and
    sees a deletion made since. Search indexers, bots and messaging's own ``@channel``
    notifications consume it.
    """

    topic: ClassVar[str] = "messaging.messages"
    type: ClassVar[str] = "meshkit.messaging.message.posted.v1"
    message_id: str
    channel_id: str
    author_id: str
    mentions_channel: bool = False
    created_at: datetime
