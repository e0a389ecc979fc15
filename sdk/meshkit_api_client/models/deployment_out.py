from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.deployment_out_status import DeploymentOutStatus
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.deployment_out_spec import DeploymentOutSpec
    from ..models.replica_out import ReplicaOut


T = TypeVar("T", bound="DeploymentOut")


@_attrs_define
class DeploymentOut:
    """A deployment, its active spec (secrets masked) and, when asked, its containers.

    Attributes:
        created_at (datetime.datetime):
        current_version (int):
        host_id (str):
        id (str):
        name (str):
        replicas (int): Replicas that should run.
        rollout_version (int | None): The version being rolled out now.
        spec (DeploymentOutSpec): The active version's spec, secrets masked.
        status (DeploymentOutStatus):
        updated_at (datetime.datetime):
        containers (list[ReplicaOut] | None | Unset): The containers now (one deployment only).
    """

    created_at: datetime.datetime
    current_version: int
    host_id: str
    id: str
    name: str
    replicas: int
    rollout_version: int | None
    spec: DeploymentOutSpec
    status: DeploymentOutStatus
    updated_at: datetime.datetime
    containers: list[ReplicaOut] | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        created_at = self.created_at.isoformat()

        current_version = self.current_version

        host_id = self.host_id

        id = self.id

        name = self.name

        replicas = self.replicas

        rollout_version: int | None
        rollout_version = self.rollout_version

        spec = self.spec.to_dict()

        status = self.status.value

        updated_at = self.updated_at.isoformat()

        containers: list[dict[str, Any]] | None | Unset
        if isinstance(self.containers, Unset):
            containers = UNSET
        elif isinstance(self.containers, list):
            containers = []
            for containers_type_0_item_data in self.containers:
                containers_type_0_item = containers_type_0_item_data.to_dict()
                containers.append(containers_type_0_item)

        else:
            containers = self.containers

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "created_at": created_at,
                "current_version": current_version,
                "host_id": host_id,
                "id": id,
                "name": name,
                "replicas": replicas,
                "rollout_version": rollout_version,
                "spec": spec,
                "status": status,
                "updated_at": updated_at,
            }
        )
        if containers is not UNSET:
            field_dict["containers"] = containers

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.deployment_out_spec import DeploymentOutSpec
        from ..models.replica_out import ReplicaOut

        d = dict(src_dict)
        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        current_version = d.pop("current_version")

        host_id = d.pop("host_id")

        id = d.pop("id")

        name = d.pop("name")

        replicas = d.pop("replicas")

        def _parse_rollout_version(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        rollout_version = _parse_rollout_version(d.pop("rollout_version"))

        spec = DeploymentOutSpec.from_dict(d.pop("spec"))

        status = DeploymentOutStatus(d.pop("status"))

        updated_at = datetime.datetime.fromisoformat(d.pop("updated_at"))

        def _parse_containers(data: object) -> list[ReplicaOut] | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, list):
                    raise TypeError()
                containers_type_0 = []
                _containers_type_0 = data
                for containers_type_0_item_data in _containers_type_0:
                    containers_type_0_item = ReplicaOut.from_dict(containers_type_0_item_data)

                    containers_type_0.append(containers_type_0_item)

                return containers_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(list[ReplicaOut] | None | Unset, data)

        containers = _parse_containers(d.pop("containers", UNSET))

        deployment_out = cls(
            created_at=created_at,
            current_version=current_version,
            host_id=host_id,
            id=id,
            name=name,
            replicas=replicas,
            rollout_version=rollout_version,
            spec=spec,
            status=status,
            updated_at=updated_at,
            containers=containers,
        )

        deployment_out.additional_properties = d
        return deployment_out

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
