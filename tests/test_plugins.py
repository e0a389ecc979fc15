"""The plugin system: entry points, allow-list, overrides, and a really installed plugin."""

import importlib
import os
import subprocess
import sys
import textwrap

import pytest

from meshkit import Service, hookimpl
from meshkit.app import create_app
from meshkit.plugins import PluginLoadError, UnknownService, get_plugin_manager
from meshkit.testing import make_settings

BUILTIN = {"gateway", "auth", "messaging", "voice", "servers"}

PLUGIN_PYPROJECT = """
[build-system]
requires = ["hatchling"]
build-backend = "hatchling.build"

[project]
name = "meshkit-throwaway"
version = "1.2.3"

[project.entry-points.meshkit]
throwaway = "meshkit_throwaway"

[tool.hatch.build.targets.wheel]
packages = ["meshkit_throwaway"]
"""

PLUGIN_MODULE = '''
"""A plugin installed by the tests from a temporary directory."""
from collections.abc import Sequence

import meshkit
from meshkit import Service, hookimpl

CALLS: list[str] = []


@meshkit.get("/v1/throwaway/{n}")
async def doubled(n: int, service: Service) -> dict[str, object]:
    """Double a number."""
    return {"doubled": 2 * n, "service": service.name}


@hookimpl
def meshkit_routes(service: Service) -> Sequence[object]:
    return [doubled] if service.name == "messaging" else []


@hookimpl
def meshkit_startup(service: Service) -> None:
    CALLS.append(f"startup:{service.name}")
'''


@pytest.fixture(scope="module")
def installed_plugin(tmp_path_factory):
    """Build and pip-install a throwaway plugin package into a private target dir."""
    source = tmp_path_factory.mktemp("plugin-src")
    (source / "pyproject.toml").write_text(PLUGIN_PYPROJECT)
    (source / "meshkit_throwaway").mkdir()
    (source / "meshkit_throwaway" / "__init__.py").write_text(textwrap.dedent(PLUGIN_MODULE))
    target = tmp_path_factory.mktemp("plugin-site")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "--target",
            str(target),
            str(source),
        ],
        check=True,
        capture_output=True,
    )
    assert list(target.glob("meshkit_throwaway-1.2.3.dist-info"))
    return target


@pytest.fixture
def plugin_on_path(installed_plugin, monkeypatch):
    monkeypatch.syspath_prepend(str(installed_plugin))
    importlib.invalidate_caches()
    yield installed_plugin
    sys.modules.pop("meshkit_throwaway", None)


def test_builtin_services_come_from_entry_points(tmp_path):
    pm = get_plugin_manager(make_settings(tmp_path))
    services = pm.services()
    assert services.keys() >= BUILTIN
    for name in BUILTIN:
        assert services[name].plugin.builtin
        assert services[name].plugin.distribution == "meshkit"
    assert services["gateway"].cls.default_port == 3000
    assert services["servers"].cls.default_port == 3004
    impls = pm.hook.meshkit_services.get_hookimpls()
    assert all(impl.trylast for impl in impls if impl.plugin_name in BUILTIN)


def test_allow_list_restricts_plugins(tmp_path):
    pm = get_plugin_manager(make_settings(tmp_path, MESHKIT_PLUGINS="auth, gateway"))
    assert set(pm.services()) == {"auth", "gateway"}
    with pytest.raises(UnknownService, match="installed: auth, gateway"):
        pm.service("messaging")


def test_allow_list_naming_a_missing_plugin_fails(tmp_path):
    with pytest.raises(PluginLoadError, match="not installed: nope"):
        get_plugin_manager(make_settings(tmp_path, MESHKIT_PLUGINS="auth,nope"))


def test_plugin_can_override_a_builtin_service(tmp_path):
    class MyAuth(Service):
        name = "auth"
        default_port = 4001
        needs = frozenset()

    class Override:
        @hookimpl
        def meshkit_services(self):
            return [MyAuth]

    pm = get_plugin_manager(make_settings(tmp_path), plugins=[("myauth", Override())])
    entry = pm.service("auth")
    assert entry.cls is MyAuth
    assert entry.plugin.name == "myauth"


def test_misspelt_hook_fails_at_start(tmp_path):
    class Typo:
        @hookimpl
        def meshkit_servics(self):
            return []

    with pytest.raises(PluginLoadError, match="meshkit_servics"):
        get_plugin_manager(make_settings(tmp_path), plugins=[("typo", Typo())])


def test_wrong_hook_signature_fails_at_start(tmp_path):
    class Wrong:
        @hookimpl
        def meshkit_routes(self, service, extra):
            return []

    with pytest.raises(PluginLoadError, match="wrong"):
        get_plugin_manager(make_settings(tmp_path), plugins=[("wrong", Wrong())])


def test_registering_something_that_is_not_a_service_fails(tmp_path):
    class Bad:
        @hookimpl
        def meshkit_services(self):
            return [object]

    pm = get_plugin_manager(make_settings(tmp_path), plugins=[("bad", Bad())])
    with pytest.raises(PluginLoadError, match="not a Service"):
        pm.services()


def test_installed_plugin_is_listed_with_its_hooks(installed_plugin, tmp_path):
    env = {**os.environ, "PYTHONPATH": str(installed_plugin), "MESHKIT_DATA_DIR": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-m", "meshkit.cli", "plugins"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    line = next(li for li in result.stdout.splitlines() if li.startswith("throwaway"))
    assert "meshkit-throwaway" in line
    assert "1.2.3" in line
    assert "meshkit_routes" in line
    assert "meshkit_startup" in line


async def test_installed_plugin_route_is_served(plugin_on_path, aiohttp_client, meshkit_settings):
    pm = get_plugin_manager(meshkit_settings)
    assert pm.infos["throwaway"].distribution == "meshkit-throwaway"
    service = pm.service("messaging").cls(meshkit_settings)
    client = await aiohttp_client(create_app(service, pm=pm))
    response = await client.get("/v1/throwaway/21")
    assert response.status == 200
    assert await response.json() == {"doubled": 42, "service": "messaging"}
    bad = await client.get("/v1/throwaway/lots")
    assert bad.status == 422
    module = sys.modules["meshkit_throwaway"]
    assert module.CALLS == ["startup:messaging"]
    doc = await (await client.get("/openapi.json")).json()
    assert "/v1/throwaway/{n}" in doc["paths"]


def test_broken_plugin_fails_with_a_clear_error(tmp_path, monkeypatch):
    site = tmp_path / "site"
    dist = site / "meshkit_broken-0.1.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: meshkit-broken\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[meshkit]\nbroken = meshkit_broken_missing\n")
    env = {**os.environ, "PYTHONPATH": str(site), "MESHKIT_DATA_DIR": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-m", "meshkit.cli", "services"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "plugin 'broken'" in lines[0]
    assert "MESHKIT_PLUGINS" in lines[0]
    monkeypatch.syspath_prepend(str(site))
    importlib.invalidate_caches()
    ok = get_plugin_manager(make_settings(tmp_path, MESHKIT_PLUGINS="auth"))
    assert set(ok.services()) == {"auth"}
