"""Export the gateway's OpenAPI document and regenerate the SDK's client from it.

``sdk/openapi.json`` is what ``meshkit gateway openapi`` prints for the installed
services; ``sdk/meshkit_api_client/`` is what openapi-python-client generates from it
with ``sdk/config.yaml`` (ruff as its post-hook). Both are committed and never edited by
hand: the hand-written layer, ``sdk/meshkit_sdk/``, imports the generated one.

Run through ``nox -s sdk``; ``python tools/generate_sdk.py --check`` (run by the test
suite) exports and generates into a temporary directory and fails on any difference, so
a service change that is not reflected in the SDK is a failing build.
"""

from __future__ import annotations

import argparse
import filecmp
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SDK = ROOT / "sdk"
DOCUMENT = "openapi.json"
PACKAGE = "meshkit_api_client"
BIN = Path(sys.executable).parent


def _tool(name: str) -> str:
    path = BIN / name
    if path.exists():
        return str(path)
    found = shutil.which(name)
    if found is None:
        raise SystemExit(f"{name} is not installed: install meshkit with the [test] extra")
    return found


def generate(into: Path) -> None:
    """Write ``openapi.json`` and ``meshkit_api_client/`` under ``into``."""
    into.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as data:
        env = {
            **os.environ,
            "MESHKIT_DATA_DIR": data,  # nothing runs: only the classes are read
            "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",  # ruff for the hooks
        }
        env.pop("MESHKIT_PLUGINS", None)
        subprocess.run(
            [_tool("meshkit"), "gateway", "openapi", "--output", str(into / DOCUMENT)],
            check=True,
            env=env,
        )
        subprocess.run(
            [
                _tool("openapi-python-client"),
                "generate",
                "--path",
                str(into / DOCUMENT),
                "--config",
                str(SDK / "config.yaml"),
                "--output-path",
                str(into / PACKAGE),
                "--overwrite",
                "--meta",
                "none",
            ],
            check=True,
            env=env,
            cwd=into,
            stdout=subprocess.DEVNULL,
        )
    for cache in (into / PACKAGE).rglob("__pycache__"):
        shutil.rmtree(cache)
    # PEP 561: the generated code is fully typed; say so, or a --strict consumer of the
    # installed package gets import-untyped.
    (into / PACKAGE / "py.typed").write_text("")


def differences(left: Path, right: Path) -> list[str]:
    """Files that differ, or exist on one side only, between two trees."""
    found: list[str] = []

    def walk(comparison: filecmp.dircmp[str], prefix: str) -> None:
        found.extend(f"{prefix}{name} (only in one)" for name in comparison.left_only)
        found.extend(f"{prefix}{name} (only in one)" for name in comparison.right_only)
        _, mismatch, errors = filecmp.cmpfiles(
            comparison.left, comparison.right, comparison.common_files, shallow=False
        )
        found.extend(f"{prefix}{name}" for name in mismatch + errors)
        for name, sub in comparison.subdirs.items():
            walk(sub, f"{prefix}{name}/")

    walk(filecmp.dircmp(left, right, ignore=["__pycache__"]), "")
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if sdk/ is stale")
    options = parser.parse_args()
    if not options.check:
        if (SDK / PACKAGE).exists():
            shutil.rmtree(SDK / PACKAGE)
        generate(SDK)
        print(f"wrote {SDK / DOCUMENT} and {SDK / PACKAGE}/")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        fresh = Path(tmp)
        generate(fresh)
        stale = []
        if (fresh / DOCUMENT).read_bytes() != (SDK / DOCUMENT).read_bytes():
            stale.append(DOCUMENT)
        stale += [f"{PACKAGE}/{name}" for name in differences(fresh / PACKAGE, SDK / PACKAGE)]
    if stale:
        print("the SDK is stale; run `nox -s sdk` and commit:", *stale, sep="\n  ")
        return 1
    print("sdk/ matches the services")
    return 0


if __name__ == "__main__":
    sys.exit(main())
