from enum import StrEnum


class CheckSummaryState(StrEnum):
    DEGRADED = "degraded"
    DOWN = "down"
    UNKNOWN = "unknown"
    UP = "up"

    def __str__(self) -> str:
        return str(self.value)
