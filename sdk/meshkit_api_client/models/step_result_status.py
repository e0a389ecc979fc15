from enum import StrEnum


class StepResultStatus(StrEnum):
    CHANGED = "changed"
    FAILED = "failed"
    OK = "ok"
    SKIPPED = "skipped"

    def __str__(self) -> str:
        return str(self.value)
