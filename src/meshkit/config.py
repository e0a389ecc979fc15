"""One typed settings object, read only from ``MESHKIT_*`` environment variables.

:class:`Settings` holds what the framework itself needs. Plugins contribute their own
sections (subclasses of :class:`PluginSettings` with their own prefix) through the
``meshkit_settings_classes`` hook; :meth:`Settings.section` loads one. A value that does
not parse fails at start with a :class:`ConfigError` that names the variable.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from functools import cached_property
from pathlib import Path
from typing import Any, ClassVar, Literal, TypeVar

from pydantic import Field, PrivateAttr, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]
SERVICE_NAME = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
SECRET_FIELD = re.compile(r"(secret|password|token|key|url)$", re.IGNORECASE)


class ConfigError(Exception):
    """A ``MESHKIT_*`` variable is missing or malformed; the message names it."""


class PluginSettings(BaseSettings):
    """Base for settings sections that plugins contribute.

    Set ``model_config = SettingsConfigDict(env_prefix="MESHKIT_<PLUGIN>_")``. Fields
    typed ``SecretStr`` are masked by ``meshkit config``.
    """

    model_config = SettingsConfigDict(env_prefix="MESHKIT_", extra="ignore", frozen=True)


S = TypeVar("S", bound=BaseSettings)


class Settings(PluginSettings):
    """The framework's settings; every field is ``MESHKIT_<FIELD>`` in the environment."""

    model_config = SettingsConfigDict(env_prefix="MESHKIT_", extra="ignore", frozen=True)

    data_dir: Path = Field(
        default=Path(".meshkit"),
        description="Directory for embedded state: SQLite files, the embedded redis-server.",
    )
    host: str = Field(default="127.0.0.1", description="Interface the services listen on.")
    redis_url: SecretStr | None = Field(
        default=None,
        description="Redis to use (redis:// or unix://). Unset: meshkit starts a private "
        "redis-server under the data directory.",
    )
    mongodb_url: SecretStr | None = Field(
        default=None,
        description="MongoDB connection string. Unset: documents live in SQLite files under "
        "the data directory.",
    )
    mongodb_database_prefix: str = Field(
        default="meshkit_",
        description="Each service stores its documents in the database <prefix><service>.",
    )
    log_level: LogLevel = Field(default="INFO", description="Minimum level of log lines.")
    log_format: Literal["json", "text"] = Field(
        default="json", description="json: one JSON object a line; text: for humans."
    )
    plugins: str | None = Field(
        default=None,
        description="Comma-separated plugin names to load; unset loads every installed one.",
    )
    max_body_size: int = Field(
        default=1024 * 1024,
        gt=0,
        description="Largest request body accepted, in bytes (413 problem beyond it).",
    )
    shutdown_timeout: float = Field(
        default=10.0,
        gt=0,
        description="Seconds to drain in-flight requests on SIGINT/SIGTERM.",
    )

    grpc_port_offset: int = Field(
        default=2000,
        ge=0,
        description="A service's gRPC port is its HTTP port plus this, unless "
        "MESHKIT_<SERVICE>_GRPC_PORT is set.",
    )
    rpc_timeout: float = Field(
        default=5.0,
        gt=0,
        description="Deadline of an internal call (all its retries included), in seconds, "
        "when the caller gives none.",
    )
    rpc_attempt_timeout: float = Field(
        default=2.0,
        gt=0,
        description="Longest wait for one attempt of an internal call; an instance that "
        "stays silent this long counts as failed and, if the method is idempotent, "
        "another is tried while the call's deadline allows.",
    )
    rpc_max_attempts: int = Field(
        default=3,
        ge=1,
        description="Attempts of an idempotent internal call (non-idempotent calls: one).",
    )
    rpc_backoff_base: float = Field(
        default=0.05,
        gt=0,
        description="First retry waits up to this many seconds; doubles per attempt (full jitter).",
    )
    rpc_backoff_max: float = Field(
        default=1.0, gt=0, description="Longest wait between two attempts, in seconds."
    )
    breaker_failure_threshold: int = Field(
        default=5,
        ge=1,
        description="Consecutive failures of one instance that open its circuit.",
    )
    breaker_cooldown: float = Field(
        default=10.0,
        gt=0,
        description="Seconds an open circuit fails fast before letting a trial call through.",
    )
    breaker_half_open_calls: int = Field(
        default=1,
        ge=1,
        description="Trial calls let through at once while half-open; that many successes "
        "close the circuit.",
    )
    discovery_interval: float = Field(
        default=30.0,
        gt=0,
        description="Seconds between re-resolving MESHKIT_<SERVICE>_URLS (DNS names may "
        "change their addresses).",
    )
    service_api_key: SecretStr | None = Field(
        default=None,
        description="This process's service API key, sent on internal calls. Unset: a "
        "random key kept in <data dir>/service-api-key, shared by processes on that directory.",
    )
    service_api_key_hashes: str | None = Field(
        default=None,
        description="Comma-separated SHA-256 hex digests of further service API keys to "
        "accept (keys are never configured in clear).",
    )
    jwt_issuer: str = Field(
        default="meshkit",
        description="`iss` of access tokens: the auth service sets it, every service checks it.",
    )
    jwt_audience: str = Field(
        default="meshkit", description="`aud` of access tokens, checked by every service."
    )
    jwt_algorithms: str = Field(
        default="RS256",
        description="Comma-separated JWS algorithms accepted (allow-list; `none` and HMAC "
        "algorithms are always refused). The auth service signs with the first.",
    )
    jwks_url: str | None = Field(
        default=None,
        description="Where services fetch the signing keys. Unset: the auth service's "
        "/.well-known/jwks.json, found through discovery.",
    )
    redis_max_connections: int = Field(
        default=256,
        ge=1,
        description="Connections a process opens to Redis at most; commands beyond wait "
        "for a free one.",
    )
    events_maxlen: int = Field(
        default=100_000,
        ge=1,
        description="Approximate number of events kept per topic stream (XADD MAXLEN ~).",
    )
    events_claim_idle: float = Field(
        default=30.0,
        gt=0,
        description="Seconds an event may stay unacknowledged by a silent consumer before "
        "another consumer claims it.",
    )
    events_max_attempts: int = Field(
        default=5,
        ge=1,
        description="Deliveries of an event before it goes to the topic's dead-letter stream.",
    )
    events_retry_delay: float = Field(
        default=0.5,
        ge=0,
        description="Seconds before a failed handler is retried (doubles per attempt).",
    )
    events_dedupe_window: float = Field(
        default=86_400.0,
        gt=0,
        description="Seconds an event id is remembered as handled, so a redelivery is skipped.",
    )

    port_suffix: ClassVar[str] = "_PORT"
    _environ: dict[str, str] = PrivateAttr(default_factory=dict)
    _sections: dict[type[BaseSettings], BaseSettings] = PrivateAttr(default_factory=dict)

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_level(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value

    @cached_property
    def plugin_names(self) -> frozenset[str] | None:
        """The ``MESHKIT_PLUGINS`` allow-list, or ``None`` when every plugin may load."""
        if self.plugins is None or not self.plugins.strip():
            return None
        return frozenset(name.strip() for name in self.plugins.split(",") if name.strip())

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Load from ``environ`` (default ``os.environ``); raise :class:`ConfigError`.

        The ``MESHKIT_*`` variables are kept, so per-service ports
        (``MESHKIT_<SERVICE>_PORT``, one per installed service) come from the same source.
        """
        source = dict(os.environ if environ is None else environ)
        settings = load_section(cls, source)
        settings._environ = {
            k.upper(): v for k, v in source.items() if k.upper().startswith("MESHKIT_")
        }
        return settings

    def port_for(self, service: str, default: int) -> int:
        """The port of ``service``: ``MESHKIT_<SERVICE>_PORT`` or its declared default."""
        return self._port(f"MESHKIT_{service.upper()}{self.port_suffix}", default)

    def _port(self, var: str, default: int) -> int:
        raw = self._environ.get(var)
        if raw is None or raw.strip() == "":
            return default
        try:
            port = int(raw)
        except ValueError:
            raise ConfigError(f"{var}: expected a port number, got {raw!r}") from None
        if not 0 <= port <= 65535:
            raise ConfigError(f"{var}: port must be between 0 and 65535, got {port}")
        return port

    def grpc_port_for(self, service: str, http_port: int) -> int:
        """``MESHKIT_<SERVICE>_GRPC_PORT``, else the HTTP port plus ``grpc_port_offset``.

        An HTTP port of 0 (pick a free one) gives a gRPC port of 0 as well.
        """
        var = f"MESHKIT_{service.upper()}_GRPC_PORT"
        if self._environ.get(var, "").strip():
            return self._port(var, 0)
        if http_port == 0:
            return 0
        port = http_port + self.grpc_port_offset
        if port > 65535:
            raise ConfigError(
                f"MESHKIT_GRPC_PORT_OFFSET: {service}'s HTTP port {http_port} plus "
                f"{self.grpc_port_offset} passes 65535; set {var}"
            )
        return port

    def urls_for(self, service: str, kind: Literal["http", "grpc"] = "http") -> list[str] | None:
        """``MESHKIT_<SERVICE>_URLS`` (or ``_GRPC_URLS``) split on commas; ``None`` if unset."""
        var = f"MESHKIT_{service.upper()}_{'GRPC_' if kind == 'grpc' else ''}URLS"
        raw = self._environ.get(var, "")
        urls = [part.strip() for part in raw.split(",") if part.strip()]
        return urls or None

    def section(self, cls: type[S]) -> S:
        """Load (once) and return a plugin's settings section."""
        if cls not in self._sections:
            self._sections[cls] = load_section(cls, self._environ or None)
        loaded = self._sections[cls]
        assert isinstance(loaded, cls)
        return loaded


def env_var_of(cls: type[BaseSettings], field: str) -> str:
    """The environment variable that sets ``field`` of ``cls``."""
    prefix = str(cls.model_config.get("env_prefix", ""))
    return f"{prefix}{field}".upper()


def load_section(cls: type[S], environ: Mapping[str, str] | None = None) -> S:
    """Instantiate a settings class, turning validation errors into :class:`ConfigError`."""
    try:
        if environ is None:
            return cls()
        prefix = str(cls.model_config.get("env_prefix", "")).upper()
        values = {
            key[len(prefix) :].lower(): value
            for key, value in environ.items()
            if key.upper().startswith(prefix) and key[len(prefix) :].lower() in cls.model_fields
        }
        return cls.model_validate(values)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            field = str(error["loc"][0]) if error["loc"] else "?"
            shown = error.get("input")
            got = f" (got {shown!r})" if isinstance(shown, str | int | float) else ""
            problems.append(f"{env_var_of(cls, field)}: {error['msg']}{got}")
        raise ConfigError("; ".join(problems)) from None


def describe(settings: BaseSettings) -> Iterator[tuple[str, str, str]]:
    """Yield ``(variable, shown value, description)`` with every secret masked."""
    cls = type(settings)
    for name, field in cls.model_fields.items():
        value = getattr(settings, name)
        if isinstance(value, SecretStr):
            shown = "********" if value.get_secret_value() else ""
        elif value is None:
            shown = ""
        elif SECRET_FIELD.search(name) and isinstance(value, str) and value:
            shown = "********"
        else:
            shown = str(value)
        yield env_var_of(cls, name), shown, field.description or ""


def reference(cls: type[BaseSettings]) -> Iterator[tuple[str, str, str]]:
    """Yield ``(variable, default, description)`` of every field, for the docs table."""
    for name, field in cls.model_fields.items():
        default = field.get_default(call_default_factory=True)
        shown = "" if default is None else str(default)
        yield env_var_of(cls, name), shown, field.description or ""
