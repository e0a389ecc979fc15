"""The servers service's settings: ``MESHKIT_SERVERS_*`` variables.

Each part of the service (SSH, provisioning, deployments, monitoring, configuration,
health checks) keeps its variables in its own block below, so the generated table in
``docs/configuration.md`` reads by topic.
"""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from meshkit.config import PluginSettings


class ServersSettings(PluginSettings):
    """SSH, jobs, the Docker engines, sampling and checking schedules, operations alerts."""

    model_config = SettingsConfigDict(env_prefix="MESHKIT_SERVERS_", extra="ignore", frozen=True)

    # --- secrets at rest ---
    key_encryption_key: SecretStr | None = Field(
        default=None,
        description="Key that encrypts the hosts' SSH private keys at rest (any text of 32 "
        "characters or more; it is stretched with HKDF-SHA256). Unset: a random key is made "
        "once in the data directory (`servers/kek`, 0600). Never logged, never returned.",
    )

    # --- SSH ---
    ssh_max_connections_per_host: int = Field(
        default=4,
        ge=1,
        le=64,
        description="Open SSH connections the service keeps to one host at most; more "
        "concurrent commands wait for one (each connection multiplexes sessions too).",
    )
    ssh_sessions_per_connection: int = Field(
        default=8,
        ge=1,
        le=64,
        description="Concurrent sessions (commands, SFTP, forwards) on one SSH connection "
        "before another connection is opened (OpenSSH's `MaxSessions` is 10 by default).",
    )
    ssh_keepalive_interval: float = Field(
        default=15.0,
        gt=0,
        le=3600,
        description="Seconds between SSH keepalives on an idle pooled connection; three "
        "unanswered keepalives close it.",
    )
    ssh_idle_timeout: float = Field(
        default=300.0,
        gt=0,
        description="Seconds an unused pooled SSH connection stays open.",
    )
    ssh_connect_timeout: float = Field(
        default=10.0,
        gt=0,
        le=300,
        description="Seconds to open an SSH connection (TCP, key exchange, authentication).",
    )
    command_timeout: float = Field(
        default=300.0,
        gt=0,
        le=86_400,
        description="Seconds a remote command may run unless its step says otherwise; then "
        "it is killed and reported as timed out.",
    )

    # --- provisioning jobs ---
    job_parallelism: int = Field(
        default=25,
        ge=1,
        le=1000,
        description="Hosts a provisioning job works on at once (Ansible's `forks`; its "
        "default is 5).",
    )
    job_log_max_bytes: int = Field(
        default=4 * 1024 * 1024,
        ge=4096,
        description="Largest log kept per job; past it the oldest output is dropped and the "
        "log says so.",
    )
    job_heartbeat_ttl: float = Field(
        default=30.0,
        ge=1.0,
        le=3600,
        description="Seconds a servers instance's heartbeat lasts in Redis, and its lease on "
        "each job it runs lasts in the store (both renewed every third of it). A queued or "
        "running job whose lease expired and whose instance's heartbeat lapsed is marked "
        'failed ("the servers instance running it stopped"), with its log so far.',
    )

    # --- deployments (Docker Engine API) ---
    local_engine: str = Field(
        default="unix:///var/run/docker.sock",
        description="The Docker Engine API that hosts with `engine: local` use (a "
        "`unix://` socket path or `tcp://127.0.0.1:2375`-style URL).",
    )
    remote_engine_socket: str = Field(
        default="/var/run/docker.sock",
        description="Path of the engine's socket on remote hosts, reached through an SSH "
        "forward (as `docker -H ssh://` does); a host may set its own.",
    )
    max_upload_bytes: int = Field(
        default=64 * 1024 * 1024,
        ge=1024,
        description="Largest build context or image tarball accepted, in bytes (413 "
        "beyond). The gateway's `MESHKIT_GATEWAY_MAX_BODY_SIZE` (64 MiB by default, as "
        "this) must be at least as large: raise both together.",
    )
    deploy_ready_seconds: float = Field(
        default=2.0,
        ge=0,
        le=600,
        description="A new container without a health check counts as ready once it has "
        "run this long without exiting (with one, Docker's `healthy` decides).",
    )
    deploy_stop_timeout: int = Field(
        default=10,
        ge=0,
        le=600,
        description="Seconds a stopped container gets between SIGTERM and SIGKILL.",
    )
    engine_forward_linger: float = Field(
        default=60.0,
        ge=0,
        le=3600,
        description="Seconds an SSH-forwarded engine socket stays open after its last use, "
        "so that consecutive calls to a remote engine reuse it.",
    )

    # --- monitoring ---
    monitoring_interval: float = Field(
        default=30.0,
        ge=1.0,
        le=3600,
        description="Seconds between metric samples of each host and its containers.",
    )
    monitoring_retention: float = Field(
        default=24 * 3600.0,
        ge=60.0,
        description="Seconds of samples kept per host and container; older ones are dropped.",
    )
    monitoring_concurrency: int = Field(
        default=25,
        ge=1,
        le=1000,
        description="Hosts one service instance samples at once (the others wait their turn "
        "within the same interval).",
    )
    monitoring_timeout: float = Field(
        default=20.0,
        gt=0,
        le=3600,
        description="Seconds a host's sample (its SSH command, then its engine's container "
        "stats) may take; a host that takes longer is recorded as down (`up` 0) for it.",
    )

    # --- configuration ---
    config_push_parallelism: int = Field(
        default=25,
        ge=1,
        le=1000,
        description="Hosts one configuration push writes to at once; the others wait for a slot.",
    )

    # --- health checks and operations alerts ---
    operations_channel: str | None = Field(
        default=None,
        description="Messaging channel id where health state changes and alerts are posted "
        "(as `system:servers`, through messaging's gRPC `PostSystemMessage`). Unset: none "
        "are posted; events are published either way.",
    )
    health_tick_interval: float = Field(
        default=1.0,
        gt=0,
        le=60,
        description="Seconds between looks at which health checks are due (each check runs "
        "once per its own `interval`, across every instance of the service).",
    )
    health_concurrency: int = Field(
        default=20,
        ge=1,
        le=1000,
        description="Health checks one instance runs at once; more due checks wait for a slot.",
    )
    health_history_size: int = Field(
        default=200,
        ge=10,
        le=100_000,
        description="State changes kept per health check (`GET …/checks/{id}/history`); "
        "older ones are dropped.",
    )
