from enum import StrEnum


class ChannelOutRoleType0(StrEnum):
    MEMBER = "member"
    OWNER = "owner"

    def __str__(self) -> str:
        return str(self.value)
