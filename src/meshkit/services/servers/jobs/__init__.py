"""Provisioning: idempotent steps composed into recipes, run as durable jobs on many
hosts in parallel, in check mode (what would change, with diffs) or apply mode, with
live output over Server-Sent Events and Socket.IO.

- :mod:`~meshkit.services.servers.jobs.steps`: the step schema (a union on ``kind``);
- :mod:`~meshkit.services.servers.jobs.actions`: how each step runs on a host;
- :mod:`~meshkit.services.servers.jobs.recipes`: stored recipes;
- :mod:`~meshkit.services.servers.jobs.runner`: jobs (parallel, durable, cancellable);
- :mod:`~meshkit.services.servers.jobs.log`: the bounded log and its live stream;
- :mod:`~meshkit.services.servers.jobs.live`: SSE and Socket.IO followers;
- :mod:`~meshkit.services.servers.jobs.api`: the REST adapter.
"""

from meshkit.services.servers.jobs.api import JobsApi
from meshkit.services.servers.jobs.live import JobSockets
from meshkit.services.servers.jobs.models import JOBS_SOCKET_PATH, Job, Recipe
from meshkit.services.servers.jobs.recipes import Recipes
from meshkit.services.servers.jobs.runner import HostSource, Jobs, JobsConfig

__all__ = [
    "JOBS_SOCKET_PATH",
    "HostSource",
    "Job",
    "JobSockets",
    "Jobs",
    "JobsApi",
    "JobsConfig",
    "Recipe",
    "Recipes",
]
