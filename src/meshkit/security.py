"""Service identity: the API keys that internal gRPC and REST calls carry.

A key is a random secret (``mk_`` + 43 url-safe characters, 256 bits). Only SHA-256
digests are kept at rest and in configuration: a key of that entropy cannot be guessed
from its digest, so a slow password hash would add nothing but latency to every call.
Presented keys are compared against every known digest in constant time.

Where the keys come from: ``MESHKIT_SERVICE_API_KEY`` (the key this process sends), or,
when unset, a key generated once into ``<data dir>/service-api-key`` (mode 0600) that
every process on that directory shares; ``MESHKIT_SERVICE_API_KEY_HASHES`` adds digests
of further keys to accept. The auth service issues and revokes keys at run time through
:meth:`KeyRing.add` and :meth:`KeyRing.revoke`.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import os
import re
import secrets
import stat
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from redis.asyncio import Redis

from meshkit.config import ConfigError, Settings
from meshkit.errors import Unauthenticated
from meshkit.files import private_dir, write_private

API_KEY_HEADER = "X-Meshkit-Api-Key"
"""HTTP header of internal REST calls."""
API_KEY_METADATA = "x-meshkit-api-key"
"""gRPC metadata key of internal calls."""
KEY_PREFIX = "mk_"
KEY_FILE = "service-api-key"
ACTIVE_KEYS = "meshkit:auth:api_keys"
"""Redis hash: digest → JSON ``{"key_id", "name", "scopes"}`` of keys the auth service issued."""
SYNC_EVERY = 5.0
DIGEST = re.compile(r"^[0-9a-f]{64}$")
MIN_KEY_LENGTH = 32


class InvalidApiKey(Unauthenticated):
    """An internal call came without a service API key, or with one that is not accepted."""

    slug = "invalid-api-key"
    title = "Missing or invalid service API key"


def generate_key() -> str:
    """A new service API key."""
    return KEY_PREFIX + secrets.token_urlsafe(32)


def digest_of(key: str) -> str:
    """The SHA-256 hex digest under which ``key`` is stored and configured."""
    return hashlib.sha256(key.encode()).hexdigest()


def key_id(digest: str) -> str:
    """A short, non-secret name of a key for logs and metrics."""
    return digest[:12]


@dataclass(frozen=True)
class KeyIdentity:
    """Who presented a key: its id and, for issued keys, what it may call."""

    key_id: str
    scopes: frozenset[str] | None
    """``None``: unrestricted (this deployment's own keys); else ``service:<name>``,
    ``service:*`` or ``*`` entries."""

    def allows(self, service: str) -> bool:
        """Whether the key may call ``service``."""
        if self.scopes is None:
            return True
        return bool({"*", "service:*", f"service:{service}"} & self.scopes)


class KeyRing:
    """The digests of the service API keys a process accepts.

    Keys configured for the deployment are unrestricted. Keys the auth service issues
    carry scopes and arrive through :meth:`sync` from the Redis hash :data:`ACTIVE_KEYS`;
    revoking one there takes effect everywhere within :data:`SYNC_EVERY` seconds.
    """

    def __init__(self, digests: Iterable[str] = ()) -> None:
        self._digests: dict[str, frozenset[str] | None] = {}
        self._issued: set[str] = set()
        for digest in digests:
            self.add(digest)

    def add(self, digest: str, scopes: Iterable[str] | None = None) -> None:
        """Accept the key whose SHA-256 hex digest is ``digest`` (limited to ``scopes``)."""
        normalized = digest.strip().lower()
        if not DIGEST.match(normalized):
            raise ValueError("a service API key digest is 64 hexadecimal characters")
        self._digests[normalized] = None if scopes is None else frozenset(scopes)

    def revoke(self, digest: str) -> None:
        """Stop accepting a key; unknown digests are ignored."""
        self._digests.pop(digest.strip().lower(), None)

    def __len__(self) -> int:
        return len(self._digests)

    def identify(self, presented: str | None) -> KeyIdentity | None:
        """Who ``presented`` belongs to, or ``None`` when it is not accepted.

        Every known digest is compared (no early exit), each in constant time.
        """
        if not presented:
            return None
        candidate = digest_of(presented)
        matched: str | None = None
        for digest in list(self._digests):
            if hmac.compare_digest(candidate, digest):
                matched = digest
        if matched is None:
            return None
        return KeyIdentity(key_id(matched), self._digests.get(matched))

    def verify(self, presented: str | None) -> str | None:
        """The key id of ``presented`` when it is accepted, else ``None``."""
        identity = self.identify(presented)
        return identity.key_id if identity is not None else None

    def require(self, presented: str | None, service: str | None = None) -> KeyIdentity:
        """Like :meth:`identify`, raising :class:`InvalidApiKey` when not accepted (or
        when its scopes do not include ``service``)."""
        identity = self.identify(presented)
        if identity is None:
            detail = "no service API key given" if not presented else "service API key rejected"
            raise InvalidApiKey(detail, headers={"WWW-Authenticate": "ApiKey"})
        if service is not None and not identity.allows(service):
            raise InvalidApiKey(
                f"this service API key may not call {service}",
                headers={"WWW-Authenticate": "ApiKey"},
            )
        return identity

    async def sync(self, redis: Redis) -> None:
        """Replace the issued keys by the auth service's current set in Redis."""
        entries = await redis.hgetall(ACTIVE_KEYS)
        current: dict[str, frozenset[str]] = {}
        for raw_digest, raw_entry in entries.items():
            digest = raw_digest.decode() if isinstance(raw_digest, bytes) else str(raw_digest)
            try:
                scopes = json.loads(raw_entry).get("scopes", [])
            except (ValueError, AttributeError):
                continue
            if DIGEST.match(digest) and isinstance(scopes, list):
                current[digest] = frozenset(str(s) for s in scopes)
        local = {d for d, scopes in self._digests.items() if scopes is None}
        for gone in self._issued - set(current) - local:
            self._digests.pop(gone, None)
        for digest, scopes in current.items():
            if digest not in local:  # a key also configured locally stays unrestricted
                self._digests[digest] = scopes
        self._issued = set(current)


def local_service_key(settings: Settings) -> str:
    """This process's key: ``MESHKIT_SERVICE_API_KEY`` or the data directory's key file.

    The key file must be a regular file owned by this user and unreadable by others;
    anything else (a symlink, loose permissions) is refused rather than trusted, since
    whoever controls the file chooses the key every service accepts.
    """
    if settings.service_api_key is not None:
        value = settings.service_api_key.get_secret_value().strip()
        if len(value) < MIN_KEY_LENGTH:
            raise ConfigError(
                f"MESHKIT_SERVICE_API_KEY: must be at least {MIN_KEY_LENGTH} random "
                "characters (meshkit's own keys are `mk_` + 43)"
            )
        return value
    path = private_dir(Path(settings.data_dir)) / KEY_FILE
    if not path.exists():
        _create_key_file(path)
    return _read_key_file(path)


def _create_key_file(path: Path) -> None:
    # Written aside, then linked into place: a concurrent process either wins the link
    # or reads the complete key of the one that did, never a partial file.
    draft = path.with_name(f".{KEY_FILE}.{os.getpid()}.{secrets.token_hex(4)}")
    write_private(draft, generate_key(), exclusive=True)
    try:
        os.link(draft, path)
    except FileExistsError:
        pass
    except OSError:
        # No hard links on this file system: fall back to an exclusive rename-free create.
        with contextlib.suppress(FileExistsError):
            write_private(path, draft.read_text(), exclusive=True)
    finally:
        draft.unlink()


def _read_key_file(path: Path) -> str:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot open the service API key file ({exc})") from None
    with os.fdopen(fd) as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise ConfigError(f"{path}: the service API key file is not a regular file")
        if info.st_uid != os.geteuid() or info.st_mode & 0o077:
            raise ConfigError(
                f"{path}: the service API key file must be owned by this user with mode "
                "0600; fix it or delete it and meshkit will create a new key"
            )
        key = handle.read().strip()
    if len(key) < MIN_KEY_LENGTH:
        raise ConfigError(f"{path} holds no valid key: delete it and meshkit will create one")
    return key


def keyring_for(settings: Settings) -> KeyRing:
    """The keys a process accepts: its own plus ``MESHKIT_SERVICE_API_KEY_HASHES``."""
    ring = KeyRing([digest_of(local_service_key(settings))])
    for entry in (settings.service_api_key_hashes or "").split(","):
        if entry.strip():
            try:
                ring.add(entry)
            except ValueError as exc:
                raise ConfigError(f"MESHKIT_SERVICE_API_KEY_HASHES: {exc}") from None
    return ring
