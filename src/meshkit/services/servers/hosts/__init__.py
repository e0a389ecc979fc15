"""Managed hosts: registered with an SSH key kept encrypted, host keys pinned, facts."""

from meshkit.services.servers.hosts.models import Facts, Host, HostOut
from meshkit.services.servers.hosts.registry import Hosts
from meshkit.services.servers.hosts.vault import KeyVault

__all__ = ["Facts", "Host", "HostOut", "Hosts", "KeyVault"]
