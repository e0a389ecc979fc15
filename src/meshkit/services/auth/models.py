"""What the auth service stores, and the shapes of its API."""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime
from typing import Annotated, Any, ClassVar

from pydantic import AfterValidator, BaseModel, Field, HttpUrl, SecretStr

from meshkit.http.models import RequestModel
from meshkit.store import Document, Index

USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{2,31}$")
EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")

# Each rule below is written once, as a pattern that both pydantic (Rust regex: ``$`` is
# the end of the text) and the OpenAPI document (ECMA-262) read the same way; Python code
# that checks outside a model uses ``fullmatch`` (where ``$`` could pass a final "\n").
PERMISSION_PATTERN = r"^(\*|[a-z][a-z0-9_-]*:(\*|[a-z0-9_.-]+(\.\*)?))$"
PERMISSION = re.compile(PERMISSION_PATTERN)
ROLE_NAME = re.compile(r"^[a-z][a-z0-9_-]{1,31}$")
SCOPE_PATTERN = r"^(\*|service:(\*|[a-z][a-z0-9_]{0,31}))$"
SCOPE = re.compile(SCOPE_PATTERN)
"""An API key scope: ``service:<name>``, ``service:*`` or ``*`` (matched whole)."""
SCOPE_RULE = "a scope is 'service:<name>' (name: a-z, 0-9, _; up to 32), 'service:*' or '*'"
NO_CONTROLS_PATTERN = r"^[^\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]*$"
"""No C0/C1 control (category Cc) and no bidi control (ALM, LRM, RLM, LRE-RLO, LRI-PDI);
lone surrogates never get this far (the HTTP body reader refuses them)."""
PASSWORD_MIN_LENGTH = 8
"""The floor of every deployment (NIST SP 800-63B); MESHKIT_AUTH_PASSWORD_MIN_LENGTH may
raise it, and the document says so."""
PASSWORD_MAX_LENGTH = 256
"""The longest new password any deployment accepts (MESHKIT_AUTH_PASSWORD_MAX_LENGTH
may lower it, down to 64)."""
RESET_TOKEN_PATTERN = r"^mkp_[A-Za-z0-9_-]{32,128}$"
"""``mkp_`` and the secret (43 characters of ``secrets.token_urlsafe`` today)."""
RESET_TOKEN = re.compile(RESET_TOKEN_PATTERN)


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


def check_scopes(scopes: list[str]) -> list[str]:
    """The scopes if there is at least one and each is well-formed; ``ValueError`` else.

    For callers outside the HTTP API (the CLI); the API's :class:`ApiKeyIn` declares the
    same rule in its schema.
    """
    if not scopes:
        raise ValueError("an API key needs at least one scope")
    for scope in scopes:
        if not SCOPE.fullmatch(scope):
            raise ValueError(SCOPE_RULE)
    return scopes


def _reset_token(value: SecretStr) -> SecretStr:
    # SecretStr takes no pattern constraint: the same constant, checked here, is the
    # pattern the schema declares (see ResetToken below).
    if not RESET_TOKEN.fullmatch(value.get_secret_value()):
        raise ValueError("a reset token is 'mkp_' and 32-128 characters of A-Z a-z 0-9 _ -")
    return value


Email = Annotated[
    str,
    Field(json_schema_extra={"pattern": EMAIL.pattern, "maxLength": 254}),
    AfterValidator(_email),
]
"""Normalised (NFKC, trimmed, lower-cased) before the check; the schema declares the
check on what is sent, which is never looser than the server."""
Username = Annotated[
    str,
    Field(json_schema_extra={"pattern": USERNAME.pattern}),
    AfterValidator(_username),
]
Permission = Annotated[
    str,
    Field(
        pattern=PERMISSION_PATTERN,
        description="'service:resource.action', 'service:*', 'service:resource.*' or '*'.",
    ),
]
RoleName = Annotated[str, Field(pattern=ROLE_NAME.pattern)]
Scope = Annotated[
    str,
    Field(
        max_length=40,
        pattern=SCOPE_PATTERN,
        description="'service:<name>', 'service:*' or '*'.",
    ),
]
DisplayName = Annotated[
    str,
    Field(
        max_length=64,
        pattern=NO_CONTROLS_PATTERN,
        description="Up to 64 characters; no control or bidi-control characters.",
    ),
]
NewPassword = Annotated[
    SecretStr,
    Field(
        min_length=PASSWORD_MIN_LENGTH,
        max_length=PASSWORD_MAX_LENGTH,
        description=f"{PASSWORD_MIN_LENGTH}-{PASSWORD_MAX_LENGTH} characters (a deployment "
        "may ask for more with MESHKIT_AUTH_PASSWORD_MIN_LENGTH or fewer with "
        "MESHKIT_AUTH_PASSWORD_MAX_LENGTH). Checked further by the password policy, which "
        "cannot be put in a schema: no common password, none built from the email or "
        "username, no control characters, no long runs or sequences; a refusal is a 422 "
        "`weak-password` problem listing each rule broken.",
    ),
]
ResetTokenValue = Annotated[
    SecretStr,
    Field(
        max_length=132,
        json_schema_extra={"pattern": RESET_TOKEN_PATTERN},
        description="The token from the reset message: 'mkp_' and 32-128 characters.",
    ),
    AfterValidator(_reset_token),
]


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


class RegisterIn(RequestModel):
    """A new account."""

    email: Email
    username: Username
    password: NewPassword
    display_name: DisplayName | None = None


class LoginIn(RequestModel):
    """Credentials: ``login`` is the email or the username."""

    login: str = Field(min_length=1, max_length=254)
    password: SecretStr = Field(max_length=4096)


class RefreshIn(RequestModel):
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


class ProfilePatch(RequestModel):
    """Profile changes; omitted fields stay as they are, ``null`` clears them."""

    display_name: DisplayName | None = None
    avatar_url: HttpUrl | None = None


class PasswordChangeIn(RequestModel):
    """Change one's password while logged in."""

    current_password: SecretStr = Field(max_length=4096)
    new_password: NewPassword


class DeleteAccountIn(RequestModel):
    """Deleting an account needs the password again."""

    password: SecretStr = Field(max_length=4096)


class ResetRequestIn(RequestModel):
    """Ask for a password-reset token to be sent to an email."""

    email: str = Field(min_length=1, max_length=254)


class ResetConfirmIn(RequestModel):
    """Set a new password with a reset token."""

    token: ResetTokenValue
    new_password: NewPassword


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


class RoleIn(RequestModel):
    """A role to create."""

    name: RoleName
    description: str = Field(default="", max_length=200)
    permissions: list[Permission] = Field(default_factory=list, max_length=200)


class RolePatch(RequestModel):
    """Changes to a role."""

    description: str | None = Field(default=None, max_length=200)
    permissions: list[Permission] | None = Field(default=None, max_length=200)


class RoleOut(BaseModel):
    """A role."""

    name: str
    description: str
    permissions: list[str]
    builtin: bool


class ApiKeyIn(RequestModel):
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
