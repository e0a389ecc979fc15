"""Secret env values of deployments, sealed at rest.

Contract:

- A spec's secret names are :attr:`DeploymentSpec.secret_names` (listed in
  ``secret_env``, or named like a secret). :func:`seal` splits a spec into what is stored:
  the spec with those values masked, and the values sealed with the key vault for
  ``deployment:<id>:<name>`` (a sealed value copied onto another deployment or name does
  not open).
- :func:`unseal` gives the spec back with its values; only the rollout engine needs it
  (to create containers, to scrub logs, to diff versions).
- :func:`keep_masked`: a client that sends :data:`~meshkit.services.servers.redact.MASK`
  back for a secret keeps the stored value.
"""

from __future__ import annotations

from collections.abc import Mapping

from meshkit.services.servers.deploy.models import DeploymentSpec
from meshkit.services.servers.redact import MASK
from meshkit.services.servers.types import Vault


def context_of(deployment_id: str, name: str) -> str:
    """What a deployment's secret env value is bound to."""
    return f"deployment:{deployment_id}:{name}"


def seal(
    vault: Vault, deployment_id: str, spec: DeploymentSpec
) -> tuple[DeploymentSpec, dict[str, str]]:
    """The spec to store (secret values masked) and the sealed values by name."""
    names = spec.secret_names
    sealed = {n: vault.seal(spec.env[n], context_of(deployment_id, n)) for n in sorted(names)}
    env = {n: (MASK if n in names else v) for n, v in spec.env.items()}
    return spec.model_copy(update={"env": env}), sealed


def unseal(
    vault: Vault, deployment_id: str, spec: DeploymentSpec, sealed: Mapping[str, str]
) -> DeploymentSpec:
    """The stored spec with its secret values opened (for the engine only)."""
    if not sealed:
        return spec
    env = {
        n: vault.open(sealed[n], context_of(deployment_id, n)) if n in sealed else v
        for n, v in spec.env.items()
    }
    return spec.model_copy(update={"env": env})


def keep_masked(spec: DeploymentSpec, current: DeploymentSpec) -> DeploymentSpec:
    """``spec`` with each secret sent back as ``********`` given its value in
    ``current`` (the active spec, unsealed)."""
    kept = {n for n, v in spec.env.items() if v == MASK and n in current.secret_names}
    if not kept:
        return spec
    env = {n: current.env[n] if n in kept else v for n, v in spec.env.items()}
    listed = sorted(set(spec.secret_env) | (kept - spec.secret_names))
    return spec.model_copy(update={"env": env, "secret_env": listed})


def secret_values(spec: DeploymentSpec) -> list[str]:
    """The secret values of an unsealed spec (scrubbed from logs and failures)."""
    return [spec.env[n] for n in spec.secret_names if spec.env[n] != MASK]
