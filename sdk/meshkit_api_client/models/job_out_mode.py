from enum import StrEnum


class JobOutMode(StrEnum):
    APPLY = "apply"
    CHECK = "check"

    def __str__(self) -> str:
        return str(self.value)
