"""The client stack every internal gRPC call goes through.

``clients.stub(AuthServiceStub, "auth")`` returns the generated, fully typed grpclib
stub, bound to a :class:`ServiceChannel` instead of one connection. For each call the
channel

* sets a deadline (the caller's ``timeout`` or ``MESHKIT_RPC_TIMEOUT``) that covers
  every attempt,
* adds the service API key and the current request id to the metadata,
* picks an instance round-robin, skipping those whose circuit is open (all open:
  :class:`~meshkit.resilience.CircuitOpen` at once, nothing sent),
* records the outcome in that instance's breaker, and
* retries UNAVAILABLE and unreachable instances with jittered exponential backoff, on
  another instance when there is one, but only for methods whose contract declares
  ``option idempotency_level = NO_SIDE_EFFECTS`` or ``IDEMPOTENT``. A non-idempotent
  call is never sent twice; it only moves to another instance when the first could
  not even be connected to (so the request provably never left).

Unary-unary calls get all of the above; streaming calls get deadline, metadata,
balancing and the breaker, without retries.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from types import TracebackType
from typing import Any, TypeVar, cast

from google.protobuf import descriptor_pb2, descriptor_pool
from grpclib.client import Channel
from grpclib.const import Cardinality, Status
from grpclib.exceptions import GRPCError
from grpclib.metadata import Deadline as GrpcDeadline
from multidict import MultiDict
from prometheus_client import CollectorRegistry

from meshkit.config import Settings
from meshkit.discovery import Balancer, Directory, Instance
from meshkit.observability import RpcMetrics, request_id_var
from meshkit.resilience import (
    BreakerPolicy,
    BreakerRegistry,
    CircuitBreaker,
    Deadline,
    DeadlineExceeded,
    RetryPolicy,
)
from meshkit.rpc.balanced import BalancedClient, CallPolicy, Verdict, balanced_call
from meshkit.rpc.errors import (
    INSTANCE_FAILURES,
    TRANSPORT_ERRORS,
    UpstreamUnavailable,
    is_draining,
    is_propagated,
)
from meshkit.rpc.rest import RestChannel
from meshkit.security import API_KEY_METADATA, local_service_key

S = TypeVar("S")
IDEMPOTENT_LEVELS = frozenset(
    {
        descriptor_pb2.MethodOptions.NO_SIDE_EFFECTS,
        descriptor_pb2.MethodOptions.IDEMPOTENT,
    }
)


@functools.lru_cache(maxsize=1024)
def is_idempotent(path: str) -> bool:
    """Whether the contract of ``/package.Service/Method`` marks it safe to repeat."""
    full_name = path.strip("/").replace("/", ".")
    try:
        method = descriptor_pool.Default().FindMethodByName(full_name)
    except KeyError:
        return False
    return method.GetOptions().idempotency_level in IDEMPOTENT_LEVELS


class _NotSent(Exception):
    """The connection failed before the request left: safe to send elsewhere."""


class _AttemptTimedOut(Exception):
    """One attempt hit ``MESHKIT_RPC_ATTEMPT_TIMEOUT`` while the call had time left."""


ATTEMPT_FAILURES: tuple[type[Exception], ...] = (_NotSent, *TRANSPORT_ERRORS)
"""Errors that count against an instance (TimeoutError is an OSError)."""


class ServiceChannel(BalancedClient):
    """A grpclib-compatible channel to every instance of one service."""

    def __init__(self, target: str, balancer: Balancer, policy: CallPolicy) -> None:
        super().__init__(target, balancer, policy)
        self._channels: dict[Instance, Channel] = {}
        self._generation = -1

    def _channel(self, instance: Instance) -> Channel:
        channel = self._channels.get(instance)
        if channel is None:
            channel = self._channels[instance] = Channel(instance.host, instance.port)
        return channel

    def _prune(self) -> None:
        """Close connections to instances discovery no longer lists."""
        instances = self.balancer.instances
        if instances.generation == self._generation:
            return
        self._generation = instances.generation
        listed = set(instances.known)
        for instance in [i for i in self._channels if i not in listed]:
            self._channels.pop(instance).close()
            self.balancer.breakers.forget(instance.url)
            if self._metrics is not None:
                self._metrics.forget_instance(instance.url)

    def close(self) -> None:
        """Close every connection (calls in progress fail)."""
        channels, self._channels = self._channels, {}
        for channel in channels.values():
            channel.close()

    def _metadata(self, metadata: Any) -> MultiDict[str]:
        merged: MultiDict[str] = MultiDict(metadata or ())
        merged[API_KEY_METADATA] = self._api_key
        request_id = request_id_var.get()
        if request_id and "x-request-id" not in merged:
            merged["x-request-id"] = request_id
        return merged

    def request(
        self,
        name: str,
        cardinality: Cardinality,
        request_type: type[Any],
        reply_type: type[Any],
        *,
        timeout: float | None = None,
        deadline: GrpcDeadline | None = None,
        metadata: Any = None,
    ) -> Any:
        """What generated stubs call to open a stream (grpclib's ``Channel`` protocol)."""
        seconds = self.timeout if timeout is None else timeout
        if deadline is not None:
            seconds = min(seconds, deadline.time_remaining())
        call = Deadline(seconds)
        if cardinality is Cardinality.UNARY_UNARY:
            return _UnaryCall(self, name, request_type, reply_type, call, self._metadata(metadata))
        return _PinnedStream(
            self, name, cardinality, request_type, reply_type, call, self._metadata(metadata)
        )

    async def unary(
        self,
        name: str,
        request_type: type[Any],
        reply_type: type[Any],
        message: Any,
        deadline: Deadline,
        metadata: MultiDict[str],
    ) -> Any:
        """One unary call with balancing, breaker, retries and the deadline."""
        idempotent = is_idempotent(name)
        method = name.rsplit("/", 1)[-1]
        label = f"{self.target}.{method}"
        status = "OK"

        def judge(exc: Exception, instance: Instance) -> Verdict:
            unavailable = UpstreamUnavailable(f"{self.target} is unavailable")
            if isinstance(exc, _NotSent):
                return Verdict(unavailable, True)
            if isinstance(exc, _AttemptTimedOut):
                return Verdict(DeadlineExceeded(f"{label}: no answer in time"), idempotent)
            if isinstance(exc, GRPCError):
                if is_propagated(exc):
                    return Verdict(exc, False)
                if is_draining(exc):
                    return Verdict(unavailable, True)
                if exc.status is Status.UNAVAILABLE:
                    return Verdict(unavailable, idempotent)
                if exc.status is Status.DEADLINE_EXCEEDED:
                    return Verdict(DeadlineExceeded(f"{label}: no answer in time"), False)
                return Verdict(exc, False)
            if isinstance(exc, TimeoutError):
                detail = f"{label}: no answer within {deadline.timeout:.3g}s"
                return Verdict(DeadlineExceeded(detail), False)
            if isinstance(exc, TRANSPORT_ERRORS):
                return Verdict(unavailable, idempotent)
            return Verdict(exc, False)

        async def attempt(instance: Instance, breaker: CircuitBreaker) -> Any:
            return await self._attempt(
                instance, breaker, name, request_type, reply_type, message, deadline, metadata
            )

        try:
            self._prune()
            return await balanced_call(
                self.balancer, self.retry, deadline, attempt, judge, label=label
            )
        except GRPCError as exc:
            status = exc.status.name
            raise
        except Exception as exc:
            status = type(exc).__name__
            raise
        finally:
            if self._metrics is not None:
                self._metrics.calls.labels(self._metrics.service, self.target, method, status).inc()

    async def _attempt(
        self,
        instance: Instance,
        breaker: CircuitBreaker,
        name: str,
        request_type: type[Any],
        reply_type: type[Any],
        message: Any,
        deadline: Deadline,
        metadata: MultiDict[str],
    ) -> Any:
        remaining = deadline.remaining()
        if remaining <= 0:
            breaker.release()
            raise TimeoutError
        # The attempt's own limit, when shorter than what is left of the call, lets a
        # silent instance be given up on (and blamed) while time remains to try another.
        limited = self.attempt_timeout < remaining
        budget = self.attempt_timeout if limited else remaining
        outcome = "failure"
        try:
            stream = self._channel(instance).request(
                name,
                Cardinality.UNARY_UNARY,
                request_type,
                reply_type,
                timeout=budget,
                metadata=metadata,
            )
            async with stream:
                try:
                    await stream.send_request()
                except (OSError, ConnectionError) as exc:
                    raise _NotSent(f"{instance.address}: {exc}") from exc
                await stream.send_message(message, end=True)
                reply = await stream.recv_message()
        except GRPCError as exc:
            if exc.status in INSTANCE_FAILURES and not is_propagated(exc):
                breaker.record_failure()
            else:
                outcome = "ok"
                breaker.record_success()
            raise
        except TimeoutError:
            if limited:
                breaker.record_failure()
                raise _AttemptTimedOut(f"{instance.address}: no answer in {budget:.3g}s") from None
            # The caller's deadline ran out: that says nothing about the instance.
            outcome = "deadline"
            breaker.release()
            raise
        except ATTEMPT_FAILURES:
            breaker.record_failure()
            raise
        except BaseException:
            outcome = "cancelled"
            breaker.release()
            raise
        else:
            outcome = "ok"
            breaker.record_success()
            return reply
        finally:
            if self._metrics is not None:
                self._metrics.attempts.labels(self._metrics.service, self.target, outcome).inc()
                self._metrics.record_circuit(instance.url, breaker.state)


class _UnaryCall:
    """Stands in for grpclib's ``Stream`` in a unary-unary stub call.

    The stub sends one message and receives one; the real exchange (with retries)
    happens in :meth:`recv_message`, once the message is known.
    """

    def __init__(
        self,
        channel: ServiceChannel,
        name: str,
        request_type: type[Any],
        reply_type: type[Any],
        deadline: Deadline,
        metadata: MultiDict[str],
    ) -> None:
        self._channel = channel
        self._name = name
        self._types = (request_type, reply_type)
        self._deadline = deadline
        self.metadata = metadata
        self._message: Any = None

    async def __aenter__(self) -> _UnaryCall:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        return None

    async def send_request(self, *, end: bool = False) -> None:
        """Not supported: the client stack sends a unary request only once it has it."""
        raise TypeError(
            "unary methods through meshkit's client stack are called, not opened: "
            "use `await stub.Method(message)`"
        )

    async def send_message(self, message: Any, *, end: bool = False) -> None:
        """Keep the request; it is sent (possibly more than once) on receive."""
        self._message = message

    async def recv_message(self) -> Any:
        """Perform the call and return the reply."""
        return await self._channel.unary(
            self._name, *self._types, self._message, self._deadline, self.metadata
        )


class _PinnedStream:
    """A streaming call on one balanced instance: breaker accounting, no retries."""

    def __init__(
        self,
        channel: ServiceChannel,
        name: str,
        cardinality: Cardinality,
        request_type: type[Any],
        reply_type: type[Any],
        deadline: Deadline,
        metadata: MultiDict[str],
    ) -> None:
        self._args = (channel, name, cardinality, request_type, reply_type, deadline, metadata)
        self._stream: Any = None
        self._breaker: CircuitBreaker | None = None

    async def __aenter__(self) -> Any:
        channel, name, cardinality, request_type, reply_type, deadline, metadata = self._args
        channel._prune()
        instance, self._breaker = await channel.balancer.pick()
        try:
            self._stream = channel._channel(instance).request(
                name,
                cardinality,
                request_type,
                reply_type,
                timeout=deadline.remaining(),
                metadata=metadata,
            )
            return await self._stream.__aenter__()
        except BaseException:
            self._breaker.release()
            raise

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        assert self._breaker is not None
        try:
            await self._stream.__aexit__(exc_type, exc, traceback)
        except GRPCError as error:
            self._judge(error)
            raise
        except BaseException as error:
            self._judge(error)
            raise
        self._judge(exc)

    def _judge(self, error: BaseException | None) -> None:
        assert self._breaker is not None
        if error is None:
            self._breaker.record_success()
        elif isinstance(error, GRPCError):
            if error.status in INSTANCE_FAILURES:
                self._breaker.record_failure()
            else:
                self._breaker.record_success()
        elif isinstance(error, ATTEMPT_FAILURES):
            self._breaker.record_failure()
        else:
            self._breaker.release()


class RpcClients:
    """Typed stubs to other services, sharing discovery and breakers in a process."""

    def __init__(
        self,
        directory: Directory,
        breakers: BreakerRegistry,
        *,
        retry: RetryPolicy,
        timeout: float,
        api_key: str,
        attempt_timeout: float | None = None,
        metrics: RpcMetrics | None = None,
    ) -> None:
        self.directory = directory
        self.breakers = breakers
        self.retry = retry
        self.timeout = timeout
        self.attempt_timeout = attempt_timeout or timeout
        self._policy = CallPolicy(retry, timeout, self.attempt_timeout, api_key, metrics)
        self._api_key = api_key
        self._metrics = metrics
        self._channels: dict[str, ServiceChannel] = {}
        self._rest: dict[str, RestChannel] = {}

    @classmethod
    def for_settings(
        cls,
        settings: Settings,
        *,
        caller: str,
        registry: CollectorRegistry | None = None,
        directory: Directory | None = None,
        breakers: BreakerRegistry | None = None,
    ) -> RpcClients:
        """The stack configured by ``MESHKIT_RPC_*``, ``MESHKIT_BREAKER_*`` and the API key.

        ``caller`` names the calling service in metrics; pass the process's shared
        ``directory`` and ``breakers`` when several services run in one process.
        """
        return cls(
            directory or Directory(settings),
            breakers or BreakerRegistry(BreakerPolicy.from_settings(settings)),
            retry=RetryPolicy.from_settings(settings),
            timeout=settings.rpc_timeout,
            attempt_timeout=settings.rpc_attempt_timeout,
            api_key=local_service_key(settings),
            metrics=RpcMetrics.of(caller, registry) if registry is not None else None,
        )

    def channel(self, service: str) -> ServiceChannel:
        """The (shared) channel to every instance of ``service``."""
        found = self._channels.get(service)
        if found is None:
            balancer = Balancer(self.directory, service, "grpc", self.breakers)
            found = self._channels[service] = ServiceChannel(service, balancer, self._policy)
        return found

    def stub(self, stub_class: Callable[[Channel], S], service: str) -> S:
        """A generated grpclib stub whose calls go through this client stack."""
        return stub_class(cast(Channel, self.channel(service)))

    def rest(self, service: str) -> RestChannel:
        """Internal REST requests to ``service`` (its HTTP instances)."""
        found = self._rest.get(service)
        if found is None:
            balancer = Balancer(self.directory, service, "http", self.breakers)
            found = self._rest[service] = RestChannel(service, balancer, self._policy)
        return found

    async def close(self) -> None:
        """Close every connection."""
        channels, self._channels = self._channels, {}
        for channel in channels.values():
            channel.close()
        rest, self._rest = self._rest, {}
        for client in rest.values():
            await client.close()
