from enum import StrEnum


class HostInEngine(StrEnum):
    LOCAL = "local"
    NONE = "none"
    SSH = "ssh"

    def __str__(self) -> str:
        return str(self.value)
