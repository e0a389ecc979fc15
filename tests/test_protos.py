"""The generated gRPC code is a golden record of protos/: never stale, never hand-edited."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parent.parent


def test_generated_code_matches_the_contracts():
    """What `nox -s protos` would write is exactly what is committed."""
    result = subprocess.run(
        [sys.executable, "tools/generate_protos.py", "--check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_generated_file_says_do_not_edit():
    generated = [p for p in (ROOT / "src/meshkit/proto").rglob("*.py*") if p.is_file()]
    assert generated
    for path in generated:
        if path.suffix in {".py", ".pyi"}:
            assert (
                "DO NOT EDIT"
                in path.read_text().splitlines()[1 if path.name != "__init__.py" else 0]
            )


def test_every_contract_is_versioned_per_service():
    contracts = sorted((ROOT / "protos").rglob("*.proto"))
    assert contracts
    for path in contracts:
        parts = path.relative_to(ROOT / "protos").parts
        assert parts[0] == "meshkit", path
        assert parts[2].startswith("v"), path
        assert f"package meshkit.{parts[1]}.{parts[2]};" in path.read_text()
