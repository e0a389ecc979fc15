from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.command_probe import CommandProbe
    from ..models.tcp_probe import TcpProbe


T = TypeVar("T", bound="CheckPatch")


@_attrs_define
class CheckPatch:
    """Fields to change; absent (or `null`) ones stay as they are, except
    ``degraded_latency_ms: null`` which removes the latency limit. A new ``probe``
    replaces the old one whole. The check's state is kept.

        Attributes:
            degraded_latency_ms (int | None | Unset):
            enabled (bool | None | Unset):
            failures_to_down (int | None | Unset):
            interval (float | None | Unset):
            name (None | str | Unset):
            probe (Any | CommandProbe | None | TcpProbe | Unset):
            successes_to_up (int | None | Unset):
            timeout (float | None | Unset):
    """

    degraded_latency_ms: int | None | Unset = UNSET
    enabled: bool | None | Unset = UNSET
    failures_to_down: int | None | Unset = UNSET
    interval: float | None | Unset = UNSET
    name: None | str | Unset = UNSET
    probe: Any | CommandProbe | None | TcpProbe | Unset = UNSET
    successes_to_up: int | None | Unset = UNSET
    timeout: float | None | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        from ..models.command_probe import CommandProbe
        from ..models.tcp_probe import TcpProbe

        degraded_latency_ms: int | None | Unset
        if isinstance(self.degraded_latency_ms, Unset):
            degraded_latency_ms = UNSET
        else:
            degraded_latency_ms = self.degraded_latency_ms

        enabled: bool | None | Unset
        if isinstance(self.enabled, Unset):
            enabled = UNSET
        else:
            enabled = self.enabled

        failures_to_down: int | None | Unset
        if isinstance(self.failures_to_down, Unset):
            failures_to_down = UNSET
        else:
            failures_to_down = self.failures_to_down

        interval: float | None | Unset
        if isinstance(self.interval, Unset):
            interval = UNSET
        else:
            interval = self.interval

        name: None | str | Unset
        if isinstance(self.name, Unset):
            name = UNSET
        else:
            name = self.name

        probe: Any | dict[str, Any] | None | Unset
        if isinstance(self.probe, Unset):
            probe = UNSET
        elif isinstance(self.probe, TcpProbe) or isinstance(self.probe, CommandProbe):
            probe = self.probe.to_dict()
        else:
            probe = self.probe

        successes_to_up: int | None | Unset
        if isinstance(self.successes_to_up, Unset):
            successes_to_up = UNSET
        else:
            successes_to_up = self.successes_to_up

        timeout: float | None | Unset
        if isinstance(self.timeout, Unset):
            timeout = UNSET
        else:
            timeout = self.timeout

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if degraded_latency_ms is not UNSET:
            field_dict["degraded_latency_ms"] = degraded_latency_ms
        if enabled is not UNSET:
            field_dict["enabled"] = enabled
        if failures_to_down is not UNSET:
            field_dict["failures_to_down"] = failures_to_down
        if interval is not UNSET:
            field_dict["interval"] = interval
        if name is not UNSET:
            field_dict["name"] = name
        if probe is not UNSET:
            field_dict["probe"] = probe
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

        def _parse_degraded_latency_ms(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        degraded_latency_ms = _parse_degraded_latency_ms(d.pop("degraded_latency_ms", UNSET))

        def _parse_enabled(data: object) -> bool | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(bool | None | Unset, data)

        enabled = _parse_enabled(d.pop("enabled", UNSET))

        def _parse_failures_to_down(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        failures_to_down = _parse_failures_to_down(d.pop("failures_to_down", UNSET))

        def _parse_interval(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        interval = _parse_interval(d.pop("interval", UNSET))

        def _parse_name(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        name = _parse_name(d.pop("name", UNSET))

        def _parse_probe(data: object) -> Any | CommandProbe | None | TcpProbe | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                probe_type_0_type_1 = TcpProbe.from_dict(data)

                return probe_type_0_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                probe_type_0_type_2 = CommandProbe.from_dict(data)

                return probe_type_0_type_2
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(Any | CommandProbe | None | TcpProbe | Unset, data)

        probe = _parse_probe(d.pop("probe", UNSET))

        def _parse_successes_to_up(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        successes_to_up = _parse_successes_to_up(d.pop("successes_to_up", UNSET))

        def _parse_timeout(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        timeout = _parse_timeout(d.pop("timeout", UNSET))

        check_patch = cls(
            degraded_latency_ms=degraded_latency_ms,
            enabled=enabled,
            failures_to_down=failures_to_down,
            interval=interval,
            name=name,
            probe=probe,
            successes_to_up=successes_to_up,
            timeout=timeout,
        )

        return check_patch
