"""Errors that cross a boundary: one hierarchy, rendered once at the edge.

Every exception a handler or the framework raises on purpose is a :class:`Problem`.
The HTTP layer turns it into an RFC 9457 ``application/problem+json`` document; later
edges (gRPC, Socket.IO) map the same classes to their own typed errors. The ``type``
URI of each class is part of the public contract: clients branch on it, so it never
changes once released (see ``docs/problems.md``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

PROBLEM_TYPE_PREFIX = "urn:meshkit:problem:"


class Problem(Exception):
    """Base of every error meant to reach a client as a problem document.

    Subclasses set ``status``, ``slug`` (the stable part of the ``type`` URI) and
    ``title`` (a short summary that does not change between occurrences). ``detail``
    explains this occurrence; ``extensions`` adds members to the document.
    """

    status: ClassVar[int] = 500
    slug: ClassVar[str] = "internal-error"
    title: ClassVar[str] = "Internal server error"

    def __init__(
        self,
        detail: str | None = None,
        *,
        extensions: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.detail = detail or self.title
        self.extensions: dict[str, Any] = dict(extensions or {})
        self.headers: dict[str, str] = dict(headers or {})
        super().__init__(self.detail)

    @classmethod
    def type_uri(cls) -> str:
        """The stable ``type`` member of this problem's documents."""
        return PROBLEM_TYPE_PREFIX + cls.slug

    def to_dict(self, instance: str | None = None) -> dict[str, Any]:
        """Render the RFC 9457 document (``instance`` is usually the request path)."""
        body: dict[str, Any] = {
            "type": self.type_uri(),
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        if instance is not None:
            body["instance"] = instance
        for key, value in self.extensions.items():
            body.setdefault(key, value)
        return body


class BadRequest(Problem):
    """The request is malformed in a way no more specific problem describes."""

    status = 400
    slug = "bad-request"
    title = "Bad request"


class MalformedBody(Problem):
    """The body could not be parsed (invalid JSON, wrong encoding)."""

    status = 400
    slug = "malformed-body"
    title = "Malformed request body"


class FieldError(dict[str, Any]):
    """One offending field of a validation failure: ``loc``, ``field``, ``message``, ``code``."""

    @classmethod
    def of(cls, loc: Sequence[str | int], message: str, code: str) -> FieldError:
        """Build the entry; ``field`` is ``loc`` joined with dots for display."""
        return cls(
            loc=list(loc),
            field=".".join(str(part) for part in loc[1:] or loc),
            message=message,
            code=code,
        )


class ValidationFailed(Problem):
    """Body, query or path parameters failed validation; ``errors`` lists every field."""

    status = 422
    slug = "validation-error"
    title = "Request validation failed"

    def __init__(self, errors: Sequence[FieldError], detail: str | None = None) -> None:
        count = len(errors)
        super().__init__(
            detail or f"{count} field{'s' if count != 1 else ''} failed validation",
            extensions={"errors": list(errors)},
        )
        self.errors = list(errors)


class Unauthenticated(Problem):
    """No valid credentials were presented."""

    status = 401
    slug = "unauthenticated"
    title = "Authentication required"


class Forbidden(Problem):
    """The caller is known but not allowed to do this."""

    status = 403
    slug = "forbidden"
    title = "Forbidden"


class NotFound(Problem):
    """The addressed resource (or route) does not exist."""

    status = 404
    slug = "not-found"
    title = "Not found"


class MethodNotAllowed(Problem):
    """The route exists but not for this HTTP method; ``allow`` lists the ones it has."""

    status = 405
    slug = "method-not-allowed"
    title = "Method not allowed"


class Conflict(Problem):
    """The request conflicts with the current state of the resource."""

    status = 409
    slug = "conflict"
    title = "Conflict"


class PayloadTooLarge(Problem):
    """The body is larger than the configured limit (``MESHKIT_MAX_BODY_SIZE``)."""

    status = 413
    slug = "payload-too-large"
    title = "Request body too large"


class UnsupportedMediaType(Problem):
    """The body's ``Content-Type`` is not one the route accepts."""

    status = 415
    slug = "unsupported-media-type"
    title = "Unsupported media type"


class TooManyRequests(Problem):
    """A rate limit or lockout applies; ``Retry-After`` says when to try again."""

    status = 429
    slug = "too-many-requests"
    title = "Too many requests"


class ServiceUnavailable(Problem):
    """A dependency (store, Redis, an upstream) is not reachable right now."""

    status = 503
    slug = "service-unavailable"
    title = "Service unavailable"


class UpstreamError(Problem):
    """A service this one depends on answered with an error the handler did not handle."""

    status = 502
    slug = "upstream-error"
    title = "Upstream service error"


class InternalError(Problem):
    """An unexpected failure; details are logged, never sent to the client."""

    status = 500
    slug = "internal-error"
    title = "Internal server error"
