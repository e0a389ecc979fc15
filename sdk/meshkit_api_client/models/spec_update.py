from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar

from attrs import define as _attrs_define

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.deployment_spec import DeploymentSpec


T = TypeVar("T", bound="SpecUpdate")


@_attrs_define
class SpecUpdate:
    """A new version of a deployment's spec, rolled out replica by replica.

    Attributes:
        spec (DeploymentSpec): What runs: one image as ``replicas`` identical containers on one host's engine.

            Secret ``env`` values (named in ``secret_env``, or whose names look secret: `PASSWORD`,
            `TOKEN`, `SECRET`, `API_KEY`...) are stored encrypted and masked in every answer,
            diff, log line and audit entry. A port with a fixed ``host_port`` allows one replica
            at most.
        reason (str | Unset): Kept in the history. Default: ''.
    """

    spec: DeploymentSpec
    reason: str | Unset = ""

    def to_dict(self) -> dict[str, Any]:
        spec = self.spec.to_dict()

        reason = self.reason

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "spec": spec,
            }
        )
        if reason is not UNSET:
            field_dict["reason"] = reason

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.deployment_spec import DeploymentSpec

        d = dict(src_dict)
        spec = DeploymentSpec.from_dict(d.pop("spec"))

        reason = d.pop("reason", UNSET)

        spec_update = cls(
            spec=spec,
            reason=reason,
        )

        return spec_update
