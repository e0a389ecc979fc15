"""Masking secrets wherever the servers service shows or records something.

One rule, used by the audit log, job logs, configuration documents and deployment
environments: a value whose *name* looks secret is shown as :data:`MASK`, and any known
secret *value* that appears inside free text (command output, an error message) is
replaced by it too.

A name looks secret when one of its words (split at ``_``, ``-``, ``.``, digits and
camelCase humps) is a secret word (``key``, ``token``, ``auth``, ``pwd``...) or contains a
strong one (``password``, ``secret``, ``credential``, ``apikey``...), unless a word says it
names something public (``public``, ``fingerprint``, an SSH ``host_key``) or a word after
the last secret word says the name is about it (``id``, ``path``, ``name``...):
``STRIPE_KEY``, ``AWS_SECRET_ACCESS_KEY``, ``ID_TOKEN``, ``dbPassword`` and
``AUTHORIZATION`` are secret; ``AUTHOR``, ``KEYBOARD_LAYOUT``, ``AWS_ACCESS_KEY_ID`` and
``key_fingerprint`` are not. Names that say nothing
(``DATABASE_URL``) are listed as secret by whoever holds them (configuration secrets,
a deployment's ``secret_env``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

MASK = "********"
SECRET_WORDS = frozenset(
    {"key", "keys", "token", "tokens", "auth", "authorization", "pwd", "pass", "pin", "otp"}
    | {"cookie", "salt"}
)
STRONG = re.compile(r"password|passwd|passphrase|secret|credential|apikey|privatekey|bearer")
PUBLIC = frozenset({"public", "pub", "fingerprint", "fingerprints"})
ABOUT = frozenset({"id", "ids", "path", "file", "name", "type", "algorithm", "size", "length"})
"""Words that, after the secret word, make the name about the secret (``KEY_ID``,
``TOKEN_PATH``); before it they do not (``ID_TOKEN``, ``FILE_ENCRYPTION_KEY``)."""
_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+")


def words_of(name: str) -> list[str]:
    """The lower-case words of an identifier (``awsSecretKey_ID`` → aws, secret, key, id)."""
    return [w.lower() for w in _WORD.findall(name)]


def is_secret_name(name: str) -> bool:
    """Whether a field, variable or key called ``name`` holds a secret by its name."""
    words = words_of(name)
    if any(w in PUBLIC for w in words) or words[-2:] == ["host", "key"]:
        return False
    secret_at = [i for i, w in enumerate(words) if w in SECRET_WORDS or STRONG.search(w)]
    if not secret_at:
        return False
    return not any(w in ABOUT for w in words[secret_at[-1] + 1 :])


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
