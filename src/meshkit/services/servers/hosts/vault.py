"""The hosts' SSH private keys, encrypted at rest.

Contract:

- A secret is sealed with AES-256-GCM under a key derived (HKDF-SHA256) from the
  key-encryption key (KEK): ``MESHKIT_SERVERS_KEY_ENCRYPTION_KEY`` (32 characters or
  more), or else 32 random bytes made once in ``<data_dir>/servers/kek`` (a 0600 file in a
  0700 directory, whatever the umask).
- Sealed text is ``mkv1.<key id>.<base64url(nonce ‖ ciphertext ‖ tag)>``: versioned, and
  naming the KEK it needs by a key id (a hash of the KEK, which says nothing about it).
  ``context`` (the host id) is bound in as associated data, so a sealed key copied onto
  another host does not open.
- Opening with another KEK, or a damaged value, raises
  :class:`~meshkit.services.servers.errors.KeyUnreadable` (with both key ids), never a
  crash. Neither the KEK nor a plaintext is ever logged or put in an error.
"""

from __future__ import annotations

import base64
import contextlib
import os
import secrets
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from meshkit.config import ConfigError
from meshkit.files import open_private, private_dir, write_private
from meshkit.services.servers.errors import KeyUnreadable
from meshkit.services.servers.settings import ServersSettings

VERSION = "mkv1"
KEK_FILE = "kek"
MIN_KEK_LENGTH = 32
NONCE_BYTES = 12
_INFO = b"meshkit servers: host private keys v1"
_ID_INFO = b"meshkit servers: key id v1"


def _derive(material: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(material)


class KeyVault:
    """Seals and opens secrets (the hosts' private keys) under one KEK."""

    def __init__(self, material: bytes) -> None:
        if len(material) < MIN_KEK_LENGTH:
            raise ConfigError(
                f"MESHKIT_SERVERS_KEY_ENCRYPTION_KEY: must be at least {MIN_KEK_LENGTH} "
                "characters (random text; it is stretched with HKDF-SHA256)"
            )
        self._aead = AESGCM(_derive(material, _INFO))
        self.key_id = _derive(material, _ID_INFO)[:8].hex()
        """Names the KEK in sealed values (16 hex digits), so a changed KEK is detected."""

    def __repr__(self) -> str:
        return f"KeyVault(key_id={self.key_id!r})"

    @classmethod
    def from_settings(cls, settings: ServersSettings, data_dir: Path) -> KeyVault:
        """The vault of ``MESHKIT_SERVERS_KEY_ENCRYPTION_KEY``, or of the data directory's
        ``servers/kek`` file (made on first use)."""
        if settings.key_encryption_key is not None:
            return cls(settings.key_encryption_key.get_secret_value().encode())
        return cls(load_kek_file(Path(data_dir) / "servers" / KEK_FILE))

    def seal(self, plaintext: str, context: str) -> str:
        """``plaintext`` encrypted, bound to ``context`` (the same is needed to open it)."""
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, plaintext.encode(), self._aad(context))
        payload = base64.urlsafe_b64encode(nonce + sealed).decode().rstrip("=")
        return f"{VERSION}.{self.key_id}.{payload}"

    def open(self, sealed: str, context: str) -> str:
        """The plaintext of :meth:`seal`'s output; :class:`KeyUnreadable` when it was
        sealed under another KEK or for another ``context``, or is damaged."""
        version, _, rest = sealed.partition(".")
        key_id, _, payload = rest.partition(".")
        ids = {"key_id": key_id or None, "current_key_id": self.key_id}
        if version != VERSION or not payload:
            raise KeyUnreadable("the stored key is not in a known format", extensions=ids)
        if key_id != self.key_id:
            raise KeyUnreadable(
                f"the stored key was encrypted under another key-encryption key "
                f"({key_id}; this service has {self.key_id})",
                extensions=ids,
            )
        try:
            raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
            nonce, body = raw[:NONCE_BYTES], raw[NONCE_BYTES:]
            return self._aead.decrypt(nonce, body, self._aad(context)).decode()
        except (ValueError, InvalidTag, UnicodeDecodeError):
            raise KeyUnreadable(
                "the stored key does not decrypt (damaged, or not this host's)", extensions=ids
            ) from None

    @staticmethod
    def _aad(context: str) -> bytes:
        return f"{VERSION}:{context}".encode()


def load_kek_file(path: Path) -> bytes:
    """The KEK in ``path`` (base64url of 32 random bytes), made first if missing.

    The directory is made ``0700`` and the file ``0600`` (tightened with a warning if an
    older copy was looser). Concurrent first starts agree on one key: each writes a
    draft and links it into place; the loser reads the winner's.
    """
    private_dir(path.parent)
    if not path.exists():
        draft = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        write_private(draft, base64.urlsafe_b64encode(os.urandom(32)).decode(), exclusive=True)
        try:
            with contextlib.suppress(FileExistsError):
                os.link(draft, path)
        finally:
            draft.unlink()
    try:
        with os.fdopen(open_private(path, os.O_RDONLY), encoding="ascii") as handle:
            text = handle.read().strip()
        material = base64.urlsafe_b64decode(text)
    except (OSError, ValueError) as exc:
        raise ConfigError(
            f"{path}: cannot read the servers' key-encryption key ({type(exc).__name__}); "
            "restore it from a backup (deleting it makes the stored host keys unreadable)"
        ) from None
    if len(material) != 32:
        raise ConfigError(f"{path} does not hold a 32-byte key; restore it from a backup")
    return material
