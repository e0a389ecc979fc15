"""The servers service's problems: one class per failure a client can branch on.

Each is a :class:`~meshkit.errors.Problem` with a stable slug (``type`` is
``urn:meshkit:problem:<slug>``), rendered once at the edge (problem+json over HTTP, an
error ack over Socket.IO). ``docs/servers.md`` lists them. Each part of the service adds
its own below its heading.
"""

from __future__ import annotations

from meshkit.errors import (
    Conflict,
    NotFound,
    PayloadTooLarge,
    Problem,
    ServiceUnavailable,
    UnsupportedMediaType,
)


class HostKeyMismatch(Conflict):
    """The host presented a different SSH host key from the one pinned for it.

    Nothing is sent to such a host: it may be an impostor. An operator who knows the key
    changed (a reinstall) sets the new one with ``PATCH …/hosts/{id}`` (``host_key``).
    """

    slug = "host-key-mismatch"
    title = "The host's SSH key changed"


class HostUnreachable(ServiceUnavailable):
    """The host could not be reached over SSH (refused, timed out, or the connection dropped)."""

    slug = "host-unreachable"
    title = "The host cannot be reached"


class HostAuthFailed(Problem):
    """The host refused the SSH key (wrong key, or the user may not log in)."""

    status = 502
    slug = "host-auth-failed"
    title = "The host refused the SSH key"


class CommandTimedOut(Problem):
    """A remote command ran past its timeout and was killed."""

    status = 504
    slug = "command-timed-out"
    title = "The remote command timed out"


# --- hosts ---


class HostNotFound(NotFound):
    """No host with that id (never registered, or removed)."""

    slug = "host-not-found"
    title = "No such host"


class FactsNotGathered(NotFound):
    """The host's facts were never gathered: ``POST …/hosts/{id}/facts`` gathers them."""

    slug = "facts-not-gathered"
    title = "No facts gathered for this host yet"


class KeyUnreadable(ServiceUnavailable):
    """A stored private key cannot be decrypted: the key-encryption key
    (``MESHKIT_SERVERS_KEY_ENCRYPTION_KEY``, or ``servers/kek`` in the data directory) is
    not the one it was encrypted with, or the stored value is damaged. ``key_id`` names
    the key it needs and ``current_key_id`` the one configured. Restore that key, or
    give the host its private key again (``PATCH …/hosts/{id}``)."""

    slug = "key-unreadable"
    title = "The host's stored private key cannot be decrypted"


# --- provisioning ---


class RecipeNotFound(NotFound):
    """No recipe has this id (or, for a job, this name)."""

    slug = "recipe-not-found"
    title = "No such recipe"


class RecipeExists(Conflict):
    """Another recipe has this name already; names are unique."""

    slug = "recipe-exists"
    title = "A recipe with this name exists"


class JobNotFound(NotFound):
    """No provisioning job has this id."""

    slug = "job-not-found"
    title = "No such job"


class NoHostsSelected(Problem):
    """The job's host selector matched no host (no ids given and no host has all the
    labels); nothing was run."""

    status = 422
    slug = "no-hosts-selected"
    title = "The job selects no host"


class JobAlreadyFinished(Conflict):
    """The job has finished already (``status`` says how): it cannot be cancelled."""

    slug = "job-finished"
    title = "The job has finished"


class MaskedSecretUnknown(Problem):
    """A step carries the mask (``********``) where a secret goes (secret file content,
    a secret ``env`` value), and no stored step it stands for has one to keep: give the
    value itself. ``step`` and ``field`` say where."""

    status = 422
    slug = "masked-secret-unknown"
    title = "A masked secret has no stored value to keep"


# --- deployments ---


class DeploymentNotFound(NotFound):
    """No deployment (or no version of it) has this id or number."""

    slug = "deployment-not-found"
    title = "No such deployment"


class DeploymentExists(Conflict):
    """A deployment of this name already runs on the host (names are unique per host)."""

    slug = "deployment-exists"
    title = "A deployment of this name exists on the host"


class DeploymentBusy(Conflict):
    """Another change of the deployment is running (``op`` names it: a rollout, scale,
    stop, start or remove, on any instance; ``rollout`` the version being rolled out):
    retry once it ended."""

    slug = "deployment-busy"
    title = "The deployment is busy"


class DeploymentStopped(Conflict):
    """The deployment is stopped: start it before scaling or updating it."""

    slug = "deployment-stopped"
    title = "The deployment is stopped"


class RolloutFailed(Conflict):
    """A rollout asked for by another part (a configuration push) failed and was rolled
    back; ``version`` is the failed version and ``failure`` why. The old version runs on."""

    slug = "rollout-failed"
    title = "The rollout failed and was rolled back"


class NoEngine(Conflict):
    """The host has no container engine registered (``engine: none``)."""

    slug = "no-engine"
    title = "The host has no container engine"


class EngineUnreachable(ServiceUnavailable):
    """The host's Docker Engine did not answer (not running, socket missing, SSH down)."""

    slug = "engine-unreachable"
    title = "The container engine cannot be reached"


class EngineRefused(Problem):
    """The engine refused the request (a bad mount, an unknown user, a port in use...);
    ``engine_message`` is what it said."""

    status = 422
    slug = "engine-refused"
    title = "The container engine refused the request"


class ImageUnavailable(Problem):
    """The image is not on the host and could not be pulled (no registry reachable, an
    unknown name, or ``pull: never``); ``engine_message`` says why."""

    status = 502
    slug = "image-unavailable"
    title = "The image is not available on the host"


class BuildFailed(Problem):
    """The engine could not build the uploaded context; ``log`` holds the build's last
    output lines."""

    status = 422
    slug = "build-failed"
    title = "The image build failed"


class BadImageArchive(Problem):
    """The uploaded image archive could not be loaded (not ``docker save`` output)."""

    status = 422
    slug = "bad-image-archive"
    title = "The image archive could not be loaded"


class DeployUploadTooLarge(PayloadTooLarge):
    """A build context or image archive is larger than ``MESHKIT_SERVERS_MAX_UPLOAD_BYTES``
    (``limit``)."""

    slug = "deploy-upload-too-large"
    title = "Upload too large"


class UnsupportedArchive(UnsupportedMediaType):
    """The upload is not a tar archive (``accepted`` lists the types)."""

    slug = "unsupported-archive"
    title = "Unsupported archive type"


# --- monitoring ---


class AlertRuleNotFound(NotFound):
    """No alert rule with that id (never made, or deleted)."""

    slug = "alert-rule-not-found"
    title = "No such alert rule"


class AlertRuleExists(Conflict):
    """Another alert rule has that name; ``name`` gives it."""

    slug = "alert-rule-exists"
    title = "An alert rule with this name exists"


# --- configuration ---


class ConfigNotFound(NotFound):
    """No configuration document has this id (never made, or deleted)."""

    slug = "config-not-found"
    title = "No such configuration"


class ConfigVersionNotFound(NotFound):
    """The configuration has no version with this number; ``latest`` gives its newest."""

    slug = "config-version-not-found"
    title = "No such configuration version"


class ConfigNameTaken(Conflict):
    """Another configuration has this name already (names are unique)."""

    slug = "config-name-taken"
    title = "The configuration name is taken"


class ConfigInvalid(Problem):
    """The change does not fit the configuration: a field of the other kind (``content``
    for an ``env`` configuration...), a ``{{ secret:NAME }}`` placeholder with no such
    secret (``unknown_secrets``), or a variable both in ``env`` and ``secrets``."""

    status = 422
    slug = "config-invalid"
    title = "Invalid configuration"


class ConfigTargetUnavailable(ServiceUnavailable):
    """The configuration's target cannot be reached from this service (deployments are
    not available here)."""

    slug = "config-target-unavailable"
    title = "The configuration's target is unavailable"


class ConfigBusy(Conflict):
    """Another push (or rollback) of this configuration is under way, on this instance or
    another; nothing was done. Try again once it has ended."""

    slug = "config-busy"
    title = "The configuration is being pushed"


# --- health checks ---


class CheckNotFound(Problem):
    """No health check has this id (never made, or deleted)."""

    status = 404
    slug = "check-not-found"
    title = "No such health check"
