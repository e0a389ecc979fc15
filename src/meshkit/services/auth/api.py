"""The auth service's HTTP API (thin: parse, call the domain, answer).

Public paths are stable (clients and the SDK depend on them): ``/v1/auth/*``,
``/v1/users/me``, ``/v1/roles``, ``/v1/api-keys``, ``/.well-known/jwks.json``.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Coroutine
from datetime import datetime
from typing import Any

from aiohttp import web

from meshkit import Service, delete, get, patch, post
from meshkit.contracts.auth import (
    ApiKeyIssued,
    ApiKeyRevoked,
    RoleAssigned,
    RoleRevoked,
    SessionsRevoked,
    UserDeleted,
    UserRegistered,
    UserUpdated,
)
from meshkit.errors import NotFound
from meshkit.outbox import write_message
from meshkit.security import API_KEY_HEADER, KeyRing
from meshkit.services.auth.accounts import Accounts
from meshkit.services.auth.apikeys import ApiKeys
from meshkit.services.auth.keys import SigningKeys
from meshkit.services.auth.models import (
    Accepted,
    ApiKeyCreated,
    ApiKeyIn,
    ApiKeyOut,
    DeleteAccountIn,
    LoginIn,
    PasswordChangeIn,
    ProfilePatch,
    RefreshIn,
    RegisterIn,
    ResetConfirmIn,
    ResetRequestIn,
    RoleIn,
    RoleOut,
    RolePatch,
    SessionOut,
    TokenOut,
    User,
    UserOut,
)
from meshkit.services.auth.resets import Resets
from meshkit.services.auth.roles import (
    ADMIN,
    MANAGE_KEYS,
    MANAGE_ROLES,
    MANAGE_SIGNING_KEYS,
    Roles,
)
from meshkit.services.auth.sessions import Sessions, roles_of
from meshkit.tokens import Principal

log = logging.getLogger("meshkit.auth")
RESET_ACCEPTED = "if an account uses this email, a reset link is on its way"


def client_ip(request: web.Request, keyring: KeyRing) -> str | None:
    """The client's address, for lockout and the session list.

    ``X-Forwarded-For`` is believed only from a caller holding a service API key (the
    gateway): anyone else could put any address there and dodge the per-address lockout.
    """
    forwarded = request.headers.get("X-Forwarded-For")
    if forwarded and keyring.identify(request.headers.get(API_KEY_HEADER)) is not None:
        first = forwarded.split(",")[0].strip()
        if first:
            return first[:64]
    return request.remote


class AuthApi(Service):
    """Route handlers of :class:`~meshkit.services.auth.service.AuthService`.

    The domain objects are created in the service's lifespan (they need the store and
    Redis); handlers only translate between HTTP and them.
    """

    accounts: Accounts
    sessions: Sessions
    resets: Resets
    roles: Roles
    api_keys: ApiKeys
    keys: SigningKeys
    _tasks: set[asyncio.Task[None]]

    def background(self, work: Coroutine[Any, Any, None]) -> None:
        """Run ``work`` after answering; failures are logged, never shown to the client."""

        async def guarded() -> None:
            try:
                await work
            except Exception:
                log.exception("background work of the auth service failed")

        task = asyncio.create_task(guarded())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def deliver_reset(self, user: User, token: str, expires_at: datetime) -> None:
        """Hand the token to the first delivery plugin; without one, to the outbox."""
        result = self.plugins.hook.meshkit_send_password_reset(
            service=self,
            email=user.email,
            username=user.username,
            token=token,
            expires_at=expires_at,
        )
        if result is None:
            write_message(
                self.settings,
                kind="password-reset",
                to=user.email,
                data={
                    "username": user.username,
                    "token": token,
                    "expires_at": expires_at.isoformat(),
                },
            )
        elif inspect.isawaitable(result):
            await result

    # Registration, login, tokens

    @post("/v1/auth/register", status=201, errors=(409,), tags=("auth",))
    async def register(self, body: RegisterIn) -> UserOut:
        """Create an account.

        The email and username are unique (case-insensitive); the password must be at
        least 8 characters and not a common one (NIST SP 800-63B).
        """
        user = await self.accounts.register(
            email=body.email,
            username=body.username,
            password=body.password.get_secret_value(),
            display_name=body.display_name,
        )
        roles = await roles_of(self.store, user.id)
        await self.events.publish(
            UserRegistered(
                user_id=user.id,
                version=user.version,
                username=user.username,
                display_name=user.display_name,
                roles=roles,
                registered_at=user.created_at,
            ),
            subject=f"user/{user.id}",
        )
        return _user_out(user, roles)

    @post("/v1/auth/login", errors=(401, 429), tags=("auth",))
    async def login(self, request: web.Request, body: LoginIn) -> TokenOut:
        """Log in with email or username; returns an access and a refresh token.

        Wrong login, wrong password and a disabled account answer the same. Repeated
        failures lock the account (and the client address) out for exponentially longer:
        429 with Retry-After.
        """
        user = await self.accounts.authenticate(
            body.login, body.password.get_secret_value(), ip=client_ip(request, self.keyring)
        )
        return await self.sessions.open(
            user,
            user_agent=request.headers.get("User-Agent"),
            ip=client_ip(request, self.keyring),
        )

    @post("/v1/auth/refresh", errors=(401,), tags=("auth",))
    async def refresh(self, body: RefreshIn) -> TokenOut:
        """Exchange a refresh token for a new access and refresh token.

        Each refresh token works once. Presenting one again revokes the whole session.
        """
        tokens, _ = await self.sessions.refresh(body.refresh_token.get_secret_value())
        return tokens

    @post("/v1/auth/logout", tags=("auth",))
    async def logout(self, principal: Principal) -> None:
        """End the current session; its access tokens stop working at once."""
        await self.sessions.deny_token(principal.token_id, principal.expires_at)
        if principal.session_id is not None:
            session = await self.sessions.owned(principal.subject, principal.session_id)
            await self.sessions.revoke(session, reason="logout")
            await self._sessions_revoked(principal.subject, [session.id], "logout")

    # Sessions

    @get("/v1/auth/sessions", tags=("auth",))
    async def list_sessions(self, principal: Principal) -> list[SessionOut]:
        """The caller's open sessions, newest first."""
        return [
            SessionOut(
                id=s.id,
                created_at=s.created_at,
                last_used_at=s.last_used_at,
                expires_at=s.expires_at,
                user_agent=s.user_agent,
                ip=s.ip,
                current=s.id == principal.session_id,
            )
            for s in await self.sessions.open_sessions(principal.subject)
        ]

    @delete("/v1/auth/sessions/{session_id}", errors=(404,), tags=("auth",))
    async def revoke_session(self, principal: Principal, session_id: str) -> None:
        """End one of the caller's sessions."""
        session = await self.sessions.owned(principal.subject, session_id)
        await self.sessions.revoke(session, reason="revoked by its owner")
        await self._sessions_revoked(principal.subject, [session.id], "revoked by its owner")

    # Password reset and change

    @post("/v1/auth/password-reset", status=202, tags=("auth",))
    async def request_reset(self, body: ResetRequestIn) -> Accepted:
        """Ask for a password-reset token by email.

        Always answers 202 with the same body, at once: whether the email has an account
        is never revealed, not even by timing.
        """
        self.background(self._issue_reset(body.email))
        return Accepted(detail=RESET_ACCEPTED)

    async def _issue_reset(self, email: str) -> None:
        async def deliver(user: User, token: str, expires_at: datetime) -> None:
            await self.deliver_reset(user, token, expires_at)

        await self.resets.issue(email, deliver)

    @post("/v1/auth/password-reset/confirm", errors=(400, 422), tags=("auth",))
    async def confirm_reset(self, body: ResetConfirmIn) -> None:
        """Set a new password with a reset token; every session of the account ends."""
        password = body.new_password.get_secret_value()

        def check(user: User) -> None:
            self.accounts.policy.check(password, context=(user.email.split("@")[0], user.username))

        user = await self.resets.redeem(body.token.get_secret_value(), check)
        await self.accounts.set_password(user, password)
        await self.resets.spend_all(user.id)  # older links must not set it again
        ended = await self.sessions.revoke_all(user.id, reason="password reset")
        await self._sessions_revoked(user.id, ended, "password reset", all_sessions=True)

    @post("/v1/auth/password", errors=(401, 422, 429), tags=("auth",))
    async def change_password(self, principal: Principal, body: PasswordChangeIn) -> None:
        """Change the caller's password; their other sessions end, pending reset links
        stop working. Wrong current passwords count towards the account's lockout."""
        user = await self._me(principal)
        await self.accounts.change_password(
            user,
            body.current_password.get_secret_value(),
            body.new_password.get_secret_value(),
        )
        await self.resets.spend_all(user.id)
        ended = await self.sessions.revoke_all(
            user.id, reason="password changed", keep=principal.session_id
        )
        await self._sessions_revoked(user.id, ended, "password changed")

    # Profile

    @get("/v1/users/me", tags=("users",))
    async def me(self, principal: Principal) -> UserOut:
        """The caller's account."""
        user = await self._me(principal)
        return _user_out(user, await roles_of(self.store, user.id))

    @patch("/v1/users/me", tags=("users",))
    async def update_me(self, principal: Principal, body: ProfilePatch) -> UserOut:
        """Change the caller's display name or avatar URL."""
        await self._me(principal)
        changes: dict[str, Any] = {}
        for name in body.model_fields_set:
            value = getattr(body, name)
            changes[name] = str(value) if value is not None else None
        user = await self.accounts.update_profile(principal.subject, changes)
        await self.events.publish(
            UserUpdated(
                user_id=user.id,
                version=user.version,
                username=user.username,
                display_name=user.display_name,
                avatar_url=user.avatar_url,
            ),
            subject=f"user/{user.id}",
        )
        return _user_out(user, await roles_of(self.store, user.id))

    @delete("/v1/users/me", errors=(401, 409, 429), tags=("users",))
    async def delete_me(self, principal: Principal, body: DeleteAccountIn) -> None:
        """Delete the caller's account (the password is asked again). Irreversible.

        The last administrator cannot delete their account (409): give somebody else
        the admin role first. Wrong passwords count towards the account's lockout.
        """
        user = await self._me(principal)
        await self.accounts.reauthenticate(user, body.password.get_secret_value())
        version = user.version
        if ADMIN in await roles_of(self.store, user.id):
            # Taken first, with the last-admin check (409 if nobody else is admin).
            version = await self.roles.revoke(user, ADMIN) or version
        ended = await self.sessions.revoke_all(user.id, reason="account deleted")
        await self.accounts.delete(user)
        await self._sessions_revoked(user.id, ended, "account deleted", all_sessions=True)
        await self.events.publish(
            UserDeleted(user_id=user.id, version=version + 1), subject=f"user/{user.id}"
        )

    async def _me(self, principal: Principal) -> User:
        user = await self.store.get(User, principal.subject)
        if user is None:
            raise NotFound("the account no longer exists")
        return user

    # Roles

    @get("/v1/roles", tags=("roles",), permission=MANAGE_ROLES)
    async def list_roles(self, principal: Principal) -> list[RoleOut]:
        """Every role and its permissions (needs auth:roles.manage)."""
        return [_role_out(r) for r in await self.roles.all()]

    @post("/v1/roles", status=201, errors=(403, 409), tags=("roles",), permission=MANAGE_ROLES)
    async def create_role(self, principal: Principal, body: RoleIn) -> RoleOut:
        """Create a role (needs auth:roles.manage)."""
        return _role_out(await self.roles.create(body.name, body.description, body.permissions))

    @patch("/v1/roles/{name}", errors=(403, 404, 409), tags=("roles",), permission=MANAGE_ROLES)
    async def update_role(self, principal: Principal, name: str, body: RolePatch) -> RoleOut:
        """Change a role's description or permissions (needs auth:roles.manage).

        Holders get the new permissions in their next access token. The built-in admin
        role's permissions (``*``) cannot change (409).
        """
        return _role_out(await self.roles.update(name, body.description, body.permissions))

    @delete("/v1/roles/{name}", errors=(403, 404, 409), tags=("roles",), permission=MANAGE_ROLES)
    async def delete_role(self, principal: Principal, name: str) -> None:
        """Delete an unassigned, non-built-in role (needs auth:roles.manage)."""
        await self.roles.delete(name)

    @post(
        "/v1/roles/{name}/members/{user_id}",
        status=201,
        errors=(403, 404),
        tags=("roles",),
        permission=MANAGE_ROLES,
    )
    async def assign_role(
        self, principal: Principal, name: str, user_id: str
    ) -> dict[str, list[str]]:
        """Give a user a role (needs auth:roles.manage)."""
        user = await self._user(user_id)
        version = await self.roles.assign(user, name, by=principal.subject)
        if version is not None:
            roles = await roles_of(self.store, user.id)  # read after the version bump
            await self.events.publish(
                RoleAssigned(user_id=user.id, role=name, roles=roles, version=version),
                subject=f"user/{user.id}",
            )
        return {"roles": await roles_of(self.store, user.id)}

    @delete(
        "/v1/roles/{name}/members/{user_id}",
        errors=(403, 404, 409),
        tags=("roles",),
        permission=MANAGE_ROLES,
    )
    async def revoke_role(self, principal: Principal, name: str, user_id: str) -> None:
        """Take a role from a user (needs auth:roles.manage); never the last admin's
        admin role (409)."""
        user = await self._user(user_id)
        version = await self.roles.revoke(user, name)
        if version is not None:
            roles = await roles_of(self.store, user.id)  # read after the version bump
            await self.events.publish(
                RoleRevoked(user_id=user.id, role=name, roles=roles, version=version),
                subject=f"user/{user.id}",
            )

    async def _user(self, user_id: str) -> User:
        user = await self.store.get(User, user_id) if 0 < len(user_id) <= 128 else None
        if user is None:
            raise NotFound("no such user")
        return user

    # Service API keys and signing keys

    @get("/v1/api-keys", tags=("api-keys",), permission=MANAGE_KEYS)
    async def list_api_keys(self, principal: Principal) -> list[ApiKeyOut]:
        """Service API keys (never the keys themselves; needs auth:api_keys.manage)."""
        return [_key_out(k) for k in await self.api_keys.list()]

    @post(
        "/v1/api-keys",
        status=201,
        errors=(403, 422),
        tags=("api-keys",),
        permission=MANAGE_KEYS,
    )
    async def create_api_key(self, principal: Principal, body: ApiKeyIn) -> ApiKeyCreated:
        """Create a service API key; the answer is the only time the key is shown.

        ``scopes`` name the services it may call: ``service:<name>``, ``service:*`` or ``*``.
        """
        record, key = await self.api_keys.create(body.name, body.scopes, by=principal.subject)
        await self.events.publish(
            ApiKeyIssued(
                key_id=record.id, digest=record.digest, name=record.name, scopes=record.scopes
            )
        )
        return ApiKeyCreated(**_key_out(record).model_dump(), key=key)

    @delete("/v1/api-keys/{key_id}", errors=(403, 404), tags=("api-keys",), permission=MANAGE_KEYS)
    async def revoke_api_key(self, principal: Principal, key_id: str) -> None:
        """Revoke a service API key; every service refuses it within seconds."""
        record = await self.api_keys.revoke(key_id)
        await self.events.publish(ApiKeyRevoked(key_id=record.id, digest=record.digest))

    @get("/.well-known/jwks.json", tags=("auth",))
    async def jwks(self) -> web.Response:
        """The public keys that verify access tokens (RFC 7517)."""
        document = await self.keys.jwks()
        return web.json_response(document, headers={"Cache-Control": "public, max-age=60"})

    @post(
        "/v1/auth/keys/rotate",
        status=201,
        errors=(403,),
        tags=("auth",),
        permission=MANAGE_SIGNING_KEYS,
    )
    async def rotate_keys(self, principal: Principal) -> dict[str, str | None]:
        """Publish a new signing key at once; it signs from ``activates_at`` on (after
        MESHKIT_AUTH_KEY_PUBLISH_DELAY, so verifiers have fetched it). Needs
        auth:keys.rotate; tokens signed with the old key stay valid until they expire."""
        fresh = await self.keys.rotate()
        activates = fresh.activates_at.isoformat() if fresh.activates_at else None
        return {"kid": fresh.kid, "activates_at": activates}

    async def _sessions_revoked(
        self,
        user_id: str,
        session_ids: list[str],
        reason: str,
        *,
        all_sessions: bool = False,
    ) -> None:
        if session_ids or all_sessions:
            await self.events.publish(
                SessionsRevoked(
                    user_id=user_id,
                    session_ids=session_ids,
                    all_sessions=all_sessions,
                    reason=reason,
                ),
                subject=f"user/{user_id}",
            )


def _user_out(user: User, roles: list[str]) -> UserOut:
    return UserOut(
        id=user.id,
        email=user.email,
        username=user.username,
        display_name=user.display_name,
        avatar_url=user.avatar_url,
        roles=roles,
        created_at=user.created_at,
    )


def _role_out(role: Any) -> RoleOut:
    return RoleOut(
        name=role.name,
        description=role.description,
        permissions=role.permissions,
        builtin=role.builtin,
    )


def _key_out(record: Any) -> ApiKeyOut:
    return ApiKeyOut(
        id=record.id,
        name=record.name,
        prefix=record.prefix,
        scopes=record.scopes,
        created_at=record.created_at,
        revoked_at=record.revoked_at,
    )
