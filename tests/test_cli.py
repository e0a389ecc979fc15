"""The `meshkit` command, run as a user runs it: a real process."""

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request

import pytest

from tests.test_redis import alive

SERVICES = ["gateway", "auth", "messaging", "voice", "servers"]


def meshkit(*args, env=None, check=False, timeout=60):
    return subprocess.run(
        [sys.executable, "-m", "meshkit.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        check=check,
        timeout=timeout,
    )


@pytest.fixture
def env(tmp_path):
    clean = {k: v for k, v in os.environ.items() if not k.startswith("MESHKIT_")}
    return {**clean, "MESHKIT_DATA_DIR": str(tmp_path / "data")}


def test_services_lists_builtins_with_plugin_and_version(env):
    out = meshkit("services", env=env, check=True).stdout.splitlines()
    assert out[0].split() == ["SERVICE", "PORT", "PLUGIN", "VERSION", "DESCRIPTION"]
    names = [line.split()[0] for line in out[1:]]
    assert names == SERVICES
    auth = next(line for line in out if line.startswith("auth"))
    assert "3001" in auth
    assert "auth (meshkit)" in auth


def test_services_shows_port_override(env):
    out = meshkit("services", env={**env, "MESHKIT_AUTH_PORT": "4001"}, check=True).stdout
    assert "4001" in next(line for line in out.splitlines() if line.startswith("auth"))


def test_plugins_lists_hooks(env):
    out = meshkit("plugins", env=env, check=True).stdout
    line = next(li for li in out.splitlines() if li.startswith("messaging"))
    assert "meshkit_services" in line


def test_config_masks_secrets(env):
    env = {
        **env,
        "MESHKIT_REDIS_URL": "redis://:hunter2@127.0.0.1:6390/0",
        "MESHKIT_LOG_LEVEL": "debug",
    }
    out = meshkit("config", env=env, check=True).stdout
    assert "hunter2" not in out
    assert "MESHKIT_REDIS_URL" in out
    assert "********" in out
    assert "DEBUG" in out


def test_openapi_prints_the_document(env):
    out = meshkit("openapi", "auth", env=env, check=True).stdout
    doc = json.loads(out)
    assert doc["openapi"] == "3.1.0"
    assert doc["info"]["title"] == "meshkit auth"


@pytest.mark.parametrize(
    ("args", "extra_env", "needle"),
    [
        (["openapi", "nope"], {}, "unknown service 'nope'"),
        (["run", "nope"], {}, "unknown service 'nope'"),
        (["run", "auth", "--port", "nope=1"], {}, "unknown service 'nope'"),
        (["services"], {"MESHKIT_LOG_LEVEL": "loud"}, "MESHKIT_LOG_LEVEL"),
        (["services"], {"MESHKIT_MAX_BODY_SIZE": "-1"}, "MESHKIT_MAX_BODY_SIZE"),
        (["run", "auth"], {"MESHKIT_AUTH_PORT": "99999"}, "MESHKIT_AUTH_PORT"),
        (["run", "auth"], {"MESHKIT_AUTH_PORT": "http"}, "MESHKIT_AUTH_PORT"),
        (["services"], {"MESHKIT_PLUGINS": "ghost"}, "ghost"),
    ],
)
def test_user_errors_are_one_line_and_exit_2(env, args, extra_env, needle):
    result = meshkit(*args, env={**env, **extra_env})
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("meshkit: error:")
    assert needle in lines[0]
    assert "Traceback" not in result.stderr


def test_bad_port_argument_is_a_usage_error(env):
    result = meshkit("run", "auth", "--port", "auth", env=env)
    assert result.returncode == 2
    assert "SERVICE=PORT" in result.stderr


def _wait_for_listening(process, count, deadline):
    urls = {}
    while len(urls) < count:
        if time.monotonic() > deadline:
            raise AssertionError(f"services did not start: {urls}")
        line = process.stderr.readline()
        if not line:
            raise AssertionError(f"meshkit exited early with {process.wait()}")
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        name, found, url = record.get("message", "").partition(" listening on ")
        if found:
            urls[name] = url
    return urls


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_run_all_starts_without_installed_servers_and_stops_cleanly(env, tmp_path, signum):
    args = [sys.executable, "-m", "meshkit.cli", "run", "all", "--log-level", "info"]
    for name in SERVICES:
        args += ["--port", f"{name}=0"]
    process = subprocess.Popen(
        args, env=env, stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        urls = _wait_for_listening(process, len(SERVICES), time.monotonic() + 60)
        assert set(urls) == set(SERVICES)
        for name, url in urls.items():
            with urllib.request.urlopen(url + "/readyz", timeout=5) as response:
                body = json.load(response)
                assert body["service"] == name
                assert set(body["checks"].values()) <= {"ok"}
        pid_file = tmp_path / "data" / "redis" / "redis.pid"
        redis_pid = int(pid_file.read_text()) if pid_file.exists() else None
        process.send_signal(signum)
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        process.stderr.close()
        process.stdout.close()
    assert (tmp_path / "data" / "auth.sqlite3").exists()
    assert redis_pid is not None
    assert not alive(redis_pid), "the embedded redis-server outlived meshkit"
