"""``meshkit servers …``: the CLI as a REST client of a running system (auth + servers +
gateway in this process, a real sshd and, for deployments, a real Docker Engine).

The commands run as the ``meshkit`` entry point runs them (the parser of the installed
plugins' commands, then the command's coroutine) in the test's event loop, where the
system runs too; ``main`` itself is exercised in a thread for what needs no system.
"""

from __future__ import annotations

import asyncio
import json
import stat
import sys
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from meshkit.cli import build_parser, main
from meshkit.config import Settings
from meshkit.services.servers.cli import SERVERS_COMMAND
from meshkit.services.servers.cli.client import host_key_line
from meshkit.testing import free_ports
from tests.servers_env import BUSYBOX, Engine, SshHost, dockerd, sshd
from tests.servers_stack import ADMIN, PASSWORD, ServersStack, servers, servers_stack

__all__ = ["dockerd", "servers", "sshd"]

UNKNOWN = "01JDZZZZZZZZZZZZZZZZZZZZZZ"


@dataclass
class Result:
    """What one command did: its exit status and what it printed."""

    status: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)

    def lines(self) -> list[Any]:
        return [json.loads(line) for line in self.out.splitlines() if line.strip()]


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The CLI's private directory (``MESHKIT_CLI_HOME``), no token in the environment."""
    path = tmp_path / "cli-home"
    monkeypatch.setenv("MESHKIT_CLI_HOME", str(path))
    for name in ("MESHKIT_TOKEN", "MESHKIT_URL", "MESHKIT_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    return path


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], home: Path) -> Iterator[Any]:
    """``await cli(*argv)``: run ``meshkit servers *argv`` as the entry point does (a
    ``ValueError`` is a usage error: exit 2 with its message)."""
    parser = build_parser([SERVERS_COMMAND])
    settings = Settings.from_env({})

    async def run(*argv: str) -> Result:
        capsys.readouterr()
        args = parser.parse_args(["servers", *argv])
        try:
            status = await SERVERS_COMMAND.run(args, settings)
        except ValueError as exc:
            print(f"meshkit: error: {exc}", file=sys.stderr)
            status = 2
        captured = capsys.readouterr()
        return Result(status, captured.out, captured.err)

    return run


def remote(stack: ServersStack) -> list[str]:
    return ["--url", stack.gateway, "--token", stack.admin.token]


def key_files(tmp_path: Path, host: SshHost) -> tuple[Path, Path]:
    key = tmp_path / "id_ed25519"
    key.write_text(host.private_key)
    key.chmod(0o600)
    pub = tmp_path / "ssh_host_ed25519_key.pub"
    pub.write_text(host.host_key_line + " root@box\n")
    return key, pub


def kept(home: Path) -> list[str]:
    """The files the CLI keeps."""
    return [f.name for f in home.iterdir()] if home.exists() else []


def kept_token(home: Path, url: str) -> str:
    """The token kept for ``url``, after checking its file and directory are private."""
    assert kept(home) == ["servers-tokens.json"]
    path = home / "servers-tokens.json"
    assert stat.S_IMODE(home.stat().st_mode) == 0o700
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    token: str = json.loads(path.read_text())[url]["token"]
    return token


def one_line(text: str) -> str:
    """The ``meshkit servers:`` line of stderr (the running services may log there too)."""
    mine = [line for line in text.splitlines() if line.startswith("meshkit")]
    assert len(mine) == 1, text
    return mine[0]


# --- login, tokens ------------------------------------------------------------------


async def test_login_keeps_a_private_token_and_uses_it(
    servers: ServersStack, cli: Any, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MESHKIT_PASSWORD", PASSWORD)
    done = await cli("--url", servers.gateway, "login", "--email", ADMIN)
    assert done.status == 0, done
    assert "logged in" in done.out
    token = kept_token(home, servers.gateway)
    assert token not in done.out + done.err, "the token is never printed"

    listed = await cli("--url", servers.gateway, "hosts", "list", "--json")
    assert listed.status == 0, listed
    assert listed.json() == []

    wrong = await cli("--url", servers.gateway, "audit", "--limit", "3", "--token", "nope")
    assert wrong.status == 1
    assert "log in again" in one_line(wrong.err)

    out = await cli("--url", servers.gateway, "logout")
    assert out.status == 0
    gone = await cli("--url", servers.gateway, "hosts", "list")
    assert gone.status == 2
    assert "not logged in" in gone.err


async def test_a_wrong_password_is_one_line(
    servers: ServersStack, cli: Any, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MESHKIT_PASSWORD", "not the password")
    failed = await cli("--url", servers.gateway, "login", "--email", ADMIN)
    assert failed.status == 1
    assert one_line(failed.err).startswith("meshkit servers: ")
    assert not kept(home)


def test_the_entry_point_knows_the_command(
    home: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MESHKIT_DATA_DIR", str(tmp_path / "data"))
    assert main(["servers", "hosts", "list"]) == 2
    assert "not logged in" in capsys.readouterr().err
    (port,) = free_ports(1)
    url = f"http://127.0.0.1:{port}"
    assert main(["servers", "--url", url, "--token", "t", "hosts", "list"]) == 1
    line = one_line(capsys.readouterr().err)
    assert f"cannot reach {url}" in line
    assert "refused" in line.lower()
    with pytest.raises(SystemExit) as usage:
        main(["servers", "hosts", "add", "x"])
    assert usage.value.code == 2


# --- hosts ----------------------------------------------------------------------------


async def test_hosts_add_list_show_test_facts_remove(
    servers: ServersStack, sshd: SshHost, cli: Any, tmp_path: Path
) -> None:
    key, pub = key_files(tmp_path, sshd)
    at = remote(servers)
    added = await cli(
        *at,
        "hosts",
        "add",
        "cli-box",
        "--address",
        sshd.address,
        "--port",
        str(sshd.port),
        "--user",
        sshd.user,
        "--key-file",
        str(key),
        "--host-key-file",
        str(pub),
        "--label",
        "env=test",
        "--label",
        "role=web",
    )
    assert added.status == 0, added
    assert "added host cli-box" in added.out

    listed = await cli(*at, "hosts", "list")
    assert listed.out.splitlines()[0].split() == [
        "ID",
        "NAME",
        "ADDRESS",
        "USER",
        "LABELS",
        "ENGINE",
        "PINNED",
    ]
    assert "cli-box" in listed.out
    assert f"{sshd.address}:{sshd.port}" in listed.out
    by_label = (await cli(*at, "hosts", "list", "--label", "env=test", "--json")).json()
    assert [h["name"] for h in by_label] == ["cli-box"]
    assert (await cli(*at, "hosts", "list", "--label", "env=prod", "--json")).json() == []

    shown = await cli(*at, "hosts", "show", "cli-box", "--json")
    host = shown.json()
    assert host["labels"] == {"env": "test", "role": "web"}
    assert host["host_key"].split()[:2] == sshd.host_key_line.split()[:2]

    tested = await cli(*at, "hosts", "test", "cli-box")
    assert tested.status == 0, tested
    assert tested.out.startswith("ok: cli-box answered")
    facts = await cli(*at, "hosts", "facts", host["id"])
    assert facts.status == 0, facts
    assert "kernel:" in facts.out
    cached = await cli(*at, "--json", "hosts", "facts", "cli-box", "--cached")
    assert cached.json()["kernel"]

    for result in (added, listed, shown, tested, facts):
        assert "PRIVATE KEY" not in result.out + result.err
        assert sshd.private_key.splitlines()[1] not in result.out + result.err

    removed = await cli(*at, "hosts", "remove", "cli-box")
    assert removed.status == 0
    assert (await cli(*at, "hosts", "list", "--json")).json() == []


async def test_problems_are_one_clear_line_with_status_1(
    servers: ServersStack, sshd: SshHost, cli: Any, tmp_path: Path
) -> None:
    at = remote(servers)
    unknown = await cli(*at, "hosts", "show", UNKNOWN)
    assert unknown.status == 1
    line = one_line(unknown.err)
    assert line == f"meshkit servers: no such host: {UNKNOWN}"
    assert unknown.out == ""

    by_name = await cli(*at, "hosts", "test", "no-such-host")
    assert by_name.status == 1
    assert "no host named 'no-such-host'" in one_line(by_name.err)

    key, _ = key_files(tmp_path, sshd)
    invalid = await cli(
        *at, "hosts", "add", "Bad Name!", "--address", "127.0.0.1", "--key-file", str(key)
    )
    assert invalid.status == 1
    assert "name" in one_line(invalid.err)

    missing = await cli(*at, "hosts", "add", "x", "--address", "h", "--key-file", "/nope/key")
    assert missing.status == 2
    assert "cannot read the key file /nope/key" in missing.err

    nobody = await cli("--url", servers.gateway, "hosts", "list")
    assert nobody.status == 2
    assert "not logged in" in nobody.err
    assert "--token" in nobody.err

    user = await servers.person("cli-user")
    denied = await cli("--url", servers.gateway, "--token", user.token, "hosts", "list")
    assert denied.status == 1
    assert "servers:hosts.read" in one_line(denied.err) or "Forbidden" in denied.err


def test_host_key_files_of_either_kind() -> None:
    line = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGJ3"
    assert host_key_line(f"{line} root@box\n") == line
    assert host_key_line(f"# known hosts\n[127.0.0.11]:2222 {line}\n") == line
    with pytest.raises(ValueError, match="no SSH public key"):
        host_key_line("nothing here\n")


# --- run, jobs --------------------------------------------------------------------------


async def test_run_a_command_and_follow_its_output(
    servers: ServersStack, sshd: SshHost, cli: Any
) -> None:
    at = remote(servers)
    await servers.admin.add_host(sshd, "run-box", labels={"tier": "cli"})
    ran = await cli(*at, "run", "--hosts", "run-box", "--", "echo", "hello-from-cli;", "uname")
    assert ran.status == 0, ran
    assert "run-box | hello-from-cli" in ran.out
    assert "job " in ran.out
    assert "succeeded" in ran.out

    failed = await cli(*at, "run", "--label", "tier=cli", "--", "echo oops >&2; exit 3")
    assert failed.status == 1, failed
    assert "run-box | oops" in failed.err
    assert "failed" in failed.out

    streamed = await cli(*at, "--json", "run", "--hosts", "run-box", "--", "echo json-out")
    events = streamed.lines()
    assert events[-1]["event"] == "result"
    job = events[-1]["data"]
    assert job["status"] == "succeeded"
    assert any(e["event"] == "output" and "json-out" in e["data"]["text"] for e in events[:-1])

    jobs = (await cli(*at, "jobs", "list", "--json")).json()
    assert [j["id"] for j in jobs][:1] == [job["id"]]
    log = await cli(*at, "jobs", "log", job["id"])
    assert "run-box | json-out" in log.out
    again = await cli(*at, "jobs", "log", job["id"], "--follow")
    assert again.status == 0
    assert "run-box | json-out" in again.out
    shown = await cli(*at, "jobs", "show", job["id"])
    assert "succeeded" in shown.out
    assert "run-box" in shown.out

    usage = await cli(*at, "run", "--hosts", "run-box")
    assert usage.status == 2
    assert "give the command" in usage.err
    nohost = await cli(*at, "run", "--hosts", UNKNOWN, "--", "true")
    assert nohost.status == 1
    one_line(nohost.err)

    audit = (await cli(*at, "audit", "--limit", "100", "--json")).json()
    assert any(e["action"].startswith("jobs.") for e in audit)
    table = await cli(*at, "audit", "--limit", "5")
    assert table.out.split()[:5] == ["AT", "ACTOR", "ACTION", "TARGET", "OUTCOME"]


async def test_recipes_apply_in_check_mode_shows_the_diff(
    servers: ServersStack, sshd: SshHost, cli: Any, tmp_path: Path
) -> None:
    at = remote(servers)
    await servers.admin.add_host(sshd, "recipe-box")
    target = tmp_path / "motd"
    recipe = {
        "name": "motd",
        "steps": [{"kind": "file", "path": str(target), "content": "hello\n"}],
    }
    await servers.admin.call("POST", "/v1/servers/recipes", 201, json=recipe)
    listed = await cli(*at, "recipes", "list")
    assert "motd" in listed.out
    checked = await cli(*at, "recipes", "apply", "motd", "--hosts", "recipe-box", "--check")
    assert checked.status == 0, checked
    assert "+hello" in checked.out
    assert not target.exists(), "check mode changes nothing"
    applied = await cli(*at, "recipes", "apply", "motd", "--hosts", "recipe-box")
    assert applied.status == 0, applied
    assert target.read_text() == "hello\n"


# --- configs, health ------------------------------------------------------------------


async def test_configs_push_versions_and_rollback(
    servers: ServersStack, sshd: SshHost, cli: Any, tmp_path: Path
) -> None:
    at = remote(servers)
    await servers.admin.add_host(sshd, "cfg-box", labels={"role": "cfg"})
    path = tmp_path / "app.conf"
    body = {
        "kind": "file",
        "name": "app-conf",
        "hosts": {"labels": {"role": "cfg"}},
        "path": str(path),
        "content": "v = 1\n",
    }
    await servers.admin.call("POST", "/v1/servers/configs", 201, json=body)
    dry = await cli(*at, "configs", "push", "app-conf", "--dry-run")
    assert dry.status == 0, dry
    assert "would change" in dry.out
    assert "+v = 1" in dry.out
    assert not path.exists()
    pushed = await cli(*at, "configs", "push", "app-conf")
    assert pushed.status == 0, pushed
    assert path.read_text() == "v = 1\n"

    config = (await cli(*at, "configs", "show", "app-conf", "--json")).json()
    await servers.admin.call(
        "PATCH", f"/v1/servers/configs/{config['id']}", json={"content": "v = 2\n"}
    )
    assert (await cli(*at, "configs", "push", config["id"])).status == 0
    assert path.read_text() == "v = 2\n"
    versions = await cli(*at, "configs", "versions", "app-conf")
    assert [line.split()[0] for line in versions.out.splitlines()] == ["VERSION", "2", "1"]
    diff = await cli(*at, "configs", "diff", "app-conf", "--from", "1", "--to", "2")
    assert "-v = 1" in diff.out
    assert "+v = 2" in diff.out
    back = await cli(*at, "configs", "rollback", "app-conf", "--version", "1")
    assert back.status == 0, back
    assert path.read_text() == "v = 1\n"
    assert "app-conf" in (await cli(*at, "configs", "list")).out


async def test_health_and_checks(servers: ServersStack, sshd: SshHost, cli: Any) -> None:
    at = remote(servers)
    host = await servers.admin.add_host(sshd, "health-box")
    empty = await cli(*at, "health")
    assert empty.status == 0, empty
    check = {
        "name": "box-alive",
        "subject": f"host:{host['id']}",
        "probe": {"kind": "command", "command": "true"},
        "interval": 3600,
    }
    await servers.admin.call("POST", "/v1/servers/checks", 201, json=check)
    ran = await cli(*at, "checks", "run", "box-alive")
    assert ran.status == 0, ran
    assert ran.out.startswith("ok in")
    listed = await cli(*at, "checks", "list")
    assert "box-alive" in listed.out
    summary = (await cli(*at, "health", "--json")).json()
    assert [c["name"] for c in summary["checks"]] == ["box-alive"]
    assert "box-alive" in (await cli(*at, "health")).out


# --- deployments ----------------------------------------------------------------------


@pytest.fixture
async def engine_stack(
    tmp_path: Path, meshkit_redis_url: str, dockerd: Engine, sshd: SshHost
) -> AsyncIterator[ServersStack]:
    env = {
        "MESHKIT_SERVERS_LOCAL_ENGINE": dockerd.url,
        "MESHKIT_SERVERS_DEPLOY_READY_SECONDS": "0.5",
        "MESHKIT_SERVERS_DEPLOY_STOP_TIMEOUT": "1",
    }
    async with servers_stack(tmp_path, meshkit_redis_url, **env) as made:
        await made.admin.add_host(sshd, "engine-box", engine="local")
        try:
            yield made
        finally:
            for deployment in await made.admin.call("GET", "/v1/servers/deployments"):
                await made.admin.call("DELETE", f"/v1/servers/deployments/{deployment['id']}", 204)


def web_spec(message: str) -> dict[str, Any]:
    return {
        "name": "cli-web",
        "host_id": "engine-box",
        "image": BUSYBOX,
        "pull": "never",
        "command": ["sh", "-c", f"echo started-{message} && exec sleep 3600"],
        "env": {"MESSAGE": message, "API_TOKEN": "cli-secret-token-77"},
    }


async def test_deploy_update_scale_logs_history_rollback(
    engine_stack: ServersStack, cli: Any, tmp_path: Path
) -> None:
    at = remote(engine_stack)
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps(web_spec("one")))
    made = await cli(*at, "deploy", "--file", str(spec))
    assert made.status == 0, made
    assert "deployed cli-web" in made.out

    spec.write_text(json.dumps(web_spec("two")))
    updated = await cli(*at, "deploy", "--file", str(spec), "--reason", "second")
    assert updated.status == 0, updated
    assert "version 2 active" in updated.out

    listed = await cli(*at, "deployments", "list")
    assert "cli-web" in listed.out
    shown = (await cli(*at, "deployments", "show", "cli-web", "--json")).json()
    assert shown["current_version"] == 2
    scaled = await cli(*at, "deployments", "scale", "cli-web", "2")
    assert scaled.status == 0
    assert "2 replica(s)" in scaled.out

    logs = await cli(*at, "deployments", "logs", "cli-web")
    assert "started-two" in logs.out
    history = await cli(*at, "deployments", "history", "cli-web")
    assert [line.split()[0] for line in history.out.splitlines()] == ["VERSION", "2", "1"]
    assert "env.MESSAGE" in history.out

    back = await cli(*at, "deployments", "rollback", "cli-web")
    assert back.status == 0, back
    assert "rolled back to 1: version 3 active" in back.out
    after = (await cli(*at, "deployments", "show", "cli-web", "--json")).json()
    assert after["spec"]["env"]["MESSAGE"] == "one"

    for result in (made, updated, history, back):
        assert "cli-secret-token-77" not in result.out + result.err
    removed = await cli(*at, "deployments", "remove", "cli-web")
    assert removed.status == 0
    gone = await cli(*at, "deployments", "show", "cli-web")
    assert gone.status == 1
    assert "no deployment named 'cli-web'" in one_line(gone.err)


async def test_follow_deployment_logs(engine_stack: ServersStack, cli: Any, tmp_path: Path) -> None:
    at = remote(engine_stack)
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps(web_spec("follow")))
    assert (await cli(*at, "deploy", "--file", str(spec))).status == 0
    follow = asyncio.create_task(cli(*at, "deployments", "logs", "cli-web", "--follow"))
    await asyncio.sleep(0)  # the stream ends when the replicas stop
    await engine_stack.admin.call(
        "POST",
        "/v1/servers/deployments/"
        + (await engine_stack.admin.call("GET", "/v1/servers/deployments"))[0]["id"]
        + "/stop",
    )
    followed = await asyncio.wait_for(follow, 60)
    assert followed.status == 0, followed
    assert "started-follow" in followed.out
