"""What configuration management stores, and what its API accepts and answers.

Stored (document store): :class:`Config`, the document (its name, where it goes, which
version is live where), and :class:`ConfigVersion`, one immutable version of its
content. Secret values are stored sealed (see :mod:`meshkit.services.servers.configs`)
and every answer shows them as ``********``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, RootModel

from meshkit.http.models import RequestModel
from meshkit.services.servers.types import HostSelector, Id
from meshkit.store import Document, Index

Kind = Literal["file", "env"]
Outcome = Literal["changed", "unchanged", "would-change", "failed"]

MAX_CONTENT = 1_048_576
"""Longest file content accepted, in characters."""
_C = r"[^/\x00-\x1f\x7f]"
_N = r"[^/\x00-\x1f\x7f.]"
SEGMENT = rf"({_N}{_C}*|\.{_N}{_C}*|\.\.{_C}+)"
PATH_PATTERN = rf"^(/{SEGMENT})+$"
"""An absolute path of named segments: no ``.`` or ``..``, no empty segment, no trailing
slash, no control characters."""
ACCOUNT_PATTERN = r"^([a-z_][a-z0-9_.-]{0,30}\$?|[0-9]{1,10})$"
NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*$"

ConfigName = Annotated[
    str,
    Field(
        min_length=1,
        max_length=100,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$",
        description="Unique name (letters, digits, `_`, `.`, `-`).",
        examples=["nginx-site"],
    ),
]
RemotePath = Annotated[
    str,
    Field(
        max_length=4096,
        pattern=PATH_PATTERN,
        description="Absolute path of the file on each host (no `.` or `..` segment). Its "
        "directory must exist; the previous file is kept as `<path>.meshkit-prev`.",
        examples=["/etc/myapp/app.conf"],
    ),
]
Mode = Annotated[
    str,
    Field(
        pattern=r"^[0-7]{3,4}$",
        description="Permission bits in octal, as `chmod` takes them.",
        examples=["0640"],
    ),
]
Account = Annotated[
    str,
    Field(
        max_length=32,
        pattern=ACCOUNT_PATTERN,
        description="A user (or group) name on the host, or a numeric id.",
        examples=["root"],
    ),
]
VarName = Annotated[
    str,
    Field(min_length=1, max_length=128, pattern=NAME_PATTERN, examples=["DATABASE_URL"]),
]
VarValue = Annotated[str, Field(max_length=65_536, pattern=r"^[^\x00]*$")]
SecretValue = Annotated[
    str,
    Field(
        min_length=4,
        max_length=65_536,
        pattern=r"^[^\x00]*$",
        description="A secret value (4 characters or more, so that it can be recognised "
        "and masked inside text). `********` in a change keeps the current value.",
    ),
]
Content = Annotated[
    str,
    Field(
        max_length=MAX_CONTENT,
        description="The file's text (UTF-8). `{{ secret:NAME }}` is replaced by the secret "
        "`NAME` when the file is written to a host, and only then.",
    ),
]
Message = Annotated[
    str, Field(min_length=1, max_length=500, description="Why this version was made.")
]
Env = Annotated[dict[VarName, VarValue], Field(max_length=500)]
Secrets = Annotated[dict[VarName, SecretValue], Field(max_length=200)]
MAX_VERSION = 2**31 - 1
"""Largest version number accepted (the stores index it as a 64-bit integer)."""
VersionNumber = Annotated[int, Field(ge=1, le=MAX_VERSION)]


# --- stored ---


class Live(BaseModel):
    """Which version is live on one target, as the last push left it."""

    version: int
    sha256: str
    pushed_at: datetime
    pushed_by: str


class Config(Document):
    """A configuration document: where it goes; its content lives in its versions."""

    collection: ClassVar[str] = "servers_configs"
    indexes: ClassVar[tuple[Index, ...]] = (Index("name", unique=True), Index("deployment_id"))
    name: str
    kind: Kind
    path: str | None = None
    host_ids: list[str] | None = None
    labels: dict[str, str] | None = None
    deployment_id: str | None = None
    latest: int = 1
    created_at: datetime
    created_by: str
    updated_at: datetime
    live: dict[str, Live] = Field(default_factory=dict)
    """Target (``host:<id>`` or ``deployment:<id>``) to what the last push left there."""


class ConfigVersion(Document):
    """One immutable version of a configuration's content."""

    collection: ClassVar[str] = "servers_config_versions"
    indexes: ClassVar[tuple[Index, ...]] = (Index("config_id", "number", unique=True),)
    config_id: str
    number: int
    author: str
    created_at: datetime
    message: str
    sha256: str
    """Of the file as written to hosts (secrets in), or of the whole environment (JSON,
    sorted keys) for an ``env`` configuration."""
    rollback_of: int | None = None
    content: str | None = None
    owner: str | None = None
    group: str | None = None
    mode: str | None = None
    env: dict[str, str] = Field(default_factory=dict)
    sealed: dict[str, str] = Field(default_factory=dict)
    """Secret name to its sealed value."""


# --- API: requests ---


class FileConfigIn(RequestModel):
    """A new file configuration: one file written to every host of a group."""

    kind: Literal["file"]
    name: ConfigName
    hosts: HostSelector
    path: RemotePath
    owner: Account | None = Field(default=None, description="Unset: the SSH user.")
    group: Account | None = Field(default=None, description="Unset: the SSH user's group.")
    mode: Mode = "0644"
    content: Content
    secrets: Secrets = Field(
        default_factory=dict, description="Values for the content's `{{ secret:NAME }}`."
    )
    message: Message = "created"


class EnvConfigIn(RequestModel):
    """A new env configuration: environment variables of one deployment."""

    kind: Literal["env"]
    name: ConfigName
    deployment_id: Id
    env: Env = Field(default_factory=dict, description="Plain variables.")
    secrets: Secrets = Field(
        default_factory=dict,
        description="Secret variables (merged into the environment when pushed). A variable "
        "of `env` whose name looks secret (`password`, `token`, `secret`, `key`...) is kept "
        "here too.",
    )
    message: Message = "created"


class ConfigIn(RootModel[Annotated[FileConfigIn | EnvConfigIn, Field(discriminator="kind")]]):
    """A new configuration document (its version 1), by ``kind``."""


class ConfigPatch(RequestModel):
    """A change. ``name`` and ``hosts`` change the document; any of ``content``,
    ``owner``, ``group``, ``mode``, ``env`` and ``secrets`` makes a new version (with
    ``message``) and leaves the others as they were. ``env`` replaces the whole plain
    environment; ``secrets`` is merged: a value sets a secret, ``null`` removes it,
    ``********`` keeps it. Nothing is pushed."""

    name: ConfigName | None = None
    hosts: HostSelector | None = None
    content: Content | None = None
    owner: Account | None = None
    group: Account | None = None
    mode: Mode | None = None
    env: Env | None = None
    secrets: Annotated[dict[VarName, SecretValue | None], Field(max_length=200)] | None = None
    message: Message | None = None


class PushIn(RequestModel):
    """What to push: a version (default: the latest), or only what it would change."""

    version: VersionNumber | None = None
    dry_run: bool = Field(
        default=False,
        description="Check mode: read each target and answer the diff; write nothing.",
    )


class ConfigRollbackIn(RequestModel):
    """Make a new version with the content of ``version`` and push it."""

    version: VersionNumber
    message: Message | None = None


class ConfigQuery(BaseModel):
    """A page of configurations, oldest first."""

    after: Id | None = None
    kind: Kind | None = None
    limit: Annotated[int, Field(ge=1, le=200)] = 50


class VersionQuery(BaseModel):
    """A page of a configuration's versions, newest first."""

    before: Annotated[
        int | None, Field(ge=1, le=MAX_VERSION, description="Versions older than this.")
    ] = None
    limit: Annotated[int, Field(ge=1, le=200)] = 50


class DiffQuery(BaseModel):
    """Two versions to compare (``from`` the older, say, ``to`` the newer)."""

    model_config = ConfigDict(populate_by_name=True)

    from_: Annotated[int, Field(ge=1, le=MAX_VERSION, alias="from")]
    to: VersionNumber


# --- API: answers ---


class LiveOut(BaseModel):
    """The version live on one target."""

    target: str = Field(examples=["host:01JD…", "deployment:01JD…"])
    version: int
    sha256: str
    pushed_at: datetime
    pushed_by: str


class ConfigOut(BaseModel):
    """A configuration document with its latest version's content (secrets masked)."""

    id: str
    name: str
    kind: Kind
    path: str | None
    hosts: dict[str, Any] | None = Field(
        description="Which hosts (file): `ids` and/or `labels`, as given."
    )
    deployment_id: str | None
    latest: int = Field(description="The newest version's number.")
    owner: str | None
    group: str | None
    mode: str | None
    content: str | None
    env: dict[str, str] | None
    secrets: dict[str, str] = Field(description="Secret names; each value is `********`.")
    created_at: datetime
    created_by: str
    updated_at: datetime
    live: list[LiveOut]


class ConfigVersionOut(BaseModel):
    """One version (secrets masked)."""

    config_id: str
    number: int
    author: str
    created_at: datetime
    message: str
    sha256: str
    rollback_of: int | None = Field(description="The version this one restores, if any.")
    content: str | None
    owner: str | None
    group: str | None
    mode: str | None
    env: dict[str, str] | None
    secrets: dict[str, str]


class ConfigChange(BaseModel):
    """One key that differs: a variable, or a file attribute (`mode`, `owner`, `group`)."""

    key: str
    change: Literal["added", "removed", "changed"]
    old: str | None
    new: str | None
    secret: bool = Field(description="The values are secret (shown as `********`).")


class DiffOut(BaseModel):
    """The difference between two versions (or a version and what a target has)."""

    model_config = ConfigDict(populate_by_name=True)

    from_: int | None = Field(
        alias="from", description="The older side; `null` when comparing with a target."
    )
    to: int
    unified: str | None = Field(description="Unified diff of the file text (file).")
    changes: list[ConfigChange]


class TargetResult(BaseModel):
    """What a push did (or would do) on one host or deployment."""

    target: str
    outcome: Outcome
    sha256: str | None = Field(description="Of what is on the target now.")
    previous_sha256: str | None = Field(description="Of what was there before.")
    unified: str | None = Field(description="The change to the file's text (secrets masked).")
    changes: list[ConfigChange]
    error: str | None = None


class PushOut(BaseModel):
    """The outcome of a push, per target."""

    config_id: str
    version: int
    dry_run: bool
    rollback_of: int | None = None
    targets: list[TargetResult]
    changed: int = Field(description="Targets changed (or, dry run, that would change).")
    failed: int
