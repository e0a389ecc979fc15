"""Documentation that must not drift from the code."""

import re
from pathlib import Path

from meshkit import hookspecs
from meshkit.cli import markdown_reference
from meshkit.plugins import get_plugin_manager
from meshkit.testing import make_settings

ROOT = Path(__file__).parent.parent
BEGIN = "<!-- BEGIN generated: meshkit config --markdown -->"
END = "<!-- END generated -->"


def signature_of(hook) -> str:
    annotations = dict(hook.__annotations__)
    returned = annotations.pop("return")
    params = ", ".join(f"{name}: {kind}" for name, kind in annotations.items())
    return f"{hook.__name__}({params}) -> {returned}"


def every_hook(tmp_path: Path) -> dict[str, object]:
    """The framework's hooks and those services add (``meshkit_addhooks``)."""
    pm = get_plugin_manager(make_settings(tmp_path))
    owned = {
        name: caller.spec.function
        for name, caller in vars(pm.hook).items()
        if name.startswith("meshkit_") and caller.spec is not None
    }
    return {**hookspecs.all_hooks(), **owned}


def test_every_hook_is_documented_with_its_signature(tmp_path):
    text = (ROOT / "docs" / "plugins.md").read_text()
    hooks = every_hook(tmp_path)
    assert len(hooks) >= 6
    for name, hook in hooks.items():
        assert f"### {name}\n" in text, f"docs/plugins.md has no section for {name}"
        assert f"`{signature_of(hook)}`" in text, f"signature of {name} drifted in the docs"
        assert (hook.__doc__ or "").strip(), f"{name} has no docstring"
    documented = set(re.findall(r"^### (meshkit_\w+)$", text, re.MULTILINE))
    assert documented == set(hooks), "docs/plugins.md documents hooks that do not exist"


def test_configuration_table_is_generated_from_settings(tmp_path):
    text = (ROOT / "docs" / "configuration.md").read_text()
    generated = markdown_reference(get_plugin_manager(make_settings(tmp_path)))
    start = text.index(BEGIN) + len(BEGIN)
    stop = text.index(END)
    assert text[start:stop].strip() == generated, (
        "docs/configuration.md is stale: paste `meshkit config --markdown` between the markers"
    )


def test_readme_starts_with_the_two_commands():
    head = (ROOT / "README.md").read_text().split("\n## ", 1)[0]
    ci = (ROOT / ".ci" / "run").read_text()
    commands = re.findall(r"^    (python3 -m venv .*)$", head, re.MULTILINE)
    assert len(commands) == 2
    run, test = commands
    assert run.endswith("meshkit run all")
    assert test in ci, ".ci/run must call exactly the README's test command"
