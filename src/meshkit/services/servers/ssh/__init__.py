"""Pooled SSH to managed hosts: host keys pinned, commands with timeouts, SFTP."""

from meshkit.services.servers.ssh.pool import OutputCallback, PinCallback, SshPool
from meshkit.services.servers.ssh.target import CommandResult, SshTarget

__all__ = ["CommandResult", "OutputCallback", "PinCallback", "SshPool", "SshTarget"]
