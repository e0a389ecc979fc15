from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.check_state_state import CheckStateState
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.probe_result import ProbeResult


T = TypeVar("T", bound="CheckState")


@_attrs_define
class CheckState:
    """Where a check's state machine stands (kept in Redis, shared by instances).

    Attributes:
        failures (int | Unset): Consecutive failed runs. Default: 0.
        last_result (None | ProbeResult | Unset):
        runs (int | Unset): Runs so far. Default: 0.
        since (datetime.datetime | None | Unset): When it entered `state`.
        state (CheckStateState | Unset):  Default: CheckStateState.UNKNOWN.
        successes (int | Unset): Consecutive successful runs. Default: 0.
        transitions (int | Unset): State changes so far. Default: 0.
    """

    failures: int | Unset = 0
    last_result: None | ProbeResult | Unset = UNSET
    runs: int | Unset = 0
    since: datetime.datetime | None | Unset = UNSET
    state: CheckStateState | Unset = CheckStateState.UNKNOWN
    successes: int | Unset = 0
    transitions: int | Unset = 0
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.probe_result import ProbeResult

        failures = self.failures

        last_result: dict[str, Any] | None | Unset
        if isinstance(self.last_result, Unset):
            last_result = UNSET
        elif isinstance(self.last_result, ProbeResult):
            last_result = self.last_result.to_dict()
        else:
            last_result = self.last_result

        runs = self.runs

        since: None | str | Unset
        if isinstance(self.since, Unset):
            since = UNSET
        elif isinstance(self.since, datetime.datetime):
            since = self.since.isoformat()
        else:
            since = self.since

        state: str | Unset = UNSET
        if not isinstance(self.state, Unset):
            state = self.state.value

        successes = self.successes

        transitions = self.transitions

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({})
        if failures is not UNSET:
            field_dict["failures"] = failures
        if last_result is not UNSET:
            field_dict["last_result"] = last_result
        if runs is not UNSET:
            field_dict["runs"] = runs
        if since is not UNSET:
            field_dict["since"] = since
        if state is not UNSET:
            field_dict["state"] = state
        if successes is not UNSET:
            field_dict["successes"] = successes
        if transitions is not UNSET:
            field_dict["transitions"] = transitions

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.probe_result import ProbeResult

        d = dict(src_dict)
        failures = d.pop("failures", UNSET)

        def _parse_last_result(data: object) -> None | ProbeResult | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                last_result_type_0 = ProbeResult.from_dict(data)

                return last_result_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | ProbeResult | Unset, data)

        last_result = _parse_last_result(d.pop("last_result", UNSET))

        runs = d.pop("runs", UNSET)

        def _parse_since(data: object) -> datetime.datetime | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                since_type_0 = datetime.datetime.fromisoformat(data)

                return since_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None | Unset, data)

        since = _parse_since(d.pop("since", UNSET))

        _state = d.pop("state", UNSET)
        state: CheckStateState | Unset
        if isinstance(_state, Unset):
            state = UNSET
        else:
            state = CheckStateState(_state)

        successes = d.pop("successes", UNSET)

        transitions = d.pop("transitions", UNSET)

        check_state = cls(
            failures=failures,
            last_result=last_result,
            runs=runs,
            since=since,
            state=state,
            successes=successes,
            transitions=transitions,
        )

        check_state.additional_properties = d
        return check_state

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
