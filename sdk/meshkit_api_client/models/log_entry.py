from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.log_entry_stream_type_0 import LogEntryStreamType0
from ..models.log_entry_type import LogEntryType
from ..types import UNSET, Unset

T = TypeVar("T", bound="LogEntry")


@_attrs_define
class LogEntry:
    """One entry of a job's log: a chunk of output, a step's or host's result, or a job
    event. ``seq`` orders them (1, 2, ...); live streams use ``<seq>-0`` as event id.

        Attributes:
            at (datetime.datetime):
            seq (int):
            text (str):
            type_ (LogEntryType):
            host_id (None | str | Unset):
            status (None | str | Unset): The result, for step/host/job entries.
            step (int | None | Unset): The step's index, for its entries.
            stream (LogEntryStreamType0 | None | Unset):
    """

    at: datetime.datetime
    seq: int
    text: str
    type_: LogEntryType
    host_id: None | str | Unset = UNSET
    status: None | str | Unset = UNSET
    step: int | None | Unset = UNSET
    stream: LogEntryStreamType0 | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        at = self.at.isoformat()

        seq = self.seq

        text = self.text

        type_ = self.type_.value

        host_id: None | str | Unset
        if isinstance(self.host_id, Unset):
            host_id = UNSET
        else:
            host_id = self.host_id

        status: None | str | Unset
        if isinstance(self.status, Unset):
            status = UNSET
        else:
            status = self.status

        step: int | None | Unset
        if isinstance(self.step, Unset):
            step = UNSET
        else:
            step = self.step

        stream: None | str | Unset
        if isinstance(self.stream, Unset):
            stream = UNSET
        elif isinstance(self.stream, LogEntryStreamType0):
            stream = self.stream.value
        else:
            stream = self.stream

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "at": at,
                "seq": seq,
                "text": text,
                "type": type_,
            }
        )
        if host_id is not UNSET:
            field_dict["host_id"] = host_id
        if status is not UNSET:
            field_dict["status"] = status
        if step is not UNSET:
            field_dict["step"] = step
        if stream is not UNSET:
            field_dict["stream"] = stream

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        at = datetime.datetime.fromisoformat(d.pop("at"))

        seq = d.pop("seq")

        text = d.pop("text")

        type_ = LogEntryType(d.pop("type"))

        def _parse_host_id(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        host_id = _parse_host_id(d.pop("host_id", UNSET))

        def _parse_status(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        status = _parse_status(d.pop("status", UNSET))

        def _parse_step(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        step = _parse_step(d.pop("step", UNSET))

        def _parse_stream(data: object) -> LogEntryStreamType0 | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                stream_type_0 = LogEntryStreamType0(data)

                return stream_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(LogEntryStreamType0 | None | Unset, data)

        stream = _parse_stream(d.pop("stream", UNSET))

        log_entry = cls(
            at=at,
            seq=seq,
            text=text,
            type_=type_,
            host_id=host_id,
            status=status,
            step=step,
            stream=stream,
        )

        log_entry.additional_properties = d
        return log_entry

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
