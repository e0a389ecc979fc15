"""Internal REST calls with the same guarantees as gRPC ones.

``self.rpc.rest("auth")`` gives a client for the HTTP instances of a service (discovery
kind ``http``). Every request carries the service API key (``X-Meshkit-Api-Key``) and the
current request id, has a deadline (and a per-attempt limit), goes to a balanced
instance past its circuit breaker, and is retried on 502/503/504, silent instances and
connection failures — only for idempotent methods (GET, HEAD, OPTIONS, PUT, DELETE); a
POST or PATCH moves to another instance only when the connection was refused. A 5xx
problem the instance passes on from a service behind it is neither retried nor held
against it. Other statuses are returned to the caller. Calls and attempts are counted
in the caller's metrics like gRPC ones, with the HTTP method as ``method``.
"""

from __future__ import annotations

import json as jsonlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
from multidict import CIMultiDictProxy

from meshkit.discovery import Balancer, Instance
from meshkit.errors import UpstreamError
from meshkit.observability import request_id_var
from meshkit.resilience import CircuitBreaker, Deadline, DeadlineExceeded
from meshkit.rpc.balanced import BalancedClient, CallPolicy, Verdict, balanced_call
from meshkit.rpc.errors import PROPAGATED, UpstreamUnavailable
from meshkit.security import API_KEY_HEADER

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
GATEWAY_STATUSES = frozenset({502, 503, 504})


@dataclass(frozen=True)
class RestResponse:
    """A complete response from another service (the body is read)."""

    status: int
    headers: CIMultiDictProxy[str]
    body: bytes

    def json(self) -> Any:
        """The body parsed as JSON."""
        return jsonlib.loads(self.body)

    def raise_for_status(self) -> RestResponse:
        """Raise :class:`~meshkit.errors.UpstreamError` (502) for a 4xx/5xx answer."""
        if self.status >= 400:
            raise UpstreamError(
                f"an upstream service answered HTTP {self.status}",
                extensions={"upstream_status": self.status},
            )
        return self


class _BadGateway(Exception):
    def __init__(self, response: RestResponse) -> None:
        super().__init__(f"HTTP {response.status}")
        self.response = response


class _Refused(Exception):
    """The connection was refused: the request never left."""


class _AttemptTimedOut(Exception):
    """One attempt hit ``MESHKIT_RPC_ATTEMPT_TIMEOUT`` while the call had time left."""


class RestChannel(BalancedClient):
    """HTTP requests to every instance of one service."""

    def __init__(self, target: str, balancer: Balancer, policy: CallPolicy) -> None:
        super().__init__(target, balancer, policy)
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(raise_for_status=False)
        return self._session

    async def close(self) -> None:
        """Close the connection pool."""
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 - one deadline across all attempts
    ) -> RestResponse:
        """Send ``method path`` to an instance; see the module docs for retries.

        ``timeout`` bounds the whole call, retries included (default
        ``MESHKIT_RPC_TIMEOUT``); ``json`` is sent as the body.
        """
        verb = method.upper()
        idempotent = verb in IDEMPOTENT_METHODS
        deadline = Deadline(self.timeout if timeout is None else timeout)
        sent_headers = {**(headers or {}), API_KEY_HEADER: self._api_key}
        request_id = request_id_var.get()
        if request_id:
            sent_headers.setdefault("X-Request-ID", request_id)
        label = f"{self.target} {verb} {path}"

        async def attempt(instance: Instance, breaker: CircuitBreaker) -> RestResponse:
            remaining = deadline.remaining()
            if remaining <= 0:
                breaker.release()
                raise TimeoutError
            limited = self.attempt_timeout < remaining
            budget = self.attempt_timeout if limited else remaining
            outcome = "failure"
            try:
                async with self._client().request(
                    verb,
                    f"{instance.url}{path}",
                    json=json,
                    params=params,
                    headers=sent_headers,
                    timeout=aiohttp.ClientTimeout(total=budget),
                ) as answer:
                    response = RestResponse(answer.status, answer.headers, await answer.read())
            except aiohttp.ClientConnectorError as exc:
                breaker.record_failure()
                raise _Refused(f"{instance.address}: {exc}") from exc
            except TimeoutError:
                if not limited:
                    outcome = "deadline"
                    breaker.release()
                    raise
                breaker.record_failure()
                raise _AttemptTimedOut(instance.address) from None
            except aiohttp.ClientError:
                breaker.record_failure()
                raise
            except BaseException:
                outcome = "cancelled"
                breaker.release()
                raise
            else:
                if response.status in GATEWAY_STATUSES and not _propagated(response):
                    breaker.record_failure()
                    raise _BadGateway(response)
                outcome = "ok"
                breaker.record_success()
                return response
            finally:
                if self._metrics is not None:
                    self._metrics.attempts.labels(self._metrics.service, self.target, outcome).inc()

        def judge(exc: Exception, instance: Instance) -> Verdict:
            unavailable = UpstreamUnavailable(f"{self.target} is unavailable")
            if isinstance(exc, _Refused):
                return Verdict(unavailable, True)
            if isinstance(exc, _BadGateway):
                status = exc.response.status
                unavailable.extensions["upstream_status"] = status
                return Verdict(unavailable, idempotent)
            if isinstance(exc, _AttemptTimedOut):
                return Verdict(DeadlineExceeded(f"{label}: no answer in time"), idempotent)
            if isinstance(exc, TimeoutError):
                detail = f"{label}: no answer within {deadline.timeout:.3g}s"
                return Verdict(DeadlineExceeded(detail), False)
            if isinstance(exc, aiohttp.ClientError):
                return Verdict(unavailable, idempotent)
            return Verdict(exc, False)

        status = "error"
        try:
            response = await balanced_call(
                self.balancer, self.retry, deadline, attempt, judge, label=label
            )
            status = str(response.status)
            return response
        except Exception as exc:
            status = type(exc).__name__
            raise
        finally:
            if self._metrics is not None:
                self._metrics.calls.labels(self._metrics.service, self.target, verb, status).inc()


def _propagated(response: RestResponse) -> bool:
    """A 5xx problem the instance passes on from a service behind it (see rpc.errors)."""
    if not response.headers.get("Content-Type", "").startswith("application/problem+json"):
        return False
    try:
        kind = jsonlib.loads(response.body).get("type", "")
    except (ValueError, AttributeError):
        return False
    return isinstance(kind, str) and f"{kind}:".startswith(PROPAGATED)
