"""The auth service's settings: ``MESHKIT_AUTH_*`` variables."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from meshkit.config import PluginSettings


class AuthSettings(PluginSettings):
    """Passwords, tokens, lockout and the bootstrap administrator."""

    model_config = SettingsConfigDict(env_prefix="MESHKIT_AUTH_", extra="ignore", frozen=True)

    bcrypt_cost: int = Field(
        default=12, ge=4, le=31, description="bcrypt work factor for password hashes."
    )
    password_min_length: int = Field(
        default=8, ge=8, description="Shortest password accepted (NIST 800-63B: at least 8)."
    )
    password_max_length: int = Field(
        default=256, ge=64, description="Longest password accepted (at least 64)."
    )
    access_token_ttl: int = Field(
        default=900, ge=30, description="Lifetime of an access token, in seconds."
    )
    refresh_token_ttl: int = Field(
        default=30 * 86_400,
        ge=60,
        description="Lifetime of a session (its refresh tokens), in seconds since login.",
    )
    reset_token_ttl: int = Field(
        default=1800, ge=60, description="Lifetime of a password-reset token, in seconds."
    )
    lockout_threshold: int = Field(
        default=5,
        ge=1,
        description="Failed logins of one account before it is locked (exponentially longer).",
    )
    lockout_ip_threshold: int = Field(
        default=50,
        ge=1,
        description="Failed logins from one IP address before it is locked out.",
    )
    lockout_base: float = Field(
        default=1.0, gt=0, description="First lockout, in seconds; doubles with each failure."
    )
    lockout_max: float = Field(default=900.0, gt=0, description="Longest lockout, in seconds.")
    lockout_window: int = Field(
        default=3600,
        ge=1,
        description="Seconds after the last failure when an account's or IP's count resets.",
    )
    key_publish_delay: float = Field(
        default=60.0,
        ge=0,
        le=3600,
        description="Seconds a rotated signing key is in the JWKS before it signs (more than "
        "the verifiers' 30 s JWKS refetch interval); the old key signs until then.",
    )
    bootstrap_admin_email: str | None = Field(
        default=None,
        description="On a start where nobody is admin, create this administrator (with the "
        "username and password below); an existing account with this email is never "
        "promoted.",
    )
    bootstrap_admin_username: str = Field(
        default="admin", description="Username of the bootstrap administrator."
    )
    bootstrap_admin_password: SecretStr | None = Field(
        default=None, description="Password of the bootstrap administrator."
    )
