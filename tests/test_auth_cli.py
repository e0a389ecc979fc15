"""``meshkit auth …`` and ``meshkit outbox``: plugin-contributed and built-in commands."""

import json

import pytest

from meshkit.cli import build_parser, main
from meshkit.commands import Command
from meshkit.config import Settings
from meshkit.outbox import write_message


@pytest.fixture
def env(tmp_path, monkeypatch, meshkit_redis_url):
    monkeypatch.setenv("MESHKIT_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("MESHKIT_REDIS_URL", meshkit_redis_url)
    return tmp_path


def lines(capsys):
    return [json.loads(line) for line in capsys.readouterr().out.splitlines() if line]


def test_api_keys_from_the_command_line(env, capsys):
    assert main(["auth", "api-keys", "create", "deployer", "--scope", "service:servers"]) == 0
    (created,) = lines(capsys)
    assert created["key"].startswith("mk_")
    assert created["scopes"] == ["service:servers"]
    assert main(["auth", "api-keys", "list"]) == 0
    (listed,) = lines(capsys)
    assert "key" not in listed
    assert listed["prefix"] == created["key"][:10]
    assert main(["auth", "api-keys", "revoke", created["id"]]) == 0
    assert main(["auth", "api-keys", "list"]) == 0
    assert lines(capsys)[-1]["revoked"] is True


def test_cli_mistakes_are_one_line_errors(env, capsys):
    assert main(["auth", "api-keys", "create", "x"]) == 2
    assert "--scope" in capsys.readouterr().err
    assert main(["auth", "api-keys", "revoke", "nope"]) == 2
    assert "no such API key" in capsys.readouterr().err


def test_rotate_keys(env, capsys):
    assert main(["auth", "rotate-keys"]) == 0
    (rotated,) = lines(capsys)
    first = rotated["kid"]
    assert rotated["algorithm"] == "RS256"
    assert rotated["activates_at"], "it signs once verifiers have had time to fetch it"
    assert main(["auth", "rotate-keys"]) == 0
    assert lines(capsys)[0]["kid"] != first


def test_outbox_shows_messages(env, capsys):
    settings = Settings.from_env({"MESHKIT_DATA_DIR": str(env)})
    write_message(settings, kind="password-reset", to="a@example.test", data={"token": "t1"})
    write_message(settings, kind="other", to="b@example.test", data={})
    assert main(["outbox", "--kind", "password-reset"]) == 0
    (message,) = lines(capsys)
    assert message["to"] == "a@example.test"
    assert oct((env / "outbox" / f"{message['id']}.json").stat().st_mode)[-3:] == "600"


def test_a_plugin_command_cannot_shadow_a_built_in_one():
    async def run(args, settings):
        return 0

    with pytest.raises(Exception, match="clashes"):
        build_parser([Command("run", "nope", lambda parser: None, run)])
