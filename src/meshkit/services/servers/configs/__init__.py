"""Configuration management: versioned files for host groups and environments for
deployments, diffs, pushes, rollbacks.

A configuration is either

- a **file** (``kind: file``): a path, owner, group, mode and text content, written to
  every host of a group (listed host ids and/or labels) over SFTP, atomically, with the
  previous file kept as ``<path>.meshkit-prev``; or
- an **env** (``kind: env``): the environment variables of one deployment, given to it
  as a rolling update (``Deployments.update_env``).

**Secrets.** Each configuration has ``secrets``: named secret values, write-only.

- In a file, ``{{ secret:NAME }}`` stands for the secret ``NAME``; the content is
  stored and shown with the placeholder, and the real value is put in only as the file
  is written to a host. A placeholder without its secret is refused (422
  ``config-invalid``).
- In an env, the secrets are variables too, merged with ``env`` when pushed; a variable
  of ``env`` whose name looks secret (``password``, ``token``, ``secret``, ``key``...,
  :func:`~meshkit.services.servers.redact.is_secret_name`) is kept as a secret.
- Secret values are sealed at rest (the hosts' key-encryption key) and shown as
  ``********`` everywhere: answers, version diffs, dry-run diffs against a host's file
  (scrubbed of every value any version had), audit entries and logs. Sending
  ``********`` back in a change keeps the current value; ``null`` removes a secret.

**Versions.** Every change of content makes a new immutable version (number, author,
time, message, SHA-256 of the file as written or of the whole environment); a change
that changes nothing makes none. A rollback makes a new version with an old one's
content and pushes it. Each push records, per host or deployment, which version is
live there and its SHA-256.

**One push at a time.** A push or rollback holds the configuration's lock in Redis
(:mod:`~meshkit.services.servers.configs.lock`), across instances; another meanwhile is
409 ``config-busy``.
"""

from meshkit.services.servers.configs.api import ConfigsApi
from meshkit.services.servers.configs.configs import Configs, SelectHosts
from meshkit.services.servers.configs.lock import PushLocks
from meshkit.services.servers.configs.models import Config, ConfigVersion
from meshkit.services.servers.configs.push import TargetOf, UpdateEnv

__all__ = [
    "Config",
    "ConfigVersion",
    "Configs",
    "ConfigsApi",
    "PushLocks",
    "SelectHosts",
    "TargetOf",
    "UpdateEnv",
]
