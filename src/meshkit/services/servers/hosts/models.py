"""What the hosts part stores (:class:`Host`) and what its API accepts and answers.

A host's SSH private key is accepted once (``HostIn.private_key``, write-only), stored
only encrypted (:mod:`meshkit.services.servers.hosts.vault`) and never answered: answers
carry its public half and fingerprint instead.
"""

from __future__ import annotations

import ipaddress
from datetime import datetime
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, Field, SecretStr, field_validator

from meshkit.http.models import RequestModel
from meshkit.services.servers.types import LABEL, MAX_LABELS, HostId, Labels
from meshkit.store import Document, Index

_DNS_LABEL = r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_HOSTNAME = rf"{_DNS_LABEL}(\.{_DNS_LABEL})*"
_IPV6 = r"[0-9A-Fa-f.]*:[0-9A-Fa-f:.]*"
HOST_KEY_LINE = (
    r"^(ssh-ed25519|ssh-ed448|ssh-rsa|ecdsa-sha2-nistp256|ecdsa-sha2-nistp384|"
    r"ecdsa-sha2-nistp521) [A-Za-z0-9+/]+={0,2}( [^\r\n]*)?$"
)
MAX_KEY_CHARS = 16_384

Engine = Literal["none", "local", "ssh"]
HostName = Annotated[
    str,
    Field(
        min_length=1,
        max_length=63,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$",
        description="Unique name of the host (letters, digits, `.`, `_`, `-`).",
        examples=["web-1"],
    ),
]
Address = Annotated[
    str,
    Field(
        min_length=1,
        max_length=253,
        pattern=rf"^({_HOSTNAME}|{_IPV6})$",
        description="DNS name, IPv4 or IPv6 address (without brackets) the service connects "
        "to; a dotted all-digit name must be a valid IPv4 address, one with `:` a valid IPv6 "
        "address.",
        examples=["web-1.example.com", "192.0.2.10"],
    ),
]
Port = Annotated[int, Field(ge=1, le=65535, description="The host's SSH port.")]
User = Annotated[
    str,
    Field(
        min_length=1,
        max_length=32,
        pattern=r"^[A-Za-z_][A-Za-z0-9_.-]{0,31}$",
        description="The user to log in as.",
        examples=["root", "deploy"],
    ),
]
PrivateKey = Annotated[
    SecretStr,
    Field(
        min_length=1,
        max_length=MAX_KEY_CHARS,
        description="The SSH private key the service logs in with: OpenSSH "
        "(`-----BEGIN OPENSSH PRIVATE KEY-----`) or PEM text, without a passphrase. "
        "Write-only: stored encrypted, never returned (see `key_fingerprint`).",
    ),
]
HostKey = Annotated[
    str,
    Field(
        max_length=MAX_KEY_CHARS,
        pattern=HOST_KEY_LINE,
        description="The host's public SSH host key as in `known_hosts` or "
        "`/etc/ssh/ssh_host_*_key.pub` (`ssh-ed25519 AAAA…`, a comment allowed). Unset, "
        "the first key the host presents is pinned.",
        examples=["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGJ3…"],
    ),
]
EngineSocket = Annotated[
    str,
    Field(
        min_length=2,
        max_length=107,
        pattern=r"^/[^\x00-\x1f\x7f]*$",
        description="Absolute path of the Docker Engine's unix socket on the host "
        "(`null`: the service's `MESHKIT_SERVERS_REMOTE_ENGINE_SOCKET`).",
    ),
]
EngineField = Annotated[
    Engine,
    Field(
        description="How deployments reach the host's Docker Engine: `ssh` (its socket "
        "forwarded over SSH), `local` (the engine this service runs beside) or `none`."
    ),
]


def check_address(value: str) -> str:
    """``value`` if it is a DNS name or a valid IP address (see :data:`Address`)."""
    if ":" in value:
        ipaddress.IPv6Address(value)
    elif "." in value and value.replace(".", "").isdigit():
        ipaddress.IPv4Address(value)
    return value


# --- facts ----------------------------------------------------------------------------


class Disk(BaseModel):
    """One mounted file system (from ``df -P``)."""

    mount: str
    filesystem: str
    size: int = Field(description="Bytes.")
    used: int = Field(description="Bytes.")


class Facts(BaseModel):
    """What a host is, as gathered over SSH (``None``: the host did not say)."""

    hostname: str | None = None
    os_id: str | None = Field(default=None, description="`ID` of /etc/os-release (`debian`).")
    os_name: str | None = Field(default=None, description="`NAME` of /etc/os-release.")
    os_version: str | None = Field(default=None, description="`VERSION_ID` of /etc/os-release.")
    kernel: str | None = Field(default=None, description="`uname -r`.")
    arch: str | None = Field(default=None, description="`uname -m` (`x86_64`, `aarch64`).")
    cpu_count: int | None = None
    cpu_model: str | None = None
    memory_total: int | None = Field(default=None, description="Bytes (MemTotal).")
    disks: list[Disk] = Field(default_factory=list)
    uptime: float | None = Field(default=None, description="Seconds since boot.")
    engine_present: bool = Field(
        default=False, description="A Docker Engine socket exists at the host's engine socket."
    )
    engine_version: str | None = Field(
        default=None, description="The engine's version, when the host could tell it."
    )
    gathered_at: datetime | None = None


# --- stored ---------------------------------------------------------------------------


class Host(Document):
    """A managed host as stored; ``encrypted_key`` is the vault's sealed private key."""

    collection: ClassVar[str] = "servers_hosts"
    indexes: ClassVar[tuple[Index, ...]] = (Index("name", unique=True),)
    name: str
    address: str
    port: int = 22
    user: str = "root"
    labels: dict[str, str] = Field(default_factory=dict)
    encrypted_key: str = Field(repr=False)
    public_key: str
    key_fingerprint: str
    host_key: str | None = None
    host_key_fingerprint: str | None = None
    engine: Engine = "none"
    engine_socket: str | None = None
    facts: Facts | None = None
    facts_at: datetime | None = None
    created_at: datetime
    updated_at: datetime


# --- API ------------------------------------------------------------------------------


class HostIn(RequestModel):
    """A host to manage over SSH."""

    name: HostName
    address: Address
    port: Port = 22
    user: User = "root"
    labels: Labels = Field(default_factory=dict)
    private_key: PrivateKey
    host_key: HostKey | None = None
    engine: EngineField = "none"
    engine_socket: EngineSocket | None = None

    @field_validator("address")
    @classmethod
    def _address(cls, value: str) -> str:
        return check_address(value)


class HostPatch(RequestModel):
    """Changes to a host; an absent field is left as it is, and so is ``null`` for all
    but ``host_key`` and ``engine_socket``.

    ``labels`` replaces all labels. ``private_key`` replaces the login key. ``host_key``
    re-pins the host key (after a reinstall), and ``host_key: null`` unpins it: the next
    key presented is pinned. ``engine_socket: null`` returns to the default. A changed
    address, port, user, key or pin closes the pooled connections to the host.
    """

    name: HostName | None = None
    address: Address | None = None
    port: Port | None = None
    user: User | None = None
    labels: Labels | None = None
    private_key: PrivateKey | None = None
    host_key: HostKey | None = None
    engine: EngineField | None = None
    engine_socket: EngineSocket | None = None

    @field_validator("address")
    @classmethod
    def _address(cls, value: str | None) -> str | None:
        return None if value is None else check_address(value)


class HostOut(BaseModel):
    """A managed host. Its private key is never answered: ``public_key`` and
    ``key_fingerprint`` identify it."""

    id: str
    name: str
    address: str
    port: int
    user: str
    labels: dict[str, str]
    public_key: str = Field(description="The login key's public half (for authorized_keys).")
    key_fingerprint: str = Field(description="SHA256 fingerprint of the login key.")
    host_key: str | None = Field(description="The pinned host key (`null`: not yet pinned).")
    host_key_fingerprint: str | None
    engine: Engine
    engine_socket: str | None
    facts: Facts | None = Field(description="The facts gathered last (`null`: never).")
    facts_at: datetime | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, host: Host) -> HostOut:
        """The public view of ``host`` (everything but the sealed key)."""
        return cls.model_validate(host.model_dump(exclude={"encrypted_key", "version"}))


class HostQuery(BaseModel):
    """A page of hosts, by id (creation order), optionally narrowed by labels."""

    label: Annotated[
        list[Annotated[str, Field(max_length=127, pattern=rf"^{LABEL}:({LABEL})?$")]],
        Field(
            max_length=MAX_LABELS,
            description="`key:value` labels the hosts must all have (repeat for more).",
            examples=[["env:prod"]],
        ),
    ] = Field(default_factory=list)
    after: HostId | None = Field(default=None, description="Hosts created after this id.")
    limit: Annotated[int, Field(ge=1, le=500)] = 100

    def selector(self) -> dict[str, str]:
        """The labels as a mapping (the last of a repeated key wins)."""
        return dict(item.split(":", 1) for item in self.label)


class ProblemOut(BaseModel):
    """A problem document (RFC 9457) carried inside an answer."""

    type: str
    title: str
    status: int
    detail: str
    extensions: dict[str, Any] = Field(default_factory=dict)


class ConnectionTest(BaseModel):
    """The outcome of logging in to a host and running ``uname``."""

    ok: bool
    latency: float | None = Field(
        description="Seconds for the command to come back (connecting included when no "
        "pooled connection was open)."
    )
    uname: str | None = Field(description="What `uname -srm` printed.")
    host_key_fingerprint: str | None = Field(
        description="SHA256 fingerprint of the pinned host key (pinned now if it was not)."
    )
    error: ProblemOut | None = Field(
        description="Why it failed: `host-unreachable`, `host-auth-failed`, "
        "`host-key-mismatch`, `command-timed-out`, `key-unreadable`."
    )
