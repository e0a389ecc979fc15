"""How errors cross the gRPC boundary, in both directions.

Server side: a servicer raises the same :class:`~meshkit.errors.Problem` classes an HTTP
handler would; the server turns it into a ``GRPCError`` with the matching status and
the problem's detail as message (never a traceback). Client side: statuses the server
chose reach the caller as ``GRPCError``; failures of the path to it (unreachable, timed
out, circuit open) become typed meshkit problems, so an HTTP handler that lets one
escape answers 503/504 with a problem document instead of a 500.
"""

from __future__ import annotations

from grpclib.const import Status
from grpclib.exceptions import GRPCError, ProtocolError, StreamTerminatedError

from meshkit.errors import PROBLEM_TYPE_PREFIX, Problem, ServiceUnavailable

STATUS_OF_HTTP = {
    400: Status.INVALID_ARGUMENT,
    401: Status.UNAUTHENTICATED,
    403: Status.PERMISSION_DENIED,
    404: Status.NOT_FOUND,
    409: Status.ABORTED,
    412: Status.FAILED_PRECONDITION,
    413: Status.RESOURCE_EXHAUSTED,
    415: Status.INVALID_ARGUMENT,
    422: Status.INVALID_ARGUMENT,
    429: Status.RESOURCE_EXHAUSTED,
    501: Status.UNIMPLEMENTED,
    503: Status.UNAVAILABLE,
    504: Status.DEADLINE_EXCEEDED,
}

INSTANCE_FAILURES = frozenset(
    {Status.UNAVAILABLE, Status.DEADLINE_EXCEEDED, Status.INTERNAL, Status.UNKNOWN}
)
"""Statuses that count against the instance's circuit; the rest are the caller's business."""

TRANSPORT_ERRORS: tuple[type[Exception], ...] = (
    OSError,
    StreamTerminatedError,
    ProtocolError,
    ConnectionError,
)
"""Exceptions meaning the instance could not be reached or dropped the call."""


DRAINING = f"{PROBLEM_TYPE_PREFIX}draining"
"""Message prefix of the UNAVAILABLE a draining server answers: the call was not run."""

PROPAGATED = tuple(
    f"{PROBLEM_TYPE_PREFIX}{slug}:"
    for slug in (
        "upstream-unavailable",
        "upstream-error",
        "circuit-open",
        "no-instances",
        "deadline-exceeded",
    )
)
"""Message prefixes of statuses a server passes on from its own upstream calls."""


def is_draining(error: GRPCError) -> bool:
    """The server refused the call before running it, because it is shutting down."""
    return error.status is Status.UNAVAILABLE and (error.message or "").startswith(DRAINING)


def is_propagated(error: GRPCError) -> bool:
    """The server is healthy; a service *behind* it failed. Neither retried nor held
    against the server's circuit: the server already applied its own retries, and
    retrying at every hop multiplies the load on whatever is failing."""
    return (error.message or "").startswith(PROPAGATED)


class UpstreamUnavailable(ServiceUnavailable):
    """The upstream could not be reached or answered UNAVAILABLE, retries included."""

    slug = "upstream-unavailable"
    title = "Upstream service unavailable"


def status_for(problem: Problem) -> Status:
    """The gRPC status of a problem (INVALID_ARGUMENT for other 4xx, INTERNAL for 5xx)."""
    status = STATUS_OF_HTTP.get(problem.status)
    if status is not None:
        return status
    return Status.INVALID_ARGUMENT if 400 <= problem.status < 500 else Status.INTERNAL


def grpc_error_of(problem: Problem) -> GRPCError:
    """The ``GRPCError`` a servicer's problem becomes on the wire."""
    return GRPCError(status_for(problem), f"{problem.type_uri()}: {problem.detail}")
