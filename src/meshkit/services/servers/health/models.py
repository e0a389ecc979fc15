"""What health checks store, keep live in Redis, and what their API accepts and answers.

Stored (document store): :class:`CheckDefinition`, a check's definition. Live (Redis;
:mod:`meshkit.services.servers.health.state`): :class:`CheckState`, where the check's
state machine stands, and the bounded history of its changes (:class:`Transition`).

A check probes one **subject**, ``host:<id>`` or ``deployment:<id>``, in one of three
ways (``probe.kind``):

* ``http``: a request to ``url``, or to ``path`` on ``port`` of the subject's address (a
  deployment's: the host port its container ``port`` is published on); redirects are not
  followed (a 3xx is an answer like any other), proxies from the environment are not used;
* ``tcp``: a connection to ``port`` on the subject's address, or to ``host``:``port``;
* ``command``: a shell command over SSH on the subject's host (a deployment's: the host it
  runs on); exit status 0 is success.

A check connects only where its definition says: nothing else is derived or followed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, model_validator

from meshkit.contracts.servers import HealthState
from meshkit.http.models import RequestModel
from meshkit.store import Document, Index

SUBJECT = r"^(host|deployment):[0-9A-Za-z_-]{1,128}$"
NO_CONTROL = r"^[^\x00-\x1f\x7f]+$"
HOSTNAME = r"^(\[[0-9A-Fa-f:.]+\]|[0-9A-Za-z]([0-9A-Za-z.-]{0,251}[0-9A-Za-z])?)$"
_DNS = r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_PORT = r"([1-9][0-9]{0,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])"
HTTP_URL = rf"^https?://({_DNS}(\.{_DNS})*|\[[0-9A-Fa-f:.]+\])(:{_PORT})?([/?][^\s#]*)?$"
"""An http(s) URL: a DNS name, IPv4 or bracketed IPv6 host, a port in 1..65535, no
credentials, no fragment."""
MAX_BODY_READ = 1024 * 1024
"""Bytes of an HTTP answer read to look for ``body_contains``."""

Subject = Annotated[
    str,
    Field(
        pattern=SUBJECT,
        max_length=140,
        description="What the check is about: `host:<host id>` or `deployment:<deployment id>`.",
        examples=["host:01JD3Z6Y7K0000000000000000"],
    ),
]
CheckName = Annotated[
    str, Field(min_length=1, max_length=100, pattern=NO_CONTROL, examples=["web answers"])
]
Port = Annotated[int, Field(ge=1, le=65535)]
Seconds = Annotated[float, Field(gt=0)]


class HttpProbe(RequestModel):
    """An HTTP request whose answer must have a status in ``[status_min, status_max]``
    (and contain ``body_contains``, if given) within the check's timeout.

    Give either ``url``, or ``port`` (and optionally ``path`` and ``scheme``) on the
    subject's address; not both.
    """

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "oneOf": [
                {
                    "required": ["url"],
                    "not": {"anyOf": [{"required": ["port"]}, {"required": ["path"]}]},
                },
                {"required": ["port"], "not": {"required": ["url"]}},
            ]
        },
    )

    kind: Literal["http"] = "http"
    url: str | None = Field(
        default=None,
        max_length=2048,
        pattern=HTTP_URL,
        description="The full URL to request (`http://` or `https://`); without `port`/`path`.",
        examples=["http://127.0.0.1:8080/healthz"],
    )
    port: Port | None = Field(
        default=None,
        description="Port on the subject's address (a deployment's: the container port, "
        "resolved to the host port it is published on); without `url`.",
    )
    path: str | None = Field(
        default=None,
        max_length=2048,
        pattern=r"^/[^\s#]*$",
        description="Path (and query) requested on `port`; `/` when absent.",
    )
    scheme: Literal["http", "https"] = Field(default="http", description="With `port`.")
    method: Literal["GET", "HEAD", "POST", "OPTIONS"] = "GET"
    status_min: int = Field(default=200, ge=100, le=599, description="Lowest good status.")
    status_max: int = Field(
        default=399, ge=100, le=599, description="Highest good status (at least `status_min`)."
    )
    body_contains: str | None = Field(
        default=None,
        min_length=1,
        max_length=1024,
        description="Text the answer's body (its first MiB, as UTF-8) must contain.",
    )
    tls_verify: bool = Field(
        default=True, description="Verify the server's TLS certificate (https only)."
    )

    @model_validator(mode="after")
    def _one_target(self) -> HttpProbe:
        if (self.url is None) == (self.port is None):
            raise ValueError("give either `url` or `port`, not both")
        if self.url is not None and self.path is not None:
            raise ValueError("`path` goes with `port`, not with `url`")
        if self.status_min > self.status_max:
            raise ValueError("`status_min` is above `status_max`")
        return self


class TcpProbe(RequestModel):
    """A TCP connection that must open within the check's timeout (then it is closed)."""

    kind: Literal["tcp"] = "tcp"
    port: Port = Field(
        description="Port to connect to (on a deployment: the container port, resolved to "
        "the host port it is published on, unless `host` is given)."
    )
    host: str | None = Field(
        default=None,
        max_length=255,
        pattern=HOSTNAME,
        description="Connect here instead of the subject's address (a name or an IP address).",
        examples=["127.0.0.1"],
    )


class CommandProbe(RequestModel):
    """A shell command over SSH on the subject's host; exit status 0 is success, and it
    is killed at the check's timeout. Defining one also needs ``servers:jobs.run`` (it
    runs commands on the host); results say the exit status, never the output."""

    kind: Literal["command"] = "command"
    command: str = Field(
        min_length=1,
        max_length=4096,
        pattern=r"^[^\x00]+$",
        description="Run on the host by the SSH user's login shell, as `ssh host command` does.",
        examples=["test -f /var/run/app.pid"],
    )


Probe = Annotated[HttpProbe | TcpProbe | CommandProbe, Field(discriminator="kind")]
PROBE: TypeAdapter[HttpProbe | TcpProbe | CommandProbe] = TypeAdapter(Probe)

Interval = Annotated[
    float,
    Field(
        ge=1, le=86_400, description="Seconds between runs (once per interval across instances)."
    ),
]
Timeout = Annotated[
    float, Field(gt=0, le=300, description="Seconds a run may take before it counts as failed.")
]
FailuresToDown = Annotated[
    int, Field(ge=1, le=100, description="Consecutive failures that make the check `down`.")
]
SuccessesToUp = Annotated[
    int,
    Field(
        ge=1,
        le=100,
        description="Consecutive successes that bring a `down`, `degraded` or new check `up`.",
    ),
]
DegradedLatency = Annotated[
    int,
    Field(
        ge=1,
        le=600_000,
        description="A success slower than this many milliseconds makes the check `degraded`.",
    ),
]


class CheckDefinition(Document):
    """A health check's definition, as stored."""

    collection: ClassVar[str] = "servers_checks"
    indexes: ClassVar[tuple[Index, ...]] = (Index("subject"), Index("name", unique=True))
    name: str
    subject: str
    probe: dict[str, Any]
    """The probe's JSON (one of :data:`Probe`); :meth:`probe_model` reads it."""
    interval: float
    timeout: float
    failures_to_down: int
    successes_to_up: int
    degraded_latency_ms: int | None = None
    enabled: bool = True
    created_by: str
    created_at: datetime
    updated_at: datetime

    def probe_model(self) -> HttpProbe | TcpProbe | CommandProbe:
        """The probe, typed."""
        return PROBE.validate_python(self.probe)


class CheckIn(RequestModel):
    """A new health check."""

    name: CheckName = Field(description="Unique among checks; used in the posted messages.")
    subject: Subject
    probe: Probe
    interval: Interval = 30.0
    timeout: Timeout = 5.0
    failures_to_down: FailuresToDown = 3
    successes_to_up: SuccessesToUp = 2
    degraded_latency_ms: DegradedLatency | None = None
    enabled: bool = Field(default=True, description="Disabled checks are not scheduled.")


class CheckPatch(RequestModel):
    """Fields to change; absent (or `null`) ones stay as they are, except
    ``degraded_latency_ms: null`` which removes the latency limit. A new ``probe``
    replaces the old one whole. The check's state is kept."""

    name: CheckName | None = None
    probe: Probe | None = None
    interval: Interval | None = None
    timeout: Timeout | None = None
    failures_to_down: FailuresToDown | None = None
    successes_to_up: SuccessesToUp | None = None
    degraded_latency_ms: DegradedLatency | None = None
    enabled: bool | None = None


class ProbeResult(BaseModel):
    """One run of a check."""

    ok: bool = Field(description="The probe succeeded (a slow success is still `ok`).")
    latency_ms: float = Field(description="How long the probe took, milliseconds.")
    detail: str = Field(description="What happened: the status, the error, the exit status.")
    at: datetime


class CheckState(BaseModel):
    """Where a check's state machine stands (kept in Redis, shared by instances)."""

    state: HealthState = "unknown"
    since: datetime | None = Field(default=None, description="When it entered `state`.")
    failures: int = Field(default=0, description="Consecutive failed runs.")
    successes: int = Field(default=0, description="Consecutive successful runs.")
    transitions: int = Field(default=0, description="State changes so far.")
    runs: int = Field(default=0, description="Runs so far.")
    last_result: ProbeResult | None = None


class Transition(BaseModel):
    """One change of a check's state."""

    number: int = Field(description="1 for the first change, and so on.")
    previous: HealthState
    state: HealthState
    at: datetime
    detail: str = Field(description="The result that decided it.")


class CheckOut(BaseModel):
    """A health check and its current state."""

    id: str
    name: str
    subject: str
    probe: HttpProbe | TcpProbe | CommandProbe
    interval: float
    timeout: float
    failures_to_down: int
    successes_to_up: int
    degraded_latency_ms: int | None
    enabled: bool
    created_by: str
    created_at: datetime
    updated_at: datetime
    status: CheckState


class RunOut(BaseModel):
    """What a run gave and what it did to the check's state."""

    result: ProbeResult
    previous: HealthState
    status: CheckState
    changed: bool = Field(description="The run changed the check's state.")


class CheckQuery(BaseModel):
    """A page of checks, oldest first, optionally about one subject."""

    after: Annotated[
        str | None, Field(default=None, max_length=128, description="Checks after this id.")
    ] = None
    subject: Annotated[str | None, Field(default=None, pattern=SUBJECT, max_length=140)] = None
    limit: Annotated[int, Field(ge=1, le=500)] = 100


class CheckHistoryQuery(BaseModel):
    """The newest state changes of a check, newest first."""

    limit: Annotated[int, Field(ge=1, le=1000)] = 100


class CheckSummary(BaseModel):
    """One check in the health summary."""

    id: str
    name: str
    subject: str
    enabled: bool
    state: HealthState
    since: datetime | None
    detail: str | None = Field(description="The last result's detail.")


class SubjectSummary(BaseModel):
    """A host's or deployment's rollup of its enabled checks: `down` if any is down,
    else `degraded` if any is degraded, else `up` if any is up, else `unknown`."""

    subject: str
    state: HealthState
    checks: dict[HealthState, int] = Field(description="Its enabled checks by state.")


class HealthSummary(BaseModel):
    """Every check's state, counts by state (enabled checks), and a rollup per subject."""

    counts: dict[HealthState, int]
    checks: list[CheckSummary]
    subjects: list[SubjectSummary]
