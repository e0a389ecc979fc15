"""Events the auth service publishes (topics ``auth.users``, ``auth.roles``,
``auth.sessions``, ``auth.api_keys``)."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from meshkit.events import Event


class UserEvent(Event, abstract=True):
    """Changes to user accounts; ``version`` is the account document's version."""

    topic: ClassVar[str] = "auth.users"
    user_id: str
    version: int


class UserRegistered(UserEvent):
    """A new account exists."""

    type: ClassVar[str] = "meshkit.auth.user.registered.v1"
    username: str
    display_name: str | None = None
    roles: list[str]
    registered_at: datetime


class UserUpdated(UserEvent):
    """Profile fields changed (the new values; the email is never published)."""

    type: ClassVar[str] = "meshkit.auth.user.updated.v1"
    username: str
    display_name: str | None = None
    avatar_url: str | None = None


class UserDeleted(UserEvent):
    """The account was deleted; consumers drop or anonymise what they kept of it."""

    type: ClassVar[str] = "meshkit.auth.user.deleted.v1"


class RoleEvent(Event, abstract=True):
    """A role was given to or taken from a user."""

    topic: ClassVar[str] = "auth.roles"
    user_id: str
    role: str
    roles: list[str]
    version: int


class RoleAssigned(RoleEvent):
    """``role`` was added; ``roles`` is the user's full set afterwards."""

    type: ClassVar[str] = "meshkit.auth.role.assigned.v1"


class RoleRevoked(RoleEvent):
    """``role`` was removed; ``roles`` is the user's full set afterwards."""

    type: ClassVar[str] = "meshkit.auth.role.revoked.v1"


class SessionsRevoked(Event):
    """Sessions ended early (logout, password change/reset, reuse detected, deletion).

    ``session_ids`` empty with ``all_sessions`` true means every session of the user.
    Every access token of these sessions is already refused by verifiers that check
    the Redis denylist (the session id is denylisted); services that keep principals
    elsewhere (an open socket) should drop them on this event.
    """

    topic: ClassVar[str] = "auth.sessions"
    type: ClassVar[str] = "meshkit.auth.sessions.revoked.v1"
    user_id: str
    session_ids: list[str]
    all_sessions: bool = False
    reason: str


class ApiKeyEvent(Event, abstract=True):
    """Service API keys; only digests travel, never keys."""

    topic: ClassVar[str] = "auth.api_keys"
    key_id: str
    digest: str


class ApiKeyIssued(ApiKeyEvent):
    """Every service should now accept this key (``scopes`` limit what it may call)."""

    type: ClassVar[str] = "meshkit.auth.api_key.issued.v1"
    name: str
    scopes: list[str]


class ApiKeyRevoked(ApiKeyEvent):
    """Every service must stop accepting this key."""

    type: ClassVar[str] = "meshkit.auth.api_key.revoked.v1"
