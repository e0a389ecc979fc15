from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.command_step import CommandStep
    from ..models.directory_step import DirectoryStep
    from ..models.file_step import FileStep
    from ..models.package_step import PackageStep
    from ..models.service_step import ServiceStep
    from ..models.user_step import UserStep


T = TypeVar("T", bound="InlineRecipe")


@_attrs_define
class InlineRecipe:
    """Steps given with the job instead of a stored recipe's name.

    Attributes:
        steps (list[CommandStep | DirectoryStep | FileStep | PackageStep | ServiceStep | UserStep]):
        from_job (None | str | Unset): A job whose steps these are (as its answer shows them): a masked secret
            (`********`) takes that job's stored value (422 `masked-secret-unknown` when there is none).
        name (str | Unset): A recipe's unique name (letters, digits, `.`, `_`, `-`). Default: 'inline'.
    """

    steps: list[CommandStep | DirectoryStep | FileStep | PackageStep | ServiceStep | UserStep]
    from_job: None | str | Unset = UNSET
    name: str | Unset = "inline"

    def to_dict(self) -> dict[str, Any]:
        from ..models.directory_step import DirectoryStep
        from ..models.file_step import FileStep
        from ..models.package_step import PackageStep
        from ..models.service_step import ServiceStep
        from ..models.user_step import UserStep

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

        from_job: None | str | Unset
        if isinstance(self.from_job, Unset):
            from_job = UNSET
        else:
            from_job = self.from_job

        name = self.name

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "steps": steps,
            }
        )
        if from_job is not UNSET:
            field_dict["from_job"] = from_job
        if name is not UNSET:
            field_dict["name"] = name

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

        def _parse_from_job(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        from_job = _parse_from_job(d.pop("from_job", UNSET))

        name = d.pop("name", UNSET)

        inline_recipe = cls(
            steps=steps,
            from_job=from_job,
            name=name,
        )

        return inline_recipe
