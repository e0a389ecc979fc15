from enum import StrEnum


class ConfigOutKind(StrEnum):
    ENV = "env"
    FILE = "file"

    def __str__(self) -> str:
        return str(self.value)
