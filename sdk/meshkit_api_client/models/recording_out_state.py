from enum import StrEnum


class RecordingOutState(StrEnum):
    FAILED = "failed"
    PROCESSING = "processing"
    READY = "ready"
    RECORDING = "recording"

    def __str__(self) -> str:
        return str(self.value)
