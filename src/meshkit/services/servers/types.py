"""Types every part of the servers service shares, so one rule has one spelling: in the
OpenAPI document, ids (path parameters and references), host labels and the host
selector of jobs and configuration pushes; in the cores, who acts (:data:`Actor`) and
what seals secrets at rest (:class:`Vault`)."""

from __future__ import annotations

from typing import Annotated, Protocol

from pydantic import ConfigDict, Field, model_validator

from meshkit.http.models import RequestModel
from meshkit.tokens import Principal

ULID = r"^[0-9A-HJKMNP-TV-Z]{26}$"
LABEL = r"[A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?"
"""A label key or value (without anchors)."""
MAX_LABELS = 32
MAX_SELECTED = 1000

Id = Annotated[str, Field(pattern=ULID, description="An id (a ULID).")]
"""Any stored object's id: a host, job, recipe, deployment, configuration, check, rule."""
HostId = Annotated[str, Field(pattern=ULID, description="A host id (a ULID).")]
LabelKey = Annotated[str, Field(max_length=63, pattern=rf"^{LABEL}$")]
LabelValue = Annotated[str, Field(max_length=63, pattern=rf"^({LABEL})?$")]
Labels = Annotated[
    dict[LabelKey, LabelValue],
    Field(
        max_length=MAX_LABELS,
        description="Free labels to select hosts by (`env: prod`); keys and values are "
        "letters, digits, `.`, `_`, `-` (63 at most, starting and ending alphanumeric).",
        json_schema_extra={"additionalProperties": False},
    ),
]


class HostSelector(RequestModel):
    """Which hosts: those in ``ids`` (every host when not given) that carry all of
    ``labels``. At least one of the two, neither empty (nothing selects every host by
    accident); an id that names no host is a 404."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"anyOf": [{"required": ["ids"]}, {"required": ["labels"]}]},
    )

    ids: Annotated[list[HostId], Field(min_length=1, max_length=MAX_SELECTED)] | None = None
    labels: Annotated[Labels, Field(min_length=1)] | None = None

    @model_validator(mode="after")
    def _some(self) -> HostSelector:
        if self.ids is None and self.labels is None:
            raise ValueError("give ids, labels or both")
        return self


Actor = Principal | str
"""Who does an operation: a caller's token, or a name (``system``, a scheduler)."""


class Vault(Protocol):
    """Seals and opens secrets at rest (the hosts' ``KeyVault``); ``context`` binds a value
    to where it belongs, so a sealed value copied elsewhere does not open."""

    def seal(self, plaintext: str, context: str) -> str: ...

    def open(self, sealed: str, context: str) -> str: ...
