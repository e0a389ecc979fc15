from enum import StrEnum


class LogEntryType(StrEnum):
    HOST = "host"
    JOB = "job"
    OUTPUT = "output"
    STEP = "step"

    def __str__(self) -> str:
        return str(self.value)
