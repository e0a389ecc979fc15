from enum import StrEnum


class ServersListAlertsStateType0(StrEnum):
    FIRING = "firing"
    PENDING = "pending"
    RESOLVED = "resolved"

    def __str__(self) -> str:
        return str(self.value)
