"""The servers service's problems: one class per failure a client can branch on.

Each is a :class:`~meshkit.errors.Problem` with a stable slug (``type`` is
``urn:meshkit:problem:<slug>``), rendered once at the edge (problem+json over HTTP, an
error ack over Socket.IO). ``docs/servers.md`` lists them. Each part of the service adds
its own below its heading.
"""

from __future__ import annotations

from meshkit.errors import Conflict, Problem, ServiceUnavailable


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

# --- provisioning ---

# --- deployments ---

# --- monitoring ---

# --- configuration ---

# --- health checks ---
