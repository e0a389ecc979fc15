"""Provisioning steps: what a recipe is made of (the schema, not how they run).

Each step is a typed model told apart by ``kind`` (a discriminated union, so the OpenAPI
document says exactly which fields each kind takes). Every value that ends up in a
remote command is constrained here (absolute paths, octal modes, user, group, package
and service names by pattern) *and* quoted when the command is built
(:mod:`meshkit.services.servers.jobs.actions`): a user value never reaches a shell as
shell syntax.

Every step is idempotent: run twice, the second run reports ``ok`` (nothing to do). In
check mode none changes anything; each says what it would change (``changed``), a file
with the unified diff of its content.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Literal, Self

from pydantic import Field

from meshkit.http.models import RequestModel
from meshkit.services.servers.redact import is_secret_name

MAX_CONTENT = 1024 * 1024
"""Largest file content a step may carry, in characters."""
MAX_COMMAND = 16 * 1024
"""Longest command (or guard) text."""
MAX_STEPS = 200
"""Most steps in a recipe."""
ENV_FIELD = "env."
"""How :meth:`StepBase.secret_fields` names an ``env`` value: ``env.<NAME>``."""

AbsolutePath = Annotated[
    str,
    Field(
        min_length=2,
        max_length=4096,
        pattern=r"^/[^\x00-\x1f\x7f]*[^/\x00-\x1f\x7f]$",
        description="An absolute path (not `/` itself; no control characters, no trailing `/`).",
        examples=["/etc/motd"],
    ),
]
Mode = Annotated[
    str,
    Field(
        pattern=r"^0?[0-7]{3,4}$",
        description="Permission bits as an octal string.",
        examples=["0644", "0750", "1777"],
    ),
]
AccountName = Annotated[
    str,
    Field(
        min_length=1,
        max_length=32,
        pattern=r"^[a-z_][a-z0-9_-]*\$?$",
        description="A user or group name (the portable form `useradd` accepts).",
        examples=["deploy", "www-data"],
    ),
]
PackageName = Annotated[
    str,
    Field(
        min_length=2,
        max_length=128,
        pattern=r"^[a-z0-9][a-z0-9+.-]+$",
        description="A Debian package name.",
        examples=["nginx", "libssl3"],
    ),
]
ServiceName = Annotated[
    str,
    Field(
        min_length=1,
        max_length=128,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9@._:-]*$",
        description="A service (systemd unit or init script) name.",
        examples=["nginx", "ssh.service"],
    ),
]
CommandText = Annotated[
    str,
    Field(
        min_length=1,
        max_length=MAX_COMMAND,
        pattern=r"^[^\x00]+$",
        description="Shell text run by `/bin/sh -c` on the host.",
    ),
]
EnvName = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")]
Label = Annotated[
    str,
    Field(
        min_length=1,
        max_length=200,
        pattern=r"^[^\x00-\x1f\x7f]+$",
        description="What the step is for, shown in results and logs.",
    ),
]
TimeLimit = Annotated[
    float,
    Field(
        gt=0,
        le=86_400,
        description="Seconds each remote command of the step may run (default: "
        "`MESHKIT_SERVERS_COMMAND_TIMEOUT`); past it, it is killed and the step fails.",
    ),
]
Present = Literal["present", "absent"]


class StepBase(RequestModel):
    """Fields every step has."""

    name: Label | None = None
    time_limit: TimeLimit | None = None

    def label(self) -> str:
        """The step as results and logs name it."""
        return self.name or self.describe()

    def describe(self) -> str:
        """A short description from the step's own fields."""
        raise NotImplementedError

    def secrets(self) -> list[str]:
        """Values of this step that must never appear in logs, output or answers."""
        return []

    def secret_fields(self) -> dict[str, str]:
        """The step's secret values by where they go (``content``, ``env.<NAME>``): what
        answers mask and the store keeps sealed."""
        return {}

    def with_secrets(self, values: Mapping[str, str]) -> Self:
        """A copy with these :meth:`secret_fields` set (others as they are)."""
        return self


class PackageStep(StepBase):
    """Debian packages installed (``present``) or removed (``absent``), with apt.

    Check mode asks ``dpkg-query`` only and reports what would be installed or removed.
    """

    kind: Literal["package"]
    names: list[PackageName] = Field(min_length=1, max_length=100)
    state: Present = "present"

    def describe(self) -> str:
        return f"package {' '.join(self.names)} {self.state}"


class FileStep(StepBase):
    """A regular file with this content, owner, group and mode (or no file: ``absent``).

    Content is compared by SHA-256, metadata by ``stat``; a change is written to a
    temporary file next to the target and renamed over it (atomic). ``content: null``
    manages only the metadata (an empty file is created if there is none). With
    ``content_secret`` the content is masked in answers and diffs and scrubbed from
    output.
    """

    kind: Literal["file"]
    path: AbsolutePath
    state: Present = "present"
    content: str | None = Field(default=None, max_length=MAX_CONTENT)
    content_secret: bool = False
    owner: AccountName | None = None
    group: AccountName | None = None
    mode: Mode | None = None

    def describe(self) -> str:
        return f"file {self.path} {self.state}"

    def secrets(self) -> list[str]:
        if self.content_secret and self.content:
            return [self.content, *self.content.splitlines()]
        return []

    def secret_fields(self) -> dict[str, str]:
        if self.content_secret and self.content:
            return {"content": self.content}
        return {}

    def with_secrets(self, values: Mapping[str, str]) -> Self:
        if "content" not in values:
            return self
        return self.model_copy(update={"content": values["content"]})


class DirectoryStep(StepBase):
    """A directory with this owner, group and mode (``mkdir -p``), or none (``absent``:
    removed with everything in it)."""

    kind: Literal["directory"]
    path: AbsolutePath
    state: Present = "present"
    owner: AccountName | None = None
    group: AccountName | None = None
    mode: Mode | None = None

    def describe(self) -> str:
        return f"directory {self.path} {self.state}"


class UserStep(StepBase):
    """A local user account (``useradd``/``usermod``/``userdel``).

    ``groups`` are supplementary groups the user is added to (never removed from
    others); ``shell`` is set when given. ``remove_home`` removes the home directory
    with an ``absent`` user.
    """

    kind: Literal["user"]
    user: AccountName
    state: Present = "present"
    shell: AbsolutePath | None = None
    groups: list[AccountName] = Field(default_factory=list, max_length=64)
    create_home: bool = True
    remove_home: bool = False

    def describe(self) -> str:
        return f"user {self.user} {self.state}"


class ServiceStep(StepBase):
    """A service running or not (``started``, ``stopped``, or ``restarted`` every run),
    and enabled at boot or not; through ``systemctl`` when systemd runs the host, else
    ``service`` (init scripts, which cannot be enabled or disabled here)."""

    kind: Literal["service"]
    service: ServiceName
    state: Literal["started", "stopped", "restarted"] | None = None
    enabled: bool | None = None

    def describe(self) -> str:
        parts = [f"service {self.service}"]
        if self.state:
            parts.append(self.state)
        if self.enabled is not None:
            parts.append("enabled" if self.enabled else "disabled")
        return " ".join(parts)


class CommandStep(StepBase):
    """A shell command, run unless a guard says it is done already.

    Skipped (``skipped``) when the ``creates`` path exists, when the ``unless`` command
    exits 0, or when the ``only_if`` command exits non-zero; otherwise run and reported
    ``changed`` (failed on a non-zero exit). Guards are read-only queries: they run in
    check mode too, the command does not. ``env`` values are given to the command (and
    guards) without appearing in its command line; those whose name looks secret
    (``*_PASSWORD``, ``*TOKEN*``...) or all of them with ``secret_env`` are scrubbed from
    output and masked in answers.
    """

    kind: Literal["command"]
    cmd: CommandText
    creates: AbsolutePath | None = None
    unless: CommandText | None = None
    only_if: CommandText | None = None
    env: dict[EnvName, Annotated[str, Field(max_length=MAX_COMMAND)]] = Field(
        default_factory=dict, max_length=64
    )
    secret_env: bool = False

    def describe(self) -> str:
        first = self.cmd.strip().splitlines()[0] if self.cmd.strip() else self.cmd
        return f"command {first[:80]}"

    def secret_names(self) -> list[str]:
        """Names of the env values that are secret."""
        return [n for n in self.env if self.secret_env or is_secret_name(n)]

    def secrets(self) -> list[str]:
        values = [self.env[n] for n in self.secret_names()]
        return [*values, *(line for v in values if "\n" in v for line in v.splitlines())]

    def secret_fields(self) -> dict[str, str]:
        return {f"{ENV_FIELD}{n}": self.env[n] for n in self.secret_names()}

    def with_secrets(self, values: Mapping[str, str]) -> Self:
        env = {name: values.get(f"{ENV_FIELD}{name}", value) for name, value in self.env.items()}
        return self.model_copy(update={"env": env}) if env != self.env else self


Step = Annotated[
    PackageStep | FileStep | DirectoryStep | UserStep | ServiceStep | CommandStep,
    Field(discriminator="kind"),
]
Steps = Annotated[list[Step], Field(min_length=1, max_length=MAX_STEPS)]


def secrets_of(steps: list[Step]) -> list[str]:
    """Every secret value the steps hold (to scrub from output), multi-line ones also
    line by line (output is handled a line at a time)."""
    return [value for step in steps for value in step.secrets()]
