"""ICE servers for clients, time-limited TURN credentials, and where media listens.

TURN credentials follow the "REST API for Access To TURN Services" scheme
(draft-uberti-behave-turn-rest-00) that coturn implements with ``use-auth-secret``:
the username is ``<expiry as a unix time>:<user id>`` and the password is
``base64(HMAC-SHA1(shared secret, username))``. The TURN server recomputes the HMAC
from the username, so it needs no user database, and refuses the credential after the
expiry in its name. meshkit never hands out the shared secret itself.

Nothing here contacts any server: the ICE server list is what the operator configured
(empty by default), so no traffic leaves the machine unless they chose so.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

from aioice.ice import get_host_addresses

from meshkit.services.voice.models import IceServer
from meshkit.services.voice.settings import VoiceSettings

SEPARATOR = ":"  # coturn's default --rest-api-separator


@dataclass(frozen=True)
class TurnCredentials:
    """One user's TURN username and password, valid until ``expires_at``."""

    username: str
    credential: str
    expires_at: datetime


@dataclass(frozen=True)
class IceGrant:
    """The ICE servers for one client, and when its TURN credentials expire (if any)."""

    servers: list[IceServer] = field(default_factory=list)
    expires_at: datetime | None = None


def turn_credentials(
    secret: str, user_id: str, *, ttl: int, now: float | None = None
) -> TurnCredentials:
    """Credentials for ``user_id`` valid ``ttl`` seconds from ``now`` (default: the clock).

    ``user_id`` must not contain the separator (``:``): the TURN server only reads the
    expiry before it, but a user id with one would be ambiguous in its logs.
    """
    if SEPARATOR in user_id:
        raise ValueError("a user id in a TURN username cannot contain ':'")
    expiry = int(now if now is not None else time.time()) + ttl
    username = f"{expiry}{SEPARATOR}{user_id}"
    digest = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    return TurnCredentials(
        username=username,
        credential=base64.b64encode(digest).decode("ascii"),
        expires_at=datetime.fromtimestamp(expiry, UTC),
    )


def ice_grant(settings: VoiceSettings, user_id: str, *, now: float | None = None) -> IceGrant:
    """The ICE servers a client joining as ``user_id`` gets: the configured list, plus
    one TURN entry with fresh credentials when TURN URLs and a secret are configured."""
    servers = [server.model_copy() for server in settings.ice_servers]
    if not settings.turn_urls or settings.turn_secret is None:
        return IceGrant(servers)
    credentials = turn_credentials(
        settings.turn_secret.get_secret_value(), user_id, ttl=settings.turn_ttl, now=now
    )
    servers.append(
        IceServer(
            urls=list(settings.turn_urls),
            username=credentials.username,
            credential=credentials.credential,
        )
    )
    return IceGrant(servers, credentials.expires_at)


def listen_addresses(settings: VoiceSettings) -> list[str]:
    """The addresses to gather host candidates on: ``MESHKIT_VOICE_LISTEN_IPS``, or
    every non-loopback interface address (what aioice gathers on by default)."""
    if settings.listen_ips:
        return list(settings.listen_ips)
    return get_host_addresses(use_ipv4=True, use_ipv6=True)
