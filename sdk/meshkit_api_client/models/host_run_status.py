from enum import StrEnum


class HostRunStatus(StrEnum):
    CANCELLED = "cancelled"
    CHANGED = "changed"
    FAILED = "failed"
    OK = "ok"
    PENDING = "pending"
    RUNNING = "running"

    def __str__(self) -> str:
        return str(self.value)
