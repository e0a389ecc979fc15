"""The hosts over REST (thin: parse, call :class:`Hosts`, answer).

Paths::

    POST   /v1/servers/hosts                      register a host (servers:hosts.manage)
    GET    /v1/servers/hosts                      list (?label=env:prod, after, limit) (hosts.read)
    GET    /v1/servers/hosts/{host_id}            one host (hosts.read)
    PATCH  /v1/servers/hosts/{host_id}            change, re-key, re-pin (hosts.manage)
    DELETE /v1/servers/hosts/{host_id}            remove (hosts.manage)
    POST   /v1/servers/hosts/{host_id}/test       test the connection (hosts.manage)
    POST   /v1/servers/hosts/{host_id}/facts      gather facts now (hosts.manage)
    GET    /v1/servers/hosts/{host_id}/facts      the facts gathered last (hosts.read)
"""

from __future__ import annotations

from meshkit import Service, delete, get, patch, post
from meshkit.services.servers.hosts.models import (
    ConnectionTest,
    Facts,
    HostIn,
    HostOut,
    HostPatch,
    HostQuery,
)
from meshkit.services.servers.hosts.registry import Hosts
from meshkit.services.servers.permissions import HOSTS_MANAGE, HOSTS_READ
from meshkit.services.servers.types import HostId
from meshkit.tokens import Principal

TAGS = ("servers",)
SSH_ERRORS = (409, 502, 503, 504)
"""Failures of a command over SSH: ``host-key-mismatch`` 409, ``host-auth-failed`` 502,
``host-unreachable`` or ``key-unreadable`` 503, ``command-timed-out`` 504."""


class HostsApi(Service):
    """Route handlers of the hosts; the service builds :attr:`hosts` in its lifespan."""

    hosts: Hosts

    @post(
        "/v1/servers/hosts",
        status=201,
        tags=TAGS,
        errors=(401, 403, 409, 422, 503),
        permission=HOSTS_MANAGE,
    )
    async def create_host(self, principal: Principal, body: HostIn) -> HostOut:
        """Register a host to manage over SSH with its private key (stored encrypted,
        never returned). 422 when the key does not parse or has a passphrase; 409
        ``duplicate-key`` when the name is taken. Nothing is sent to the host: test it
        with ``POST …/test``, which also pins its host key if none was given."""
        return HostOut.of(await self.hosts.create(principal, body))

    @get("/v1/servers/hosts", tags=TAGS, errors=(401, 403, 422), permission=HOSTS_READ)
    async def list_hosts(self, principal: Principal, query: HostQuery) -> list[HostOut]:
        """A page of hosts in creation order, optionally only those with all the given
        labels (``?label=env:prod&label=role:web``)."""
        return [HostOut.of(h) for h in await self.hosts.page(query)]

    @get("/v1/servers/hosts/{host_id}", tags=TAGS, errors=(401, 403, 404), permission=HOSTS_READ)
    async def get_host(self, principal: Principal, host_id: HostId) -> HostOut:
        """One host (404 ``host-not-found``)."""
        return HostOut.of(await self.hosts.get(host_id))

    @patch(
        "/v1/servers/hosts/{host_id}",
        tags=TAGS,
        errors=(401, 403, 404, 409, 422, 503),
        permission=HOSTS_MANAGE,
    )
    async def patch_host(self, principal: Principal, host_id: HostId, body: HostPatch) -> HostOut:
        """Change a host: rename, move, relabel, give it a new private key, or re-pin its
        host key after a reinstall (``host_key``; ``null`` pins the next one seen)."""
        return HostOut.of(await self.hosts.patch(principal, host_id, body))

    @delete(
        "/v1/servers/hosts/{host_id}",
        status=204,
        tags=TAGS,
        errors=(401, 403, 404),
        permission=HOSTS_MANAGE,
    )
    async def delete_host(self, principal: Principal, host_id: HostId) -> None:
        """Remove a host (its key is deleted with it) and close its connections."""
        await self.hosts.remove(principal, host_id)

    @post(
        "/v1/servers/hosts/{host_id}/test",
        tags=TAGS,
        errors=(401, 403, 404),
        permission=HOSTS_MANAGE,
    )
    async def test_host(self, principal: Principal, host_id: HostId) -> ConnectionTest:
        """Log in and run ``uname``: ``ok``, the latency and the pinned host key's
        fingerprint (pinned now on first contact), or ``error``, the problem that stopped
        it (``host-unreachable``, ``host-auth-failed``, ``host-key-mismatch``...)."""
        return await self.hosts.test_connection(principal, host_id)

    @post(
        "/v1/servers/hosts/{host_id}/facts",
        tags=TAGS,
        errors=(401, 403, 404, *SSH_ERRORS),
        permission=HOSTS_MANAGE,
    )
    async def gather_host_facts(self, principal: Principal, host_id: HostId) -> Facts:
        """Gather the host's facts now over SSH (OS, kernel, CPUs, memory, disks, Docker
        Engine), store them as the host's last facts, and return them."""
        return await self.hosts.gather_facts(principal, host_id)

    @get(
        "/v1/servers/hosts/{host_id}/facts",
        tags=TAGS,
        errors=(401, 403, 404),
        permission=HOSTS_READ,
    )
    async def get_host_facts(self, principal: Principal, host_id: HostId) -> Facts:
        """The facts gathered last (404 ``facts-not-gathered`` when never)."""
        return await self.hosts.facts(host_id)
