"""Masking secrets wherever the servers service shows or records something.

One rule, used by the audit log, job logs, configuration documents and deployment
environments: a value whose *name* looks secret (``password``, ``token``, ``secret``,
``key``...) is shown as :data:`MASK`, and any known secret *value* that appears inside
free text (command output, an error message) is replaced by it too.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

MASK = "********"
SECRET_NAME = re.compile(
    r"(pass(word|wd|phrase)?|secret|token|private[_-]?key|api[_-]?key|credential|auth)",
    re.IGNORECASE,
)


def is_secret_name(name: str) -> bool:
    """Whether a field, variable or key called ``name`` holds a secret by its name."""
    return SECRET_NAME.search(name) is not None


def mask_mapping(values: Mapping[str, Any], secret_names: Iterable[str] = ()) -> dict[str, Any]:
    """A copy of ``values`` with secret-named (or listed) entries masked, nested too."""
    listed = set(secret_names)
    masked: dict[str, Any] = {}
    for name, value in values.items():
        if name in listed or is_secret_name(name):
            masked[name] = MASK if value not in (None, "") else value
        elif isinstance(value, Mapping):
            masked[name] = mask_mapping(value, listed)
        elif isinstance(value, list):
            masked[name] = [mask_mapping(v, listed) if isinstance(v, Mapping) else v for v in value]
        else:
            masked[name] = value
    return masked


def scrub(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every occurrence of each secret value (of 4+ characters) masked."""
    for secret in sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True):
        text = text.replace(secret, MASK)
    return text
