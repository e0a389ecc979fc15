"""What provisioning stores and what its API accepts and answers.

Stored: :class:`Recipe` (``servers_recipes``), a named list of steps, and :class:`Job`
(``servers_jobs``), one run of steps on hosts with its per-host results and its log.
Secret values (file content marked ``content_secret``, secret ``env`` values) are
masked in every answer (:func:`masked_steps`) and stored sealed, apart from the steps
(:mod:`meshkit.services.servers.jobs.secrets`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, ClassVar, Literal

from pydantic import BaseModel, Field

from meshkit.http.models import RequestModel
from meshkit.services.servers.jobs.actions import StepStatus
from meshkit.services.servers.jobs.secrets import masked
from meshkit.services.servers.jobs.steps import Step, Steps
from meshkit.services.servers.types import HostSelector, Id
from meshkit.store import Document, Index

JOBS_SOCKET_PATH = "/servers/socket.io"
"""Where clients open the jobs' Socket.IO connection (through the gateway)."""
RecipeName = Annotated[
    str,
    Field(
        min_length=1,
        max_length=100,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$",
        description="A recipe's unique name (letters, digits, `.`, `_`, `-`).",
        examples=["base-packages"],
    ),
]
Description = Annotated[
    str, Field(max_length=2000, pattern=r"^[^\x00]*$", description="What the recipe does.")
]
JobMode = Literal["check", "apply"]
JobStatus = Literal["queued", "running", "succeeded", "failed", "cancelled"]
HostStatus = Literal["pending", "running", "ok", "changed", "failed", "cancelled"]
FINAL: frozenset[str] = frozenset({"succeeded", "failed", "cancelled"})


# --- stored ----------------------------------------------------------------------------


class Recipe(Document):
    """A named list of steps, as stored; ``revision`` counts its updates (1 when made).
    ``steps`` are masked; ``sealed`` holds their secret values, sealed."""

    collection: ClassVar[str] = "servers_recipes"
    indexes: ClassVar[tuple[Index, ...]] = (Index("name", unique=True),)
    name: str
    description: str = ""
    steps: list[Step]
    sealed: dict[str, str] = Field(default_factory=dict)
    revision: int = 1
    created_by: str
    created_at: datetime
    updated_at: datetime


class StepResult(BaseModel):
    """What one step did on one host (``skipped`` also when an earlier step failed)."""

    index: int = Field(description="The step's position in the recipe, from 0.")
    kind: str
    label: str
    status: StepStatus
    message: str
    diff: str | None = Field(
        default=None, description="The unified diff of a file's content (check mode too)."
    )
    output: str = Field(default="", description="What its commands printed (the last 64 KiB).")
    duration: float = Field(description="Seconds.")


class Counts(BaseModel):
    """Steps by outcome."""

    ok: int = 0
    changed: int = 0
    failed: int = 0
    skipped: int = 0


class HostRun(BaseModel):
    """One host's part of a job."""

    host_id: str
    name: str
    status: HostStatus = "pending"
    steps: list[StepResult] = Field(default_factory=list)
    counts: Counts = Field(default_factory=Counts)
    error: str | None = Field(default=None, description="Why the host failed, if it did.")


LogType = Literal["output", "step", "host", "job"]


class LogEntry(BaseModel):
    """One entry of a job's log: a chunk of output, a step's or host's result, or a job
    event. ``seq`` orders them (1, 2, ...); live streams use ``<seq>-0`` as event id."""

    seq: int
    at: datetime
    type: LogType
    host_id: str | None = None
    step: int | None = Field(default=None, description="The step's index, for its entries.")
    stream: Literal["stdout", "stderr"] | None = None
    status: str | None = Field(default=None, description="The result, for step/host/job entries.")
    text: str


class Job(Document):
    """A provisioning job as stored (durable: a restart fails it with a reason).
    ``steps`` are masked; ``sealed`` holds their secret values, sealed. ``lease_until``
    is renewed by the instance running it while it runs; past it, with the instance's
    heartbeat gone too, the job is taken for abandoned."""

    collection: ClassVar[str] = "servers_jobs"
    indexes: ClassVar[tuple[Index, ...]] = (Index("status"), Index("created_at"))
    recipe: str
    recipe_id: str | None = None
    recipe_revision: int | None = None
    steps: list[Step]
    sealed: dict[str, str] = Field(default_factory=dict)
    lease_until: datetime | None = None
    mode: JobMode
    parallelism: int
    status: JobStatus = "queued"
    reason: str | None = None
    instance: str
    created_by: str
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    hosts: list[HostRun]
    log: list[LogEntry] = Field(default_factory=list)
    log_dropped: int = 0


# --- API -------------------------------------------------------------------------------


class RecipeIn(RequestModel):
    """A recipe: a name and the steps it runs, in order."""

    name: RecipeName
    description: Description = ""
    steps: Steps


class RecipeOut(BaseModel):
    """A stored recipe (secret values masked)."""

    id: str
    name: str
    description: str
    steps: list[Step]
    revision: int = Field(description="1 when created, one more per update.")
    created_by: str
    created_at: datetime
    updated_at: datetime


class InlineRecipe(RequestModel):
    """Steps given with the job instead of a stored recipe's name."""

    name: RecipeName = "inline"
    steps: Steps
    from_job: Id | None = Field(
        default=None,
        description="A job whose steps these are (as its answer shows them): a masked "
        "secret (`********`) takes that job's stored value (422 `masked-secret-unknown` "
        "when there is none).",
    )


class JobIn(RequestModel):
    """Run a recipe on hosts: in ``check`` mode (report what would change, change
    nothing) or ``apply`` mode."""

    recipe: RecipeName | InlineRecipe = Field(
        description="A stored recipe's name, or `{steps: [...]}` inline."
    )
    hosts: HostSelector = Field(
        description="The hosts to run on (422 `no-hosts-selected` when none matches)."
    )
    mode: JobMode = "check"
    parallelism: int | None = Field(
        default=None,
        ge=1,
        le=1000,
        description="Hosts worked on at once (default `MESHKIT_SERVERS_JOB_PARALLELISM`).",
    )


class Summary(BaseModel):
    """A job's outcome in numbers: hosts by result, steps by outcome."""

    hosts: int
    hosts_ok: int
    hosts_changed: int
    hosts_failed: int
    steps: Counts


class JobOut(BaseModel):
    """A provisioning job (its log is ``GET …/jobs/{job_id}/log``)."""

    id: str
    recipe: str
    recipe_id: str | None
    recipe_revision: int | None
    steps: list[Step]
    mode: JobMode
    parallelism: int
    status: JobStatus
    reason: str | None = Field(description="Why it failed or was cancelled, when it says.")
    instance: str = Field(description="The servers instance that runs (ran) it.")
    created_by: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    hosts: list[HostRun]
    summary: Summary


class JobQuery(BaseModel):
    """A page of jobs, newest first."""

    status: JobStatus | None = None
    before: Annotated[Id | None, Field(default=None, description="Jobs older than this id.")] = None
    limit: Annotated[int, Field(ge=1, le=200)] = 50


class JobLogOut(BaseModel):
    """A job's stored log (what was kept: the oldest output goes past the size limit)."""

    job_id: str
    status: JobStatus
    entries: list[LogEntry]
    dropped_bytes: int = Field(description="Bytes of the oldest output dropped to stay bounded.")


# --- shaping ---------------------------------------------------------------------------


def masked_steps(steps: list[Step]) -> list[Step]:
    """The steps as answers show them: secret file content and secret env values masked."""
    return masked(steps)


def recipe_out(recipe: Recipe) -> RecipeOut:
    """The API shape of a stored recipe."""
    return RecipeOut(
        id=recipe.id,
        name=recipe.name,
        description=recipe.description,
        steps=masked_steps(recipe.steps),
        revision=recipe.revision,
        created_by=recipe.created_by,
        created_at=recipe.created_at,
        updated_at=recipe.updated_at,
    )


def summarize(hosts: list[HostRun]) -> Summary:
    """The totals of a job's hosts."""
    steps = Counts()
    for host in hosts:
        for name in ("ok", "changed", "failed", "skipped"):
            setattr(steps, name, getattr(steps, name) + getattr(host.counts, name))
    return Summary(
        hosts=len(hosts),
        hosts_ok=sum(h.status == "ok" for h in hosts),
        hosts_changed=sum(h.status == "changed" for h in hosts),
        hosts_failed=sum(h.status == "failed" for h in hosts),
        steps=steps,
    )


def job_out(job: Job) -> JobOut:
    """The API shape of a stored job."""
    return JobOut(
        id=job.id,
        recipe=job.recipe,
        recipe_id=job.recipe_id,
        recipe_revision=job.recipe_revision,
        steps=masked_steps(job.steps),
        mode=job.mode,
        parallelism=job.parallelism,
        status=job.status,
        reason=job.reason,
        instance=job.instance,
        created_by=job.created_by,
        created_at=job.created_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
        hosts=job.hosts,
        summary=summarize(job.hosts),
    )
