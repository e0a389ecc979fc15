from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.job_log_out_status import JobLogOutStatus

if TYPE_CHECKING:
    from ..models.log_entry import LogEntry


T = TypeVar("T", bound="JobLogOut")


@_attrs_define
class JobLogOut:
    """A job's stored log (what was kept: the oldest output goes past the size limit).

    Attributes:
        dropped_bytes (int): Bytes of the oldest output dropped to stay bounded.
        entries (list[LogEntry]):
        job_id (str):
        status (JobLogOutStatus):
    """

    dropped_bytes: int
    entries: list[LogEntry]
    job_id: str
    status: JobLogOutStatus
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        dropped_bytes = self.dropped_bytes

        entries = []
        for entries_item_data in self.entries:
            entries_item = entries_item_data.to_dict()
            entries.append(entries_item)

        job_id = self.job_id

        status = self.status.value

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "dropped_bytes": dropped_bytes,
                "entries": entries,
                "job_id": job_id,
                "status": status,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.log_entry import LogEntry

        d = dict(src_dict)
        dropped_bytes = d.pop("dropped_bytes")

        entries = []
        _entries = d.pop("entries")
        for entries_item_data in _entries:
            entries_item = LogEntry.from_dict(entries_item_data)

            entries.append(entries_item)

        job_id = d.pop("job_id")

        status = JobLogOutStatus(d.pop("status"))

        job_log_out = cls(
            dropped_bytes=dropped_bytes,
            entries=entries,
            job_id=job_id,
            status=status,
        )

        job_log_out.additional_properties = d
        return job_log_out

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
