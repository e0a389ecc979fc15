from enum import StrEnum


class ChannelOutKind(StrEnum):
    DM = "dm"
    PRIVATE = "private"
    PUBLIC = "public"

    def __str__(self) -> str:
        return str(self.value)
