"""The gateway's settings: ``MESHKIT_GATEWAY_*`` variables."""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from meshkit.ratelimit import RateLimitSettings

DEFAULT_PUBLIC_ROUTES = ",".join(
    [
        "POST /v1/auth/register",
        "POST /v1/auth/login",
        "POST /v1/auth/refresh",
        "POST /v1/auth/password-reset",
        "POST /v1/auth/password-reset/confirm",
        "GET /.well-known/jwks.json",
        "* /socket.io/*",
        "* /voice/socket.io/*",
        "* /servers/socket.io/*",
    ]
)


class GatewaySettings(RateLimitSettings):
    """Routing, balancing, timeouts, access control, rate limits and CORS of the gateway."""

    model_config = SettingsConfigDict(env_prefix="MESHKIT_GATEWAY_", extra="ignore", frozen=True)

    routes: str | None = Field(
        default=None,
        description="Extra or overriding routes, `prefix=service` comma-separated (e.g. "
        "`/v1/chat=messaging,/socket.io=messaging`). The table is otherwise built from the "
        "installed services' OpenAPI paths and their `gateway_prefixes`.",
    )
    balancing: Literal["round_robin", "least_outstanding"] = Field(
        default="least_outstanding",
        description="How an instance is picked: `round_robin`, or `least_outstanding` "
        "(fewest requests in flight, ties round-robin).",
    )
    connect_timeout: float = Field(
        default=3.0, gt=0, description="Seconds to connect to an upstream instance (then 504)."
    )
    read_timeout: float = Field(
        default=60.0,
        gt=0,
        description="Seconds an upstream may stay silent, waiting for its response head or "
        "between two body chunks (then 504, or the response is cut).",
    )
    max_body_size: int = Field(
        default=64 * 1024 * 1024,
        ge=0,
        description="Largest request body the gateway forwards, in bytes (413 beyond). "
        "Bodies are streamed, not buffered.",
    )
    retry_body_limit: int = Field(
        default=64 * 1024,
        ge=0,
        description="A PUT body up to this many bytes is kept so the request can be retried "
        "on another instance; larger PUTs are not retried.",
    )
    health_interval: float = Field(
        default=5.0, gt=0, description="Seconds between active `/readyz` checks of instances."
    )
    health_timeout: float = Field(
        default=2.0, gt=0, description="Seconds a `/readyz` check may take before it fails."
    )
    starting_interval: float = Field(
        default=0.15,
        gt=0,
        description="Seconds between `/readyz` probes of an instance that has never been up "
        "(a starting one); once up, it is checked every `HEALTH_INTERVAL`.",
    )
    unhealthy_threshold: int = Field(
        default=2, ge=1, description="Failed checks in a row before an instance is taken out."
    )
    public_routes: str = Field(
        default=DEFAULT_PUBLIC_ROUTES,
        description="Routes that need no access token, comma-separated `METHOD path` "
        "(`*` for any method; a path ending in `*` matches the prefix). Everything else "
        "routed needs a valid, unrevoked token.",
    )
    revocation_fail_open: bool = Field(
        default=False,
        description="When Redis is unreachable, so the token denylist (logout, revoked "
        "sessions) cannot be read: `false` answers 503 `revocation-unavailable`; `true` "
        "accepts tokens whose signature and claims check out. Either way it is logged "
        "(throttled) and counted.",
    )
    trust_forwarded: bool = Field(
        default=False,
        description="Believe an incoming `X-Forwarded-For` (set when a trusted load balancer "
        "sits in front of the gateway); otherwise the peer address is the client.",
    )
    cors_origins: str = Field(
        default="",
        description="Origins allowed to call the API from a browser, comma-separated "
        "(`*` for any). Empty: no CORS headers.",
    )
    docs_refresh_interval: float = Field(
        default=30.0,
        gt=0,
        description="Seconds between refreshes of the merged OpenAPI document.",
    )
