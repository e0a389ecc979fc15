from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.check_state import CheckState
    from ..models.command_probe import CommandProbe
    from ..models.tcp_probe import TcpProbe


T = TypeVar("T", bound="CheckOut")


@_attrs_define
class CheckOut:
    """A health check and its current state.

    Attributes:
        created_at (datetime.datetime):
        created_by (str):
        degraded_latency_ms (int | None):
        enabled (bool):
        failures_to_down (int):
        id (str):
        interval (float):
        name (str):
        probe (Any | CommandProbe | TcpProbe):
        status (CheckState): Where a check's state machine stands (kept in Redis, shared by instances).
        subject (str):
        successes_to_up (int):
        timeout (float):
        updated_at (datetime.datetime):
    """

    created_at: datetime.datetime
    created_by: str
    degraded_latency_ms: int | None
    enabled: bool
    failures_to_down: int
    id: str
    interval: float
    name: str
    probe: Any | CommandProbe | TcpProbe
    status: CheckState
    subject: str
    successes_to_up: int
    timeout: float
    updated_at: datetime.datetime
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.command_probe import CommandProbe
        from ..models.tcp_probe import TcpProbe

        created_at = self.created_at.isoformat()

        created_by = self.created_by

        degraded_latency_ms: int | None
        degraded_latency_ms = self.degraded_latency_ms

        enabled = self.enabled

        failures_to_down = self.failures_to_down

        id = self.id

        interval = self.interval

        name = self.name

        probe: Any | dict[str, Any]
        if isinstance(self.probe, TcpProbe) or isinstance(self.probe, CommandProbe):
            probe = self.probe.to_dict()
        else:
            probe = self.probe

        status = self.status.to_dict()

        subject = self.subject

        successes_to_up = self.successes_to_up

        timeout = self.timeout

        updated_at = self.updated_at.isoformat()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "created_at": created_at,
                "created_by": created_by,
                "degraded_latency_ms": degraded_latency_ms,
                "enabled": enabled,
                "failures_to_down": failures_to_down,
                "id": id,
                "interval": interval,
                "name": name,
                "probe": probe,
                "status": status,
                "subject": subject,
                "successes_to_up": successes_to_up,
                "timeout": timeout,
                "updated_at": updated_at,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.check_state import CheckState
        from ..models.command_probe import CommandProbe
        from ..models.tcp_probe import TcpProbe

        d = dict(src_dict)
        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        created_by = d.pop("created_by")

        def _parse_degraded_latency_ms(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        degraded_latency_ms = _parse_degraded_latency_ms(d.pop("degraded_latency_ms"))

        enabled = d.pop("enabled")

        failures_to_down = d.pop("failures_to_down")

        id = d.pop("id")

        interval = d.pop("interval")

        name = d.pop("name")

        def _parse_probe(data: object) -> Any | CommandProbe | TcpProbe:
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                probe_type_1 = TcpProbe.from_dict(data)

                return probe_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                probe_type_2 = CommandProbe.from_dict(data)

                return probe_type_2
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(Any | CommandProbe | TcpProbe, data)

        probe = _parse_probe(d.pop("probe"))

        status = CheckState.from_dict(d.pop("status"))

        subject = d.pop("subject")

        successes_to_up = d.pop("successes_to_up")

        timeout = d.pop("timeout")

        updated_at = datetime.datetime.fromisoformat(d.pop("updated_at"))

        check_out = cls(
            created_at=created_at,
            created_by=created_by,
            degraded_latency_ms=degraded_latency_ms,
            enabled=enabled,
            failures_to_down=failures_to_down,
            id=id,
            interval=interval,
            name=name,
            probe=probe,
            status=status,
            subject=subject,
            successes_to_up=successes_to_up,
            timeout=timeout,
            updated_at=updated_at,
        )

        check_out.additional_properties = d
        return check_out

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
