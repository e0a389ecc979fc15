"""What the SSH pool needs to reach a host, and what a command gave back."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field


@dataclass(frozen=True)
class SshTarget:
    """One host as the pool reaches it.

    ``private_key`` is the decrypted OpenSSH private key text: it lives only in memory and
    is left out of ``repr`` (so of logs and tracebacks). ``host_key`` is the pinned public
    host key (``ssh-ed25519 AAAA…``); ``None`` means the first key the host presents is
    accepted and pinned through the pool's pin callback.
    """

    host_id: str
    address: str
    port: int
    user: str
    private_key: str = field(repr=False)
    host_key: str | None = None

    @property
    def pool_key(self) -> tuple[str, str, int, str, str, str | None]:
        """Connections are shared only by targets equal in every way that matters, so a
        changed key, address or pin never reuses a connection made with the old one."""
        digest = hashlib.sha256(self.private_key.encode()).hexdigest()
        return (self.host_id, self.address, self.port, self.user, digest, self.host_key)


@dataclass(frozen=True)
class CommandResult:
    """A finished (or killed) remote command.

    ``exit_status`` is ``None`` when the command was killed (timeout) or its connection
    dropped (``error`` says which); output is what arrived before that.
    """

    command: str
    exit_status: int | None
    stdout: str
    stderr: str
    duration: float
    timed_out: bool = False
    error: str | None = None

    @property
    def ok(self) -> bool:
        """It ran to the end and exited 0."""
        return self.exit_status == 0
