from enum import StrEnum


class TargetResultOutcome(StrEnum):
    CHANGED = "changed"
    FAILED = "failed"
    UNCHANGED = "unchanged"
    WOULD_CHANGE = "would-change"

    def __str__(self) -> str:
        return str(self.value)
