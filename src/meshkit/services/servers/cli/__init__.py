"""``meshkit servers …``: the common actions of the servers service from a terminal.

A REST client of a running system, as ``kubectl`` or ``docker -H`` are: ``--url`` (else
``MESHKIT_URL``, else the local gateway) and a token from ``--token``, ``MESHKIT_TOKEN``
or ``meshkit servers login`` (kept in a private file, see
:class:`~meshkit.services.servers.cli.client.TokenStore`).

Output is tables for people, JSON with ``--json``. Exit status: 0 done; 1 the system
said no (its problem printed as one line ``title: detail``), could not be reached, or
what was run failed (a host of a job, a rollout, a push); 2 a usage mistake.
Secrets are never printed: private keys are read from ``--key-file``, passwords from
``MESHKIT_PASSWORD`` or a prompt, and the token only ever goes to its file.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import re
import sys
from collections.abc import Awaitable, Callable
from typing import Any

from meshkit.commands import Command
from meshkit.config import Settings
from meshkit.services.servers.cli.client import (
    DEFAULT_URL,
    ApiProblem,
    Client,
    Ctx,
    TokenStore,
    Unreachable,
    cli_home,
    dump,
    err,
    out,
)
from meshkit.services.servers.cli.configs import (
    cmd_configs_diff,
    cmd_configs_list,
    cmd_configs_push,
    cmd_configs_rollback,
    cmd_configs_show,
    cmd_configs_versions,
)
from meshkit.services.servers.cli.deploy import (
    cmd_deploy,
    cmd_deployments_history,
    cmd_deployments_list,
    cmd_deployments_logs,
    cmd_deployments_remove,
    cmd_deployments_rollback,
    cmd_deployments_scale,
    cmd_deployments_show,
    cmd_deployments_start,
    cmd_deployments_stop,
)
from meshkit.services.servers.cli.health import (
    cmd_audit,
    cmd_checks_list,
    cmd_checks_run,
    cmd_health,
)
from meshkit.services.servers.cli.hosts import (
    cmd_hosts_add,
    cmd_hosts_facts,
    cmd_hosts_list,
    cmd_hosts_remove,
    cmd_hosts_show,
    cmd_hosts_test,
)
from meshkit.services.servers.cli.jobs import (
    cmd_jobs_cancel,
    cmd_jobs_list,
    cmd_jobs_log,
    cmd_jobs_show,
    cmd_recipes_apply,
    cmd_recipes_list,
    cmd_run,
)

Handler = Callable[[Ctx, argparse.Namespace], Awaitable[int]]


# --- login ----------------------------------------------------------------------------


async def cmd_login(ctx: Ctx, args: argparse.Namespace) -> int:
    password = os.environ.get("MESHKIT_PASSWORD")
    if not password:
        if not sys.stdin.isatty():
            raise ValueError("no password: set MESHKIT_PASSWORD or run in a terminal")
        password = getpass.getpass(f"password for {args.email}: ")
    answer = await ctx.client.call(
        "POST", "/v1/auth/login", json_body={"login": args.email, "password": password}
    )
    token = answer.get("access_token") if isinstance(answer, dict) else None
    if not token:
        raise ApiProblem(502, {"title": "Login failed", "detail": "no access token answered"})
    path = TokenStore(cli_home()).save(ctx.url, token, args.email)
    if ctx.json:
        dump({"url": ctx.url, "login": args.email, "token_file": str(path)})
    else:
        out(f"logged in to {ctx.url} as {args.email} (token kept in {path})")
    return 0


async def cmd_logout(ctx: Ctx, args: argparse.Namespace) -> int:
    had = TokenStore(cli_home()).forget(ctx.url)
    out(f"logged out of {ctx.url}" if had else f"no token was kept for {ctx.url}")
    return 0


# --- the parser -----------------------------------------------------------------------


def _common() -> argparse.ArgumentParser:
    """``--url``, ``--token``, ``--json``: accepted before or after the action."""
    common = argparse.ArgumentParser(add_help=False)
    _add_common(common)
    return common


def _add_common(common: argparse.ArgumentParser) -> None:
    common.add_argument(
        "--url",
        default=argparse.SUPPRESS,
        help=f"the system's base URL (default: MESHKIT_URL or {DEFAULT_URL})",
    )
    common.add_argument(
        "--token",
        default=argparse.SUPPRESS,
        help="an access token (default: MESHKIT_TOKEN, else the one `login` kept)",
    )
    common.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="print JSON")


class _Tree:
    """Adds subcommands with the common options and a handler each."""

    def __init__(self, common: argparse.ArgumentParser) -> None:
        self.common = common

    def group(self, parser: argparse.ArgumentParser, dest: str) -> Any:
        return parser.add_subparsers(dest=dest, required=True, metavar="ACTION")

    def leaf(self, actions: Any, name: str, help: str, handler: Handler) -> Any:
        sub = actions.add_parser(name, help=help, parents=[self.common])
        sub.set_defaults(handler=handler)
        return sub

    def branch(self, actions: Any, name: str, help: str) -> Any:
        return self.group(actions.add_parser(name, help=help), f"{name}_action")


def _selector_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--hosts", action="append", metavar="ID|NAME,...", help="hosts by id or name"
    )
    parser.add_argument(
        "--label", action="append", metavar="KEY=VALUE", help="hosts with this label"
    )
    parser.add_argument("--parallelism", type=int, help="hosts worked on at once")
    parser.add_argument(
        "--detach", action="store_true", help="print the job's id and return at once"
    )


def configure(parser: argparse.ArgumentParser) -> None:
    """Every ``meshkit servers`` action (see the module docstring)."""
    common = _common()
    _add_common(parser)
    tree = _Tree(common)
    top = tree.group(parser, "servers_action")

    login = tree.leaf(top, "login", "log in and keep the access token", cmd_login)
    login.add_argument("--email", required=True, help="your email or username")
    tree.leaf(top, "logout", "forget the kept access token", cmd_logout)

    hosts = tree.branch(top, "hosts", "managed hosts")
    add = tree.leaf(hosts, "add", "register a host", cmd_hosts_add)
    add.add_argument("name")
    add.add_argument("--address", required=True)
    add.add_argument("--port", type=int, default=22)
    add.add_argument("--user", default="root")
    add.add_argument("--key-file", required=True, help="the SSH private key to log in with")
    add.add_argument("--host-key", help="the host's public key line (pinned)")
    add.add_argument("--host-key-file", help="a *.pub or known_hosts file with the host key")
    add.add_argument("--label", action="append", metavar="KEY=VALUE")
    add.add_argument("--engine", choices=["none", "local", "ssh"], default="none")
    add.add_argument("--engine-socket", help="the Docker Engine socket's path on the host")
    hosts_list = tree.leaf(hosts, "list", "list hosts", cmd_hosts_list)
    hosts_list.add_argument("--label", action="append", metavar="KEY=VALUE")
    for name, help, handler in (
        ("show", "one host", cmd_hosts_show),
        ("remove", "remove a host", cmd_hosts_remove),
        ("test", "test the SSH connection (pins the host key)", cmd_hosts_test),
        ("facts", "gather the host's facts now", cmd_hosts_facts),
    ):
        tree.leaf(hosts, name, help, handler).add_argument("host", metavar="ID|NAME")
    hosts.choices["facts"].add_argument(
        "--cached", action="store_true", help="the facts gathered last"
    )

    run = tree.leaf(top, "run", "run a shell command on hosts (live output)", cmd_run)
    _selector_args(run)
    run.add_argument("--timeout", type=float, help="seconds the command may run")
    run.add_argument("cmd", nargs=argparse.REMAINDER, metavar="-- COMMAND")

    jobs = tree.branch(top, "jobs", "provisioning jobs")
    jobs_list = tree.leaf(jobs, "list", "jobs, newest first", cmd_jobs_list)
    jobs_list.add_argument(
        "--status", choices=["queued", "running", "succeeded", "failed", "cancelled"]
    )
    jobs_list.add_argument("--limit", type=int, default=20)
    tree.leaf(jobs, "show", "one job", cmd_jobs_show).add_argument("job")
    log = tree.leaf(jobs, "log", "a job's log", cmd_jobs_log)
    log.add_argument("job")
    log.add_argument("--follow", "-f", action="store_true", help="live, until the job ends")
    tree.leaf(jobs, "cancel", "cancel a job", cmd_jobs_cancel).add_argument("job")

    recipes = tree.branch(top, "recipes", "provisioning recipes")
    tree.leaf(recipes, "list", "stored recipes", cmd_recipes_list)
    apply = tree.leaf(recipes, "apply", "run a recipe on hosts", cmd_recipes_apply)
    apply.add_argument("recipe", metavar="NAME")
    apply.add_argument("--check", action="store_true", help="report what would change only")
    _selector_args(apply)

    deploy = tree.leaf(top, "deploy", "create or update a deployment from a spec", cmd_deploy)
    deploy.add_argument("--file", "-f", required=True, help="the spec as JSON (- for stdin)")
    deploy.add_argument("--reason", default="", help="kept in the history")
    deploy.add_argument("--no-wait", action="store_true", help="do not wait for the rollout")

    deps = tree.branch(top, "deployments", "deployments")
    tree.leaf(deps, "list", "deployments", cmd_deployments_list).add_argument(
        "--host", metavar="ID|NAME"
    )
    for name, help, handler in (
        ("show", "one deployment and its containers", cmd_deployments_show),
        ("history", "its versions and what changed", cmd_deployments_history),
        ("remove", "remove it and its containers", cmd_deployments_remove),
        ("stop", "stop its containers", cmd_deployments_stop),
        ("start", "start them again", cmd_deployments_start),
    ):
        tree.leaf(deps, name, help, handler).add_argument("deployment", metavar="ID|NAME")
    scale = tree.leaf(deps, "scale", "run N replicas", cmd_deployments_scale)
    scale.add_argument("deployment", metavar="ID|NAME")
    scale.add_argument("replicas", type=int, metavar="N")
    rollback = tree.leaf(deps, "rollback", "roll back a deployment", cmd_deployments_rollback)
    rollback.add_argument("deployment", metavar="ID|NAME")
    rollback.add_argument("--version", type=int, help="default: the version before")
    rollback.add_argument("--reason", default="")
    rollback.add_argument("--no-wait", action="store_true")
    logs = tree.leaf(deps, "logs", "its containers' output", cmd_deployments_logs)
    logs.add_argument("deployment", metavar="ID|NAME")
    logs.add_argument("--follow", "-f", action="store_true")
    logs.add_argument("--tail", type=int, default=100)
    logs.add_argument("--replica", type=int)

    configs = tree.branch(top, "configs", "configuration documents")
    tree.leaf(configs, "list", "configurations", cmd_configs_list)
    tree.leaf(configs, "show", "one configuration", cmd_configs_show).add_argument("config")
    push = tree.leaf(configs, "push", "push a version to its targets", cmd_configs_push)
    push.add_argument("config", metavar="ID|NAME")
    push.add_argument("--version", type=int, help="default: the latest")
    push.add_argument("--dry-run", action="store_true", help="show what would change")
    back = tree.leaf(configs, "rollback", "push an earlier version again", cmd_configs_rollback)
    back.add_argument("config", metavar="ID|NAME")
    back.add_argument("--version", type=int, required=True)
    back.add_argument("--message")
    versions = tree.leaf(configs, "versions", "its versions", cmd_configs_versions)
    versions.add_argument("config", metavar="ID|NAME")
    versions.add_argument("--limit", type=int, default=50)
    diff = tree.leaf(configs, "diff", "what changed between two versions", cmd_configs_diff)
    diff.add_argument("config", metavar="ID|NAME")
    diff.add_argument("--from", dest="from_", type=int, required=True)
    diff.add_argument("--to", type=int, required=True)

    tree.leaf(top, "health", "health at a glance", cmd_health)
    checks = tree.branch(top, "checks", "health checks")
    tree.leaf(checks, "list", "health checks and their state", cmd_checks_list).add_argument(
        "--subject", help="host:<id> or deployment:<id>"
    )
    tree.leaf(checks, "run", "run a check now", cmd_checks_run).add_argument(
        "check", metavar="ID|NAME"
    )

    audit = tree.leaf(top, "audit", "the audit log, newest first", cmd_audit)
    audit.add_argument("--limit", type=int, default=50)
    audit.add_argument("--actor")
    audit.add_argument("--action")
    audit.add_argument("--target")


async def run(args: argparse.Namespace, settings: Settings) -> int:
    """Carry out one ``meshkit servers`` action against the running system."""
    url = (getattr(args, "url", None) or os.environ.get("MESHKIT_URL") or DEFAULT_URL).rstrip("/")
    if not re.match(r"^https?://[^/\s]+", url):
        raise ValueError(f"--url must be an http(s) URL, got {url!r}")
    handler: Handler = args.handler
    token = getattr(args, "token", None) or os.environ.get("MESHKIT_TOKEN")
    if not token and handler not in (cmd_login, cmd_logout):
        token = TokenStore(cli_home()).get(url)
        if not token:
            raise ValueError(
                f"not logged in to {url}: run `meshkit servers login --email EMAIL`, "
                "or give --token or MESHKIT_TOKEN"
            )
    try:
        async with Client(url, token) as client:
            return await handler(Ctx(client, bool(getattr(args, "json", False)), url), args)
    except ApiProblem as problem:
        err(f"meshkit servers: {problem.line()}")
        return 1
    except Unreachable as exc:
        err(f"meshkit servers: {exc} (hint: is the system running? see --url or MESHKIT_URL)")
        return 1
    except asyncio.CancelledError:  # Ctrl-C while following: stop quietly
        err("meshkit servers: interrupted")
        return 130


SERVERS_COMMAND = Command(
    "servers", "manage hosts, jobs, deployments, configs, checks", configure, run
)
