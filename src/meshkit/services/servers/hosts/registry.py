"""The managed hosts: one core function per operation (REST adapters call these).

Rules:

* A host is stored with its private key sealed by the :class:`KeyVault` (bound to the
  host id); :meth:`Hosts.target` is the only way back to the plaintext, for the SSH pool.
* A key that does not parse (or has a passphrase), a host key line that is not a public
  key, or an invalid address is a 422 on that field; a taken name is a 409.
* The host key is pinned when given, else on first contact (:meth:`Hosts.pin`, the
  pool's pin callback): stored only when none is pinned yet; a different key arriving
  for an already pinned host is refused (``host-key-mismatch``).
* A changed address, port, user, key or pin, and a removal, close the pool's
  connections to the host.
* Every change, connection test and facts gathering is in the audit log (``hosts.*``,
  target ``host:<id>``), ``failed`` when it raised; the key never is.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import asyncssh

from meshkit.errors import FieldError, Problem, ValidationFailed
from meshkit.services.servers.audit import SYSTEM, AuditLog
from meshkit.services.servers.errors import (
    CommandTimedOut,
    FactsNotGathered,
    HostKeyMismatch,
    HostNotFound,
    HostUnreachable,
)
from meshkit.services.servers.hosts.facts import facts_command, parse_facts
from meshkit.services.servers.hosts.models import (
    ConnectionTest,
    Facts,
    Host,
    HostIn,
    HostPatch,
    HostQuery,
    ProblemOut,
)
from meshkit.services.servers.hosts.vault import KeyVault
from meshkit.services.servers.ssh import SshPool, SshTarget
from meshkit.services.servers.ssh.pool import fingerprint, normalize_key
from meshkit.services.servers.types import Actor
from meshkit.store import Sort, Store, new_id
from meshkit.store.errors import DocumentNotFound

NO_HOST = "no such host"
TEST_COMMAND = "uname -srm"
TEST_TIME_LIMIT = 15.0
FACTS_TIME_LIMIT = 60.0
RECONNECT = frozenset({"address", "port", "user", "encrypted_key", "host_key"})
"""Fields whose change makes pooled connections to the host stale."""


def _invalid(field: str, message: str, code: str) -> ValidationFailed:
    return ValidationFailed(
        [FieldError.of(("body", field), message, code)], detail=f"{field}: {message}"
    )


def read_private_key(text: str) -> asyncssh.SSHKey:
    """The key in ``text``; a 422 on ``private_key`` when it is not an unencrypted
    private key (the message never quotes the key)."""
    try:
        return asyncssh.import_private_key(text)
    except asyncssh.KeyImportError as exc:
        if "passphrase" in str(exc).lower():
            raise _invalid(
                "private_key", "the key has a passphrase: give it without one", "key_encrypted"
            ) from None
        raise _invalid(
            "private_key", "not an OpenSSH or PEM private key", "invalid_private_key"
        ) from None
    except (ValueError, TypeError):
        raise _invalid(
            "private_key", "not an OpenSSH or PEM private key", "invalid_private_key"
        ) from None


def read_host_key(line: str) -> str:
    """``line`` normalized (algorithm and key); a 422 on ``host_key`` if it is no key."""
    try:
        asyncssh.import_public_key(line)
    except (asyncssh.KeyImportError, ValueError, TypeError):
        raise _invalid("host_key", "not an SSH public key line", "invalid_host_key") from None
    return normalize_key(line)


def _key_fields(host_id: str, vault: KeyVault, text: str) -> dict[str, str]:
    key = read_private_key(text)
    public = " ".join(key.export_public_key("openssh").decode().split()[:2])
    return {
        "encrypted_key": vault.seal(text, host_id),
        "public_key": public,
        "key_fingerprint": str(key.get_fingerprint("sha256")),
    }


def _pin_fields(line: str | None) -> dict[str, str | None]:
    if line is None:
        return {"host_key": None, "host_key_fingerprint": None}
    pinned = read_host_key(line)
    return {"host_key": pinned, "host_key_fingerprint": fingerprint(pinned)}


def problem_out(problem: Problem) -> ProblemOut:
    """``problem`` as a document inside an answer."""
    return ProblemOut(
        type=problem.type_uri(),
        title=problem.title,
        status=problem.status,
        detail=problem.detail,
        extensions=problem.extensions,
    )


class Hosts:
    """The registry of managed hosts and what is done to them over SSH."""

    def __init__(
        self,
        store: Store,
        vault: KeyVault,
        pool: SshPool,
        audit: AuditLog,
        *,
        engine_socket: str = "/var/run/docker.sock",
    ) -> None:
        self.store = store
        self.vault = vault
        self.pool = pool
        self.audit = audit
        self.engine_socket = engine_socket
        """The engine socket of a host that sets none (``remote_engine_socket``)."""

    # --- reading ---

    async def get(self, host_id: str) -> Host:
        """The host; 404 ``host-not-found`` if there is none."""
        host = await self.store.get(Host, host_id)
        if host is None:
            raise HostNotFound(f"{NO_HOST}: {host_id}")
        return host

    async def page(self, query: HostQuery) -> list[Host]:
        """A page of hosts by id, after ``query.after``, with all of ``query``'s labels."""
        where: dict[str, Any] = {}
        if query.after is not None:
            where["id"] = {"$gt": query.after}
        selector = query.selector()
        found: list[Host] = []
        async for host in self.store.scan(Host, where, sort=[Sort("id")]):
            if _matches(host, selector):
                found.append(host)
                if len(found) == query.limit:
                    break
        return found

    async def select(self, host_ids: list[str] | None, labels: dict[str, str] | None) -> list[Host]:
        """The hosts named by ``host_ids`` (every host when ``None``) that carry all of
        ``labels``, by id. An unknown id is a 404 ``host-not-found`` naming them all."""
        selector = labels or {}
        if host_ids is None:
            every = self.store.scan(Host, sort=[Sort("id")])
            return [h async for h in every if _matches(h, selector)]
        wanted = list(dict.fromkeys(host_ids))
        hosts: list[Host] = []
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            hosts.extend(
                (await self.store.find(Host, {"id": {"$in": chunk}}, limit=len(chunk))).items
            )
        missing = sorted(set(wanted) - {h.id for h in hosts})
        if missing:
            raise HostNotFound(
                f"{NO_HOST}: {', '.join(missing[:10])}", extensions={"host_ids": missing}
            )
        return sorted((h for h in hosts if _matches(h, selector)), key=lambda h: h.id)

    async def target(self, host_id: str) -> SshTarget:
        """How the pool reaches the host: its decrypted key and pinned host key.
        ``key-unreadable`` (503) when the key-encryption key is not the one it was
        sealed with."""
        host = await self.get(host_id)
        return self._target(host)

    def _target(self, host: Host) -> SshTarget:
        return SshTarget(
            host_id=host.id,
            address=host.address,
            port=host.port,
            user=host.user,
            private_key=self.vault.open(host.encrypted_key, host.id),
            host_key=host.host_key,
        )

    def engine_socket_of(self, host: Host) -> str:
        """The path of the host's engine socket (its own, or the service default)."""
        return host.engine_socket or self.engine_socket

    async def facts(self, host_id: str) -> Facts:
        """The facts gathered last; 404 ``facts-not-gathered`` when never."""
        host = await self.get(host_id)
        if host.facts is None:
            raise FactsNotGathered(f"no facts gathered for host {host_id} yet")
        return host.facts

    # --- changing ---

    async def create(self, actor: Actor, body: HostIn) -> Host:
        """Register a host; its key must parse (422), its name be free (409)."""
        host_id = new_id()
        detail = body.model_dump(exclude={"private_key"}, exclude_none=True)
        async with self.audit.audited(actor, "hosts.create", f"host:{host_id}", detail) as note:
            now = datetime.now(UTC)
            keys = _key_fields(host_id, self.vault, body.private_key.get_secret_value())
            note.detail["key_fingerprint"] = keys["key_fingerprint"]
            host = Host.model_validate(
                {
                    "id": host_id,
                    **body.model_dump(exclude={"private_key", "host_key"}),
                    **keys,
                    **_pin_fields(body.host_key),
                    "created_at": now,
                    "updated_at": now,
                }
            )
            return await self.store.insert(host)
        raise AssertionError("unreachable")  # pragma: no cover

    async def patch(self, actor: Actor, host_id: str, body: HostPatch) -> Host:
        """Change a host (see :class:`HostPatch`); stale pooled connections are closed."""
        given = body.model_fields_set
        detail = body.model_dump(include=given, exclude={"private_key"})
        if "private_key" in given:
            detail["private_key_changed"] = True
        async with self.audit.audited(actor, "hosts.update", f"host:{host_id}", detail):
            current = await self.get(host_id)
            update: dict[str, Any] = {
                name: getattr(body, name)
                for name in ("name", "address", "port", "user", "labels", "engine")
                if name in given and getattr(body, name) is not None
            }
            if "engine_socket" in given:
                update["engine_socket"] = body.engine_socket
            if "host_key" in given:
                update.update(_pin_fields(body.host_key))
            if body.private_key is not None:
                update.update(
                    _key_fields(current.id, self.vault, body.private_key.get_secret_value())
                )
            if not update:
                return current
            update["updated_at"] = datetime.now(UTC)
            try:
                changed = await self.store.modify(
                    Host, host_id, lambda host: host.model_copy(update=update)
                )
            except DocumentNotFound:
                raise HostNotFound(f"{NO_HOST}: {host_id}") from None
            if any(getattr(current, f) != getattr(changed, f) for f in RECONNECT):
                await self.pool.forget(host_id)
            return changed
        raise AssertionError("unreachable")  # pragma: no cover

    async def remove(self, actor: Actor, host_id: str) -> Host:
        """Remove a host and close its connections; the host as it was."""
        async with self.audit.audited(actor, "hosts.remove", f"host:{host_id}") as note:
            host = await self.get(host_id)
            note.detail["name"] = host.name
            if not await self.store.delete(Host, host_id):
                raise HostNotFound(f"{NO_HOST}: {host_id}")
            await self.pool.forget(host_id)
            return host
        raise AssertionError("unreachable")  # pragma: no cover

    async def pin(self, host_id: str, key_line: str) -> None:
        """Pin ``key_line`` as the host key of ``host_id`` unless one is pinned already
        (the pool's pin callback after a first contact). A different key pinned
        meanwhile raises ``host-key-mismatch``, so the pool drops that connection."""
        line = normalize_key(key_line)

        def pin_once(host: Host) -> Host:
            if host.host_key is not None:
                return host
            return host.model_copy(
                update={
                    "host_key": line,
                    "host_key_fingerprint": fingerprint(line),
                    "updated_at": datetime.now(UTC),
                }
            )

        try:
            pinned = await self.store.modify(Host, host_id, pin_once)
        except DocumentNotFound:
            raise HostNotFound(f"{NO_HOST}: {host_id}") from None
        if pinned.host_key != line:
            raise HostKeyMismatch(
                f"host {host_id} was pinned to another key meanwhile; nothing was sent to it",
                extensions={
                    "pinned_fingerprint": pinned.host_key_fingerprint,
                    "presented_fingerprint": fingerprint(line),
                },
            )
        await self.audit.record(
            SYSTEM, "hosts.pin", f"host:{host_id}", detail={"fingerprint": fingerprint(line)}
        )

    # --- over SSH ---

    async def test_connection(self, actor: Actor, host_id: str) -> ConnectionTest:
        """Log in and run ``uname -srm``: whether it worked, how long it took, the pinned
        host key (pinned now if it was not), or the typed problem that stopped it."""
        async with self.audit.audited(actor, "hosts.test", f"host:{host_id}") as note:
            host = await self.get(host_id)
            started = time.monotonic()
            try:
                result = await self.pool.run(
                    self._target(host), TEST_COMMAND, time_limit=TEST_TIME_LIMIT
                )
                if result.timed_out:
                    raise CommandTimedOut(f"`{TEST_COMMAND}` did not answer in time")
                if result.error is not None:
                    raise _unreachable(host_id, result.error)
                if not result.ok:
                    raise _unreachable(
                        host_id,
                        f"`{TEST_COMMAND}` exited with {result.exit_status}: "
                        f"{result.stderr.strip()[:200]}",
                    )
            except Problem as problem:
                if isinstance(problem, HostNotFound):
                    raise
                note.failed = True
                note.detail["error"] = problem.slug
                return ConnectionTest(
                    ok=False,
                    latency=None,
                    uname=None,
                    host_key_fingerprint=host.host_key_fingerprint,
                    error=problem_out(problem),
                )
            latency = time.monotonic() - started
            after = await self.get(host_id)
            note.detail["latency"] = round(latency, 4)
            return ConnectionTest(
                ok=True,
                latency=latency,
                uname=result.stdout.strip()[:256] or None,
                host_key_fingerprint=after.host_key_fingerprint,
                error=None,
            )
        raise AssertionError("unreachable")  # pragma: no cover

    async def gather_facts(self, actor: Actor, host_id: str) -> Facts:
        """Gather the host's facts with one command, store them, and return them.
        Connection failures are their problems (503/502/409), a timeout 504."""
        async with self.audit.audited(actor, "hosts.facts", f"host:{host_id}"):
            host = await self.get(host_id)
            command = facts_command(self.engine_socket_of(host))
            result = await self.pool.run(self._target(host), command, time_limit=FACTS_TIME_LIMIT)
            if result.timed_out:
                raise CommandTimedOut(f"gathering facts took over {FACTS_TIME_LIMIT:g} s")
            if result.error is not None:
                raise _unreachable(host_id, result.error)
            facts = parse_facts(result.stdout)
            try:
                await self.store.modify(
                    Host,
                    host_id,
                    lambda h: h.model_copy(update={"facts": facts, "facts_at": facts.gathered_at}),
                )
            except DocumentNotFound:
                raise HostNotFound(f"{NO_HOST}: {host_id}") from None
            return facts
        raise AssertionError("unreachable")  # pragma: no cover


def _unreachable(host_id: str, reason: str) -> Problem:
    return HostUnreachable(f"host {host_id}: {reason[:500] or 'the command failed'}")


def _matches(host: Host, selector: dict[str, str]) -> bool:
    return all(host.labels.get(k) == v for k, v in selector.items())
