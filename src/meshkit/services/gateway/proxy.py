"""Forwarding one HTTP request to an upstream instance, streaming both bodies.

Contract (what a client and an upstream can rely on):

* Bodies stream in both directions in chunks: memory per request is bounded by the
  chunk size, whatever the body size. A request body larger than
  ``MESHKIT_GATEWAY_MAX_BODY_SIZE`` is refused with 413 — before contacting an upstream
  when ``Content-Length`` says so, or as soon as a chunked body crosses the limit.
* Hop-by-hop headers (RFC 9110 §7.6.1, and those named in ``Connection``) are dropped
  both ways. Upstreams get ``X-Forwarded-For/Proto/Host``, ``X-Request-ID`` and the
  gateway's service API key (so auth may believe ``X-Forwarded-For``); a client's own
  API-key header is never passed on. Compressed responses pass through untouched.
* Failures before an upstream answered map to problem documents: 503 when no instance
  can take the request, 502 when the connection failed or broke, 504 on the connect or
  read timeout. A failure after the response head was sent cuts the connection (the
  status cannot change any more).
* Idempotent requests (GET, HEAD, OPTIONS, DELETE without a body, and PUT whose body is
  small enough to keep) are retried once on another instance when the first attempt
  failed before any response byte. Other requests are never retried: the upstream
  may have acted on them.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp import web
from multidict import CIMultiDict, CIMultiDictProxy

from meshkit.errors import PayloadTooLarge, Problem, ServiceUnavailable, UpstreamError
from meshkit.http.middleware import REQUEST_ID_HEADER, current_request_id
from meshkit.resilience import DeadlineExceeded
from meshkit.security import API_KEY_HEADER
from meshkit.services.gateway.upstreams import Lease, ServicePool

log = logging.getLogger("meshkit.gateway")
CHUNK = 64 * 1024
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)
NOT_FORWARDED = frozenset(
    name.lower()
    for name in (
        "Host",
        API_KEY_HEADER,
        "X-Forwarded-For",
        "X-Forwarded-Proto",
        "X-Forwarded-Host",
        "Forwarded",
        "Content-Length",
        "Sec-WebSocket-Key",
        "Sec-WebSocket-Version",
        "Sec-WebSocket-Extensions",
    )
)
"""Request headers the gateway sets itself or that belong to the client's connection."""
NO_LENGTH = frozenset({"content-length"})
IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "DELETE", "PUT"})
FAILURE_STATUSES = frozenset({502, 503, 504})
AFFINITY_COOKIE = "meshkit_affinity"


@dataclass(frozen=True)
class Placement:
    """Where a request must go: the thing it is about (``scope:value``, hashed to pick an
    instance when nobody owns it) and the owning instance's id, if one does."""

    key: str
    owner: str | None


class UpstreamTimeout(DeadlineExceeded):
    """The upstream did not connect or answer within the gateway's timeouts."""

    slug = "upstream-timeout"
    title = "Upstream timed out"


class BadGateway(UpstreamError):
    """The connection to the upstream failed or broke before it answered."""

    slug = "bad-gateway"
    title = "Upstream connection failed"


@dataclass(frozen=True)
class ProxyPolicy:
    """Limits and identity the proxy applies to every request."""

    connect_timeout: float
    read_timeout: float
    max_body_size: int
    retry_body_limit: int
    api_key: str
    trust_forwarded: bool


def connection_tokens(headers: CIMultiDictProxy[str]) -> frozenset[str]:
    """Header names listed in ``Connection`` (they are hop-by-hop too)."""
    values = headers.getall("Connection", [])
    return frozenset(t.strip().lower() for v in values for t in v.split(",") if t.strip())


def end_to_end(
    headers: CIMultiDictProxy[str], drop: frozenset[str] = frozenset()
) -> CIMultiDict[str]:
    """``headers`` without hop-by-hop ones and without ``drop`` (lower-case names)."""
    skip = HOP_BY_HOP | drop
    if "Connection" in headers:
        skip = skip | connection_tokens(headers)
    return CIMultiDict((k, v) for k, v in headers.items() if k.lower() not in skip)


def client_address(request: web.Request, trust_forwarded: bool) -> str:
    """The client's address: the peer, or what the trusted proxy in front appended.

    A proxy appends the address it saw to ``X-Forwarded-For``; everything to the left
    of that came from the client and proves nothing, so only the last entry is used.
    """
    if trust_forwarded:
        forwarded = request.headers.get("X-Forwarded-For", "").rsplit(",", 1)[-1].strip()
        if forwarded:
            return forwarded
    return request.remote or "unknown"


def upstream_headers(request: web.Request, policy: ProxyPolicy) -> CIMultiDict[str]:
    """What the upstream receives: end-to-end headers plus the forwarding ones."""
    headers = end_to_end(request.headers, drop=NOT_FORWARDED)
    # One address, the client as far as the gateway can tell: upstreams (auth's lockout)
    # may believe it because the gateway's API key comes with it.
    headers["X-Forwarded-For"] = client_address(request, policy.trust_forwarded)
    proto = request.headers.get("X-Forwarded-Proto") if policy.trust_forwarded else None
    headers["X-Forwarded-Proto"] = proto or request.scheme
    headers["X-Forwarded-Host"] = request.headers.get("Host", request.host)
    headers[REQUEST_ID_HEADER] = current_request_id() or ""
    headers[API_KEY_HEADER] = policy.api_key
    if request.content_length is not None:
        headers["Content-Length"] = str(request.content_length)
    return headers


def _upstream_url(lease: Lease, request: web.Request) -> str:
    return f"{lease.instance.url}{request.rel_url.raw_path_qs}"


class _BodyTooLarge(Exception):
    pass


class Proxy:
    """Forwards requests to a service's pool over one shared client session."""

    def __init__(self, session: aiohttp.ClientSession, policy: ProxyPolicy) -> None:
        self.session = session
        self.policy = policy

    def timeout(self) -> aiohttp.ClientTimeout:
        """Connect and per-read timeouts; no total (long downloads are fine)."""
        return aiohttp.ClientTimeout(
            total=None, connect=self.policy.connect_timeout, sock_read=self.policy.read_timeout
        )

    async def forward(
        self,
        request: web.Request,
        pool: ServicePool,
        *,
        sticky: bool = False,
        extra_headers: Mapping[str, str] | None = None,
        place: Placement | None = None,
    ) -> web.StreamResponse:
        """Proxy ``request`` to an instance of ``pool``; see the module docs. ``place``:
        the thing the request is about, and its owner (:mod:`meshkit.affinity`), which
        take precedence over ``sticky``."""
        length = request.content_length
        if length is not None and length > self.policy.max_body_size:
            raise PayloadTooLarge(
                f"the request body is {length} bytes; the limit is {self.policy.max_body_size}"
            )
        has_body = request.body_exists
        body: bytes | None = None
        retryable = request.method in IDEMPOTENT
        if has_body and retryable:
            small = length is not None and length <= self.policy.retry_body_limit
            if request.method == "PUT" and small:
                body = await request.content.readexactly(length) if length else b""
            else:
                retryable = False
        cookie = self.affinity_key(request) if sticky and place is None else None
        affinity = place.key if place is not None else cookie
        owner = place.owner if place is not None else None
        headers = upstream_headers(request, self.policy)
        tried: list[Any] = []
        attempts = 2 if retryable else 1
        for attempt in range(attempts):
            lease = await pool.acquire(exclude=tried, affinity=affinity, owner=owner)
            if attempt and pool.metrics is not None:
                pool.metrics.retries.labels(pool.service).inc()
            tried.append(lease.instance)
            state = _Sent()
            payload: Any = body
            if body is None and has_body:
                payload = self._limited(request, state)
            try:
                upstream = await self.session.request(
                    request.method,
                    _upstream_url(lease, request),
                    headers=headers,
                    data=payload,
                    allow_redirects=False,
                    timeout=self.timeout(),
                    auto_decompress=False,
                )
            except asyncio.CancelledError:
                lease.release()
                raise
            except Exception as exc:
                if state.too_large:
                    lease.release()
                    raise PayloadTooLarge(
                        f"the request body exceeds {self.policy.max_body_size} bytes"
                    ) from None
                if state.client_failed:  # the client broke off its body: no verdict
                    lease.release()
                    raise ConnectionResetError("the client broke off its request") from None
                problem = self._failure(exc, lease)
                lease.failure()
                if attempt + 1 < attempts and not isinstance(problem, UpstreamTimeout):
                    log.info(
                        "retrying %s %s on another instance: %s",
                        request.method,
                        request.path,
                        problem.detail,
                        extra={"upstream": lease.instance.url},
                    )
                    continue
                raise problem from None
            return await self._relay(request, upstream, lease, cookie, extra_headers or {})
        raise ServiceUnavailable(f"no instance of {pool.service} could take the request")

    def _failure(self, exc: BaseException, lease: Lease) -> Problem:
        where = lease.instance.url
        reason = f"{type(exc).__name__}: {exc}"
        log.warning("upstream %s failed: %s", where, reason, extra={"upstream": where})
        if isinstance(exc, (aiohttp.ServerTimeoutError, TimeoutError)):
            return UpstreamTimeout(f"{lease.pool.service} did not answer in time")
        return BadGateway(f"the connection to {lease.pool.service} failed")

    async def _limited(self, request: web.Request, state: _Sent) -> AsyncIterator[bytes]:
        """The request body in chunks, stopping at the size limit."""
        limit = self.policy.max_body_size
        chunks = request.content.iter_chunked(CHUNK)
        while True:
            try:
                chunk = await chunks.__anext__()
            except StopAsyncIteration:
                return
            except BaseException:
                state.client_failed = True
                raise
            state.bytes += len(chunk)
            if state.bytes > limit:
                state.too_large = True
                raise _BodyTooLarge
            yield chunk

    def affinity_key(self, request: web.Request) -> str:
        """What keeps a sticky client on one instance: its cookie, else its address."""
        return request.cookies.get(AFFINITY_COOKIE) or client_address(
            request, self.policy.trust_forwarded
        )

    async def _relay(
        self,
        request: web.Request,
        upstream: aiohttp.ClientResponse,
        lease: Lease,
        affinity: str | None,
        extra_headers: Mapping[str, str],
    ) -> web.StreamResponse:
        """Relay the upstream response to the client; report the lease.

        A body of known length up to one chunk is read first and sent with the head in
        one write (most API answers); anything else streams chunk by chunk.
        """
        verdict_failure = upstream.status in FAILURE_STATUSES
        length = upstream.content_length
        small = length is not None and length <= CHUNK and request.method != "HEAD"
        response: web.StreamResponse
        if small:
            try:
                body = await upstream.read()
            except asyncio.CancelledError:
                upstream.release()
                lease.release()
                raise
            except (aiohttp.ClientError, TimeoutError) as exc:
                problem = self._failure(exc, lease)
                lease.failure()
                raise problem from None  # nothing sent yet: a clean 502/504
            finally:
                upstream.release()
            lease.failure() if verdict_failure else lease.success()
            response = web.Response(status=upstream.status, reason=upstream.reason, body=body)
            self._head(response, upstream, request, affinity, extra_headers, drop_length=True)
            return response
        response = web.StreamResponse(status=upstream.status, reason=upstream.reason)
        self._head(response, upstream, request, affinity, extra_headers, drop_length=False)
        reported = False
        try:
            await response.prepare(request)
            async for chunk in upstream.content.iter_chunked(CHUNK):
                await response.write(chunk)
            await response.write_eof()
        except asyncio.CancelledError:
            lease.release()
            reported = True
            raise
        except ConnectionResetError:
            # the client went away mid-stream (a closed event stream, say): there is no
            # one left to answer; drop the upstream connection so the service sees it too
            upstream.close()
            lease.release()
            reported = True
        except (aiohttp.ClientError, TimeoutError) as exc:
            log.warning(
                "upstream %s broke off its response: %r",
                lease.instance.url,
                exc,
                extra={"upstream": lease.instance.url},
            )
            lease.failure()
            reported = True
            if request.transport is not None:
                request.transport.close()
        finally:
            upstream.release()
            if not reported:
                lease.failure() if verdict_failure else lease.success()
        return response

    def _head(
        self,
        response: web.StreamResponse,
        upstream: aiohttp.ClientResponse,
        request: web.Request,
        affinity: str | None,
        extra_headers: Mapping[str, str],
        *,
        drop_length: bool,
    ) -> None:
        drop = NO_LENGTH if drop_length else frozenset()
        response.headers.extend(end_to_end(upstream.headers, drop=drop))
        response.headers[REQUEST_ID_HEADER] = current_request_id() or ""
        response.headers.update(extra_headers)
        if affinity is not None and AFFINITY_COOKIE not in request.cookies:
            response.set_cookie(
                AFFINITY_COOKIE, affinity.replace(":", "_"), httponly=True, samesite="Lax"
            )


class _Sent:
    """How much of a streamed request body went out (to tell 413 from 502)."""

    def __init__(self) -> None:
        self.bytes = 0
        self.too_large = False
        self.client_failed = False
