from enum import StrEnum


class ChannelInKind(StrEnum):
    DM = "dm"
    PRIVATE = "private"
    PUBLIC = "public"

    def __str__(self) -> str:
        return str(self.value)
