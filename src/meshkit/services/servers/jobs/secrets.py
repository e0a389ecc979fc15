"""The secret values of steps (secret file content, secret ``env`` values) at rest and
on a round trip.

Contract:

- Stored recipes and jobs hold their steps *masked* (:data:`~meshkit.services.servers.
  redact.MASK` in each secret field) plus the secret values *sealed* with the hosts' key
  vault (:func:`seal`), each bound to its owner and place (``recipe:<id>/<step>/<field>``),
  so a sealed value copied elsewhere does not open. They are opened (:func:`unseal`)
  only to run a job (or to keep them across an update).
- Answers show the steps masked, so a client that sends back what it got (a recipe to
  ``PUT``, a job's steps to run again) sends the mask where the secrets were:
  :func:`keep` puts back the stored value of the step it stands for, the stored step
  with the same ``name`` (and kind), else the one at the same position (and kind). A
  mask with no such stored value is a 422
  :class:`~meshkit.services.servers.errors.MaskedSecretUnknown`, never written to a host.
"""

from __future__ import annotations

from meshkit.services.servers.errors import MaskedSecretUnknown
from meshkit.services.servers.jobs.steps import Step
from meshkit.services.servers.redact import MASK
from meshkit.services.servers.types import Vault


def masked(steps: list[Step]) -> list[Step]:
    """The steps with every secret field shown as the mask."""
    return [step.with_secrets(dict.fromkeys(step.secret_fields(), MASK)) for step in steps]


def seal(vault: Vault, steps: list[Step], context: str) -> tuple[list[Step], dict[str, str]]:
    """``(masked steps, sealed values)`` to store for ``steps`` (with their secrets in
    clear) under ``context`` (``recipe:<id>``, ``job:<id>``); the sealed values are
    keyed ``<step index>/<field>``."""
    sealed: dict[str, str] = {}
    for index, step in enumerate(steps):
        for field, value in step.secret_fields().items():
            key = f"{index}/{field}"
            sealed[key] = vault.seal(value, f"{context}/{key}")
    return masked(steps), sealed


def unseal(vault: Vault, steps: list[Step], sealed: dict[str, str], context: str) -> list[Step]:
    """The stored ``steps`` with their sealed values opened (``KeyUnreadable`` when the
    vault's key changed); steps stored before sealing (no ``sealed``) come back as they
    are."""
    values: dict[int, dict[str, str]] = {}
    for key, text in sealed.items():
        index, _, field = key.partition("/")
        values.setdefault(int(index), {})[field] = vault.open(text, f"{context}/{key}")
    return [step.with_secrets(values.get(i, {})) for i, step in enumerate(steps)]


def keep(steps: list[Step], stored: list[Step]) -> list[Step]:
    """``steps`` with each masked secret field set to the value of the stored step it
    stands for (module docstring); ``stored`` has its secrets in clear."""
    kept: list[Step] = []
    for index, step in enumerate(steps):
        hidden = [f for f, value in step.secret_fields().items() if value == MASK]
        if hidden:
            before = _counterpart(step, index, stored)
            known = before.secret_fields() if before is not None else {}
            values: dict[str, str] = {}
            for field in hidden:
                value = known.get(field)
                if value is None or value == MASK:
                    raise MaskedSecretUnknown(
                        f"step {index} has {MASK} as its {field} and no stored step it "
                        "stands for has a value to keep: give the value",
                        extensions={"step": index, "field": field},
                    )
                values[field] = value
            step = step.with_secrets(values)
        kept.append(step)
    return kept


def _counterpart(step: Step, index: int, stored: list[Step]) -> Step | None:
    if step.name is not None:
        named = [s for s in stored if s.name == step.name and s.kind == step.kind]
        if len(named) == 1:
            return named[0]
    if index < len(stored) and stored[index].kind == step.kind:
        return stored[index]
    return None
