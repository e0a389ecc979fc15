from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.command_step import CommandStep
    from ..models.directory_step import DirectoryStep
    from ..models.file_step import FileStep
    from ..models.package_step import PackageStep
    from ..models.service_step import ServiceStep
    from ..models.user_step import UserStep


T = TypeVar("T", bound="RecipeOut")


@_attrs_define
class RecipeOut:
    """A stored recipe (secret values masked).

    Attributes:
        created_at (datetime.datetime):
        created_by (str):
        description (str):
        id (str):
        name (str):
        revision (int): 1 when created, one more per update.
        steps (list[CommandStep | DirectoryStep | FileStep | PackageStep | ServiceStep | UserStep]):
        updated_at (datetime.datetime):
    """

    created_at: datetime.datetime
    created_by: str
    description: str
    id: str
    name: str
    revision: int
    steps: list[CommandStep | DirectoryStep | FileStep | PackageStep | ServiceStep | UserStep]
    updated_at: datetime.datetime
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.directory_step import DirectoryStep
        from ..models.file_step import FileStep
        from ..models.package_step import PackageStep
        from ..models.service_step import ServiceStep
        from ..models.user_step import UserStep

        created_at = self.created_at.isoformat()

        created_by = self.created_by

        description = self.description

        id = self.id

        name = self.name

        revision = self.revision

        steps = []
        for steps_item_data in self.steps:
            steps_item: dict[str, Any]
            if (
                isinstance(steps_item_data, PackageStep)
                or isinstance(steps_item_data, FileStep)
                or isinstance(steps_item_data, DirectoryStep)
                or isinstance(steps_item_data, UserStep)
                or isinstance(steps_item_data, ServiceStep)
            ):
                steps_item = steps_item_data.to_dict()
            else:
                steps_item = steps_item_data.to_dict()

            steps.append(steps_item)

        updated_at = self.updated_at.isoformat()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "created_at": created_at,
                "created_by": created_by,
                "description": description,
                "id": id,
                "name": name,
                "revision": revision,
                "steps": steps,
                "updated_at": updated_at,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.command_step import CommandStep
        from ..models.directory_step import DirectoryStep
        from ..models.file_step import FileStep
        from ..models.package_step import PackageStep
        from ..models.service_step import ServiceStep
        from ..models.user_step import UserStep

        d = dict(src_dict)
        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        created_by = d.pop("created_by")

        description = d.pop("description")

        id = d.pop("id")

        name = d.pop("name")

        revision = d.pop("revision")

        steps = []
        _steps = d.pop("steps")
        for steps_item_data in _steps:

            def _parse_steps_item(
                data: object,
            ) -> CommandStep | DirectoryStep | FileStep | PackageStep | ServiceStep | UserStep:
                try:
                    if not isinstance(data, dict):
                        raise TypeError()
                    steps_item_type_0 = PackageStep.from_dict(data)

                    return steps_item_type_0
                except (TypeError, ValueError, AttributeError, KeyError):
                    pass
                try:
                    if not isinstance(data, dict):
                        raise TypeError()
                    steps_item_type_1 = FileStep.from_dict(data)

                    return steps_item_type_1
                except (TypeError, ValueError, AttributeError, KeyError):
                    pass
                try:
                    if not isinstance(data, dict):
                        raise TypeError()
                    steps_item_type_2 = DirectoryStep.from_dict(data)

                    return steps_item_type_2
                except (TypeError, ValueError, AttributeError, KeyError):
                    pass
                try:
                    if not isinstance(data, dict):
                        raise TypeError()
                    steps_item_type_3 = UserStep.from_dict(data)

                    return steps_item_type_3
                except (TypeError, ValueError, AttributeError, KeyError):
                    pass
                try:
                    if not isinstance(data, dict):
                        raise TypeError()
                    steps_item_type_4 = ServiceStep.from_dict(data)

                    return steps_item_type_4
                except (TypeError, ValueError, AttributeError, KeyError):
                    pass
                if not isinstance(data, dict):
                    raise TypeError()
                steps_item_type_5 = CommandStep.from_dict(data)

                return steps_item_type_5

            steps_item = _parse_steps_item(steps_item_data)

            steps.append(steps_item)

        updated_at = datetime.datetime.fromisoformat(d.pop("updated_at"))

        recipe_out = cls(
            created_at=created_at,
            created_by=created_by,
            description=description,
            id=id,
            name=name,
            revision=revision,
            steps=steps,
            updated_at=updated_at,
        )

        recipe_out.additional_properties = d
        return recipe_out

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
