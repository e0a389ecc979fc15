"""What the auth service stores, and the shapes of its API."""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime
from typing import Annotated, Any, ClassVar

from pydantic import AfterValidator, BaseModel, Field, HttpUrl, SecretStr

from meshkit.store import Document, Index

USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{2,31}$")
EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")
PERMISSION = re.compile(r"^(\*|[a-z][a-z0-9_-]*:(\*|[a-z0-9_.-]+(\.\*)?))$")
ROLE_NAME = re.compile(r"^[a-z][a-z0-9_-]{1,31}$")
SCOPE = re.compile(r"\*|service:(\*|[a-z][a-z0-9_]{0,31})")
"""An API key scope: ``service:<name>``, ``service:*`` or ``*`` (matched whole)."""
SCOPE_RULE = "a scope is 'service:<name>' (name: a-z, 0-9, _; up to 32), 'service:*' or '*'"
BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)


def normalize_email(value: str) -> str:
    """The form an email is unique in: NFKC, trimmed, lower-cased."""
    return unicodedata.normalize("NFKC", value).strip().lower()


def normalize_username(value: str) -> str:
    """The form a username is unique in (``Ada`` and ``ada`` are the same account)."""
    return unicodedata.normalize("NFKC", value).strip().casefold()


def _email(value: str) -> str:
    value = normalize_email(value)
    if len(value) > 254 or not EMAIL.match(value):
        raise ValueError("not a valid email address")
    return value


def _username(value: str) -> str:
    value = unicodedata.normalize("NFKC", value).strip()
    if not USERNAME.match(value):
        raise ValueError(
            "3-32 characters: letters, digits, '.', '_' or '-', starting with a letter or digit"
        )
    return value


def _permission(value: str) -> str:
    if not PERMISSION.match(value):
        raise ValueError("a permission looks like 'service:action', 'service:*' or '*'")
    return value


def _scope(value: str) -> str:
    if not SCOPE.fullmatch(value):
        raise ValueError(SCOPE_RULE)
    return value


def check_scopes(scopes: list[str]) -> list[str]:
    """The scopes if there is at least one and each is well-formed; ``ValueError`` else."""
    if not scopes:
        raise ValueError("an API key needs at least one scope")
    for scope in scopes:
        _scope(scope)
    return scopes


def _display_name(value: str | None) -> str | None:
    if value is not None and any(
        unicodedata.category(c) in ("Cc", "Cs") or c in BIDI_CONTROLS for c in value
    ):
        raise ValueError("must not contain control characters")
    return value


Email = Annotated[str, AfterValidator(_email)]
Username = Annotated[str, AfterValidator(_username)]
Permission = Annotated[str, AfterValidator(_permission)]
RoleName = Annotated[str, Field(pattern=ROLE_NAME.pattern)]
Scope = Annotated[str, Field(max_length=40), AfterValidator(_scope)]
DisplayName = Annotated[str | None, Field(max_length=64), AfterValidator(_display_name)]


# Stored documents


class User(Document):
    """An account. ``email`` and ``username_key`` are the normalised unique forms."""

    collection: ClassVar[str] = "auth_users"
    indexes: ClassVar[tuple[Index, ...]] = (
        Index("email", unique=True),
        Index("username_key", unique=True),
    )
    email: str
    username: str
    username_key: str
    password_hash: str
    display_name: str | None = None
    avatar_url: str | None = None
    created_at: datetime
    updated_at: datetime
    password_changed_at: datetime
    disabled: bool = False


class Role(Document):
    """A named set of permissions."""

    collection: ClassVar[str] = "auth_roles"
    indexes: ClassVar[tuple[Index, ...]] = (Index("name", unique=True),)
    name: str
    description: str = ""
    permissions: list[str] = Field(default_factory=list)
    builtin: bool = False


class RoleAssignment(Document):
    """One role held by one user."""

    collection: ClassVar[str] = "auth_role_assignments"
    indexes: ClassVar[tuple[Index, ...]] = (
        Index("user_id", "role", unique=True),
        Index("role", "assigned_at"),
    )
    user_id: str
    role: str
    assigned_at: datetime
    assigned_by: str | None = None


class Session(Document):
    """A login: the family of refresh tokens rotated from it.

    Only hashes of refresh tokens are kept: ``refresh_hash`` is the one valid now,
    ``used_hashes`` the ones already exchanged (presenting one again is reuse).
    """

    collection: ClassVar[str] = "auth_sessions"
    indexes: ClassVar[tuple[Index, ...]] = (Index("user_id", "created_at"),)
    user_id: str
    created_at: datetime
    expires_at: datetime
    last_used_at: datetime
    refresh_hash: str
    used_hashes: list[str] = Field(default_factory=list)
    access_jti: str
    access_expires_at: datetime
    revoked_at: datetime | None = None
    revoke_reason: str | None = None
    user_agent: str | None = None
    ip: str | None = None


class ResetToken(Document):
    """A single-use password-reset token (its hash)."""

    collection: ClassVar[str] = "auth_reset_tokens"
    indexes: ClassVar[tuple[Index, ...]] = (
        Index("token_hash", unique=True),
        Index("user_id", "created_at"),
    )
    user_id: str
    token_hash: str
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None = None


class ApiKey(Document):
    """A service API key (its SHA-256 digest); the key itself is shown once."""

    collection: ClassVar[str] = "auth_api_keys"
    indexes: ClassVar[tuple[Index, ...]] = (
        Index("digest", unique=True),
        Index("created_at"),
    )
    name: str
    digest: str
    prefix: str
    scopes: list[str] = Field(default_factory=list)
    created_at: datetime
    created_by: str | None = None
    revoked_at: datetime | None = None


class SigningKey(Document):
    """A token-signing key pair. Retired keys keep verifying until their tokens expire."""

    collection: ClassVar[str] = "auth_signing_keys"
    indexes: ClassVar[tuple[Index, ...]] = (Index("created_at"),)
    kid: str
    algorithm: str
    private_jwk: dict[str, Any]
    public_jwk: dict[str, Any]
    created_at: datetime
    retired_at: datetime | None = None
    activates_at: datetime | None = None
    """When it starts signing (``None``: from its creation). A rotated key is published
    in the JWKS at once but signs only from then on, so verifiers have fetched it."""


# API shapes


class RegisterIn(BaseModel):
    """A new account."""

    email: Email
    username: Username
    password: SecretStr = Field(description="At least 8 characters; common passwords are refused.")
    display_name: DisplayName = None


class LoginIn(BaseModel):
    """Credentials: ``login`` is the email or the username."""

    login: str = Field(min_length=1, max_length=254)
    password: SecretStr = Field(max_length=4096)


class RefreshIn(BaseModel):
    """A refresh token to exchange."""

    refresh_token: SecretStr = Field(max_length=512)


class TokenOut(BaseModel):
    """Tokens of a session (RFC 6749 field names)."""

    access_token: str
    refresh_token: str
    token_type: str = "Bearer"
    expires_in: int
    session_id: str


class UserOut(BaseModel):
    """An account as its owner (or an admin) sees it."""

    id: str
    email: str
    username: str
    display_name: str | None
    avatar_url: str | None
    roles: list[str]
    created_at: datetime


class ProfilePatch(BaseModel):
    """Profile changes; omitted fields stay as they are, ``null`` clears them."""

    display_name: DisplayName = None
    avatar_url: HttpUrl | None = None


class PasswordChangeIn(BaseModel):
    """Change one's password while logged in."""

    current_password: SecretStr = Field(max_length=4096)
    new_password: SecretStr = Field(max_length=4096)


class DeleteAccountIn(BaseModel):
    """Deleting an account needs the password again."""

    password: SecretStr = Field(max_length=4096)


class ResetRequestIn(BaseModel):
    """Ask for a password-reset token to be sent to an email."""

    email: str = Field(min_length=1, max_length=254)


class ResetConfirmIn(BaseModel):
    """Set a new password with a reset token."""

    token: SecretStr = Field(max_length=512)
    new_password: SecretStr = Field(max_length=4096)


class Accepted(BaseModel):
    """The request was accepted; the answer says nothing more on purpose."""

    status: str = "accepted"
    detail: str


class SessionOut(BaseModel):
    """One of the caller's sessions."""

    id: str
    created_at: datetime
    last_used_at: datetime
    expires_at: datetime
    user_agent: str | None
    ip: str | None
    current: bool


class RoleIn(BaseModel):
    """A role to create."""

    name: RoleName
    description: str = Field(default="", max_length=200)
    permissions: list[Permission] = Field(default_factory=list, max_length=200)


class RolePatch(BaseModel):
    """Changes to a role."""

    description: str | None = Field(default=None, max_length=200)
    permissions: list[Permission] | None = Field(default=None, max_length=200)


class RoleOut(BaseModel):
    """A role."""

    name: str
    description: str
    permissions: list[str]
    builtin: bool


class ApiKeyIn(BaseModel):
    """A service API key to create."""

    name: str = Field(min_length=1, max_length=64)
    scopes: list[Scope] = Field(
        min_length=1,
        max_length=50,
        description="At least one: 'service:<name>', 'service:*' or '*'.",
    )


class ApiKeyOut(BaseModel):
    """A service API key as listed (never the key itself)."""

    id: str
    name: str
    prefix: str
    scopes: list[str]
    created_at: datetime
    revoked_at: datetime | None


class ApiKeyCreated(ApiKeyOut):
    """The created key; ``key`` is shown this once and never again."""

    key: str
