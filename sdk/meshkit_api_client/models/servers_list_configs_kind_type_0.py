from enum import StrEnum


class ServersListConfigsKindType0(StrEnum):
    ENV = "env"
    FILE = "file"

    def __str__(self) -> str:
        return str(self.value)
