"""Drafts: a version's content in clear, and the pure rules that change one.

A draft is what a version is made of before its secrets are sealed; a change (a
``PATCH``) makes a new draft from the latest one, and a new version only when the draft
differs. :class:`~meshkit.services.servers.errors.ConfigInvalid` (422) says why a
change does not fit.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from meshkit.services.servers.configs.models import ConfigPatch
from meshkit.services.servers.configs.render import placeholders, split_env
from meshkit.services.servers.errors import ConfigInvalid
from meshkit.services.servers.redact import MASK


@dataclass(frozen=True)
class Draft:
    """A version's content in clear (secrets opened): what versions are made of."""

    content: str | None = None
    owner: str | None = None
    group: str | None = None
    mode: str | None = None
    env: dict[str, str] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict)


def names_of(*drafts: Draft) -> set[str]:
    """The secret names of ``drafts``."""
    return {name for draft in drafts for name in draft.secrets}


def attributes(draft: Draft) -> dict[str, str | None]:
    """What a file version's diff compares besides its text (secret values included:
    :func:`key_changes` masks them)."""
    shown: dict[str, str | None] = {
        "mode": draft.mode,
        "owner": draft.owner,
        "group": draft.group,
    }
    shown |= {f"secrets.{name}": value for name, value in draft.secrets.items()}
    return shown


def no_overlap(env: Mapping[str, str], secrets: Mapping[str, str | None]) -> None:
    both = sorted(env.keys() & secrets.keys())
    if both:
        raise ConfigInvalid(
            f"{', '.join(both)}: in both env and secrets", extensions={"fields": both}
        )


def merge_secrets(
    current: dict[str, str], changes: dict[str, str | None], *, keep_allowed: bool = True
) -> dict[str, str]:
    """``current`` with ``changes``: a value sets, ``None`` removes, ``********`` keeps."""
    merged = dict(current)
    for name, value in changes.items():
        if value is None:
            merged.pop(name, None)
        elif value == MASK:
            if not keep_allowed or name not in current:
                raise ConfigInvalid(
                    f"secret {name!r} is {MASK} (keep the current value) but has none",
                    extensions={"fields": [name]},
                )
        else:
            merged[name] = value
    return merged


def with_env(
    draft: Draft,
    env: dict[str, str],
    secrets: dict[str, str | None],
    *,
    keep_allowed: bool = True,
) -> Draft:
    """``draft`` with a new plain ``env`` (secret-looking names join the secrets) and
    the ``secrets`` changes merged."""
    plain, moved = split_env(env, {})
    merged = merge_secrets(draft.secrets, {**moved, **secrets}, keep_allowed=keep_allowed)
    no_overlap(plain, dict(merged))
    return replace(draft, env=plain, secrets=merged)


def changed(current: Draft, patch: ConfigPatch) -> Draft:
    """The draft a patch makes of ``current``."""
    draft = replace(
        current,
        content=current.content if patch.content is None else patch.content,
        owner=current.owner if patch.owner is None else patch.owner,
        group=current.group if patch.group is None else patch.group,
        mode=current.mode if patch.mode is None else patch.mode,
    )
    if patch.env is not None:
        return with_env(draft, patch.env, patch.secrets or {})
    if patch.secrets is not None:
        merged = merge_secrets(draft.secrets, patch.secrets)
        if current.content is None:
            no_overlap(draft.env, dict(merged))
        return replace(draft, secrets=merged)
    return draft


def check(kind: str, draft: Draft) -> None:
    """A file version's placeholders all name one of its secrets."""
    if kind != "file":
        return
    unknown = sorted(placeholders(draft.content or "") - draft.secrets.keys())
    if unknown:
        raise ConfigInvalid(
            f"the content refers to secrets it does not have: {', '.join(unknown)}",
            extensions={"unknown_secrets": unknown},
        )
