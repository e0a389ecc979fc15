"""``meshkit servers configs …``: list and show configuration documents, push a
version (or an earlier one again) to their targets, and read their versions and
diffs.

A push in which a target failed exits 1.
"""

from __future__ import annotations

import argparse
from typing import Any

from meshkit.services.servers.cli.client import (
    Ctx,
    config_id,
    dump,
    every,
    out,
    pairs,
    table,
    when,
)


async def cmd_configs_list(ctx: Ctx, args: argparse.Namespace) -> int:
    found = await every(ctx, "/v1/servers/configs")
    if ctx.json:
        dump(found)
        return 0
    table(
        ["ID", "NAME", "KIND", "TARGET", "LATEST", "LIVE"],
        [
            [
                c["id"],
                c["name"],
                c["kind"],
                c.get("path") or c.get("deployment_id"),
                c["latest"],
                [f"{live['target']}@{live['version']}" for live in c.get("live", [])],
            ]
            for c in found
        ],
    )
    return 0


async def cmd_configs_show(ctx: Ctx, args: argparse.Namespace) -> int:
    found = await ctx.client.call("GET", f"/v1/servers/configs/{await config_id(ctx, args.config)}")
    if ctx.json:
        dump(found)
        return 0
    pairs(
        [
            ("id", found["id"]),
            ("name", found["name"]),
            ("kind", found["kind"]),
            ("path", found.get("path")),
            ("hosts", found.get("hosts")),
            ("deployment", found.get("deployment_id")),
            ("latest", found["latest"]),
            ("mode", found.get("mode")),
            ("env", found.get("env")),
            ("secrets", list(found.get("secrets") or {})),
            ("live", [f"{x['target']}@{x['version']}" for x in found.get("live", [])]),
        ]
    )
    if found.get("content") is not None:
        out()
        out(found["content"].rstrip("\n"))
    return 0


def show_push(push: dict[str, Any]) -> int:
    """A push's outcome per target (and the diffs of a dry run); 1 if a target failed."""
    what = "would change" if push.get("dry_run") else "changed"
    out(f"version {push['version']}: {push['changed']} target(s) {what}, {push['failed']} failed")
    table(
        ["TARGET", "OUTCOME", "ERROR"],
        [[t["target"], t["outcome"], t.get("error")] for t in push["targets"]],
    )
    for target in push["targets"]:
        if target.get("unified"):
            out(f"\n--- {target['target']}")
            out(target["unified"].rstrip("\n"))
        elif target.get("changes") and push.get("dry_run"):
            out(f"\n--- {target['target']}")
            for change in target["changes"]:
                out(f"{change['change']} {change['key']}: {change['old']} -> {change['new']}")
    return 1 if push["failed"] else 0


async def cmd_configs_push(ctx: Ctx, args: argparse.Namespace) -> int:
    ident = await config_id(ctx, args.config)
    body: dict[str, Any] = {"dry_run": args.dry_run}
    if args.version:
        body["version"] = args.version
    push = await ctx.client.call("POST", f"/v1/servers/configs/{ident}/push", json_body=body)
    if ctx.json:
        dump(push)
        return 1 if push["failed"] else 0
    return show_push(push)


async def cmd_configs_rollback(ctx: Ctx, args: argparse.Namespace) -> int:
    ident = await config_id(ctx, args.config)
    body: dict[str, Any] = {"version": args.version}
    if args.message:
        body["message"] = args.message
    push = await ctx.client.call("POST", f"/v1/servers/configs/{ident}/rollback", json_body=body)
    if ctx.json:
        dump(push)
        return 1 if push["failed"] else 0
    return show_push(push)


async def cmd_configs_versions(ctx: Ctx, args: argparse.Namespace) -> int:
    ident = await config_id(ctx, args.config)
    found = await ctx.client.call(
        "GET", f"/v1/servers/configs/{ident}/versions", params={"limit": args.limit}
    )
    if ctx.json:
        dump(found)
        return 0
    table(
        ["VERSION", "AUTHOR", "CREATED", "SHA256", "ROLLBACK OF", "MESSAGE"],
        [
            [
                v["number"],
                v["author"],
                when(v["created_at"]),
                v["sha256"][:12],
                v.get("rollback_of"),
                v["message"],
            ]
            for v in found
        ],
    )
    return 0


async def cmd_configs_diff(ctx: Ctx, args: argparse.Namespace) -> int:
    ident = await config_id(ctx, args.config)
    params = {"from": args.from_, "to": args.to}
    diff = await ctx.client.call("GET", f"/v1/servers/configs/{ident}/diff", params=params)
    if ctx.json:
        dump(diff)
        return 0
    if diff.get("unified"):
        out(diff["unified"].rstrip("\n"))
    for change in diff.get("changes", []):
        out(f"{change['change']} {change['key']}: {change['old']} -> {change['new']}")
    return 0
