from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.command_probe import CommandProbe
    from ..models.tcp_probe import TcpProbe


T = TypeVar("T", bound="CheckIn")


@_attrs_define
class CheckIn:
    """A new health check.

    Attributes:
        name (str): Unique among checks; used in the posted messages.
        probe (Any | CommandProbe | TcpProbe):
        subject (str): What the check is about: `host:<host id>` or `deployment:<deployment id>`.
        degraded_latency_ms (int | None | Unset):
        enabled (bool | Unset): Disabled checks are not scheduled. Default: True.
        failures_to_down (int | Unset): Consecutive failures that make the check `down`. Default: 3.
        interval (float | Unset): Seconds between runs (once per interval across instances). Default: 30.0.
        successes_to_up (int | Unset): Consecutive successes that bring a `down`, `degraded` or new check `up`. Default:
            2.
        timeout (float | Unset): Seconds a run may take before it counts as failed. Default: 5.0.
    """

    name: str
    probe: Any | CommandProbe | TcpProbe
    subject: str
    degraded_latency_ms: int | None | Unset = UNSET
    enabled: bool | Unset = True
    failures_to_down: int | Unset = 3
    interval: float | Unset = 30.0
    successes_to_up: int | Unset = 2
    timeout: float | Unset = 5.0

    def to_dict(self) -> dict[str, Any]:
        from ..models.command_probe import CommandProbe
        from ..models.tcp_probe import TcpProbe

        name = self.name

        probe: Any | dict[str, Any]
        if isinstance(self.probe, TcpProbe) or isinstance(self.probe, CommandProbe):
            probe = self.probe.to_dict()
        else:
            probe = self.probe

        subject = self.subject

        degraded_latency_ms: int | None | Unset
        if isinstance(self.degraded_latency_ms, Unset):
            degraded_latency_ms = UNSET
        else:
            degraded_latency_ms = self.degraded_latency_ms

        enabled = self.enabled

        failures_to_down = self.failures_to_down

        interval = self.interval

        successes_to_up = self.successes_to_up

        timeout = self.timeout

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "name": name,
                "probe": probe,
                "subject": subject,
            }
        )
        if degraded_latency_ms is not UNSET:
            field_dict["degraded_latency_ms"] = degraded_latency_ms
        if enabled is not UNSET:
            field_dict["enabled"] = enabled
        if failures_to_down is not UNSET:
            field_dict["failures_to_down"] = failures_to_down
        if interval is not UNSET:
            field_dict["interval"] = interval
        if successes_to_up is not UNSET:
            field_dict["successes_to_up"] = successes_to_up
        if timeout is not UNSET:
            field_dict["timeout"] = timeout

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.command_probe import CommandProbe
        from ..models.tcp_probe import TcpProbe

        d = dict(src_dict)
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

        subject = d.pop("subject")

        def _parse_degraded_latency_ms(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        degraded_latency_ms = _parse_degraded_latency_ms(d.pop("degraded_latency_ms", UNSET))

        enabled = d.pop("enabled", UNSET)

        failures_to_down = d.pop("failures_to_down", UNSET)

        interval = d.pop("interval", UNSET)

        successes_to_up = d.pop("successes_to_up", UNSET)

        timeout = d.pop("timeout", UNSET)

        check_in = cls(
            name=name,
            probe=probe,
            subject=subject,
            degraded_latency_ms=degraded_latency_ms,
            enabled=enabled,
            failures_to_down=failures_to_down,
            interval=interval,
            successes_to_up=successes_to_up,
            timeout=timeout,
        )

        return check_in
