"""Pure functions of configuration content: secret placeholders, digests and diffs.

Nothing here reads or writes anything; the rule for secrets is the package's
(:mod:`meshkit.services.servers.configs`): a diff or change list shows a secret value as
``********``, and a text is scrubbed of every secret value it is told about.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import re
from collections.abc import Iterable, Mapping

from meshkit.services.servers.configs.models import ConfigChange
from meshkit.services.servers.redact import MASK, is_secret_name, scrub

PLACEHOLDER = re.compile(r"\{\{\s*secret:\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
"""``{{ secret:NAME }}`` in file content (spaces inside the braces optional)."""
CONTEXT_LINES = 3


def placeholders(content: str) -> set[str]:
    """The secret names ``content`` refers to."""
    return set(PLACEHOLDER.findall(content))


def render(content: str, secrets: Mapping[str, str]) -> bytes:
    """The file as written to hosts: each placeholder replaced by its secret, UTF-8.

    Every placeholder must name a secret of ``secrets`` (checked when a version is made).
    """
    return PLACEHOLDER.sub(lambda match: secrets[match.group(1)], content).encode()


def sha256_hex(data: bytes) -> str:
    """Hex SHA-256 of ``data``, as ``sha256sum`` prints it."""
    return hashlib.sha256(data).hexdigest()


def env_digest(env: Mapping[str, str]) -> str:
    """SHA-256 of an environment as JSON with sorted keys (secrets included)."""
    canonical = json.dumps(dict(env), sort_keys=True, separators=(",", ":"))
    return sha256_hex(canonical.encode())


def split_env(
    env: Mapping[str, str], secrets: Mapping[str, str]
) -> tuple[dict[str, str], dict[str, str]]:
    """``(plain, secret)``: variables of ``env`` whose name looks secret join ``secrets``."""
    plain = {k: v for k, v in env.items() if not is_secret_name(k)}
    moved = {k: v for k, v in env.items() if is_secret_name(k)}
    return plain, {**moved, **secrets}


def masked(secrets: Iterable[str]) -> dict[str, str]:
    """Secret names to ``********``: how every answer shows them."""
    return dict.fromkeys(sorted(secrets), MASK)


def unified(old: str, new: str, old_label: str, new_label: str, secrets: Iterable[str]) -> str:
    """A unified diff from ``old`` to ``new`` (empty when equal), scrubbed of ``secrets``."""
    known = list(secrets)
    lines = difflib.unified_diff(
        scrub(old, known).splitlines(keepends=True),
        scrub(new, known).splitlines(keepends=True),
        fromfile=old_label,
        tofile=new_label,
        n=CONTEXT_LINES,
    )
    return "".join(
        line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines
    )


def key_changes(
    old: Mapping[str, str | None],
    new: Mapping[str, str | None],
    secret: Iterable[str] = (),
) -> list[ConfigChange]:
    """Keys added, removed or changed from ``old`` to ``new``, sorted; values of keys in
    ``secret`` (or named like secrets) shown as ``********``."""
    hidden = set(secret)
    changes: list[ConfigChange] = []
    for key in sorted(old.keys() | new.keys()):
        before, after = old.get(key), new.get(key)
        if before == after:
            continue
        is_secret = key in hidden or is_secret_name(key)

        def show(value: str | None, is_secret: bool = is_secret) -> str | None:
            return MASK if is_secret and value is not None else value

        kind = "added" if before is None else "removed" if after is None else "changed"
        changes.append(
            ConfigChange(key=key, change=kind, old=show(before), new=show(after), secret=is_secret)
        )
    return changes
