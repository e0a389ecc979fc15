"""Typed errors built from problem documents (RFC 9457).

Every non-2xx answer of the REST API and every ``{"ok": false, "error": …}`` ack of the
Socket.IO API becomes one :class:`MeshkitError`; the subclass is chosen by status (and
``type`` where a status alone is ambiguous), so callers catch what they can handle::

    try:
        await client.send(channel_id, text)
    except ValidationError as exc:
        print(exc.fields)          # ["content"]
    except RateLimited as exc:
        await asyncio.sleep(exc.retry_after or 1)

Branch on ``type`` (stable URIs such as ``urn:meshkit:problem:invalid-token``), never on
``title`` or ``detail``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

PROBLEM_PREFIX = "urn:meshkit:problem:"
INVALID_TOKEN = PROBLEM_PREFIX + "invalid-token"


@dataclass(frozen=True, slots=True)
class FieldError:
    """One entry of a validation problem's ``errors``."""

    field: str
    loc: tuple[str | int, ...]
    message: str
    code: str

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FieldError:
        loc = tuple(p if isinstance(p, int) else str(p) for p in data.get("loc") or ())
        field = data.get("field")
        if not isinstance(field, str):
            field = ".".join(str(p) for p in loc[1:] or loc)
        return cls(
            field=field,
            loc=loc,
            message=str(data.get("message", "")),
            code=str(data.get("code", "")),
        )


class MeshkitError(Exception):
    """An error answer of a meshkit API, from its problem document."""

    def __init__(self, problem: Mapping[str, Any], *, status: int | None = None) -> None:
        self.problem: dict[str, Any] = dict(problem)
        self.status: int = _int(status if status is not None else problem.get("status"))
        self.type: str = str(problem.get("type") or "about:blank")
        self.title: str = str(problem.get("title") or _phrase(self.status))
        self.detail: str = str(problem.get("detail") or "")
        raw_errors = problem.get("errors")
        self.errors: list[FieldError] = [
            FieldError.from_dict(e)
            for e in (raw_errors if isinstance(raw_errors, list) else [])
            if isinstance(e, Mapping)
        ]
        super().__init__(f"{self.status} {self.title}: {self.detail}".rstrip(": "))

    @property
    def slug(self) -> str:
        """The last part of a meshkit ``type``: ``invalid-token``, ``validation-error``."""
        return self.type.removeprefix(PROBLEM_PREFIX)


class BadRequest(MeshkitError):
    """400: the request was malformed."""


class Unauthenticated(MeshkitError):
    """401: no valid credentials (token missing, invalid, expired, revoked; bad login)."""


class Forbidden(MeshkitError):
    """403: authenticated, but not allowed."""


class NotFound(MeshkitError):
    """404: no such route or resource (or one the caller may not see)."""


class Conflict(MeshkitError):
    """409: conflicts with the current state (duplicate, archived channel, …)."""


class ValidationError(MeshkitError):
    """422: the request failed validation; :attr:`fields` names the offending fields."""

    @property
    def fields(self) -> list[str]:
        return [e.field for e in self.errors]


class RateLimited(MeshkitError):
    """429: too many requests; :attr:`retry_after` says when to come back (seconds)."""

    def __init__(
        self,
        problem: Mapping[str, Any],
        *,
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(problem, status=status)
        value = problem.get("retry_after", retry_after)
        self.retry_after: float | None = _number(value) if value is not None else None


class ServiceUnavailable(MeshkitError):
    """503: a service (or a dependency of one) cannot take the request now."""


class UpstreamError(MeshkitError):
    """502 or 504: the gateway (or a service) could not get an answer upstream."""


_BY_STATUS: dict[int, type[MeshkitError]] = {
    400: BadRequest,
    401: Unauthenticated,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    422: ValidationError,
    429: RateLimited,
    502: UpstreamError,
    503: ServiceUnavailable,
    504: UpstreamError,
}


def error_from_problem(
    problem: Mapping[str, Any],
    *,
    status: int | None = None,
    retry_after: str | None = None,
) -> MeshkitError:
    """The typed error for a problem document (``status`` wins over the document's)."""
    code = _int(status if status is not None else problem.get("status"))
    cls = _BY_STATUS.get(code, MeshkitError)
    if cls is RateLimited:
        seconds = _number(retry_after) if retry_after is not None else None
        return RateLimited(problem, status=status, retry_after=seconds)
    return cls(problem, status=status)


def error_from_response(status: int, body: bytes, headers: Mapping[str, str]) -> MeshkitError:
    """The typed error for an HTTP answer; a body that is no problem document still maps."""
    problem: Mapping[str, Any]
    try:
        decoded = json.loads(body) if body else None
    except ValueError:
        decoded = None
    if isinstance(decoded, Mapping):
        problem = decoded
    else:
        text = body.decode("utf-8", "replace").strip()[:200]
        problem = {"type": "about:blank", "title": _phrase(status), "detail": text}
    return error_from_problem(problem, status=status, retry_after=headers.get("retry-after"))


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def _int(value: object) -> int:
    if isinstance(value, bool):
        return 0
    if isinstance(value, int):
        return value
    return int(value) if isinstance(value, str) and value.isdigit() else 0


def _number(value: object) -> float | None:
    try:
        return float(value) if isinstance(value, int | float | str) else None
    except ValueError:
        return None
