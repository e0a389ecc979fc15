"""Developer sessions: `nox -s tests lint typecheck`, and the lowest supported versions."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import nox

nox.options.sessions = ["tests", "lint", "typecheck"]
nox.options.reuse_existing_virtualenvs = True

ROOT = Path(__file__).parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


@nox.session
def tests(session: nox.Session) -> None:
    """The whole test suite (what `.ci/run` runs)."""
    session.install("-e", ".[dev]")
    session.run("python", "-m", "pytest", *session.posargs)


@nox.session(name="tests_lowest")
def tests_lowest(session: nox.Session) -> None:
    """The test suite against the lowest version of every runtime dependency pyproject allows.

    Static checks (tests/test_codebase.py) are skipped here: type stubs of old releases
    differ, and lint/typecheck are judged against the current ones.
    """
    lowest = [
        re.sub(r">=", "==", requirement)
        for requirement in PYPROJECT["project"]["dependencies"]
        if ">=" in requirement
    ]
    session.install("-e", ".[dev]")
    session.install(*lowest)
    session.run(
        "python",
        "-m",
        "pytest",
        "-p",
        "no:cacheprovider",
        "--ignore=tests/test_codebase.py",
        *session.posargs,
    )


@nox.session
def lint(session: nox.Session) -> None:
    """ruff (lint and format check) and the import contracts."""
    session.install("-e", ".[test]")
    paths = [
        p
        for p in ("src", "tests", "bench", "tools", "sdk/meshkit_sdk", "examples", "noxfile.py")
        if (ROOT / p).exists()
    ]
    session.run("ruff", "check", *paths)
    session.run("ruff", "format", "--check", *paths)
    session.run("lint-imports")


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy --strict on src/."""
    session.install("-e", ".[dev]")
    session.run("mypy")


@nox.session
def sdk(session: nox.Session) -> None:
    """Export the gateway's OpenAPI document to sdk/ and regenerate sdk/meshkit_api_client/."""
    session.install("-e", ".[test]")
    session.run("python", "tools/generate_sdk.py", *session.posargs)


@nox.session
def protos(session: nox.Session) -> None:
    """Regenerate src/meshkit/proto/ from protos/ (grpcio-tools' protoc + grpclib's plugin)."""
    session.install("-e", ".[test]")
    session.run("python", "tools/generate_protos.py", *session.posargs)
