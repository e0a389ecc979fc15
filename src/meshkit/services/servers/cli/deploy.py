"""``meshkit servers deploy`` and ``deployments …``: create or update a deployment
from a spec, and list, show, scale, roll back, stop, start, remove it or read its
logs and history.

A rollout that failed exits 1.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from meshkit.services.servers.cli.client import (
    Ctx,
    deployment_id,
    dump,
    every,
    host_id,
    host_names,
    out,
    pairs,
    read_input,
    short_fields,
    table,
    when,
)


def _version_line(version: dict[str, Any]) -> str:
    text = f"version {version['number']} {version['status']}"
    return text + (f": {version['failure']}" if version.get("failure") else "")


async def cmd_deploy(ctx: Ctx, args: argparse.Namespace) -> int:
    try:
        spec = json.loads(read_input(args.file, "spec file"))
    except json.JSONDecodeError as exc:
        raise ValueError(f"the spec file {args.file} is not JSON: {exc}") from None
    if not isinstance(spec, dict) or not spec.get("name") or not spec.get("host_id"):
        raise ValueError("the spec must be a JSON object with at least name, host_id, image")
    spec["host_id"] = await host_id(ctx, str(spec["host_id"]))
    existing = [
        d
        for d in await every(ctx, "/v1/servers/deployments", {"host_id": spec["host_id"]})
        if d["name"] == spec["name"]
    ]
    if not existing:
        made = await ctx.client.call("POST", "/v1/servers/deployments", json_body=spec)
        if ctx.json:
            dump(made)
        else:
            out(f"deployed {made['name']} ({made['id']}) version {made['current_version']}")
            show_containers(made)
        return 0
    ident = existing[0]["id"]
    version = await ctx.client.call(
        "POST",
        f"/v1/servers/deployments/{ident}/versions",
        json_body={"spec": spec, "reason": args.reason},
        params={"wait": not args.no_wait},
    )
    if ctx.json:
        dump(version)
    else:
        out(f"{spec['name']} ({ident}): {_version_line(version)}")
    return 1 if version["status"] == "failed" else 0


def show_containers(deployment: dict[str, Any]) -> None:
    containers = deployment.get("containers")
    if not containers:
        return
    table(
        ["CONTAINER", "VERSION", "REPLICA", "STATE", "HEALTH", "PORTS"],
        [
            [
                c["name"],
                c["version"],
                c["replica"],
                c["state"],
                c.get("health"),
                [
                    f"{p['host_ip']}:{p['host_port']}->{p['container_port']}/{p['protocol']}"
                    for p in c.get("ports", [])
                ],
            ]
            for c in containers
        ],
    )


async def cmd_deployments_list(ctx: Ctx, args: argparse.Namespace) -> int:
    params = {"host_id": await host_id(ctx, args.host) if args.host else None}
    found = await every(ctx, "/v1/servers/deployments", params)
    if ctx.json:
        dump(found)
        return 0
    names = await host_names(ctx)
    table(
        ["ID", "NAME", "HOST", "STATUS", "VERSION", "REPLICAS", "IMAGE"],
        [
            [
                d["id"],
                d["name"],
                names.get(d["host_id"], d["host_id"]),
                d["status"],
                d["current_version"],
                d["replicas"],
                d.get("spec", {}).get("image"),
            ]
            for d in found
        ],
    )
    return 0


async def cmd_deployments_show(ctx: Ctx, args: argparse.Namespace) -> int:
    ident = await deployment_id(ctx, args.deployment)
    found = await ctx.client.call("GET", f"/v1/servers/deployments/{ident}")
    if ctx.json:
        dump(found)
        return 0
    spec = found.get("spec", {})
    pairs(
        [
            ("id", found["id"]),
            ("name", found["name"]),
            ("host", (await host_names(ctx)).get(found["host_id"], found["host_id"])),
            ("status", found["status"]),
            ("version", found["current_version"]),
            ("rolling out", found.get("rollout_version")),
            ("replicas", found["replicas"]),
            ("image", spec.get("image")),
            ("env", spec.get("env")),
            ("updated", when(found.get("updated_at"))),
        ]
    )
    out()
    show_containers(found)
    return 0


async def cmd_deployments_scale(ctx: Ctx, args: argparse.Namespace) -> int:
    ident = await deployment_id(ctx, args.deployment)
    found = await ctx.client.call(
        "POST", f"/v1/servers/deployments/{ident}/scale", json_body={"replicas": args.replicas}
    )
    if ctx.json:
        dump(found)
    else:
        out(f"{found['name']}: {found['replicas']} replica(s)")
    return 0


async def cmd_deployments_rollback(ctx: Ctx, args: argparse.Namespace) -> int:
    ident = await deployment_id(ctx, args.deployment)
    target = args.version
    if target is None:
        found = await ctx.client.call("GET", f"/v1/servers/deployments/{ident}")
        history = await ctx.client.call("GET", f"/v1/servers/deployments/{ident}/versions")
        earlier = [
            v["number"]
            for v in history
            if v["number"] < found["current_version"] and v["status"] == "superseded"
        ]
        if not earlier:
            raise ValueError("no earlier version ran: give --version N")
        target = max(earlier)
    version = await ctx.client.call(
        "POST",
        f"/v1/servers/deployments/{ident}/rollback",
        json_body={"to_version": target, "reason": args.reason},
        params={"wait": not args.no_wait},
    )
    if ctx.json:
        dump(version)
    else:
        out(f"rolled back to {target}: {_version_line(version)}")
    return 1 if version["status"] == "failed" else 0


async def cmd_deployments_logs(ctx: Ctx, args: argparse.Namespace) -> int:
    ident = await deployment_id(ctx, args.deployment)
    params = {"tail": args.tail, "replica": args.replica}
    if args.follow:
        path = f"/v1/servers/deployments/{ident}/logs/stream"
        async for _, line in ctx.client.events(path, params):
            if isinstance(line, dict):
                text = json.dumps(line) if ctx.json else f"[{line['replica']}] {line['text']}"
                out(text)
        return 0
    lines = await ctx.client.call("GET", f"/v1/servers/deployments/{ident}/logs", params=params)
    if ctx.json:
        dump(lines)
        return 0
    for line in lines:
        out(f"[{line['replica']}] {line['text'].rstrip()}")
    return 0


async def cmd_deployments_history(ctx: Ctx, args: argparse.Namespace) -> int:
    ident = await deployment_id(ctx, args.deployment)
    history = await ctx.client.call("GET", f"/v1/servers/deployments/{ident}/versions")
    if ctx.json:
        dump(history)
        return 0
    table(
        ["VERSION", "STATUS", "SOURCE", "ACTOR", "CREATED", "CHANGES", "FAILURE"],
        [
            [
                v["number"],
                v["status"],
                v["source"],
                v["actor"],
                when(v["created_at"]),
                short_fields([c["field"] for c in v.get("diff", [])]),
                v.get("failure"),
            ]
            for v in history
        ],
    )
    return 0


async def _deployment_action(ctx: Ctx, args: argparse.Namespace, action: str) -> int:
    ident = await deployment_id(ctx, args.deployment)
    if action == "remove":
        await ctx.client.call("DELETE", f"/v1/servers/deployments/{ident}")
        if ctx.json:
            dump({"id": ident, "removed": True})
        else:
            out(f"removed {args.deployment}")
        return 0
    found = await ctx.client.call("POST", f"/v1/servers/deployments/{ident}/{action}")
    if ctx.json:
        dump(found)
    else:
        out(f"{found['name']}: {found['status']}")
    return 0


async def cmd_deployments_remove(ctx: Ctx, args: argparse.Namespace) -> int:
    return await _deployment_action(ctx, args, "remove")


async def cmd_deployments_stop(ctx: Ctx, args: argparse.Namespace) -> int:
    return await _deployment_action(ctx, args, "stop")


async def cmd_deployments_start(ctx: Ctx, args: argparse.Namespace) -> int:
    return await _deployment_action(ctx, args, "start")
