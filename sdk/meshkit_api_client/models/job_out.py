from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.job_out_mode import JobOutMode
from ..models.job_out_status import JobOutStatus

if TYPE_CHECKING:
    from ..models.command_step import CommandStep
    from ..models.directory_step import DirectoryStep
    from ..models.file_step import FileStep
    from ..models.host_run import HostRun
    from ..models.package_step import PackageStep
    from ..models.service_step import ServiceStep
    from ..models.summary import Summary
    from ..models.user_step import UserStep


T = TypeVar("T", bound="JobOut")


@_attrs_define
class JobOut:
    """A provisioning job (its log is ``GET …/jobs/{job_id}/log``).

    Attributes:
        created_at (datetime.datetime):
        created_by (str):
        finished_at (datetime.datetime | None):
        hosts (list[HostRun]):
        id (str):
        instance (str): The servers instance that runs (ran) it.
        mode (JobOutMode):
        parallelism (int):
        reason (None | str): Why it failed or was cancelled, when it says.
        recipe (str):
        recipe_id (None | str):
        recipe_revision (int | None):
        started_at (datetime.datetime | None):
        status (JobOutStatus):
        steps (list[CommandStep | DirectoryStep | FileStep | PackageStep | ServiceStep | UserStep]):
        summary (Summary): A job's outcome in numbers: hosts by result, steps by outcome.
    """

    created_at: datetime.datetime
    created_by: str
    finished_at: datetime.datetime | None
    hosts: list[HostRun]
    id: str
    instance: str
    mode: JobOutMode
    parallelism: int
    reason: None | str
    recipe: str
    recipe_id: None | str
    recipe_revision: int | None
    started_at: datetime.datetime | None
    status: JobOutStatus
    steps: list[CommandStep | DirectoryStep | FileStep | PackageStep | ServiceStep | UserStep]
    summary: Summary
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.directory_step import DirectoryStep
        from ..models.file_step import FileStep
        from ..models.package_step import PackageStep
        from ..models.service_step import ServiceStep
        from ..models.user_step import UserStep

        created_at = self.created_at.isoformat()

        created_by = self.created_by

        finished_at: None | str
        if isinstance(self.finished_at, datetime.datetime):
            finished_at = self.finished_at.isoformat()
        else:
            finished_at = self.finished_at

        hosts = []
        for hosts_item_data in self.hosts:
            hosts_item = hosts_item_data.to_dict()
            hosts.append(hosts_item)

        id = self.id

        instance = self.instance

        mode = self.mode.value

        parallelism = self.parallelism

        reason: None | str
        reason = self.reason

        recipe = self.recipe

        recipe_id: None | str
        recipe_id = self.recipe_id

        recipe_revision: int | None
        recipe_revision = self.recipe_revision

        started_at: None | str
        if isinstance(self.started_at, datetime.datetime):
            started_at = self.started_at.isoformat()
        else:
            started_at = self.started_at

        status = self.status.value

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

        summary = self.summary.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "created_at": created_at,
                "created_by": created_by,
                "finished_at": finished_at,
                "hosts": hosts,
                "id": id,
                "instance": instance,
                "mode": mode,
                "parallelism": parallelism,
                "reason": reason,
                "recipe": recipe,
                "recipe_id": recipe_id,
                "recipe_revision": recipe_revision,
                "started_at": started_at,
                "status": status,
                "steps": steps,
                "summary": summary,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.command_step import CommandStep
        from ..models.directory_step import DirectoryStep
        from ..models.file_step import FileStep
        from ..models.host_run import HostRun
        from ..models.package_step import PackageStep
        from ..models.service_step import ServiceStep
        from ..models.summary import Summary
        from ..models.user_step import UserStep

        d = dict(src_dict)
        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        created_by = d.pop("created_by")

        def _parse_finished_at(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                finished_at_type_0 = datetime.datetime.fromisoformat(data)

                return finished_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        finished_at = _parse_finished_at(d.pop("finished_at"))

        hosts = []
        _hosts = d.pop("hosts")
        for hosts_item_data in _hosts:
            hosts_item = HostRun.from_dict(hosts_item_data)

            hosts.append(hosts_item)

        id = d.pop("id")

        instance = d.pop("instance")

        mode = JobOutMode(d.pop("mode"))

        parallelism = d.pop("parallelism")

        def _parse_reason(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        reason = _parse_reason(d.pop("reason"))

        recipe = d.pop("recipe")

        def _parse_recipe_id(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        recipe_id = _parse_recipe_id(d.pop("recipe_id"))

        def _parse_recipe_revision(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        recipe_revision = _parse_recipe_revision(d.pop("recipe_revision"))

        def _parse_started_at(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                started_at_type_0 = datetime.datetime.fromisoformat(data)

                return started_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        started_at = _parse_started_at(d.pop("started_at"))

        status = JobOutStatus(d.pop("status"))

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

        summary = Summary.from_dict(d.pop("summary"))

        job_out = cls(
            created_at=created_at,
            created_by=created_by,
            finished_at=finished_at,
            hosts=hosts,
            id=id,
            instance=instance,
            mode=mode,
            parallelism=parallelism,
            reason=reason,
            recipe=recipe,
            recipe_id=recipe_id,
            recipe_revision=recipe_revision,
            started_at=started_at,
            status=status,
            steps=steps,
            summary=summary,
        )

        job_out.additional_properties = d
        return job_out

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
