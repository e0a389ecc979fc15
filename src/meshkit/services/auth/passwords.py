"""Password policy and hashing (NIST SP 800-63B §5.1.1.2, OWASP ASVS v4 V2.1 and V2.4).

**Policy.** Length is what makes a memorised secret hard to guess, and composition rules
("one digit, one symbol") mostly produce ``Password1!``; so the policy asks for length
only (at least 8 characters, long passphrases welcome) and instead refuses what attackers
try first: the most common passwords and words, the user's own names, one repeated
character or group, and runs like counting up. Length is counted in Unicode code points
after NFKC normalisation, the form that is hashed, so the rule measures what is stored
and users of any script are treated alike. Control characters, lone surrogates and
unassigned code points are refused: they are never typed on purpose, and the NFKC form
of an unassigned code point may change with a later Unicode version, which would lock
the user out. Messages explain the rule and never quote the password, because problem
documents end up in logs.

**Hashing.** bcrypt: deliberately slow with a tunable cost (``MESHKIT_AUTH_BCRYPT_COST``),
salted, widely reviewed, and one of the schemes OWASP's password storage cheat sheet
accepts. bcrypt reads at most 72 bytes (and
bcrypt 5 refuses more rather than truncating), while a passphrase can be 256 characters
of 4 bytes each; truncating would make every password sharing a 72-byte prefix
equivalent. So the password is first reduced to the base64 of its HMAC-SHA-256 (44
bytes, no NUL bytes, which some bcrypt implementations stop at). The HMAC key is fixed
and public: it is a domain separator, not a secret. Its point is that the pre-hash is not
a plain SHA-256, so an attacker holding this store cannot "shuck" it — test its bcrypt
hashes against the unsalted SHA-256 hashes leaked from other sites instead of against
passwords. Stored hashes carry a version prefix (``$mk1$``) so the scheme can change and
old hashes can be recognised and upgraded at the next login (:func:`needs_rehash`).

bcrypt burns a quarter of a second of CPU per call at cost 12, so it never runs on the
event loop. It runs in a dedicated pool of one thread per available core rather than
``asyncio.to_thread``'s default executor: bcrypt releases the GIL, so the threads run in
parallel, but more of them than cores would only make every login slower; and the
default executor also serves ``getaddrinfo`` and file I/O, which a burst of logins would
otherwise queue behind.

**Timing.** A login for an unknown account must take as long as a wrong password, or
the response time says which accounts exist (OWASP authentication cheat sheet):
:func:`burn_verify_time` performs a real bcrypt verification of the same cost.
"""

from __future__ import annotations

import asyncio
import base64
import functools
import hashlib
import hmac
import itertools
import os
import re
import secrets
import unicodedata
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from importlib import resources
from typing import TypeVar, TypeVarTuple

import bcrypt

from meshkit.errors import FieldError, ValidationFailed
from meshkit.services.auth.settings import AuthSettings

__all__ = [
    "MAX_LENGTH_FLOOR",
    "MIN_LENGTH_FLOOR",
    "PREFIX",
    "PasswordPolicy",
    "WeakPassword",
    "burn_verify_time",
    "common_passwords",
    "hash_password",
    "needs_rehash",
    "normalize",
    "verify_password",
]

MIN_LENGTH_FLOOR = 8  # NIST SP 800-63B: at least 8 characters
MAX_LENGTH_FLOOR = 64  # NIST SP 800-63B: allow at least 64
PREFIX = "$mk1$"
PREHASH_KEY = b"meshkit/bcrypt/v1"
PASSWORD_LOC: tuple[str, ...] = ("body", "password")
MIN_COST, MAX_COST = 4, 31
CONTEXT_MIN = 4  # context values this long are refused anywhere inside the password
REPEATED_UNIT_MAX = 4  # "abababab", "12341234": a group this short, repeated

_STORED = re.compile(r"\$mk1\$(?P<bcrypt>\$2[aby]\$(?P<cost>[0-9]{2})\$[./A-Za-z0-9]{53})")
_SEPARATORS = re.compile(r"[\s._+\-@]+")
_REFUSED_CATEGORIES = frozenset({"Cc", "Cs", "Cn"})  # control, lone surrogate, unassigned
_DATA_PACKAGE = "meshkit.services.auth"
_DATA_FILE = "data/common-passwords.txt"

_T = TypeVar("_T")
_Ts = TypeVarTuple("_Ts")


class WeakPassword(ValidationFailed):
    """A new password breaks the policy; ``errors`` lists every rule (never the password).

    A :class:`ValidationFailed` (422) with its own ``type``, so clients can show the
    messages next to the password field.
    """

    slug = "weak-password"
    title = "Password does not meet the policy"

    def __init__(self, errors: Sequence[FieldError], detail: str | None = None) -> None:
        reasons = "; ".join(str(error["message"]) for error in errors)
        super().__init__(errors, detail or f"choose another password: {reasons}")


@functools.cache
def common_passwords() -> frozenset[str]:
    """The bundled blocklist (``data/README.md`` says where it comes from), loaded once.

    Entries shorter than :data:`MIN_LENGTH_FLOOR` are dropped: no policy accepts them.
    """
    text = resources.files(_DATA_PACKAGE).joinpath(_DATA_FILE).read_text(encoding="utf-8")
    words = (normalize(line).strip().casefold() for line in text.splitlines())
    return frozenset(word for word in words if len(word) >= MIN_LENGTH_FLOOR)


def normalize(password: str) -> str:
    """NFKC, as NIST asks: the same password typed on another keyboard is the same."""
    return unicodedata.normalize("NFKC", password)


def _context_words(value: str) -> set[str]:
    """A username or email and what is derived from it: local part, pieces, pieces joined."""
    folded = normalize(value).strip().casefold()
    if "@" in folded:
        folded = folded.rpartition("@")[0]
    pieces = [piece for piece in _SEPARATORS.split(folded) if piece]
    words = {folded, "".join(pieces)}
    words.update(piece for piece in pieces if len(piece) >= CONTEXT_MIN)
    return {word for word in words if word}


def _repeated(text: str) -> bool:
    """One character, or a group of up to four, repeated over the whole password."""
    size = len(text)
    for unit in range(1, REPEATED_UNIT_MAX + 1):
        if size >= 2 * unit and text == (text[:unit] * (size // unit + 1))[:size]:
            return True
    return False


def _sequential(text: str) -> bool:
    """Consecutive code points all the way, up or down ("abcdefgh", "98765432")."""
    steps = {ord(b) - ord(a) for a, b in itertools.pairwise(text)}
    return steps in ({1}, {-1})


class PasswordPolicy:
    """The rules a new password must satisfy (existing ones are only verified).

    ``min_length`` is at least 8 and ``max_length`` at least 64 (NIST SP 800-63B).
    """

    def __init__(self, min_length: int = 8, max_length: int = 256) -> None:
        if min_length < MIN_LENGTH_FLOOR:
            raise ValueError(f"min_length must be at least {MIN_LENGTH_FLOOR}")
        if max_length < max(MAX_LENGTH_FLOOR, min_length):
            raise ValueError(f"max_length must be at least {MAX_LENGTH_FLOOR} and min_length")
        self.min_length = min_length
        self.max_length = max_length

    @classmethod
    def from_settings(cls, settings: AuthSettings) -> PasswordPolicy:
        """``MESHKIT_AUTH_PASSWORD_MIN_LENGTH`` and ``MESHKIT_AUTH_PASSWORD_MAX_LENGTH``."""
        return cls(settings.password_min_length, settings.password_max_length)

    def problems(self, password: str, *, context: Sequence[str] = ()) -> list[str]:
        """Every rule ``password`` breaks, as messages for its owner (empty: acceptable).

        ``context`` holds the user's username and email (or its local part): the
        password may not equal them, nor contain those of at least four characters.
        """
        return [message for _, message in self._findings(password, context)]

    def check(
        self,
        password: str,
        *,
        context: Sequence[str] = (),
        loc: Sequence[str | int] = PASSWORD_LOC,
    ) -> None:
        """Raise :class:`WeakPassword` listing every broken rule.

        ``loc`` names the request field in the errors (``("body", "new_password")`` for
        a password change).
        """
        found = self._findings(password, context)
        if found:
            raise WeakPassword([FieldError.of(loc, message, code) for code, message in found])

    def _findings(self, password: str, context: Sequence[str]) -> list[tuple[str, str]]:
        text = normalize(password)
        found: list[tuple[str, str]] = []
        if any(unicodedata.category(char) in _REFUSED_CATEGORIES for char in text):
            found.append(
                (
                    "password_invalid_characters",
                    "use only printable characters: letters, digits, symbols, spaces and "
                    "emoji are fine, control characters are not",
                )
            )
        if len(text) > self.max_length:
            # Nothing else is worth computing on an over-long input.
            found.append(("password_max_length", f"use at most {self.max_length} characters"))
            return found
        if len(text) < self.min_length:
            found.append(
                (
                    "password_min_length",
                    f"use at least {self.min_length} characters; a few unrelated words "
                    "make a long password that is easy to remember",
                )
            )
        folded = text.casefold()
        if folded in common_passwords():
            found.append(
                (
                    "password_common",
                    "this is one of the most commonly used passwords or words, the first an "
                    "attacker tries; choose something less predictable",
                )
            )
        if any(
            folded == word or (len(word) >= CONTEXT_MIN and word in folded)
            for value in context
            for word in _context_words(value)
        ):
            found.append(
                (
                    "password_contains_username",
                    "do not use your username or email address in the password",
                )
            )
        if len(folded) >= 2 and _repeated(folded):
            found.append(
                (
                    "password_repetitive",
                    "do not repeat a single character or a short group of characters",
                )
            )
        elif len(folded) >= 3 and _sequential(folded):
            found.append(
                (
                    "password_sequential",
                    "do not use a run of consecutive letters or digits (counting up or down)",
                )
            )
        return found


# Hashing


def _cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


@functools.cache
def _executor() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=max(1, _cpu_count()), thread_name_prefix="bcrypt")


async def _off_loop(function: Callable[[*_Ts], _T], *args: *_Ts) -> _T:
    return await asyncio.get_running_loop().run_in_executor(_executor(), function, *args)


def _prehash(password: str) -> bytes:
    # surrogatepass: a lone surrogate (possible in JSON) must hash, not raise.
    data = normalize(password).encode("utf-8", "surrogatepass")
    return base64.b64encode(hmac.digest(PREHASH_KEY, data, hashlib.sha256))


def _hash(password: str, cost: int) -> str:
    return PREFIX + bcrypt.hashpw(_prehash(password), bcrypt.gensalt(cost)).decode("ascii")


def _check(password: str, hashed: bytes) -> bool:
    try:
        return bcrypt.checkpw(_prehash(password), hashed)
    except ValueError:  # a hash that looks right but bcrypt refuses
        return False


async def hash_password(password: str, cost: int) -> str:
    """The stored form of ``password``: ``$mk1$`` and a bcrypt hash of its keyed pre-hash.

    Runs in the bcrypt thread pool. Apply :class:`PasswordPolicy` first.
    """
    if not MIN_COST <= cost <= MAX_COST:
        raise ValueError(f"bcrypt cost must be between {MIN_COST} and {MAX_COST}")
    return await _off_loop(_hash, password, cost)


async def verify_password(password: str, stored: str) -> bool:
    """Whether ``password`` matches ``stored`` (``bcrypt.checkpw``: constant-time).

    A malformed or foreign ``stored`` value is ``False``, never an exception.
    """
    match = _STORED.fullmatch(stored)
    if match is None:
        return False
    return await _off_loop(_check, password, match["bcrypt"].encode("ascii"))


def needs_rehash(stored: str, cost: int) -> bool:
    """Whether ``stored`` should be replaced at the next successful login.

    True for another scheme, a malformed value, or a cost other than ``cost``.
    """
    match = _STORED.fullmatch(stored)
    return match is None or int(match["cost"]) != cost


_dummy_hashes: dict[int, str] = {}


async def burn_verify_time(cost: int) -> None:
    """Spend what :func:`verify_password` spends on a hash of ``cost``, for nothing.

    Call it where an unknown account would otherwise answer faster than a wrong
    password. The hash it verifies against is made once per cost (the first call costs
    one extra hash: call it at start-up to prepare it).
    """
    stored = _dummy_hashes.get(cost)
    if stored is None:
        stored = _dummy_hashes.setdefault(
            cost, await hash_password(secrets.token_urlsafe(32), cost)
        )
    await verify_password("not the password", stored)
