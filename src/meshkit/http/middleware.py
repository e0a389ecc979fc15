"""The edge every request passes: request id, problem rendering, access log, metrics.

It is the outermost middleware of every service, so whatever a handler or an inner
(plugin) middleware raises leaves the service as a problem document, never a stack
trace, and every request is logged and counted exactly once.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
import uuid
from collections.abc import Awaitable, Callable

from aiohttp import web
from aiohttp.typedefs import Middleware as Middleware
from grpclib.exceptions import GRPCError

from meshkit.errors import InternalError, Problem, UpstreamError
from meshkit.http.problems import problem_from_http, problem_response
from meshkit.observability import HttpMetrics, request_id_var, service_var

REQUEST_ID_HEADER = "X-Request-ID"
VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
UNMATCHED = "unmatched"
CLIENT_CLOSED = 499  # logged when the client went away before a response existed

access_log = logging.getLogger("meshkit.access")
error_log = logging.getLogger("meshkit.http")


def current_request_id() -> str | None:
    """The id the edge assigned to the request being handled (``None`` outside one).

    It is the incoming ``X-Request-ID`` when well formed, else a new random id; pass it
    on to upstream calls so one id follows a request across services.
    """
    return request_id_var.get()


def route_label(request: web.Request) -> str:
    """The route template, so metrics do not get one series per distinct URL."""
    if request.match_info.http_exception is not None:
        return UNMATCHED
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else UNMATCHED


def edge_middleware(service: str, metrics: HttpMetrics) -> Middleware:
    """Build the edge middleware for one service."""

    @web.middleware
    async def edge(
        request: web.Request,
        handler: Callable[[web.Request], Awaitable[web.StreamResponse]],
    ) -> web.StreamResponse:
        incoming = request.headers.get(REQUEST_ID_HEADER, "")
        request_id = incoming if VALID_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        rid_token = request_id_var.set(request_id)
        svc_token = service_var.set(service)
        started = time.perf_counter()
        metrics.begin()
        status = CLIENT_CLOSED
        response: web.StreamResponse
        try:
            try:
                response = await handler(request)
            except Problem as problem:
                response = problem_response(problem, request.path)
            except web.HTTPException as exc:
                if exc.status < 400:
                    response = exc
                else:
                    response = problem_response(problem_from_http(exc, request), request.path)
            except GRPCError as exc:
                error_log.warning(
                    "upstream answered %s to %s %s: %s",
                    exc.status.name,
                    request.method,
                    request.path,
                    exc.message,
                )
                response = problem_response(
                    UpstreamError(
                        f"an upstream service answered {exc.status.name}",
                        extensions={"upstream_status": exc.status.name},
                    ),
                    request.path,
                )
            except (asyncio.CancelledError, ConnectionResetError):
                raise
            except Exception:
                error_log.exception("unhandled error in %s %s", request.method, request.path)
                response = problem_response(
                    InternalError("an unexpected error occurred; quote the request id"),
                    request.path,
                )
            if not response.prepared:
                response.headers[REQUEST_ID_HEADER] = request_id
            status = response.status
            return response
        finally:
            elapsed = time.perf_counter() - started
            metrics.end()
            route = route_label(request)
            metrics.observe(request.method, route, status, elapsed)
            access_log.info(
                "%s %s %s",
                request.method,
                request.path,
                status,
                extra={
                    "method": request.method,
                    "path": request.path,
                    "route": route,
                    "status": status,
                    "duration_ms": round(elapsed * 1000, 3),
                    "remote": request.remote,
                    "request_id": request_id,
                    "service": service,
                },
            )
            request_id_var.reset(rid_token)
            service_var.reset(svc_token)

    return edge
