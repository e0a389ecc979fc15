"""The HTTP server under every service: requests that never reach the app.

A request whose head cannot be parsed (a request line or header past aiohttp's
``max_line_size``/``max_field_size``, bytes a header may not hold, a line that is not
HTTP) is answered by aiohttp's protocol before any middleware runs: as ``text/plain``
that may quote the offending input, with an ERROR traceback in the log. Any client could
fill the log that way. Here it is answered like everything else a meshkit service says:

* a ``400`` ``bad-request`` problem (``application/problem+json``) whose detail names
  the kind of fault in fixed words and never echoes a byte of the input;
* one INFO line on ``meshkit.http`` (peer address and the kind of fault), not ERROR:
  it is the client's fault, and it says nothing an access log would not.

Errors that are not the client's (an exception escaping the app) keep aiohttp's
handling, with its ERROR log.

aiohttp offers no parameter for this: the error response is built by
:meth:`aiohttp.web_protocol.RequestHandler.handle_error`, and :class:`aiohttp.web.Server`
creates the handlers. :func:`app_runner` returns an ``AppRunner`` whose server creates
:class:`ProblemRequestHandler` instead (the ``Application`` itself is untouched).
"""

from __future__ import annotations

import logging
from typing import Any

from aiohttp import web
from aiohttp.http_exceptions import (
    BadStatusLine,
    HttpProcessingError,
    InvalidHeader,
    InvalidURLError,
    LineTooLong,
)
from aiohttp.web_protocol import RequestHandler
from aiohttp.web_request import BaseRequest

from meshkit.errors import BadRequest
from meshkit.http.problems import problem_response

log = logging.getLogger("meshkit.http")


def parse_fault(exc: BaseException) -> str:
    """What was wrong with an unparsable request head, in words that quote nothing."""
    if isinstance(exc, LineTooLong):
        return "the request line or a header is too long"
    if isinstance(exc, InvalidHeader):
        return "a request header is malformed"
    if isinstance(exc, BadStatusLine):
        return "the request line is malformed"
    if isinstance(exc, InvalidURLError):
        return "the request target is not a valid URL"
    return "the request is not valid HTTP/1.1"


class ProblemRequestHandler(RequestHandler):
    """aiohttp's protocol, answering unparsable requests with a problem document."""

    __slots__ = ()

    def handle_error(
        self,
        request: BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        """A client's malformed request: a 400 problem and an INFO line; else aiohttp's."""
        if not (400 <= status < 500 and isinstance(exc, HttpProcessingError)):
            return super().handle_error(request, status, exc, message)
        fault = parse_fault(exc)
        log.info(
            "refused a malformed request from %s: %s",
            request.remote,
            fault,
            extra={"remote": request.remote, "status": status, "fault": type(exc).__name__},
        )
        if request.writer.output_size > 0:  # as aiohttp: too late for an answer
            raise ConnectionError("a response was already sent on this connection")
        problem = BadRequest(f"{fault}; nothing of the request was processed")
        response = problem_response(problem)
        response.force_close()
        return response


class _ProblemServer(web.Server):
    """:class:`aiohttp.web.Server` that makes :class:`ProblemRequestHandler` protocols."""

    def __call__(self) -> RequestHandler:
        return ProblemRequestHandler(self, loop=self._loop, **self._kwargs)


class ProblemAppRunner(web.AppRunner):
    """``web.AppRunner`` whose connections answer parse errors with problems."""

    __slots__ = ()

    async def _make_server(self) -> web.Server:
        made = await super()._make_server()
        return _ProblemServer(
            made.request_handler,
            request_factory=made.request_factory,
            handler_cancellation=made.handler_cancellation,
            loop=made._loop,
            **made._kwargs,
        )


def app_runner(app: web.Application, **kwargs: Any) -> web.AppRunner:
    """An ``AppRunner`` for ``app`` (same arguments) whose server answers requests it
    cannot parse with a ``400`` problem and logs them at INFO (see the module docs)."""
    return ProblemAppRunner(app, **kwargs)
