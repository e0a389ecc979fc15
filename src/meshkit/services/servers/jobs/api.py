"""Provisioning over REST: recipes and jobs (thin adapters over :class:`Recipes` and
:class:`Jobs`).

Paths (stable; clients and the SDK depend on them)::

    POST   /v1/servers/recipes                   store a recipe (servers:jobs.run)
    GET    /v1/servers/recipes                   list them (servers:jobs.read)
    GET    /v1/servers/recipes/{recipe_id}       one (servers:jobs.read)
    PUT    /v1/servers/recipes/{recipe_id}       replace it (servers:jobs.run)
    DELETE /v1/servers/recipes/{recipe_id}       delete it (servers:jobs.run)
    POST   /v1/servers/jobs                      run a recipe on hosts, 202 (servers:jobs.run)
    GET    /v1/servers/jobs                      jobs, newest first (servers:jobs.read)
    GET    /v1/servers/jobs/{job_id}             one, with per-host results (servers:jobs.read)
    POST   /v1/servers/jobs/{job_id}/cancel      stop it (servers:jobs.run)
    GET    /v1/servers/jobs/{job_id}/log         its log: JSON, or live as SSE
                                                 (servers:jobs.read)

Live output over Socket.IO is :mod:`meshkit.services.servers.jobs.live`.
"""

from __future__ import annotations

from typing import cast

from aiohttp import web

from meshkit import Service, delete, get, post, put
from meshkit.services.servers.jobs.live import JobSockets, server_events, wants_events
from meshkit.services.servers.jobs.models import (
    JobIn,
    JobLogOut,
    JobOut,
    JobQuery,
    RecipeIn,
    RecipeOut,
    job_out,
    recipe_out,
)
from meshkit.services.servers.jobs.recipes import Recipes
from meshkit.services.servers.jobs.runner import Jobs
from meshkit.services.servers.permissions import JOBS_READ, JOBS_RUN
from meshkit.services.servers.sse import event_stream
from meshkit.services.servers.types import Id
from meshkit.tokens import Principal

TAGS = ("servers",)


class JobsApi(Service):
    """Routes of recipes and jobs; the service builds :attr:`recipes`, :attr:`jobs` in
    its lifespan and :attr:`job_sockets` in ``setup_app``."""

    recipes: Recipes
    jobs: Jobs
    job_sockets: JobSockets

    # --- recipes -------------------------------------------------------------------------

    @post("/v1/servers/recipes", status=201, tags=TAGS, errors=(401, 409, 422), permission=JOBS_RUN)
    async def create_recipe(self, principal: Principal, body: RecipeIn) -> RecipeOut:
        """Store a recipe: a named list of steps (409 `recipe-exists` when the name is taken).

        Steps are `package`, `file`, `directory`, `user`, `service` and `command` (the
        schema says each one's fields). Secret values (file content with
        `content_secret`, secret `env` values) are stored encrypted and masked
        (`********`) in every answer.
        """
        return recipe_out(await self.recipes.create(principal, body))

    @get("/v1/servers/recipes", tags=TAGS, errors=(401,), permission=JOBS_READ)
    async def list_recipes(self, principal: Principal) -> list[RecipeOut]:
        """Every recipe, by name."""
        return [recipe_out(r) for r in await self.recipes.every()]

    @get("/v1/servers/recipes/{recipe_id}", tags=TAGS, errors=(401, 404), permission=JOBS_READ)
    async def get_recipe(self, principal: Principal, recipe_id: Id) -> RecipeOut:
        """One recipe."""
        return recipe_out(await self.recipes.get(recipe_id))

    @put(
        "/v1/servers/recipes/{recipe_id}",
        tags=TAGS,
        errors=(401, 404, 409, 422),
        permission=JOBS_RUN,
    )
    async def replace_recipe(
        self, principal: Principal, recipe_id: Id, body: RecipeIn
    ) -> RecipeOut:
        """Replace a recipe's name, description and steps (`revision` goes up by one).

        A secret value sent as the mask (`********`, as answers show it) keeps the stored
        value of the step it stands for: the step with the same `name` and kind, else the
        one at the same position with the same kind; 422 `masked-secret-unknown` when
        there is none. Jobs that ran it keep the steps they ran.
        """
        return recipe_out(await self.recipes.update(principal, recipe_id, body))

    @delete(
        "/v1/servers/recipes/{recipe_id}",
        status=204,
        tags=TAGS,
        errors=(401, 404),
        permission=JOBS_RUN,
    )
    async def delete_recipe(self, principal: Principal, recipe_id: Id) -> None:
        """Delete a recipe."""
        await self.recipes.delete(principal, recipe_id)

    # --- jobs ----------------------------------------------------------------------------

    @post("/v1/servers/jobs", status=202, tags=TAGS, errors=(401, 404, 422), permission=JOBS_RUN)
    async def run_job(self, principal: Principal, body: JobIn) -> JobOut:
        """Run a recipe (by name, or steps inline) on hosts, in `check` or `apply` mode.

        Answers at once (202) with the queued job; follow it with `GET …/jobs/{id}` or
        live with `GET …/jobs/{id}/log` (SSE) or Socket.IO (`/servers/socket.io`,
        `job.follow`). Hosts are worked on in parallel (at most `parallelism` at once);
        on each host the steps run in order and the host stops at its first failure.
        Check mode changes nothing and reports what would change, with file diffs.
        To run a job's steps again, send them (as its answer shows them) with `from_job`:
        masked secrets take that job's values (422 `masked-secret-unknown` for a mask
        nothing stands behind). 404 `recipe-not-found`, `host-not-found`, `job-not-found`;
        422 `no-hosts-selected` when the selector matches none.
        """
        return job_out(await self.jobs.submit(principal, body))

    @get("/v1/servers/jobs", tags=TAGS, errors=(401,), permission=JOBS_READ)
    async def list_jobs(self, principal: Principal, query: JobQuery) -> list[JobOut]:
        """Jobs, newest first."""
        return [job_out(j) for j in await self.jobs.page(query)]

    @get("/v1/servers/jobs/{job_id}", tags=TAGS, errors=(401, 404), permission=JOBS_READ)
    async def get_job(self, principal: Principal, job_id: Id) -> JobOut:
        """A job: its status, and each host's step results and counts."""
        return job_out(await self.jobs.get(job_id))

    @post(
        "/v1/servers/jobs/{job_id}/cancel",
        tags=TAGS,
        errors=(401, 404, 409),
        permission=JOBS_RUN,
    )
    async def cancel_job(self, principal: Principal, job_id: Id) -> JobOut:
        """Cancel a queued or running job (409 `job-finished` when it has ended).

        Hosts not finished are `cancelled`; a command in flight is abandoned (its
        time limit still ends it on the host). A job another servers instance runs
        is cancelled by that instance within a second: the answer may still say
        `running`.
        """
        return job_out(await self.jobs.cancel(principal, job_id))

    @get("/v1/servers/jobs/{job_id}/log", tags=TAGS, errors=(401, 404), permission=JOBS_READ)
    async def get_job_log(
        self, principal: Principal, job_id: Id, request: web.Request, follow: bool = False
    ) -> JobLogOut:
        """A job's log: output, step and host results, as stored (bounded; the oldest
        output is dropped past `MESHKIT_SERVERS_JOB_LOG_MAX_BYTES`).

        With `Accept: text/event-stream` or `?follow=true` the answer is instead a live
        Server-Sent Events stream (`text/event-stream`): one event per entry (`event:`
        `output`, `step`, `host` or `job`; `id:` to resume with `Last-Event-ID`; `data:`
        the entry as JSON), then an `end` event (`{"status", "text"}`) when the job
        finishes, and the stream closes. Secret values are scrubbed from all of it.
        """
        if not wants_events(request, follow):
            return await self.jobs.log_of(job_id)
        after = request.headers.get("Last-Event-ID")
        entries = await self.jobs.follow(job_id, after)
        stream = await event_stream(request, server_events(entries), stop=lambda: self.draining)
        # a streamed answer: the binder passes a StreamResponse through as it is
        return cast(JobLogOut, stream)
