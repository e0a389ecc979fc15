"""Deployments: what a client asks for (:class:`DeploymentSpec`), what is stored
(:class:`Deployment`, :class:`DeploymentVersion`) and what the API answers.

A deployment is one spec (image, command, env, ports, volumes, resources, health check,
replicas, labels) run as ``replicas`` containers on one host's Docker Engine. Each
change of spec is a new numbered version, kept with the field-level diff from the
version before it. Containers carry the labels ``meshkit.deployment=<id>``,
``meshkit.version=<n>`` and ``meshkit.replica=<i>``; names are ``<name>-v<n>-<i>``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from meshkit.http.models import RequestModel
from meshkit.services.servers.redact import is_secret_name
from meshkit.services.servers.types import HostId, Id
from meshkit.store import Document, Index

LABEL_DEPLOYMENT = "meshkit.deployment"
LABEL_VERSION = "meshkit.version"
LABEL_REPLICA = "meshkit.replica"
RESERVED_LABEL_PREFIX = "meshkit."
MAX_REPLICAS = 50

NAME = r"^[a-z0-9][a-z0-9-]{0,62}$"
_DOMAIN_PART = r"(?:[A-Za-z0-9]|[A-Za-z0-9][A-Za-z0-9-]*[A-Za-z0-9])"
_DOMAIN = (
    rf"(?:{_DOMAIN_PART}(?:\.{_DOMAIN_PART})*:[0-9]{{1,5}}|{_DOMAIN_PART}(?:\.{_DOMAIN_PART})+"
    r"|localhost)"
)
_PATH_PART = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_TAG = r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}"
_DIGEST = r"sha256:[a-f0-9]{64}|sha384:[a-f0-9]{96}|sha512:[a-f0-9]{128}"
IMAGE = rf"^(?:{_DOMAIN}/)?{_PATH_PART}(?:/{_PATH_PART})*(?::{_TAG})?(?:@(?:{_DIGEST}))?$"
"""An image reference as the engine parses it (Docker's reference grammar): an optional
registry (a name with a dot or a port, or ``localhost``), lowercase path components, an
optional tag and an optional digest."""
MAX_IMAGE = 255
ENV_NAME = r"^[A-Za-z_][A-Za-z0-9_]{0,127}$"
LABEL_KEY = r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,127}$"
HOST_IP = (
    r"^((25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])(\.(25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])){3}"
    r"|[0-9A-Fa-f:]{2,39})$"
)
VOLUME_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$"
ABSOLUTE_PATH = r"^/[^\x00:]{0,4095}$"
VOLUME_SOURCE = r"^([A-Za-z0-9][A-Za-z0-9_.-]{0,127}|/[^\x00:]{0,4095})$"
"""A named volume or an absolute host path."""
RESERVED_LABEL = r"^meshkit\."
NO_CONTROL = r"^[^\x00]*$"

DeploymentName = Annotated[
    str,
    Field(
        pattern=NAME,
        description="Lowercase letters, digits and `-`; unique on its host. Containers are "
        "named `<name>-v<version>-<replica>`.",
        examples=["web"],
    ),
]
Seconds = Annotated[float, Field(gt=0, le=3600)]
MAX_VERSION = 2**31 - 1
"""Largest version number accepted (the stores index it as a 64-bit integer)."""
VersionNumber = Annotated[int, Field(ge=1, le=MAX_VERSION, description="A version's number.")]


class PortSpec(RequestModel):
    """A container port published on the host."""

    container_port: int = Field(ge=1, le=65535)
    protocol: Literal["tcp", "udp"] = "tcp"
    host_port: int | None = Field(
        default=None,
        ge=1,
        le=65535,
        description="The host port. Unset (the default): the engine picks a free one for each "
        "replica (see `replicas[].ports`), which lets replicas and a rolling update's new "
        "containers run side by side. Set: only one replica can hold it, so `replicas` must "
        "be 1 and updates stop the old container before starting the new one (a short "
        "downtime; rollback restarts the old one).",
    )
    host_ip: str = Field(
        default="127.0.0.1",
        pattern=HOST_IP,
        description="Address the port is published on. Defaults to loopback so nothing is "
        "exposed by accident; `0.0.0.0` publishes it on every interface.",
    )


class VolumeSpec(RequestModel):
    """A named volume or a host directory mounted into the containers."""

    source: str = Field(
        max_length=4096,
        pattern=VOLUME_SOURCE,
        description="A named volume (`data`, created by the engine when missing) or an "
        "absolute path on the host (a bind mount; it must exist).",
    )
    target: str = Field(pattern=ABSOLUTE_PATH, description="Absolute path in the container.")
    read_only: bool = False


class Resources(RequestModel):
    """Limits applied to each replica (unset: none)."""

    memory: int | None = Field(
        default=None,
        ge=6 * 1024 * 1024,
        le=1024**4,
        description="Memory limit in bytes (the engine's minimum is 6 MiB).",
    )
    cpus: float | None = Field(
        default=None, gt=0, le=1024, description="CPUs, fractional (`0.5` is half of one)."
    )


class HealthCheck(RequestModel):
    """Docker's ``HEALTHCHECK``: a shell command in the container, 0 = healthy.

    A rolling update waits for each new container to be ``healthy`` (at most
    ``ready_timeout``) before it stops an old one.
    """

    command: str = Field(
        min_length=1,
        max_length=4096,
        pattern=NO_CONTROL,
        description="Run with `/bin/sh -c` in the container (`CMD-SHELL`).",
        examples=["wget -q -O- http://127.0.0.1:8080/"],
    )
    interval: Seconds = Field(default=10.0, description="Seconds between checks.")
    timeout: Seconds = Field(default=5.0, description="Seconds one check may take.")
    retries: int = Field(default=3, ge=1, le=100, description="Failures in a row = unhealthy.")
    start_period: float = Field(
        default=0.0,
        ge=0,
        le=3600,
        description="Seconds after start during which failures do not count.",
    )
    ready_timeout: float = Field(
        default=120.0,
        gt=0,
        le=3600,
        description="Seconds a new container has to become healthy during a rollout before "
        "the rollout is rolled back.",
    )


EnvName = Annotated[str, Field(pattern=ENV_NAME)]
_FIXED_PORT_RULE: dict[str, Any] = {
    "if": {
        "required": ["ports"],
        "properties": {
            "ports": {
                "contains": {
                    "required": ["host_port"],
                    "properties": {"host_port": {"type": "integer"}},
                }
            }
        },
    },
    "then": {"properties": {"replicas": {"maximum": 1}}},
}
"""A port with a fixed ``host_port`` allows one replica at most (as JSON Schema)."""


class DeploymentSpec(RequestModel):
    """What runs: one image as ``replicas`` identical containers on one host's engine.

    Secret ``env`` values (named in ``secret_env``, or whose names look secret: `PASSWORD`,
    `TOKEN`, `SECRET`, `API_KEY`...) are stored encrypted and masked in every answer,
    diff, log line and audit entry. A port with a fixed ``host_port`` allows one replica
    at most.
    """

    model_config = ConfigDict(json_schema_extra=_FIXED_PORT_RULE)

    name: DeploymentName
    host_id: HostId
    image: str = Field(
        pattern=IMAGE,
        max_length=MAX_IMAGE,
        description="An image reference (`repo:tag`, `registry:port/repo:tag`, `repo@sha256:…`): "
        "lowercase repository path components, a registry only when it has a dot or a port "
        "(or is `localhost`).",
        examples=["meshkit-test/busybox:1"],
    )
    pull: Literal["missing", "always", "never"] = Field(
        default="missing",
        description="When to pull the image: when the host lacks it (default), every deploy, "
        "or never (images built or loaded on the host). A failed pull is 502 "
        "`image-unavailable`.",
    )
    command: list[Annotated[str, Field(max_length=4096, pattern=NO_CONTROL)]] | None = Field(
        default=None, max_length=256, description="Overrides the image's `CMD` (exec form)."
    )
    env: dict[
        Annotated[str, Field(pattern=ENV_NAME)],
        Annotated[str, Field(max_length=32768, pattern=NO_CONTROL)],
    ] = Field(
        default_factory=dict,
        max_length=256,
        description="Environment variables. A secret's value is answered as `********`; "
        "sending `********` back for a secret keeps its stored value.",
    )
    secret_env: list[EnvName] = Field(
        default_factory=list,
        max_length=256,
        description="Names of `env` entries that hold secrets (besides those whose names "
        "look secret): stored encrypted, masked in answers, diffs, logs and the audit log.",
    )
    ports: list[PortSpec] = Field(default_factory=list, max_length=64)
    volumes: list[VolumeSpec] = Field(default_factory=list, max_length=64)
    resources: Resources = Field(default_factory=Resources)
    health: HealthCheck | None = Field(
        default=None,
        description="Unset: a new container is ready once it has run a moment "
        "(`MESHKIT_SERVERS_DEPLOY_READY_SECONDS`) without exiting.",
    )
    replicas: int = Field(
        default=1,
        ge=0,
        le=MAX_REPLICAS,
        description="Containers to run; at most 1 when a port has a fixed `host_port`.",
    )
    restart: Literal["no", "on-failure", "always", "unless-stopped"] = Field(
        default="unless-stopped", description="Docker's restart policy for each replica."
    )
    labels: dict[
        Annotated[str, Field(pattern=LABEL_KEY)], Annotated[str, Field(max_length=1024)]
    ] = Field(
        default_factory=dict,
        max_length=64,
        description="Extra container labels; keys starting with `meshkit.` are reserved.",
        json_schema_extra={
            "propertyNames": {"pattern": LABEL_KEY, "not": {"pattern": RESERVED_LABEL}}
        },
    )

    @field_validator("labels")
    @classmethod
    def _labels(cls, value: dict[str, str]) -> dict[str, str]:
        reserved = [k for k in value if k.startswith(RESERVED_LABEL_PREFIX)]
        if reserved:
            raise ValueError(f"label keys starting with 'meshkit.' are reserved: {reserved}")
        return value

    @model_validator(mode="after")
    def _ports(self) -> DeploymentSpec:
        seen: set[tuple[int, str]] = set()
        for port in self.ports:
            key = (port.container_port, port.protocol)
            if key in seen:
                raise ValueError(f"container port {port.container_port}/{port.protocol} twice")
            seen.add(key)
        if any(p.host_port is not None for p in self.ports) and self.replicas > 1:
            raise ValueError("a fixed host_port allows one replica at most")
        return self

    @property
    def fixed_ports(self) -> bool:
        """Some port is published on a fixed host port (updates stop the old one first)."""
        return any(p.host_port is not None for p in self.ports)

    @property
    def secret_names(self) -> frozenset[str]:
        """The env names whose values are secret: listed in ``secret_env`` or named so."""
        listed = set(self.secret_env)
        return frozenset(n for n in self.env if n in listed or is_secret_name(n))


class SpecUpdate(RequestModel):
    """A new version of a deployment's spec, rolled out replica by replica."""

    spec: DeploymentSpec = Field(
        description="The whole new spec; `name` and `host_id` must stay the same."
    )
    reason: str = Field(default="", max_length=500, description="Kept in the history.")


class ScaleIn(RequestModel):
    """How many replicas should run."""

    replicas: int = Field(ge=0, le=MAX_REPLICAS)


class DeploymentRollbackIn(RequestModel):
    """Roll back to an earlier version: a new version whose spec equals it."""

    to_version: int = Field(
        ge=1, le=MAX_VERSION, description="The version whose spec to run again."
    )
    reason: str = Field(default="", max_length=500)


class UpdateQuery(BaseModel):
    """Whether to wait for the rollout's outcome."""

    wait: bool = Field(
        default=True,
        description="Answer once the rollout ended (the version is `active`, or `failed` "
        "and rolled back). `false`: answer at once with the version `rolling_out`; poll "
        "it (`GET …/versions/{number}`).",
    )


class LogQuery(BaseModel):
    """Which log lines."""

    replica: int | None = Field(
        default=None, ge=0, le=MAX_REPLICAS, description="Only this replica's."
    )
    tail: int = Field(default=100, ge=0, le=10_000, description="Last lines per replica.")


class DeploymentQuery(BaseModel):
    """A page of deployments, oldest first."""

    host_id: HostId | None = None
    after: Id | None = Field(default=None, description="Ids after this one.")
    limit: Annotated[int, Field(ge=1, le=200)] = 50


# --- stored -----------------------------------------------------------------------------

Status = Literal["running", "stopped"]
VersionStatus = Literal["rolling_out", "active", "failed", "superseded"]


class Lease(BaseModel):
    """Who is changing a deployment: the operation, the service instance doing it (its
    heartbeat says it lives) and a token naming this claim."""

    op: str
    instance: str
    token: str
    since: datetime
    until: datetime | None = None
    """Until when the holder vouches for the lease (renewed by its heartbeat loop); the
    lease is stale only once this has passed *and* the holder's heartbeat is gone."""


class Deployment(Document):
    """A deployment as stored. ``current`` is the active version's number; ``rollout``
    the one being rolled out (``None`` when none is); ``lease`` the operation changing
    it now (a rollout's lease names the instance running it)."""

    collection: ClassVar[str] = "servers_deployments"
    indexes: ClassVar[tuple[Index, ...]] = (Index("host_id", "name", unique=True),)
    name: str
    host_id: str
    current: int
    replicas: int
    status: Status = "running"
    rollout: int | None = None
    lease: Lease | None = None
    created_at: datetime
    updated_at: datetime


class SpecChange(BaseModel):
    """One field that differs between two versions (secret values masked)."""

    field: str = Field(examples=["env.LOG_LEVEL", "ports.0.host_port", "image"])
    op: Literal["added", "removed", "changed"]
    before: Any = None
    after: Any = None


class DeploymentVersion(Document):
    """One version of a deployment's spec, with its diff from the version before.

    ``spec`` holds secret env values masked; ``sealed`` holds them encrypted (by name,
    sealed with the hosts' key vault for ``deployment:<id>:<name>``)."""

    collection: ClassVar[str] = "servers_deployment_versions"
    indexes: ClassVar[tuple[Index, ...]] = (Index("deployment_id", "number", unique=True),)
    deployment_id: str
    number: int
    spec: DeploymentSpec
    sealed: dict[str, str] = Field(default_factory=dict)
    status: VersionStatus
    source: str
    reason: str = ""
    failure: str | None = None
    diff: list[SpecChange] = Field(default_factory=list)
    actor: str
    created_at: datetime
    finished_at: datetime | None = None


# --- answers ----------------------------------------------------------------------------


class PublishedPort(BaseModel):
    """Where a replica's container port is reachable on the host."""

    container_port: int
    protocol: str
    host_ip: str
    host_port: int


class ReplicaOut(BaseModel):
    """One container of a deployment, as the engine reports it now."""

    container_id: str
    name: str
    version: int
    replica: int
    state: str = Field(examples=["running", "exited", "created"])
    health: str | None = Field(
        description="`starting`, `healthy` or `unhealthy`; null without a health check."
    )
    ports: list[PublishedPort]


class DeploymentVersionOut(BaseModel):
    """One version in a deployment's history."""

    number: int
    status: VersionStatus
    source: str = Field(examples=["deploy", "update", "env", "rollback:2"])
    reason: str
    failure: str | None = Field(description="Why the rollout failed (it was rolled back).")
    diff: list[SpecChange] = Field(description="What changed from the version before it.")
    spec: dict[str, Any] = Field(description="The spec, secret env values masked.")
    actor: str
    created_at: datetime
    finished_at: datetime | None


class DeploymentOut(BaseModel):
    """A deployment, its active spec (secrets masked) and, when asked, its containers."""

    id: str
    name: str
    host_id: str
    status: Status
    current_version: int
    rollout_version: int | None = Field(description="The version being rolled out now.")
    replicas: int = Field(description="Replicas that should run.")
    spec: dict[str, Any] = Field(description="The active version's spec, secrets masked.")
    containers: list[ReplicaOut] | None = Field(
        default=None, description="The containers now (one deployment only)."
    )
    created_at: datetime
    updated_at: datetime


class LogLine(BaseModel):
    """One line a replica wrote (stdout and stderr, in order)."""

    replica: int
    version: int
    text: str


class ImageOut(BaseModel):
    """An image on a host's engine."""

    id: str
    tags: list[str]
    size: int
    created: int = Field(description="Unix time the image was made.")


class ImageResult(BaseModel):
    """What a build, load or pull produced."""

    images: list[str] = Field(description="Tags (or ids) now on the host.")
    log: list[str] = Field(description="The engine's output, last lines.")


class BuildQuery(BaseModel):
    """How to tag and find the build."""

    tag: str = Field(
        pattern=IMAGE, max_length=MAX_IMAGE, description="The image name:tag to give the result."
    )
    dockerfile: str = Field(
        default="Dockerfile",
        max_length=1024,
        pattern=r"^[^\x00/][^\x00]*$",
        description="Path of the Dockerfile inside the context.",
    )


class PullIn(RequestModel):
    """An image to pull from its registry."""

    image: str = Field(
        pattern=IMAGE, max_length=MAX_IMAGE, examples=["registry.example:5000/app:1"]
    )


class ContainerOut(BaseModel):
    """A container on a host's engine (any, not only deployments')."""

    id: str
    names: list[str]
    image: str
    state: str
    status: str
    labels: dict[str, str]
