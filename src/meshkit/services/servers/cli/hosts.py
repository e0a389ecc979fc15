"""``meshkit servers hosts …``: register, list, show, remove, test and inspect the
managed hosts.
"""

from __future__ import annotations

import argparse
from typing import Any

from meshkit.services.servers.cli.client import (
    PAGE,
    ApiProblem,
    Ctx,
    dump,
    err,
    host_id,
    host_key_line,
    out,
    pairs,
    parse_labels,
    read_input,
    size,
    table,
    when,
)


def show_host(host: dict[str, Any]) -> None:
    facts = host.get("facts") or {}
    pairs(
        [
            ("id", host["id"]),
            ("name", host["name"]),
            ("address", f"{host['address']}:{host['port']}"),
            ("user", host["user"]),
            ("labels", host.get("labels")),
            ("engine", host.get("engine")),
            ("key", host.get("key_fingerprint")),
            ("host key", host.get("host_key_fingerprint") or "not pinned yet"),
            ("os", facts.get("os_name") and f"{facts.get('os_name')} {facts.get('os_version')}"),
            ("kernel", facts.get("kernel")),
            ("created", when(host.get("created_at"))),
        ]
    )


async def cmd_hosts_add(ctx: Ctx, args: argparse.Namespace) -> int:
    if args.host_key and args.host_key_file:
        raise ValueError("give --host-key or --host-key-file, not both")
    body: dict[str, Any] = {
        "name": args.name,
        "address": args.address,
        "port": args.port,
        "user": args.user,
        "labels": parse_labels(args.label),
        "private_key": read_input(args.key_file, "key file"),
        "engine": args.engine,
    }
    if args.host_key:
        body["host_key"] = host_key_line(args.host_key)
    elif args.host_key_file:
        body["host_key"] = host_key_line(read_input(args.host_key_file, "host key file"))
    if args.engine_socket:
        body["engine_socket"] = args.engine_socket
    host = await ctx.client.call("POST", "/v1/servers/hosts", json_body=body)
    if ctx.json:
        dump(host)
    else:
        out(f"added host {host['name']} ({host['id']})")
        show_host(host)
    return 0


async def cmd_hosts_list(ctx: Ctx, args: argparse.Namespace) -> int:
    labels = [("label", f"{k}:{v}") for k, v in parse_labels(args.label).items()]
    hosts: list[dict[str, Any]] = []
    after: str | None = None
    while True:
        params = [*labels, ("limit", str(PAGE)), *([("after", after)] if after else [])]
        page = await ctx.client.call("GET", "/v1/servers/hosts", params=params)
        hosts.extend(page)
        if len(page) < PAGE:
            break
        after = page[-1]["id"]
    if ctx.json:
        dump(hosts)
        return 0
    table(
        ["ID", "NAME", "ADDRESS", "USER", "LABELS", "ENGINE", "PINNED"],
        [
            [
                h["id"],
                h["name"],
                f"{h['address']}:{h['port']}",
                h["user"],
                h.get("labels"),
                h.get("engine"),
                bool(h.get("host_key")),
            ]
            for h in hosts
        ],
    )
    return 0


async def cmd_hosts_show(ctx: Ctx, args: argparse.Namespace) -> int:
    host = await ctx.client.call("GET", f"/v1/servers/hosts/{await host_id(ctx, args.host)}")
    if ctx.json:
        dump(host)
    else:
        show_host(host)
    return 0


async def cmd_hosts_remove(ctx: Ctx, args: argparse.Namespace) -> int:
    ident = await host_id(ctx, args.host)
    await ctx.client.call("DELETE", f"/v1/servers/hosts/{ident}")
    if ctx.json:
        dump({"id": ident, "removed": True})
    else:
        out(f"removed host {args.host}")
    return 0


async def cmd_hosts_test(ctx: Ctx, args: argparse.Namespace) -> int:
    ident = await host_id(ctx, args.host)
    result = await ctx.client.call("POST", f"/v1/servers/hosts/{ident}/test")
    if ctx.json:
        dump(result)
    elif result.get("ok"):
        latency = result.get("latency")
        out(
            f"ok: {args.host} answered in {latency:.3f}s ({result.get('uname') or '-'}); "
            f"host key {result.get('host_key_fingerprint') or '-'}"
        )
    else:
        problem = result.get("error") or {}
        err(f"meshkit servers: {args.host}: {ApiProblem(problem.get('status', 0), problem)}")
    return 0 if result.get("ok") else 1


async def cmd_hosts_facts(ctx: Ctx, args: argparse.Namespace) -> int:
    ident = await host_id(ctx, args.host)
    method = "GET" if args.cached else "POST"
    facts = await ctx.client.call(method, f"/v1/servers/hosts/{ident}/facts")
    if ctx.json:
        dump(facts)
        return 0
    pairs(
        [
            ("hostname", facts.get("hostname")),
            ("os", f"{facts.get('os_name') or '-'} {facts.get('os_version') or ''}".strip()),
            ("kernel", f"{facts.get('kernel') or '-'} ({facts.get('arch') or '-'})"),
            ("cpus", f"{facts.get('cpu_count') or '-'} x {facts.get('cpu_model') or '-'}"),
            ("memory", size(facts.get("memory_total"))),
            ("uptime", facts.get("uptime") and f"{facts['uptime']:.0f}s"),
            ("engine", facts.get("engine_version") or facts.get("engine_present")),
            ("gathered", when(facts.get("gathered_at"))),
        ]
    )
    disks = facts.get("disks") or []
    if disks:
        out()
        table(
            ["MOUNT", "FILESYSTEM", "SIZE", "USED"],
            [[d["mount"], d["filesystem"], size(d["size"]), size(d["used"])] for d in disks],
        )
    return 0
