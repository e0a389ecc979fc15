"""``meshkit servers run``, ``jobs …`` and ``recipes …``: submit provisioning jobs to
hosts, follow their log live, and list, show or cancel them.

A job followed to its end exits 1 unless it succeeded on every host.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from meshkit.services.servers.cli.client import (
    Ctx,
    dump,
    err,
    out,
    pairs,
    selector,
    table,
    when,
)


async def follow_job(ctx: Ctx, job: dict[str, Any]) -> int:
    """Print a job's log live until it ends, then its outcome; 1 unless it succeeded."""
    names = {h["host_id"]: h["name"] for h in job.get("hosts", [])}
    async for event, data in ctx.client.events(
        f"/v1/servers/jobs/{job['id']}/log", {"follow": True}
    ):
        if ctx.json:
            out(json.dumps({"event": event, "data": data}, separators=(",", ":")))
            continue
        if not isinstance(data, dict):
            continue
        name = names.get(data.get("host_id") or "", data.get("host_id") or "job")
        text = str(data.get("text", ""))
        if event == "output":
            lines = text[:-1].split("\n") if text.endswith("\n") else text.split("\n")
            for line in lines:
                if data.get("stream") == "stderr":
                    err(f"{name} | {line}")
                else:
                    out(f"{name} | {line}")
        elif event in ("step", "host"):
            text = text or str(data.get("status", ""))
            out(text if text.startswith(f"{name}:") else f"{name}: {text}")
    final = await ctx.client.call("GET", f"/v1/servers/jobs/{job['id']}")
    if ctx.json:
        out(json.dumps({"event": "result", "data": final}, separators=(",", ":")))
    else:
        show_outcome(final)
    failed = final.get("summary", {}).get("hosts_failed", 0)
    return 0 if final["status"] == "succeeded" and not failed else 1


def show_outcome(job: dict[str, Any]) -> None:
    """A finished job: per host, its result; in check mode, the diffs it would make."""
    out()
    reason = f" ({job['reason']})" if job.get("reason") else ""
    out(f"job {job['id']} {job['status']}{reason}")
    table(
        ["HOST", "STATUS", "OK", "CHANGED", "FAILED", "SKIPPED", "ERROR"],
        [
            [
                h["name"],
                h["status"],
                h["counts"]["ok"],
                h["counts"]["changed"],
                h["counts"]["failed"],
                h["counts"]["skipped"],
                h.get("error"),
            ]
            for h in job.get("hosts", [])
        ],
    )
    for host in job.get("hosts", []):
        for step in host.get("steps", []):
            if step.get("diff"):
                out(f"\n--- {host['name']}: {step['label']} ({step['status']})")
                out(step["diff"].rstrip("\n"))


async def submit(ctx: Ctx, args: argparse.Namespace, recipe: Any, mode: str) -> int:
    body: dict[str, Any] = {"recipe": recipe, "hosts": await selector(ctx, args), "mode": mode}
    if args.parallelism:
        body["parallelism"] = args.parallelism
    job = await ctx.client.call("POST", "/v1/servers/jobs", json_body=body)
    if args.detach:
        if ctx.json:
            dump(job)
        else:
            out(f"job {job['id']} {job['status']}")
        return 0
    if not ctx.json:
        err(f"job {job['id']} on {len(job.get('hosts', []))} host(s)")
    return await follow_job(ctx, job)


async def cmd_run(ctx: Ctx, args: argparse.Namespace) -> int:
    command = list(args.cmd or ())
    if command[:1] == ["--"]:
        command = command[1:]
    if not command:
        raise ValueError("give the command after --: meshkit servers run --hosts web-1 -- uptime")
    step: dict[str, Any] = {"kind": "command", "cmd": " ".join(command)}
    if args.timeout:
        step["time_limit"] = args.timeout
    return await submit(ctx, args, {"name": "run", "steps": [step]}, "apply")


async def cmd_recipes_apply(ctx: Ctx, args: argparse.Namespace) -> int:
    return await submit(ctx, args, args.recipe, "check" if args.check else "apply")


async def cmd_recipes_list(ctx: Ctx, args: argparse.Namespace) -> int:
    recipes = await ctx.client.call("GET", "/v1/servers/recipes")
    if ctx.json:
        dump(recipes)
        return 0
    table(
        ["ID", "NAME", "STEPS", "REVISION", "DESCRIPTION"],
        [[r["id"], r["name"], len(r["steps"]), r["revision"], r["description"]] for r in recipes],
    )
    return 0


def _job_row(job: dict[str, Any]) -> list[Any]:
    s = job.get("summary", {})
    hosts = f"{s.get('hosts', 0)} ({s.get('hosts_changed', 0)} changed, "
    hosts += f"{s.get('hosts_failed', 0)} failed)"
    return [job["id"], job["recipe"], job["mode"], job["status"], hosts, when(job["created_at"])]


async def cmd_jobs_list(ctx: Ctx, args: argparse.Namespace) -> int:
    params = {"status": args.status, "limit": args.limit}
    jobs = await ctx.client.call("GET", "/v1/servers/jobs", params=params)
    if ctx.json:
        dump(jobs)
        return 0
    table(["ID", "RECIPE", "MODE", "STATUS", "HOSTS", "CREATED"], [_job_row(j) for j in jobs])
    return 0


async def cmd_jobs_show(ctx: Ctx, args: argparse.Namespace) -> int:
    job = await ctx.client.call("GET", f"/v1/servers/jobs/{args.job}")
    if ctx.json:
        dump(job)
        return 0
    pairs(
        [
            ("id", job["id"]),
            ("recipe", job["recipe"]),
            ("mode", job["mode"]),
            ("status", job["status"]),
            ("reason", job.get("reason")),
            ("by", job["created_by"]),
            ("created", when(job["created_at"])),
            ("finished", when(job.get("finished_at"))),
        ]
    )
    show_outcome(job)
    return 0


async def cmd_jobs_log(ctx: Ctx, args: argparse.Namespace) -> int:
    if args.follow:
        job = await ctx.client.call("GET", f"/v1/servers/jobs/{args.job}")
        return await follow_job(ctx, job)
    job = await ctx.client.call("GET", f"/v1/servers/jobs/{args.job}")
    log = await ctx.client.call("GET", f"/v1/servers/jobs/{args.job}/log")
    if ctx.json:
        dump(log)
        return 0
    names = {h["host_id"]: h["name"] for h in job.get("hosts", [])}
    for entry in log["entries"]:
        name = names.get(entry.get("host_id") or "", "job")
        text = entry["text"].rstrip("\n")
        if entry["type"] == "output":
            for line in text.split("\n"):
                out(f"{name} | {line}")
        else:
            out(f"{name}: {entry.get('status') or entry['type']}: {text}")
    if log.get("dropped_bytes"):
        err(f"({log['dropped_bytes']} bytes of the oldest output were dropped)")
    return 0


async def cmd_jobs_cancel(ctx: Ctx, args: argparse.Namespace) -> int:
    job = await ctx.client.call("POST", f"/v1/servers/jobs/{args.job}/cancel")
    if ctx.json:
        dump(job)
    else:
        out(f"job {job['id']} {job['status']}")
    return 0
