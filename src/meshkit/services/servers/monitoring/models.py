"""What monitoring measures, stores and answers.

A **sample** is every :class:`Point` of one host (and its containers) at one moment. A
point is a metric name, a value and labels (``mount`` of a disk, ``interface`` of a
network card, ``container`` and ``deployment`` of a container); :data:`METRICS` lists
the names with their meaning and labels. Samples live in Redis with bounded retention
(:mod:`~meshkit.services.servers.monitoring.series`); alert rules and alert states are
documents (:class:`AlertRule`, :class:`Alert`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Any, ClassVar, Literal, get_args

from pydantic import BaseModel, Field, field_validator, model_validator

from meshkit.http.models import RequestModel
from meshkit.store import Document, Index

MetricName = Literal[
    "up",
    "cpu_percent",
    "cpu_cores",
    "load1",
    "load5",
    "load15",
    "memory_total_bytes",
    "memory_available_bytes",
    "memory_used_bytes",
    "memory_used_percent",
    "swap_total_bytes",
    "swap_used_bytes",
    "uptime_seconds",
    "disk_total_bytes",
    "disk_used_bytes",
    "disk_used_percent",
    "network_receive_bytes_per_second",
    "network_transmit_bytes_per_second",
    "sample_seconds",
    "engine_up",
    "container_cpu_percent",
    "container_memory_used_bytes",
    "container_memory_limit_bytes",
    "container_network_receive_bytes",
    "container_network_transmit_bytes",
]
CONTAINER_LABELS = ("container", "deployment")
METRICS: dict[str, tuple[str, tuple[str, ...]]] = {
    "up": ("1 when the host answered the last sample over SSH, 0 when it did not.", ()),
    "cpu_percent": ("Busy share of all the host's CPUs since the previous sample (0-100).", ()),
    "cpu_cores": ("CPUs the host's kernel counts.", ()),
    "load1": ("Load average over 1 minute.", ()),
    "load5": ("Load average over 5 minutes.", ()),
    "load15": ("Load average over 15 minutes.", ()),
    "memory_total_bytes": ("Physical memory.", ()),
    "memory_available_bytes": ("Memory available to new work (MemAvailable).", ()),
    "memory_used_bytes": ("Memory total less available.", ()),
    "memory_used_percent": ("Memory used as a share of the total (0-100).", ()),
    "swap_total_bytes": ("Swap space.", ()),
    "swap_used_bytes": ("Swap space in use.", ()),
    "uptime_seconds": ("Seconds since the host booted.", ()),
    "disk_total_bytes": ("Size of a mounted filesystem.", ("mount",)),
    "disk_used_bytes": ("Bytes used on a mounted filesystem.", ("mount",)),
    "disk_used_percent": ("Used share of a filesystem, as df's Capacity (0-100).", ("mount",)),
    "network_receive_bytes_per_second": (
        "Bytes received per second by an interface since the previous sample.",
        ("interface",),
    ),
    "network_transmit_bytes_per_second": (
        "Bytes sent per second by an interface since the previous sample.",
        ("interface",),
    ),
    "sample_seconds": ("Seconds the last sample of the host took.", ()),
    "engine_up": ("1 when the host's Docker engine answered the last sample, else 0.", ()),
    "container_cpu_percent": (
        "CPU use of a container as `docker stats` shows it (0-100 per CPU).",
        CONTAINER_LABELS,
    ),
    "container_memory_used_bytes": ("Memory a container uses (less page cache).", CONTAINER_LABELS),
    "container_memory_limit_bytes": ("Memory limit of a container.", CONTAINER_LABELS),
    "container_network_receive_bytes": ("Bytes a container received in all.", CONTAINER_LABELS),
    "container_network_transmit_bytes": ("Bytes a container sent in all.", CONTAINER_LABELS),
}
"""Metric name → (meaning, label names). Keys are exactly :data:`MetricName`."""
assert set(METRICS) == set(get_args(MetricName))

MAX_POINTS = 2000
"""Most points per series one query answers; longer ranges are downsampled to fit."""
RECENT_ALERTS = 100
"""Resolved alerts ``GET /v1/servers/alerts`` lists after the firing ones, at most."""


@dataclass(frozen=True)
class Point:
    """One value of one metric (with its labels) in a sample."""

    name: str
    value: float
    labels: dict[str, str] = field(default_factory=dict)


@dataclass
class Sample:
    """Every point of one host at ``at`` (Unix seconds)."""

    host_id: str
    at: float
    points: list[Point]

    def to_json(self) -> dict[str, Any]:
        """A compact JSON-able form (what Redis keeps as the latest sample)."""
        return {
            "host_id": self.host_id,
            "at": self.at,
            "points": [[p.name, p.value, p.labels] for p in self.points],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Sample:
        """The inverse of :meth:`to_json`."""
        points = [Point(name, float(value), dict(labels)) for name, value, labels in data["points"]]
        return cls(host_id=str(data["host_id"]), at=float(data["at"]), points=points)

    def value(self, name: str, **labels: str) -> float | None:
        """The value of ``name`` with exactly ``labels``, if the sample has it."""
        for point in self.points:
            if point.name == name and point.labels == labels:
                return point.value
        return None


def utc(moment: datetime) -> datetime:
    """``moment`` as an aware UTC datetime (a naive one is taken as UTC)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


# --- API: time series -----------------------------------------------------------------

Metric = Annotated[
    MetricName,
    Field(description='A metric name (see `docs/servers.md`, "Monitoring").', examples=["up"]),
]


class SeriesQuery(BaseModel):
    """One metric of one host over a time range, optionally averaged per ``step``."""

    metric: Metric
    since: datetime | None = Field(
        default=None, description="Start of the range (default: an hour before `until`)."
    )
    until: datetime | None = Field(default=None, description="End of the range (default: now).")
    step: float | None = Field(
        default=None,
        ge=1,
        le=86_400,
        description="Seconds per point: samples in each step are averaged. Without it, "
        f"every sample is returned, averaged to at most {MAX_POINTS} points per series.",
    )

    @model_validator(mode="after")
    def _ordered(self) -> SeriesQuery:
        if self.since is not None and self.until is not None and utc(self.since) >= utc(self.until):
            raise ValueError("since must be before until")
        return self


class SeriesOut(BaseModel):
    """One labelled series: its points, oldest first."""

    labels: dict[str, str] = Field(description='E.g. `{"mount": "/"}`; `{}` for none.')
    points: list[tuple[float, float]] = Field(
        description="`[unix_seconds, value]` pairs, oldest first."
    )


class MetricSeriesOut(BaseModel):
    """A metric of a host over a range."""

    host_id: str
    metric: MetricName
    since: datetime
    until: datetime
    step: float | None = Field(description="Seconds per point, when downsampled.")
    series: list[SeriesOut]


class PointOut(BaseModel):
    """One metric value of the latest sample."""

    name: MetricName
    labels: dict[str, str]
    value: float


class LatestOut(BaseModel):
    """The latest sample of one host."""

    host_id: str
    at: datetime
    up: bool = Field(description="The host answered this sample.")
    metrics: list[PointOut]


# --- alert rules and alerts -------------------------------------------------------------

Operator = Literal[">", ">=", "<", "<="]
AlertState = Literal["pending", "firing", "resolved"]
LabelKey = Annotated[str, Field(min_length=1, max_length=63, pattern=r"^[A-Za-z0-9_.\-/]+$")]
LabelValue = Annotated[str, Field(max_length=256)]
Labels = Annotated[dict[LabelKey, LabelValue], Field(max_length=16)]
RuleName = Annotated[
    str, Field(min_length=1, max_length=100, pattern=r"^[^\x00-\x1f\x7f]+$", examples=["disk full"])
]
HostId = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_.:\-]+$")]
Threshold = Annotated[float, Field(description="The value compared with `operator`.")]
ForSeconds = Annotated[
    float,
    Field(
        ge=0,
        le=7 * 86_400,
        description="Seconds the condition must hold in consecutive samples before the "
        "alert fires (0: at the first sample that crosses).",
    ),
]


def check_series_labels(metric: str, labels: dict[str, str]) -> None:
    """Refuse series labels that ``metric`` never has (such a rule could never match).

    :raises ValueError: naming the labels the metric has.
    """
    unknown = sorted(set(labels) - set(METRICS[metric][1]))
    if unknown:
        has = ", ".join(METRICS[metric][1]) or "none"
        raise ValueError(f"{metric} has no label {', '.join(unknown)} (its labels: {has})")


def _finite(value: float | None) -> float | None:
    if value is not None and not math.isfinite(value):
        raise ValueError("must be a finite number")
    return value


class AlertRule(Document):
    """A threshold on a metric, for some hosts, as stored."""

    collection: ClassVar[str] = "servers_alert_rules"
    indexes: ClassVar[tuple[Index, ...]] = (Index("name", unique=True),)
    name: str
    metric: str
    host_id: str | None = None
    host_labels: dict[str, str] = Field(default_factory=dict)
    series_labels: dict[str, str] = Field(default_factory=dict)
    operator: Operator
    threshold: float
    for_seconds: float = 0.0
    enabled: bool = True
    created_by: str
    created_at: datetime
    updated_at: datetime


class AlertRuleIn(RequestModel):
    """A new alert rule: when ``metric`` ``operator`` ``threshold`` holds on a host for
    ``for_seconds``, the alert fires (an ``AlertChanged`` event, posted in the operations
    channel); when it stops holding, it resolves."""

    name: RuleName = Field(description="Unique name of the rule.")
    metric: Metric
    host_id: HostId | None = Field(
        default=None, description="Only this host (default: every host `host_labels` selects)."
    )
    host_labels: Labels = Field(
        default_factory=dict, description="Only hosts with all these labels (default: all)."
    )
    series_labels: Labels = Field(
        default_factory=dict,
        description='Only the series with these labels, e.g. `{"mount": "/"}` '
        "(default: each series of the metric is watched on its own).",
    )
    operator: Operator
    threshold: Threshold
    for_seconds: ForSeconds = 0.0
    enabled: bool = True

    _threshold = field_validator("threshold")(_finite)

    @model_validator(mode="after")
    def _series_labels_fit(self) -> AlertRuleIn:
        check_series_labels(self.metric, self.series_labels)
        return self


class AlertRulePatch(RequestModel):
    """Fields of a rule to change; absent ones are kept (``host_id: null`` means every
    host again)."""

    name: RuleName | None = None
    metric: Metric | None = None
    host_id: HostId | None = None
    host_labels: Labels | None = None
    series_labels: Labels | None = None
    operator: Operator | None = None
    threshold: Threshold | None = None
    for_seconds: ForSeconds | None = None
    enabled: bool | None = None

    _threshold = field_validator("threshold")(_finite)


class AlertRuleOut(BaseModel):
    """An alert rule."""

    id: str
    name: str
    metric: MetricName
    host_id: str | None
    host_labels: dict[str, str]
    series_labels: dict[str, str]
    operator: Operator
    threshold: float
    for_seconds: float
    enabled: bool
    created_by: str
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, rule: AlertRule) -> AlertRuleOut:
        """The API shape of a stored rule."""
        return cls.model_validate(rule.model_dump(exclude={"version"}))


class Alert(Document):
    """The state of one rule on one series of one host (id derived from both)."""

    collection: ClassVar[str] = "servers_alerts"
    indexes: ClassVar[tuple[Index, ...]] = (
        Index("host_id"),
        Index("rule_id"),
        Index("state", "changed_at"),
    )
    rule_id: str
    rule_name: str
    host_id: str
    subject: str
    metric: str
    labels: dict[str, str] = Field(default_factory=dict)
    state: AlertState
    value: float
    threshold: float
    since: datetime
    """When the condition started to hold (pending and firing), or resolved."""
    fired_at: datetime | None = None
    resolved_at: datetime | None = None
    changed_at: datetime


class AlertOut(BaseModel):
    """An alert: firing, pending (crossing, not yet for long enough) or resolved."""

    id: str
    rule_id: str
    rule_name: str
    host_id: str
    subject: str = Field(examples=["host:01JD…", 'host:01JD…{mount="/"}'])
    metric: MetricName
    labels: dict[str, str]
    state: AlertState
    value: float = Field(description="The value of the sample that last changed the state.")
    threshold: float
    since: datetime
    fired_at: datetime | None
    resolved_at: datetime | None

    @classmethod
    def of(cls, alert: Alert) -> AlertOut:
        """The API shape of a stored alert."""
        return cls.model_validate(alert.model_dump(exclude={"version", "changed_at"}))


class AlertQuery(BaseModel):
    """Which alerts to list (default: firing and pending ones, then recent resolved ones)."""

    state: AlertState | None = None
    host_id: HostId | None = None
    limit: Annotated[int, Field(ge=1, le=500)] = 100
