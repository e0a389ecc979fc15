from enum import StrEnum


class ServiceStepStateType0(StrEnum):
    RESTARTED = "restarted"
    STARTED = "started"
    STOPPED = "stopped"

    def __str__(self) -> str:
        return str(self.value)
