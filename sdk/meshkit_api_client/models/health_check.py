from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="HealthCheck")


@_attrs_define
class HealthCheck:
    """Docker's ``HEALTHCHECK``: a shell command in the container, 0 = healthy.

    A rolling update waits for each new container to be ``healthy`` (at most
    ``ready_timeout``) before it stops an old one.

        Attributes:
            command (str): Run with `/bin/sh -c` in the container (`CMD-SHELL`).
            interval (float | Unset): Seconds between checks. Default: 10.0.
            ready_timeout (float | Unset): Seconds a new container has to become healthy during a rollout before the rollout
                is rolled back. Default: 120.0.
            retries (int | Unset): Failures in a row = unhealthy. Default: 3.
            start_period (float | Unset): Seconds after start during which failures do not count. Default: 0.0.
            timeout (float | Unset): Seconds one check may take. Default: 5.0.
    """

    command: str
    interval: float | Unset = 10.0
    ready_timeout: float | Unset = 120.0
    retries: int | Unset = 3
    start_period: float | Unset = 0.0
    timeout: float | Unset = 5.0

    def to_dict(self) -> dict[str, Any]:
        command = self.command

        interval = self.interval

        ready_timeout = self.ready_timeout

        retries = self.retries

        start_period = self.start_period

        timeout = self.timeout

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "command": command,
            }
        )
        if interval is not UNSET:
            field_dict["interval"] = interval
        if ready_timeout is not UNSET:
            field_dict["ready_timeout"] = ready_timeout
        if retries is not UNSET:
            field_dict["retries"] = retries
        if start_period is not UNSET:
            field_dict["start_period"] = start_period
        if timeout is not UNSET:
            field_dict["timeout"] = timeout

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        command = d.pop("command")

        interval = d.pop("interval", UNSET)

        ready_timeout = d.pop("ready_timeout", UNSET)

        retries = d.pop("retries", UNSET)

        start_period = d.pop("start_period", UNSET)

        timeout = d.pop("timeout", UNSET)

        health_check = cls(
            command=command,
            interval=interval,
            ready_timeout=ready_timeout,
            retries=retries,
            start_period=start_period,
            timeout=timeout,
        )

        return health_check
