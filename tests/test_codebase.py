"""The codebase's own checks, so the README's test command is the whole verdict:
lint, format, strict typing, and the architecture's import contracts."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
BIN = Path(sys.executable).parent
LINTED = ("src", "tests", "bench", "tools", "sdk/meshkit_sdk", "examples", "noxfile.py")


def tool(name):
    path = BIN / name
    if not path.exists():
        found = shutil.which(name)
        if found is None:
            pytest.fail(f"{name} is not installed: install meshkit with the [test] extra")
        return found
    return str(path)


def check(*args):
    result = subprocess.run(args, cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_lint():
    check(tool("ruff"), "check", *LINTED)


def test_ruff_format():
    check(tool("ruff"), "format", "--check", *LINTED)


def test_mypy_strict():
    check(tool("mypy"))


def test_import_contracts():
    """The framework never imports a service; services never import each other."""
    check(tool("lint-imports"))


def test_every_framework_module_is_under_the_framework_contract():
    """A new framework module must join the 'never imports a service' contract."""
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    contracts = config["tool"]["importlinter"]["contracts"]
    framework = next(c for c in contracts if c["type"] == "forbidden")
    package = ROOT / "src" / "meshkit"
    modules = {
        f"meshkit.{path.stem if path.is_file() else path.name}"
        for path in package.iterdir()
        if (path.suffix == ".py" and path.stem != "__init__")
        or (path.is_dir() and (path / "__init__.py").exists() and path.name != "services")
    }
    assert modules == set(framework["source_modules"])
    independent = next(c for c in contracts if c["type"] == "independence")
    services = {
        f"meshkit.services.{p.name}"
        for p in (package / "services").iterdir()
        if (p / "__init__.py").exists()
    }
    assert services == set(independent["modules"])
