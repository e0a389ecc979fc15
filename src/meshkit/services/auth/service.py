"""The auth service: accounts, sessions and tokens, roles, service API keys."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Sequence
from typing import Any, ClassVar

from meshkit.errors import Conflict
from meshkit.service import Need
from meshkit.services.auth.accounts import Accounts
from meshkit.services.auth.api import AuthApi
from meshkit.services.auth.apikeys import ApiKeys
from meshkit.services.auth.keys import SigningKeys, signing_algorithm
from meshkit.services.auth.lockout import LoginThrottle
from meshkit.services.auth.models import (
    ApiKey,
    ResetToken,
    Role,
    RoleAssignment,
    Session,
    SigningKey,
    User,
)
from meshkit.services.auth.passwords import PasswordPolicy, burn_verify_time
from meshkit.services.auth.resets import Resets
from meshkit.services.auth.roles import ADMIN, Roles
from meshkit.services.auth.rpc import AuthRpc
from meshkit.services.auth.sessions import Sessions
from meshkit.services.auth.settings import AuthSettings
from meshkit.store import Document
from meshkit.tokens import CallableJwks, JwksSource

log = logging.getLogger("meshkit.auth")


class AuthService(AuthApi):
    """Registration, login, JWT access + rotating refresh tokens, password reset, roles,
    service API keys; ``meshkit.auth.v1.AuthService`` over gRPC."""

    name = "auth"
    default_port = 3001
    title = "meshkit auth"
    description = "Registration, login, tokens, password reset, roles and service API keys."
    needs: ClassVar[frozenset[Need]] = frozenset({"store", "redis"})
    documents: ClassVar[tuple[type[Document], ...]] = (
        User,
        Role,
        RoleAssignment,
        Session,
        ResetToken,
        ApiKey,
        SigningKey,
    )

    @property
    def auth_settings(self) -> AuthSettings:
        """The ``MESHKIT_AUTH_*`` section."""
        return self.settings.section(AuthSettings)

    def jwks_source(self) -> JwksSource:
        """The auth service verifies with its own key set, without a network hop."""
        return CallableJwks(lambda: self.keys.jwks())

    def servicers(self) -> Sequence[Any]:
        """``meshkit.auth.v1.AuthService``."""
        return [AuthRpc(self)]

    async def lifespan(self) -> AsyncIterator[None]:
        """Build the domain objects, ensure built-in roles, keys and the bootstrap admin."""
        config = self.auth_settings
        algorithm = signing_algorithm(self.settings.jwt_algorithms)  # ConfigError: stop here
        self._tasks = set()
        self.keys = SigningKeys(
            self.store,
            algorithm=algorithm,
            token_ttl=config.access_token_ttl,
            publish_delay=config.key_publish_delay,
        )
        self.accounts = Accounts(
            self.store,
            PasswordPolicy.from_settings(config),
            LoginThrottle(self.redis, config),
            cost=config.bcrypt_cost,
        )
        self.sessions = Sessions(
            self.store,
            self.redis,
            self.keys,
            issuer=self.settings.jwt_issuer,
            audience=self.settings.jwt_audience,
            access_ttl=config.access_token_ttl,
            refresh_ttl=config.refresh_token_ttl,
        )
        self.resets = Resets(self.store, ttl=config.reset_token_ttl)
        self.roles = Roles(self.store)
        self.api_keys = ApiKeys(self.store, self.redis)
        await self.roles.ensure_builtin()
        await self.keys.active()
        await self.api_keys.resync()
        await self._bootstrap_admin(config)
        await burn_verify_time(config.bcrypt_cost)  # prepare the timing equaliser now
        yield
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=self.settings.shutdown_timeout)

    async def _bootstrap_admin(self, config: AuthSettings) -> None:
        if not config.bootstrap_admin_email or await self.roles.has_admin():
            return
        if config.bootstrap_admin_password is None:
            log.warning(
                "MESHKIT_AUTH_BOOTSTRAP_ADMIN_EMAIL is set without "
                "MESHKIT_AUTH_BOOTSTRAP_ADMIN_PASSWORD: no administrator was created"
            )
            return
        # Only an account this start creates is promoted. An existing one with the email
        # may belong to anybody (registration is open): promoting it would hand the
        # system to whoever registered the address first.
        refused = (
            "MESHKIT_AUTH_BOOTSTRAP_ADMIN_EMAIL names an existing account (or its "
            "username is taken): it was not made administrator; give the admin role "
            "another way, or choose an unused email and username"
        )
        if await self.accounts.find_by_login(config.bootstrap_admin_email) is not None:
            log.warning(refused)
            return
        try:
            user = await self.accounts.register(
                email=config.bootstrap_admin_email,
                username=config.bootstrap_admin_username,
                password=config.bootstrap_admin_password.get_secret_value(),
                display_name="Administrator",
            )
        except Conflict:  # taken meanwhile (another instance, or a registration)
            log.warning(refused)
            return
        await self.roles.assign(user, ADMIN, by=None)
        log.info("bootstrap administrator %s has the admin role", user.id)
