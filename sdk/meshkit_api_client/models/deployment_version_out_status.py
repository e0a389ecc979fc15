from enum import StrEnum


class DeploymentVersionOutStatus(StrEnum):
    ACTIVE = "active"
    FAILED = "failed"
    ROLLING_OUT = "rolling_out"
    SUPERSEDED = "superseded"

    def __str__(self) -> str:
        return str(self.value)
