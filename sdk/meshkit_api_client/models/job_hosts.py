from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.job_hosts_labels import JobHostsLabels


T = TypeVar("T", bound="JobHosts")


@_attrs_define
class JobHosts:
    """Which hosts a job runs on: these ids and/or every host with all these labels
    (at least one of the two; 422 `no-hosts-selected` when they match no host).

        Attributes:
            ids (list[str] | Unset):
            labels (JobHostsLabels | Unset):
    """

    ids: list[str] | Unset = UNSET
    labels: JobHostsLabels | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        ids: list[str] | Unset = UNSET
        if not isinstance(self.ids, Unset):
            ids = self.ids

        labels: dict[str, Any] | Unset = UNSET
        if not isinstance(self.labels, Unset):
            labels = self.labels.to_dict()

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if ids is not UNSET:
            field_dict["ids"] = ids
        if labels is not UNSET:
            field_dict["labels"] = labels

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.job_hosts_labels import JobHostsLabels

        d = dict(src_dict)
        ids = cast(list[str], d.pop("ids", UNSET))

        _labels = d.pop("labels", UNSET)
        labels: JobHostsLabels | Unset
        if isinstance(_labels, Unset):
            labels = UNSET
        else:
            labels = JobHostsLabels.from_dict(_labels)

        job_hosts = cls(
            ids=ids,
            labels=labels,
        )

        return job_hosts
