"""Provisioning jobs: run steps on many hosts, durably (one core function per operation).

Contract:

- :meth:`Jobs.submit` stores the job (``queued``, naming this instance) and starts it:
  hosts are worked on at once up to the job's ``parallelism``; on each host the steps
  run in order and the host stops at its first failed step (the rest are ``skipped``).
  The job ``succeeded`` when no host failed, else ``failed``; it publishes
  :class:`~meshkit.contracts.servers.JobFinished` either way (and when cancelled).
- Output streams live (:mod:`meshkit.services.servers.jobs.log`) and is kept, bounded,
  in the job's log; the job document is written as it goes (at least every
  :data:`FLUSH_EVERY` seconds), so what a crash loses is seconds of log, never the job.
- **Durable**: each instance keeps a heartbeat key in Redis while it lives, and renews a
  lease on each job it runs (``Job.lease_until``, :attr:`JobsConfig.heartbeat_ttl` ahead,
  renewed every third of it with the job's results). At start and then periodically,
  any ``queued`` or ``running`` job whose lease has expired *and* whose instance's
  heartbeat is gone is marked ``failed`` with the reason "the servers instance running
  it stopped" and the log it had: neither Redis losing its keys (a restart) nor a slow
  store alone fails a live job. An instance that stops cleanly fails its running jobs
  the same way; one that finds its job failed meanwhile stops running it.
- :meth:`Jobs.cancel` stops a job (on any instance: the one running it notices within
  :data:`FLUSH_EVERY` seconds); commands in flight are abandoned (the host's ``timeout``
  still ends them).
- Every run and cancel is in the audit log (``jobs.run``, ``jobs.cancel``,
  ``jobs.fail`` for a job failed by recovery).
- Secret values of the steps are stored sealed (:mod:`meshkit.services.servers.jobs.
  secrets`) and opened only in the memory of the instance running the job.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncGenerator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from redis.asyncio import Redis
from redis.exceptions import RedisError

from meshkit.contracts.servers import JobFinished
from meshkit.errors import Problem
from meshkit.events import PublishEvent
from meshkit.services.servers.audit import SYSTEM, AuditLog
from meshkit.services.servers.errors import JobAlreadyFinished, JobNotFound, NoHostsSelected
from meshkit.services.servers.jobs import log as joblog
from meshkit.services.servers.jobs import secrets
from meshkit.services.servers.jobs.actions import Remote, StepOutcome, run_step
from meshkit.services.servers.jobs.models import (
    FINAL,
    Counts,
    HostRun,
    InlineRecipe,
    Job,
    JobIn,
    JobLogOut,
    JobQuery,
    JobStatus,
    LogEntry,
    StepResult,
)
from meshkit.services.servers.jobs.recipes import Recipes
from meshkit.services.servers.jobs.steps import Step, secrets_of
from meshkit.services.servers.schedule import Periodic
from meshkit.services.servers.ssh import SshPool, SshTarget
from meshkit.store import Desc, Store
from meshkit.tokens import Principal

log = logging.getLogger("meshkit.servers.jobs")
FLUSH_EVERY = 1.0
"""Seconds between writes of a running job (results and log) to the store."""
STOPPED = "the servers instance running it stopped"
"""The reason of a job failed because its instance went away."""


class HostRef(Protocol):
    """A host as a job names it."""

    @property
    def id(self) -> str: ...

    @property
    def name(self) -> str: ...


class HostSource(Protocol):
    """Where jobs find hosts: the hosts registry (``Hosts``) is one."""

    async def select(
        self, host_ids: list[str] | None, labels: dict[str, str] | None
    ) -> Sequence[HostRef]:
        """The hosts in ``host_ids`` (every host when ``None``) that carry all of
        ``labels``; a 404 problem for an unknown id."""
        ...

    async def target(self, host_id: str) -> SshTarget:
        """How to reach a host over SSH."""
        ...


LogListener = Callable[[str, LogEntry], Awaitable[None]]
"""``listener(job_id, entry)``: called for each entry of a job running here."""


@dataclass(frozen=True)
class JobsConfig:
    """The knobs of :class:`Jobs` (from ``MESHKIT_SERVERS_*``)."""

    parallelism: int = 25
    log_max_bytes: int = 4 * 1024 * 1024
    heartbeat_ttl: float = 30.0


def heartbeat_key(instance: str) -> str:
    """The Redis key that says instance ``instance`` is alive (it expires otherwise)."""
    return f"meshkit:servers:jobs:instance:{instance}"


def job_context(job_id: str) -> str:
    """What a job's sealed secrets are bound to."""
    return f"job:{job_id}"


def cancel_key(job_id: str) -> str:
    """The Redis key that asks a job's runner, wherever it is, to cancel it."""
    return f"meshkit:servers:job:{job_id}:cancel"


class Jobs:
    """Provisioning jobs (module docstring)."""

    def __init__(
        self,
        store: Store,
        redis: Redis,
        pool: SshPool,
        hosts: HostSource,
        recipes: Recipes,
        audit: AuditLog,
        *,
        instance: str,
        config: JobsConfig,
        publish: PublishEvent | None = None,
    ) -> None:
        self.store = store
        self.redis = redis
        self.pool = pool
        self.hosts = hosts
        self.recipes = recipes
        self.audit = audit
        self.instance = instance
        self.config = config
        self.publish = publish
        self.listeners: list[LogListener] = []
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._cancelled: set[str] = set()
        self._ticker = Periodic("jobs", max(0.5, config.heartbeat_ttl / 3), self.tick)

    # --- lifecycle -------------------------------------------------------------------

    async def start(self) -> None:
        """Say this instance is alive, fail the jobs of dead ones, keep doing both."""
        await self._beat()
        await self.recover()
        self._ticker.start()

    async def stop(self) -> None:
        """Fail the jobs running here (:data:`STOPPED`), stop beating."""
        await self._ticker.stop()
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(BaseException):
                await task
        with contextlib.suppress(RedisError):
            await self.redis.delete(heartbeat_key(self.instance))

    async def tick(self) -> None:
        """One beat: refresh the heartbeat, then fail abandoned jobs."""
        await self._beat()
        await self.recover()

    async def _beat(self) -> None:
        ttl_ms = max(1, int(self.config.heartbeat_ttl * 1000))
        await self.redis.set(heartbeat_key(self.instance), b"1", px=ttl_ms)

    def lease(self) -> datetime:
        """Until when a job running here is taken as alive without another renewal."""
        return datetime.now(UTC) + timedelta(seconds=self.config.heartbeat_ttl)

    def _abandoned(self, job: Job) -> bool:
        """Whether ``job``'s lease has expired (or it never had one); its instance's
        heartbeat is checked apart."""
        if job.id in self._tasks:
            return False
        return job.lease_until is None or job.lease_until <= datetime.now(UTC)

    async def recover(self) -> int:
        """Fail every unfinished job not running here whose lease expired and whose
        instance's heartbeat is gone (or whose instance is this one); how many."""
        failed = 0
        where = {"status": {"$in": ["queued", "running"]}}
        async for job in self.store.scan(Job, where):
            if not self._abandoned(job):
                continue
            if job.instance != self.instance and await self.redis.exists(
                heartbeat_key(job.instance)
            ):
                continue
            if await self._fail_abandoned(job.id):
                failed += 1
        return failed

    async def _fail_abandoned(self, job_id: str) -> bool:
        applied = False

        def change(job: Job) -> Job:
            nonlocal applied
            applied = job.status not in FINAL and self._abandoned(job)
            if not applied:  # finished or renewed since
                return job
            hosts = [
                h.model_copy(
                    update={
                        "status": "failed" if h.status == "running" else "cancelled",
                        "error": STOPPED if h.status == "running" else "not started",
                    }
                )
                if h.status in ("pending", "running")
                else h
                for h in job.hosts
            ]
            entry = LogEntry(
                seq=(job.log[-1].seq if job.log else 0) + 1,
                at=datetime.now(UTC),
                type="job",
                status="failed",
                text=f"job failed: {STOPPED}",
            )
            return job.model_copy(
                update={
                    "status": "failed",
                    "reason": STOPPED,
                    "finished_at": datetime.now(UTC),
                    "hosts": hosts,
                    "log": [*job.log, entry],
                }
            )

        before = await self.store.get(Job, job_id)
        if before is None or before.status in FINAL:
            return False
        job = await self.store.modify(Job, job_id, change)
        if not applied:
            return False
        await joblog.end_stream(self.redis, job.id, "failed", STOPPED)
        await self.audit.record(
            SYSTEM,
            "jobs.fail",
            f"job:{job.id}",
            detail={"reason": STOPPED, "instance": job.instance},
        )
        await self._announce(job)
        return True

    # --- operations ------------------------------------------------------------------

    async def submit(self, actor: Principal | str, body: JobIn) -> Job:
        """Store a job for ``body`` and start running it here (as stored: masked)."""
        detail: dict[str, Any] = {
            "recipe": body.recipe if isinstance(body.recipe, str) else body.recipe.name,
            "mode": body.mode,
            "hosts": body.hosts.model_dump(exclude_none=True),
        }
        async with self.audit.audited(actor, "jobs.run", "job:new", detail) as note:
            job, steps = await self._new_job(actor, body)
            job = await self.store.insert(job)
            # listed before the next await, so recovery never takes it for an orphan
            running = job.model_copy(update={"steps": steps}, deep=True)
            self._tasks[job.id] = asyncio.create_task(
                self._run(running), name=f"servers:job:{job.id}"
            )
            note.target = f"job:{job.id}"
            note.detail["host_ids"] = [h.host_id for h in job.hosts]
        return job

    async def _new_job(self, actor: Principal | str, body: JobIn) -> tuple[Job, list[Step]]:
        """The job to store (steps masked, secrets sealed) and its steps in clear."""
        recipe_id = revision = None
        if isinstance(body.recipe, InlineRecipe):
            name = body.recipe.name
            before: list[Step] = []
            if body.recipe.from_job is not None:
                earlier = await self.get(body.recipe.from_job)
                before = secrets.unseal(
                    self.recipes.vault, earlier.steps, earlier.sealed, job_context(earlier.id)
                )
            steps = secrets.keep(body.recipe.steps, before)
        else:
            recipe = await self.recipes.named(body.recipe)
            name, recipe_id, revision = recipe.name, recipe.id, recipe.revision
            steps = self.recipes.steps_of(recipe)
        selected = await self.hosts.select(body.hosts.ids, body.hosts.labels)
        if not selected:
            raise NoHostsSelected("no host has these ids and all these labels")
        job = Job(
            recipe=name,
            recipe_id=recipe_id,
            recipe_revision=revision,
            steps=[],
            mode=body.mode,
            parallelism=body.parallelism or self.config.parallelism,
            instance=self.instance,
            created_by=actor if isinstance(actor, str) else actor.subject,
            created_at=datetime.now(UTC),
            lease_until=self.lease(),
            hosts=[HostRun(host_id=h.id, name=h.name) for h in selected],
        )
        masked, sealed = secrets.seal(self.recipes.vault, steps, job_context(job.id))
        return job.model_copy(update={"steps": masked, "sealed": sealed}), steps

    async def get(self, job_id: str) -> Job:
        """The job with this id; :class:`JobNotFound` when there is none."""
        found = await self.store.get(Job, job_id)
        if found is None:
            raise JobNotFound(f"no job with id {job_id!r}")
        return found

    async def page(self, query: JobQuery) -> list[Job]:
        """Jobs newest first."""
        where: dict[str, Any] = {}
        if query.status is not None:
            where["status"] = query.status
        if query.before:
            where["id"] = {"$lt": query.before}
        found = await self.store.find(Job, where, sort=[Desc("id")], limit=query.limit)
        return found.items

    async def log_of(self, job_id: str) -> JobLogOut:
        """A job's stored log."""
        job = await self.get(job_id)
        return JobLogOut(
            job_id=job.id, status=job.status, entries=job.log, dropped_bytes=job.log_dropped
        )

    async def follow(
        self, job_id: str, after: str | None = None
    ) -> AsyncGenerator[tuple[str, dict[str, Any]], None]:
        """A job's log live from after event id ``after``, to its ``end`` entry
        (:func:`meshkit.services.servers.jobs.log.follow`); :class:`JobNotFound` first."""
        await self.get(job_id)
        return joblog.follow(self.redis, self.store, job_id, after)

    async def wait(self, job_id: str) -> Job:
        """The job once it has finished, if it runs here (else as it is now)."""
        task = self._tasks.get(job_id)
        if task is not None:
            await asyncio.shield(task)
        return await self.get(job_id)

    async def cancel(self, actor: Principal | str, job_id: str) -> Job:
        """Stop a job; :class:`JobAlreadyFinished` if it ended already."""
        async with self.audit.audited(actor, "jobs.cancel", f"job:{job_id}"):
            job = await self.get(job_id)
            if job.status in FINAL:
                raise JobAlreadyFinished(
                    f"the job has {job.status}", extensions={"status": job.status}
                )
            task = self._tasks.get(job_id)
            if task is not None:
                self._cancelled.add(job_id)
                task.cancel()
                with contextlib.suppress(BaseException):
                    await task
            else:
                await self.redis.set(cancel_key(job_id), b"1", ex=3600)
        return await self.get(job_id)

    # --- running ---------------------------------------------------------------------

    async def _run(self, job: Job) -> None:
        run = _Run(self, job)
        status: JobStatus = "failed"
        reason: str | None = None
        flusher = asyncio.create_task(run.keep_flushing())
        try:
            job.status, job.started_at = "running", datetime.now(UTC)
            await run.log.add("job", f"job started ({job.mode} mode) on {len(job.hosts)} host(s)")
            await run.flush()
            bound = asyncio.Semaphore(job.parallelism)
            await asyncio.gather(*(run.host(host, bound) for host in job.hosts))
            failed = any(h.status == "failed" for h in job.hosts)
            status = "failed" if failed else "succeeded"
            if failed:
                reason = f"{sum(h.status == 'failed' for h in job.hosts)} host(s) failed"
        except asyncio.CancelledError:
            if job.id in self._cancelled or run.cancel_asked:
                status, reason = "cancelled", "cancelled"
            else:
                status, reason = "failed", STOPPED
        except Exception as exc:  # a bug or the store away: the job fails, with the reason
            log.exception("job %s failed unexpectedly", job.id)
            status, reason = "failed", f"internal error: {type(exc).__name__}"
        finally:
            flusher.cancel()
            with contextlib.suppress(BaseException):
                await flusher
            try:
                if run.lost:
                    log.warning("job %s was failed by recovery meanwhile: stopped", job.id)
                else:
                    await self._finish(run, status, reason)
            finally:
                self._tasks.pop(job.id, None)
                self._cancelled.discard(job.id)

    async def _finish(self, run: _Run, status: JobStatus, reason: str | None) -> None:
        job = run.job
        for host in job.hosts:
            if host.status in ("pending", "running"):
                host.status = "cancelled" if status == "cancelled" else "failed"
                host.error = host.error or reason
        job.status, job.reason, job.finished_at = status, reason, datetime.now(UTC)
        summary = f"job {status}" + (f": {reason}" if reason else "")
        await run.log.add("job", summary, status=status)
        await run.flush(final=True)
        if run.lost:  # failed by recovery meanwhile, which told everyone
            return
        await run.log.end(status, reason)
        with contextlib.suppress(RedisError):
            await self.redis.delete(cancel_key(job.id))
        await self._announce(job)

    async def _announce(self, job: Job) -> None:
        if self.publish is None or job.status not in FINAL:
            return
        event = JobFinished(
            job_id=job.id,
            recipe=job.recipe,
            status=job.status,
            changed_hosts=sum(h.status == "changed" for h in job.hosts),
            failed_hosts=sum(h.status == "failed" for h in job.hosts),
            at=job.finished_at or datetime.now(UTC),
        )
        try:
            await self.publish(event, id=f"job-finished:{job.id}", subject=f"job:{job.id}")
        except Exception as exc:  # the job is stored as finished; the event is best effort
            log.warning("could not publish JobFinished for %s: %r", job.id, exc)


class _Run:
    """The state of one job running on this instance."""

    def __init__(self, jobs: Jobs, job: Job) -> None:
        self.jobs = jobs
        self.job = job
        self.check = job.mode == "check"
        self.cancel_asked = False
        self.lost = False
        """The job was failed by another instance's recovery (its lease had lapsed)."""
        self.renewed = time.monotonic()

        async def relay(entry: LogEntry) -> None:
            for listener in list(jobs.listeners):
                await listener(job.id, entry)

        self.secrets = secrets_of(job.steps)
        self.log = joblog.JobLog(
            jobs.redis,
            job,
            max_bytes=jobs.config.log_max_bytes,
            secrets=self.secrets,
            on_entry=relay,
        )

    async def flush(self, *, final: bool = False) -> None:
        """Write the job's results and log to the store, renewing its lease (not once
        it was failed by recovery: then :attr:`lost`)."""
        job, log = self.job, self.log
        job.log, job.log_dropped = list(log.entries), log.dropped
        log.dirty = False
        self.renewed = time.monotonic()
        fields: dict[str, Any] = {
            "hosts": [h.model_copy(deep=True) for h in job.hosts],
            "log": job.log,
            "log_dropped": job.log_dropped,
            "started_at": job.started_at,
            "lease_until": None if final else self.jobs.lease(),
        }
        if final or job.status == "running":
            fields["status"] = job.status
        if final:
            fields.update(reason=job.reason, finished_at=job.finished_at)

        def change(current: Job) -> Job:
            self.lost = current.status in FINAL  # failed by recovery meanwhile
            return current if self.lost else current.model_copy(update=fields)

        await self.jobs.store.modify(Job, job.id, change)

    async def keep_flushing(self) -> None:
        """Write the job every :data:`FLUSH_EVERY` seconds while it changes, and every
        third of the lease anyway (renewing it); notice a cancel asked through another
        instance, or the job failed by recovery meanwhile (then stop it here)."""
        renew_every = self.jobs.config.heartbeat_ttl / 3
        while True:
            await asyncio.sleep(min(FLUSH_EVERY, renew_every))
            try:
                if self.log.dirty or time.monotonic() - self.renewed >= renew_every:
                    await self.flush()
                if self.lost:
                    task = self.jobs._tasks.get(self.job.id)
                    if task is not None:
                        task.cancel()
                    return
                if await self.jobs.redis.exists(cancel_key(self.job.id)):
                    self.cancel_asked = True
                    task = self.jobs._tasks.get(self.job.id)
                    if task is not None:
                        task.cancel()
                    return
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("could not save job %s: %r", self.job.id, exc)

    async def host(self, host: HostRun, bound: asyncio.Semaphore) -> None:
        """Run every step on one host, in order, stopping at the first failure."""
        async with bound:
            host.status = "running"
            await self.log.add(
                "host", f"{host.name}: started", host_id=host.host_id, status="running"
            )
            try:
                target = await self.jobs.hosts.target(host.host_id)
            except Problem as exc:
                host.status, host.error = "failed", exc.detail
                await self.log.add(
                    "host",
                    f"{host.name}: failed: {exc.detail}",
                    host_id=host.host_id,
                    status="failed",
                )
                return
            steps = self.job.steps
            for index, step in enumerate(steps):
                outcome = await self._step(host, target, index, step)
                if outcome.status == "failed":
                    host.error = f"step {index} ({step.label()}) failed: {outcome.message}"
                    for later in range(index + 1, len(steps)):
                        self._record(
                            host,
                            later,
                            steps[later],
                            StepOutcome("skipped", "not run: an earlier step failed"),
                            0.0,
                        )
                    break
            counts = host.counts
            host.status = "failed" if counts.failed else ("changed" if counts.changed else "ok")
            text = (
                f"{host.name}: {host.status} (ok {counts.ok}, changed {counts.changed}, "
                f"failed {counts.failed}, skipped {counts.skipped})"
            )
            await self.log.add("host", text, host_id=host.host_id, status=host.status)

    async def _step(self, host: HostRun, target: SshTarget, index: int, step: Step) -> StepOutcome:
        async def sink(stream: str, text: str) -> None:
            await self.log.add("output", text, host_id=host.host_id, step=index, stream=stream)

        lines = joblog.LineBuffer(sink, self.secrets)
        remote = Remote(
            self.jobs.pool, target, self.check, lines.feed, step.time_limit, self.log.scrub
        )
        started = time.monotonic()
        try:
            outcome = await run_step(step, remote)
        finally:
            await lines.close()
        self._record(host, index, step, outcome, time.monotonic() - started)
        result = host.steps[-1]
        text = f"[{result.status}] {result.label}: {result.message}"
        if result.diff:
            text += "\n" + result.diff
        await self.log.add("step", text, host_id=host.host_id, step=index, status=result.status)
        return outcome

    def _record(
        self, host: HostRun, index: int, step: Step, outcome: StepOutcome, duration: float
    ) -> None:
        scrub = self.log.scrub
        host.steps.append(
            StepResult(
                index=index,
                kind=step.kind,
                label=scrub(step.label()),
                status=outcome.status,
                message=scrub(outcome.message),
                diff=scrub(outcome.diff) if outcome.diff else None,
                output=scrub(outcome.output),
                duration=round(duration, 3),
            )
        )
        counts: Counts = host.counts
        setattr(counts, outcome.status, getattr(counts, outcome.status) + 1)
