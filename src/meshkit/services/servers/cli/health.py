"""``meshkit servers health``, ``checks …`` and ``audit``: health at a glance, the
health checks (listed, or run now) and the audit log.

A check run that fails exits 1.
"""

from __future__ import annotations

import argparse

from meshkit.services.servers.cli.client import (
    Ctx,
    dump,
    every,
    out,
    resolve,
    table,
    when,
)


async def cmd_health(ctx: Ctx, args: argparse.Namespace) -> int:
    summary = await ctx.client.call("GET", "/v1/servers/health")
    if ctx.json:
        dump(summary)
        return 0
    counts = summary.get("counts", {})
    out(", ".join(f"{n} {state}" for state, n in counts.items()) or "no checks")
    if summary.get("subjects"):
        out()
        table(
            ["SUBJECT", "STATE", "CHECKS"],
            [[s["subject"], s["state"], s.get("checks")] for s in summary["subjects"]],
        )
    if summary.get("checks"):
        out()
        table(
            ["CHECK", "SUBJECT", "STATE", "SINCE", "DETAIL"],
            [
                [
                    c["name"],
                    c["subject"],
                    c["state"] if c.get("enabled", True) else f"{c['state']} (disabled)",
                    when(c.get("since")),
                    c.get("detail"),
                ]
                for c in summary["checks"]
            ],
        )
    return 0


async def cmd_checks_list(ctx: Ctx, args: argparse.Namespace) -> int:
    found = await every(ctx, "/v1/servers/checks", {"subject": args.subject})
    if ctx.json:
        dump(found)
        return 0
    table(
        ["ID", "NAME", "SUBJECT", "PROBE", "EVERY", "ENABLED", "STATE"],
        [
            [
                c["id"],
                c["name"],
                c["subject"],
                c["probe"]["kind"],
                f"{c['interval']:g}s",
                c["enabled"],
                c["status"]["state"],
            ]
            for c in found
        ],
    )
    return 0


async def cmd_checks_run(ctx: Ctx, args: argparse.Namespace) -> int:
    ident = await resolve(ctx, "check", "/v1/servers/checks", args.check)
    result = await ctx.client.call("POST", f"/v1/servers/checks/{ident}/run")
    if ctx.json:
        dump(result)
    else:
        probe = result["result"]
        outcome = "ok" if probe["ok"] else "failed"
        out(
            f"{outcome} in {probe['latency_ms']:.0f} ms: {probe['detail']}; "
            f"state {result['status']['state']}"
        )
    return 0 if result["result"]["ok"] else 1


async def cmd_audit(ctx: Ctx, args: argparse.Namespace) -> int:
    params = {"limit": args.limit, "actor": args.actor, "action": args.action}
    entries = await ctx.client.call(
        "GET", "/v1/servers/audit", params={**params, "target": args.target}
    )
    if ctx.json:
        dump(entries)
        return 0
    table(
        ["AT", "ACTOR", "ACTION", "TARGET", "OUTCOME"],
        [[when(e["at"]), e["actor"], e["action"], e["target"], e["outcome"]] for e in entries],
    )
    return 0
