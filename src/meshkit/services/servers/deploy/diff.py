"""The field-level diff between two deployment specs, and specs as they are shown.

Fields are dotted paths into the spec's JSON (``image``, ``env.LOG_LEVEL``,
``ports.0.host_port``, ``health.interval``). A value under a secret-looking name
(:func:`~meshkit.services.servers.redact.is_secret_name`: ``env.DB_PASSWORD``), or an env
entry the spec lists in ``secret_env``, is shown as
:data:`~meshkit.services.servers.redact.MASK` on both sides: the diff says it changed,
never what it was or became.
"""

from __future__ import annotations

from typing import Any

from meshkit.services.servers.deploy.models import DeploymentSpec, SpecChange
from meshkit.services.servers.redact import MASK, is_secret_name, mask_mapping


def shown(spec: DeploymentSpec) -> dict[str, Any]:
    """The spec as answers show it: JSON, secret env values masked."""
    data = spec.model_dump(mode="json")
    data["env"] = mask_mapping(data["env"], spec.secret_names)
    return data


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """``{dotted path: leaf value}`` of a JSON value; empty containers are leaves."""
    if isinstance(value, dict) and value:
        items: list[tuple[str, Any]] = list(value.items())
    elif isinstance(value, list) and value:
        items = [(str(i), v) for i, v in enumerate(value)]
    else:
        return {prefix: value} if prefix else {}
    flat: dict[str, Any] = {}
    for key, item in items:
        flat.update(flatten(item, f"{prefix}.{key}" if prefix else key))
    return flat


def diff(before: DeploymentSpec | None, after: DeploymentSpec) -> list[SpecChange]:
    """What changed from ``before`` to ``after`` (everything is ``added`` from nothing);
    give both with their secret values (unsealed): a changed secret shows as changed,
    masked on both sides."""
    secret = {f"env.{n}" for n in after.secret_names}
    if before is not None:
        secret |= {f"env.{n}" for n in before.secret_names}

    def masked(path: str, value: Any) -> Any:
        hidden = path in secret or any(is_secret_name(part) for part in path.split("."))
        return MASK if hidden and value not in (None, "") else value

    old = flatten(before.model_dump(mode="json")) if before is not None else {}
    new = flatten(after.model_dump(mode="json"))
    changes: list[SpecChange] = []
    for path in sorted(old.keys() | new.keys()):
        if path not in new:
            changes.append(SpecChange(field=path, op="removed", before=masked(path, old[path])))
        elif path not in old:
            changes.append(SpecChange(field=path, op="added", after=masked(path, new[path])))
        elif old[path] != new[path]:
            changes.append(
                SpecChange(
                    field=path,
                    op="changed",
                    before=masked(path, old[path]),
                    after=masked(path, new[path]),
                )
            )
    return changes
