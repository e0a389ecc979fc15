"""Rendering problems as RFC 9457 ``application/problem+json`` responses."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from meshkit.errors import (
    BadRequest,
    MethodNotAllowed,
    NotFound,
    PayloadTooLarge,
    Problem,
    UnsupportedMediaType,
)

PROBLEM_JSON = "application/problem+json"

HTTP_EXCEPTIONS: dict[int, type[Problem]] = {
    400: BadRequest,
    404: NotFound,
    405: MethodNotAllowed,
    413: PayloadTooLarge,
    415: UnsupportedMediaType,
}


def problem_response(problem: Problem, instance: str | None = None) -> web.Response:
    """The response for ``problem`` (with its headers, e.g. ``Retry-After``)."""
    return web.Response(
        status=problem.status,
        body=json.dumps(problem.to_dict(instance)).encode(),
        content_type=PROBLEM_JSON,
        headers=problem.headers,
    )


def problem_from_http(exc: web.HTTPException, request: web.Request) -> Problem:
    """Translate aiohttp's own HTTP exceptions (router 404/405, body 413) to problems."""
    if isinstance(exc, web.HTTPMethodNotAllowed):
        allowed = sorted(exc.allowed_methods)
        return MethodNotAllowed(
            f"{request.method} is not allowed on {request.path}; allowed: {', '.join(allowed)}",
            extensions={"allowed": allowed},
            headers={"Allow": ", ".join(allowed)},
        )
    if isinstance(exc, web.HTTPNotFound):
        return NotFound(f"no route matches {request.method} {request.path}")
    kind = HTTP_EXCEPTIONS.get(exc.status)
    if kind is not None:
        return kind(exc.text if exc.text and not exc.text.startswith(str(exc.status)) else None)
    generic: type[Problem] = type(
        "HttpProblem",
        (Problem,),
        {"status": exc.status, "slug": f"http-{exc.status}", "title": exc.reason},
    )
    return generic(exc.reason)


def problem_schema() -> dict[str, Any]:
    """JSON Schema of a problem document, referenced by every operation's errors."""
    return {
        "type": "object",
        "title": "Problem",
        "description": "RFC 9457 problem details.",
        "required": ["type", "title", "status", "detail"],
        "properties": {
            "type": {"type": "string", "format": "uri-reference"},
            "title": {"type": "string"},
            "status": {"type": "integer"},
            "detail": {"type": "string"},
            "instance": {"type": "string"},
            "errors": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["loc", "field", "message", "code"],
                    "properties": {
                        "loc": {
                            "type": "array",
                            "items": {"anyOf": [{"type": "string"}, {"type": "integer"}]},
                        },
                        "field": {"type": "string"},
                        "message": {"type": "string"},
                        "code": {"type": "string"},
                    },
                },
            },
        },
        "additionalProperties": True,
    }
