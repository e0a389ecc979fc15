"""Password policy and hashing (NIST SP 800-63B §5.1.1, OWASP ASVS V2).

The policy asks for length, not composition: at least 8 characters (NFKC, counted in
code points), long passphrases allowed, and refuses what attackers try first — the most
common passwords, the user's own names, repeats and runs.

Hashes are bcrypt. bcrypt reads at most 72 bytes (and bcrypt 5 refuses more), so the
password is first reduced to a 44-byte base64 HMAC-SHA-256 under a fixed, meshkit-specific
key: long passwords count in full, and unlike a bare SHA-256 the pre-hash cannot be
"shucked" against unsalted SHA-256 hashes leaked from other sites. Stored hashes carry
the prefix ``$mk1$`` so the scheme can change later. bcrypt runs in a small thread pool:
it releases the GIL, and the pool bounds how many hashes compete for the cores.
"""

from __future__ import annotations

import asyncio
import base64
import functools
import hashlib
import hmac
import itertools
import os
import unicodedata
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from importlib import resources

import bcrypt

from meshkit.errors import FieldError, ValidationFailed
from meshkit.services.auth.settings import AuthSettings

PREFIX = "$mk1$"
PEPPER = b"meshkit/bcrypt/v1"
_pool = ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2), thread_name_prefix="bcrypt")


class WeakPassword(ValidationFailed):
    """The password does not meet the policy; ``errors`` says why (never echoing it)."""

    slug = "weak-password"
    title = "Password does not meet the policy"


@functools.cache
def common_passwords() -> frozenset[str]:
    """The bundled list (see ``data/README.md``), loaded once."""
    text = resources.files("meshkit.services.auth").joinpath("data/common-passwords.txt")
    return frozenset(line.strip() for line in text.read_text().splitlines() if line.strip())


def normalize(password: str) -> str:
    """NFKC, as NIST asks, so equivalent spellings hash the same."""
    return unicodedata.normalize("NFKC", password)


def _monotonous(password: str) -> bool:
    if len(set(password)) == 1:
        return True
    steps = {ord(b) - ord(a) for a, b in itertools.pairwise(password)}
    return len(steps) == 1 and steps <= {1, -1}


class PasswordPolicy:
    """What a new password must satisfy."""

    def __init__(self, min_length: int = 8, max_length: int = 256) -> None:
        self.min_length = min_length
        self.max_length = max_length

    @classmethod
    def from_settings(cls, settings: AuthSettings) -> PasswordPolicy:
        """``MESHKIT_AUTH_PASSWORD_MIN_LENGTH`` / ``_MAX_LENGTH``."""
        return cls(settings.password_min_length, settings.password_max_length)

    def problems(self, password: str, *, context: Sequence[str] = ()) -> list[str]:
        """Every rule ``password`` breaks, as messages for its owner."""
        text = normalize(password)
        folded = text.casefold()
        found = []
        if len(text) < self.min_length:
            found.append(f"use at least {self.min_length} characters")
        if len(text) > self.max_length:
            found.append(f"use at most {self.max_length} characters")
        if folded in common_passwords():
            found.append("this is one of the most common passwords; choose another")
        for value in context:
            name = normalize(value).casefold()
            if len(name) >= 4 and name in folded:
                found.append("do not build the password from your username or email")
                break
        if len(text) >= 2 and _monotonous(text):
            found.append("avoid repeated or sequential characters only")
        return found

    def check(self, password: str, *, context: Sequence[str] = ()) -> None:
        """Raise :class:`WeakPassword` (422) listing every broken rule."""
        found = self.problems(password, context=context)
        if found:
            raise WeakPassword(
                [FieldError.of(("body", "password"), message, "weak_password") for message in found]
            )


def _prehash(password: str) -> bytes:
    digest = hmac.new(PEPPER, normalize(password).encode(), hashlib.sha256).digest()
    return base64.b64encode(digest)


def _hash(password: str, cost: int) -> str:
    return PREFIX + bcrypt.hashpw(_prehash(password), bcrypt.gensalt(cost)).decode()


def _verify(password: str, stored: str) -> bool:
    if not stored.startswith(PREFIX):
        return False
    try:
        return bcrypt.checkpw(_prehash(password), stored[len(PREFIX) :].encode())
    except ValueError:
        return False


async def hash_password(password: str, cost: int) -> str:
    """The stored form of ``password`` (off the event loop)."""
    return await asyncio.get_running_loop().run_in_executor(_pool, _hash, password, cost)


async def verify_password(password: str, stored: str) -> bool:
    """Whether ``password`` matches ``stored`` (constant-time; ``False`` if malformed)."""
    return await asyncio.get_running_loop().run_in_executor(_pool, _verify, password, stored)


def needs_rehash(stored: str, cost: int) -> bool:
    """Whether ``stored`` uses another scheme or cost than configured now."""
    if not stored.startswith(PREFIX):
        return True
    try:
        return int(stored[len(PREFIX) :].split("$")[2]) != cost
    except (IndexError, ValueError):
        return True


@functools.cache
def _dummy(cost: int) -> str:
    return _hash("meshkit timing equaliser", cost)


async def burn_verify_time(cost: int) -> None:
    """Spend what verifying a password costs, for logins of accounts that do not exist."""
    loop = asyncio.get_running_loop()
    stored = await loop.run_in_executor(_pool, _dummy, cost)
    await loop.run_in_executor(_pool, _verify, "not the password", stored)
