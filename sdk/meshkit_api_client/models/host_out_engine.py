from enum import StrEnum


class HostOutEngine(StrEnum):
    LOCAL = "local"
    NONE = "none"
    SSH = "ssh"

    def __str__(self) -> str:
        return str(self.value)
