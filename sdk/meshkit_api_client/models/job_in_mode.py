from enum import StrEnum


class JobInMode(StrEnum):
    APPLY = "apply"
    CHECK = "check"

    def __str__(self) -> str:
        return str(self.value)
