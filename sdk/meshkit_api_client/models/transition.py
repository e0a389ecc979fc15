from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.transition_previous import TransitionPrevious
from ..models.transition_state import TransitionState

T = TypeVar("T", bound="Transition")


@_attrs_define
class Transition:
    """One change of a check's state.

    Attributes:
        at (datetime.datetime):
        detail (str): The result that decided it.
        number (int): 1 for the first change, and so on.
        previous (TransitionPrevious):
        state (TransitionState):
    """

    at: datetime.datetime
    detail: str
    number: int
    previous: TransitionPrevious
    state: TransitionState
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        at = self.at.isoformat()

        detail = self.detail

        number = self.number

        previous = self.previous.value

        state = self.state.value

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "at": at,
                "detail": detail,
                "number": number,
                "previous": previous,
                "state": state,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        at = datetime.datetime.fromisoformat(d.pop("at"))

        detail = d.pop("detail")

        number = d.pop("number")

        previous = TransitionPrevious(d.pop("previous"))

        state = TransitionState(d.pop("state"))

        transition = cls(
            at=at,
            detail=detail,
            number=number,
            previous=previous,
            state=state,
        )

        transition.additional_properties = d
        return transition

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
