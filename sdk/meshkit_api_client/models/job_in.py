from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define

from ..models.job_in_mode import JobInMode
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.inline_recipe import InlineRecipe


T = TypeVar("T", bound="JobIn")


@_attrs_define
class JobIn:
    """Run a recipe on hosts: in ``check`` mode (report what would change, change
    nothing) or ``apply`` mode.

        Attributes:
            hosts (Any): Which hosts: those in ``ids`` (every host when not given) that carry all of
                ``labels``. At least one of the two, neither empty (nothing selects every host by
                accident); an id that names no host is a 404.
            recipe (InlineRecipe | str): A stored recipe's name, or `{steps: [...]}` inline.
            mode (JobInMode | Unset):  Default: JobInMode.CHECK.
            parallelism (int | None | Unset): Hosts worked on at once (default `MESHKIT_SERVERS_JOB_PARALLELISM`).
    """

    hosts: Any
    recipe: InlineRecipe | str
    mode: JobInMode | Unset = JobInMode.CHECK
    parallelism: int | None | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        from ..models.inline_recipe import InlineRecipe

        hosts: Any
        hosts = self.hosts

        recipe: dict[str, Any] | str
        if isinstance(self.recipe, InlineRecipe):
            recipe = self.recipe.to_dict()
        else:
            recipe = self.recipe

        mode: str | Unset = UNSET
        if not isinstance(self.mode, Unset):
            mode = self.mode.value

        parallelism: int | None | Unset
        if isinstance(self.parallelism, Unset):
            parallelism = UNSET
        else:
            parallelism = self.parallelism

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "hosts": hosts,
                "recipe": recipe,
            }
        )
        if mode is not UNSET:
            field_dict["mode"] = mode
        if parallelism is not UNSET:
            field_dict["parallelism"] = parallelism

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.inline_recipe import InlineRecipe

        d = dict(src_dict)

        def _parse_hosts(data: object) -> Any:
            return cast(Any, data)

        hosts = _parse_hosts(d.pop("hosts"))

        def _parse_recipe(data: object) -> InlineRecipe | str:
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                recipe_type_1 = InlineRecipe.from_dict(data)

                return recipe_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(InlineRecipe | str, data)

        recipe = _parse_recipe(d.pop("recipe"))

        _mode = d.pop("mode", UNSET)
        mode: JobInMode | Unset
        if isinstance(_mode, Unset):
            mode = UNSET
        else:
            mode = JobInMode(_mode)

        def _parse_parallelism(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        parallelism = _parse_parallelism(d.pop("parallelism", UNSET))

        job_in = cls(
            hosts=hosts,
            recipe=recipe,
            mode=mode,
            parallelism=parallelism,
        )

        return job_in
