from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.container_out_labels import ContainerOutLabels


T = TypeVar("T", bound="ContainerOut")


@_attrs_define
class ContainerOut:
    """A container on a host's engine (any, not only deployments').

    Attributes:
        id (str):
        image (str):
        labels (ContainerOutLabels):
        names (list[str]):
        state (str):
        status (str):
    """

    id: str
    image: str
    labels: ContainerOutLabels
    names: list[str]
    state: str
    status: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = self.id

        image = self.image

        labels = self.labels.to_dict()

        names = self.names

        state = self.state

        status = self.status

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "image": image,
                "labels": labels,
                "names": names,
                "state": state,
                "status": status,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.container_out_labels import ContainerOutLabels

        d = dict(src_dict)
        id = d.pop("id")

        image = d.pop("image")

        labels = ContainerOutLabels.from_dict(d.pop("labels"))

        names = cast(list[str], d.pop("names"))

        state = d.pop("state")

        status = d.pop("status")

        container_out = cls(
            id=id,
            image=image,
            labels=labels,
            names=names,
            state=state,
            status=status,
        )

        container_out.additional_properties = d
        return container_out

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
