from enum import StrEnum


class NotificationOutKind(StrEnum):
    CHANNEL_MENTION = "channel_mention"
    DM = "dm"
    MENTION = "mention"

    def __str__(self) -> str:
        return str(self.value)
