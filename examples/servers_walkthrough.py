"""The servers walkthrough: from "add a host" to "roll back a deployment", over REST.

Against a running system (``meshkit run all``) with an administrator's access token:

    MESHKIT_URL=http://127.0.0.1:3000 MESHKIT_TOKEN=... \\
        python examples/servers_walkthrough.py --address 192.0.2.10 --user root \\
        --key-file ~/.ssh/id_ed25519 --base-image busybox:1.36

It registers the host, tests the connection (pinning the host key), gathers facts,
applies a recipe (check mode first), builds an image on the host from an uploaded
context, deploys it, updates it (a good version, then one whose health check fails and
is rolled back by itself), and rolls back by hand to the first version. Each step prints
what the service answered. ``docs/servers.md`` walks through the same code: its snippets
are the blocks between the ``--8<--`` markers below (``tests/test_servers_walkthrough.py``
checks that they match, and runs this script against a real sshd and Docker Engine).

Plain aiohttp, no SDK: every call is the HTTP request the docs show.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import sys
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp


class ProblemAnswer(Exception):
    """The service answered with a problem document (RFC 9457)."""

    def __init__(self, status: int, problem: Any) -> None:
        self.status, self.problem = status, problem
        super().__init__(f"{status}: {problem}")


class Api:
    """JSON over HTTP with a bearer token; a 4xx or 5xx answer raises :class:`ProblemAnswer`."""

    def __init__(self, http: aiohttp.ClientSession, url: str, token: str) -> None:
        self.http, self.url = http, url.rstrip("/")
        self.headers = {"Authorization": f"Bearer {token}"}

    async def call(self, method: str, path: str, **kw: Any) -> Any:
        """``method path`` (``json=``, ``params=``, ``data=``, ``headers=`` as aiohttp's);
        the JSON answer (``None`` for 204)."""
        headers = {**self.headers, **kw.pop("headers", {})}
        async with self.http.request(method, self.url + path, headers=headers, **kw) as answer:
            body = None if answer.status == 204 else await answer.json(content_type=None)
            if answer.status >= 400:
                raise ProblemAnswer(answer.status, body)
            return body

    async def follow_job(self, job_id: str) -> str:
        """Print a job's log live (Server-Sent Events) until it ends; its final status."""
        path = f"/v1/servers/jobs/{job_id}/log"
        headers = {**self.headers, "Accept": "text/event-stream"}
        async with self.http.get(self.url + path, headers=headers) as answer:
            if answer.status >= 400:
                raise ProblemAnswer(answer.status, await answer.json(content_type=None))
            event = ""
            async for raw in answer.content:
                line = raw.decode().rstrip("\n")
                if line.startswith("event:"):
                    event = line.removeprefix("event:").strip()
                elif line.startswith("data:"):
                    entry = json.loads(line.removeprefix("data:"))
                    if event == "end":
                        return str(entry["status"])
                    print("   ", entry["text"])
        raise ConnectionError("the job's log stream ended before the job did")


@dataclass
class Options:
    """Where the host is and how to log in (the command line, or a test)."""

    address: str
    port: int
    user: str
    private_key: str
    host_key: str | None
    engine: str
    engine_socket: str | None
    base_image: str
    remote_dir: str
    name: str = "demo-1"


SERVE = """\
#!/bin/sh
echo "$MESSAGE" > /www/index.html
echo "serving: $MESSAGE"
exec httpd -f -p 8080 -h /www
"""
"""The demo site: busybox's httpd serving ``$MESSAGE``."""


def build_context(base_image: str) -> bytes:
    """A tar archive with a Dockerfile ``FROM base_image`` and the site's start script."""
    files = {
        "Dockerfile": f'FROM {base_image}\nCOPY serve.sh /serve.sh\nCMD ["sh", "/serve.sh"]\n',
        "serve.sh": SERVE,
    }
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), 0o755
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


async def walkthrough(api: Api, opts: Options) -> dict[str, Any]:
    """Every step, in order; the ids of what it made."""
    print("1. add a host")
    # --8<-- [start:add-host]
    host = await api.call(
        "POST",
        "/v1/servers/hosts",
        json={
            "name": opts.name,
            "address": opts.address,
            "port": opts.port,
            "user": opts.user,
            "labels": {"env": "demo"},
            "private_key": opts.private_key,  # stored encrypted, never answered
            "host_key": opts.host_key,  # None: pinned at first contact
            "engine": opts.engine,  # "ssh": its Docker socket forwarded over SSH
            "engine_socket": opts.engine_socket,  # None: /var/run/docker.sock
        },
    )
    host_id = host["id"]
    print(f"   host {host_id}, login key {host['key_fingerprint']}")
    # --8<-- [end:add-host]

    print("2. test the connection")
    # --8<-- [start:test-host]
    test = await api.call("POST", f"/v1/servers/hosts/{host_id}/test")
    if not test["ok"]:
        raise SystemExit(f"cannot log in: {test['error']['title']}: {test['error']['detail']}")
    print(f"   {test['uname']} in {test['latency']:.3f}s")
    print(f"   host key pinned: {test['host_key_fingerprint']}")
    # --8<-- [end:test-host]

    print("3. gather facts")
    # --8<-- [start:facts]
    facts = await api.call("POST", f"/v1/servers/hosts/{host_id}/facts")
    print(f"   {facts['os_name']} {facts['os_version']}, kernel {facts['kernel']}")
    print(f"   {facts['cpu_count']} CPUs, {facts['memory_total'] // 2**20} MiB")
    print(f"   Docker Engine: {facts['engine_present']} {facts['engine_version'] or ''}")
    # --8<-- [end:facts]

    print("4. a recipe, in check mode, then applied")
    # --8<-- [start:recipe]
    recipe = await api.call(
        "POST",
        "/v1/servers/recipes",
        json={
            "name": "demo-base",
            "description": "the demo's directory, its motd, a stamp made once",
            "steps": [
                {"kind": "directory", "path": opts.remote_dir, "mode": "0755"},
                {
                    "kind": "file",
                    "path": f"{opts.remote_dir}/motd",
                    "content": "managed by meshkit\n",
                    "mode": "0644",
                },
                {
                    "kind": "command",
                    "cmd": f"date > {opts.remote_dir}/stamp",
                    "creates": f"{opts.remote_dir}/stamp",  # skipped once it exists
                },
            ],
        },
    )
    # --8<-- [end:recipe]
    # --8<-- [start:jobs]
    for mode in ("check", "apply", "apply"):  # the second apply changes nothing
        job = await api.call(
            "POST",
            "/v1/servers/jobs",
            json={"recipe": "demo-base", "hosts": {"ids": [host_id]}, "mode": mode},
        )
        print(f"   {mode} job {job['id']}:")
        status = await api.follow_job(job["id"])  # live, as Server-Sent Events
        done = await api.call("GET", f"/v1/servers/jobs/{job['id']}")
        print(f"   -> {status}, steps {done['summary']['steps']}")
        if status != "succeeded":
            raise SystemExit(f"the {mode} job {status}: {done['reason']}")
    # --8<-- [end:jobs]

    print("5. build an image on the host, and deploy it")
    # --8<-- [start:build]
    built = await api.call(
        "POST",
        f"/v1/servers/engines/{host_id}/images/build",
        params={"tag": "meshkit-demo/site:1"},
        data=build_context(opts.base_image),  # FROM an image the host has: no registry
        headers={"Content-Type": "application/x-tar"},
    )
    print(f"   built {built['images']}")
    # --8<-- [end:build]
    # --8<-- [start:deploy]
    spec = {
        "name": "site",
        "host_id": host_id,
        "image": "meshkit-demo/site:1",
        "pull": "never",  # built on the host: never ask a registry
        "env": {"MESSAGE": "hello from version 1"},
        "ports": [{"container_port": 8080}],  # the engine picks a host port on 127.0.0.1
        "health": {
            "command": "wget -q -O- http://127.0.0.1:8080/",
            "interval": 1,
            "retries": 2,
            "ready_timeout": 30,
        },
        "replicas": 2,
    }
    deployment = await api.call("POST", "/v1/servers/deployments", json=spec)
    deployment_id = deployment["id"]
    print(f"   deployment {deployment_id}, version {deployment['current_version']}")
    # --8<-- [end:deploy]

    print("6. update it: a good version")
    # --8<-- [start:update]
    spec["env"] = {"MESSAGE": "hello from version 2"}
    version = await api.call(
        "POST",
        f"/v1/servers/deployments/{deployment_id}/versions",
        json={"spec": spec, "reason": "a new greeting"},
    )  # answers once the rollout ended (?wait=false: at once)
    print(f"   version {version['number']}: {version['status']}, changes {version['diff']}")
    # --8<-- [end:update]

    print("7. update it: a version whose health check fails")
    # --8<-- [start:bad-update]
    broken = {**spec, "env": {"MESSAGE": "version 3"}}
    broken["health"] = {**spec["health"], "command": "wget -q -O- http://127.0.0.1:8080/nope"}
    version = await api.call(
        "POST",
        f"/v1/servers/deployments/{deployment_id}/versions",
        json={"spec": broken, "reason": "a health check that cannot pass"},
    )
    print(f"   version {version['number']}: {version['status']} ({version['failure']})")
    deployment = await api.call("GET", f"/v1/servers/deployments/{deployment_id}")
    print(f"   still running version {deployment['current_version']}:")
    for container in deployment["containers"]:
        print(f"     {container['name']}: {container['state']}, {container['health']}")
    # --8<-- [end:bad-update]

    print("8. roll back by hand to version 1")
    # --8<-- [start:rollback]
    version = await api.call(
        "POST",
        f"/v1/servers/deployments/{deployment_id}/rollback",
        json={"to_version": 1, "reason": "back to the first greeting"},
    )
    print(f"   version {version['number']} ({version['source']}): {version['status']}")
    history = await api.call("GET", f"/v1/servers/deployments/{deployment_id}/versions")
    for old in history:  # newest first, each with its diff from the one before
        changed = ", ".join(change["field"] for change in old["diff"]) if old["number"] > 1 else ""
        print(f"     v{old['number']} {old['status']:<10} {old['source']:<12} {changed}")
    lines = await api.call(
        "GET", f"/v1/servers/deployments/{deployment_id}/logs", params={"tail": 5}
    )
    for line in lines:  # what the replicas of version 4 print
        print(f"     replica {line['replica']} (v{line['version']}): {line['text']}")
    # --8<-- [end:rollback]

    print("9. what the audit log says")
    # --8<-- [start:audit]
    entries = await api.call(
        "GET", "/v1/servers/audit", params={"target": f"deployment:{deployment_id}"}
    )
    for entry in reversed(entries):  # newest first: oldest first here
        print(f"   {entry['at']} {entry['actor']} {entry['action']} {entry['outcome']}")
    # --8<-- [end:audit]
    return {"host_id": host_id, "recipe_id": recipe["id"], "deployment_id": deployment_id}


def options() -> tuple[str, str, Options]:
    """The gateway URL, the token and the host, from the command line and environment."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default=os.environ.get("MESHKIT_URL", "http://127.0.0.1:3000"))
    parser.add_argument("--token", default=os.environ.get("MESHKIT_TOKEN"))
    parser.add_argument("--address", required=True, help="the host's address")
    parser.add_argument("--port", type=int, default=22)
    parser.add_argument("--user", default="root")
    parser.add_argument(
        "--key-file", type=Path, required=True, help="SSH private key (no passphrase)"
    )
    parser.add_argument("--host-key", help="its host key line (default: pinned at first contact)")
    parser.add_argument("--engine", choices=("ssh", "local"), default="ssh")
    parser.add_argument("--engine-socket", help="the engine's socket on the host")
    parser.add_argument(
        "--base-image", default="busybox:1.36", help="an image on the host with busybox"
    )
    parser.add_argument("--remote-dir", default="/tmp/meshkit-demo", help="where the recipe writes")
    parser.add_argument("--name", default="demo-1", help="the host's name in meshkit")
    args = parser.parse_args()
    if not args.token:
        parser.error("give an administrator's access token: --token or MESHKIT_TOKEN")
    opts = Options(
        address=args.address,
        port=args.port,
        user=args.user,
        private_key=args.key_file.read_text(),
        host_key=args.host_key,
        engine=args.engine,
        engine_socket=args.engine_socket,
        base_image=args.base_image,
        remote_dir=args.remote_dir,
        name=args.name,
    )
    return args.url, args.token, opts


async def main() -> int:
    url, token, opts = options()
    timeout = aiohttp.ClientTimeout(total=None, sock_connect=10, sock_read=300)
    async with aiohttp.ClientSession(timeout=timeout) as http:
        try:
            made = await walkthrough(Api(http, url, token), opts)
        except ProblemAnswer as exc:
            print(f"the service said {exc.status}: {json.dumps(exc.problem)}", file=sys.stderr)
            return 1
    print("walkthrough done:", json.dumps(made))
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
