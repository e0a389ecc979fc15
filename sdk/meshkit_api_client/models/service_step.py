from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, Self, TypeVar, cast

from attrs import define as _attrs_define

from ..models.service_step_state_type_0 import ServiceStepStateType0
from ..types import UNSET, Unset

T = TypeVar("T", bound="ServiceStep")


@_attrs_define
class ServiceStep:
    """A service running or not (``started``, ``stopped``, or ``restarted`` every run),
    and enabled at boot or not; through ``systemctl`` when systemd runs the host, else
    ``service`` (init scripts, which cannot be enabled or disabled here).

        Attributes:
            kind (Literal['service']):
            service (str): A service (systemd unit or init script) name.
            enabled (bool | None | Unset):
            name (None | str | Unset):
            state (None | ServiceStepStateType0 | Unset):
            time_limit (float | None | Unset):
    """

    kind: Literal["service"]
    service: str
    enabled: bool | None | Unset = UNSET
    name: None | str | Unset = UNSET
    state: None | ServiceStepStateType0 | Unset = UNSET
    time_limit: float | None | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        kind = self.kind

        service = self.service

        enabled: bool | None | Unset
        if isinstance(self.enabled, Unset):
            enabled = UNSET
        else:
            enabled = self.enabled

        name: None | str | Unset
        if isinstance(self.name, Unset):
            name = UNSET
        else:
            name = self.name

        state: None | str | Unset
        if isinstance(self.state, Unset):
            state = UNSET
        elif isinstance(self.state, ServiceStepStateType0):
            state = self.state.value
        else:
            state = self.state

        time_limit: float | None | Unset
        if isinstance(self.time_limit, Unset):
            time_limit = UNSET
        else:
            time_limit = self.time_limit

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "kind": kind,
                "service": service,
            }
        )
        if enabled is not UNSET:
            field_dict["enabled"] = enabled
        if name is not UNSET:
            field_dict["name"] = name
        if state is not UNSET:
            field_dict["state"] = state
        if time_limit is not UNSET:
            field_dict["time_limit"] = time_limit

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        kind = cast(Literal["service"], d.pop("kind"))
        if kind != "service":
            raise ValueError(f"kind must match const 'service', got '{kind}'")

        service = d.pop("service")

        def _parse_enabled(data: object) -> bool | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(bool | None | Unset, data)

        enabled = _parse_enabled(d.pop("enabled", UNSET))

        def _parse_name(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        name = _parse_name(d.pop("name", UNSET))

        def _parse_state(data: object) -> None | ServiceStepStateType0 | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                state_type_0 = ServiceStepStateType0(data)

                return state_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | ServiceStepStateType0 | Unset, data)

        state = _parse_state(d.pop("state", UNSET))

        def _parse_time_limit(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        time_limit = _parse_time_limit(d.pop("time_limit", UNSET))

        service_step = cls(
            kind=kind,
            service=service,
            enabled=enabled,
            name=name,
            state=state,
            time_limit=time_limit,
        )

        return service_step
