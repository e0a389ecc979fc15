"""Consuming events: one consumer group per service, at-least-once, de-duplicated by id.

Every delivery ends in exactly one of: handled and acknowledged (with a dedupe mark, in
one transaction), acknowledged as a duplicate or as a type the group does not handle,
or moved to the topic's dead-letter stream and acknowledged. Until then it stays pending
in Redis under this consumer's name, so a consumer that dies (killed process, cancelled
task, lost machine) loses nothing: after ``MESHKIT_EVENTS_CLAIM_IDLE`` seconds of
silence another consumer of the group takes its entries over. A live consumer renews a
lease on the entries it holds, so a slow handler is not mistaken for a dead one.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket
import time
from collections.abc import Mapping
from types import TracebackType
from typing import Literal

from redis.exceptions import RedisError, ResponseError

from meshkit.events import scripts
from meshkit.events.bus import EventBus
from meshkit.events.handlers import Handler, check_event_class
from meshkit.events.metrics import Outcome
from meshkit.events.model import (
    DEAD_LETTER_FIELDS,
    DEAD_SUFFIX,
    GROUP_NAME,
    Envelope,
    Event,
    MalformedEvent,
    decode_data,
    done_key,
    event_class,
    stream_key,
)
from meshkit.events.replies import (
    Delivery,
    lease_counts,
    read_batches,
    taken_over,
    text,
    type_label,
)
from meshkit.events.tasks import cancel_and_wait, cancel_requested, honour_cancel

log = logging.getLogger("meshkit.events")

BATCH = 16  # entries read (or taken over) at once per stream
BLOCK_MAX = 2.0  # seconds an XREADGROUP may block
BACKOFF_MIN, BACKOFF_MAX = 0.1, 5.0  # seconds between attempts while Redis fails
FORGET_AFTER = 10  # claim-idle periods after which an idle consumer holding nothing is removed
STOP_TIMEOUT = 5.0
MAX_ERROR = 2000  # characters of a handler's error kept in the dead letter


def default_name() -> str:
    """``<hostname>-<pid>-<random>``: unique per process and per consumer in it."""
    return f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}"


class Consumer:
    """Runs the handlers of one consumer group on the topics they need.

    ``group`` is the service's name: each group gets every event of its topics, and the
    consumers of one group (processes or tasks; ``name`` must differ, the default does)
    share the work, each event going to one of them. ``handlers`` maps event classes to
    async handlers (:func:`meshkit.events.handlers_of` builds it from a service).

    A group created now starts at the oldest event its streams still hold
    (``start_at="oldest"``), so events published before a service first ran are not
    lost; ``"latest"`` starts at the next event. Once the group exists, this choice no
    longer matters: the group's position is kept in Redis.
    """

    def __init__(
        self,
        bus: EventBus,
        *,
        group: str,
        handlers: Mapping[type[Event], Handler],
        name: str | None = None,
        start_at: Literal["oldest", "latest"] = "oldest",
        batch: int = BATCH,
    ) -> None:
        if not GROUP_NAME.fullmatch(group):
            raise ValueError(f"group {group!r} must match {GROUP_NAME.pattern}")
        if not handlers:
            raise ValueError("a consumer needs at least one handler")
        if batch < 1:
            raise ValueError("batch must be at least 1")
        self.bus = bus
        self.group = group
        self.name = name or default_name()
        self.batch = batch
        self._routes: dict[str, tuple[type[Event], Handler]] = {}
        for event_cls, handler in handlers.items():
            checked = check_event_class(event_cls)
            if not callable(handler):
                raise TypeError(f"handler of {checked.__qualname__} is not callable: {handler!r}")
            self._routes[checked.type] = (checked, handler)
        self.topics = sorted({cls.topic for cls, _ in self._routes.values()})
        self._streams = [stream_key(topic) for topic in self.topics]
        self._start_id = "0" if start_at == "oldest" else "$"
        settings = bus.settings
        self._claim_idle_ms = max(1, round(settings.events_claim_idle * 1000))
        self._lease_every = settings.events_claim_idle / 4
        self._take_over_every = settings.events_claim_idle / 2
        self._forget_idle_ms = self._claim_idle_ms * FORGET_AFTER
        self._dedupe_ms = max(1, round(settings.events_dedupe_window * 1000))
        # Block well within the client's socket timeout, or every read would time out.
        socket_timeout = bus.redis.connection_pool.connection_kwargs.get("socket_timeout")
        self._block_max = min(BLOCK_MAX, socket_timeout / 2) if socket_timeout else BLOCK_MAX
        self._in_flight: dict[str, set[str]] = {stream: set() for stream in self._streams}
        self._cursors = dict.fromkeys(self._streams, "0-0")
        self._groups_ready = False
        self._task: asyncio.Task[None] | None = None
        redis = bus.redis
        self._lease_script = redis.register_script(scripts.LEASE)
        self._take_over_script = redis.register_script(scripts.TAKE_OVER)
        self._forget_script = redis.register_script(scripts.FORGET)

    async def __aenter__(self) -> Consumer:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()

    async def start(self) -> None:
        """Create the group on every stream it reads (if new), then consume in a task.

        Raises Redis errors from creating the groups; later errors are logged and
        retried by the running consumer.
        """
        if self._task is not None:
            raise RuntimeError(f"consumer {self.name} is already started")
        await self._ensure_groups()
        self._task = asyncio.create_task(self.run(), name=f"meshkit-events:{self.group}")
        log.info("consumer %s of group %s reads %s", self.name, self.group, ", ".join(self.topics))

    async def stop(self, grace: float = STOP_TIMEOUT) -> None:
        """Cancel the consumer and wait at most ``grace`` seconds for it to end.

        A handler running now is cancelled and its event stays pending: another
        consumer of the group (or this service, restarted) takes it over after the
        claim-idle time. The consumer's name is removed from the group when it holds
        nothing. Idempotent; raises nothing of the consumer's own (its failures are
        logged), only a cancellation of the caller itself.
        """
        task, self._task = self._task, None
        if task is None:
            return
        if not await cancel_and_wait(task, grace):
            log.warning("consumer %s did not stop within %.1fs", self.name, grace)
            return
        if not task.cancelled() and task.exception() is not None:
            log.error("consumer %s had failed", self.name, exc_info=task.exception())
        try:
            async with asyncio.timeout(grace):
                for stream in self._streams:
                    await self._forget_script(keys=[stream], args=[self.group, 0, self.name])
        except (RedisError, OSError, TimeoutError) as exc:
            log.debug("consumer %s not removed from its group: %s", self.name, exc)

    async def run(self) -> None:
        """Consume until cancelled. :meth:`start` runs this in a task; running it in a
        task of your own and cancelling that task is exactly a crash, minus the process."""
        leases = asyncio.create_task(self._keep_leases(), name=f"meshkit-leases:{self.group}")
        try:
            await self._work()
        finally:
            await cancel_and_wait(leases, STOP_TIMEOUT)

    async def _ensure_groups(self) -> None:
        for stream in self._streams:
            try:
                await self.bus.redis.xgroup_create(
                    stream, self.group, id=self._start_id, mkstream=True
                )
            except ResponseError as exc:
                if "BUSYGROUP" not in str(exc):
                    raise
        self._groups_ready = True

    async def _work(self) -> None:
        """Read new entries and take over abandoned ones, forever; survive Redis outages."""
        loop = asyncio.get_running_loop()
        backoff = BACKOFF_MIN
        next_take_over = loop.time()  # at once: a restarted service finds its old entries
        while True:
            honour_cancel()
            try:
                if not self._groups_ready:
                    await self._ensure_groups()
                if loop.time() >= next_take_over:
                    await self._take_over()
                    next_take_over = loop.time() + self._take_over_every
                block = min(self._block_max, max(0.001, next_take_over - loop.time()))
                reply = await self.bus.redis.xreadgroup(
                    self.group,
                    self.name,
                    dict.fromkeys(self._streams, ">"),
                    count=self.batch,
                    block=max(1, round(block * 1000)),
                )
                for batch in read_batches(reply):
                    await self._handle(batch)
                backoff = BACKOFF_MIN
            except (RedisError, OSError) as exc:
                if isinstance(exc, ResponseError) and "NOGROUP" in str(exc):
                    # the stream or group was deleted (Redis restarted empty): recreate it
                    # from the start, as all the stream holds now is new to this group
                    self._groups_ready, self._start_id = False, "0"
                log.warning(
                    "consumer %s of group %s: Redis error, retrying in %.1fs: %s",
                    self.name,
                    self.group,
                    backoff,
                    exc,
                )
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, BACKOFF_MAX)
            except Exception:  # a bug must not silently end consumption: log, go on
                log.exception("consumer %s of group %s: unexpected error", self.name, self.group)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, BACKOFF_MAX)

    async def _take_over(self) -> None:
        """Claim entries idle longer than the claim-idle time (their consumer is gone),
        handle them, and forget consumers that are long idle and hold nothing."""
        for stream in self._streams:
            for _ in range(8):  # pages per round; the cursor carries on next round
                honour_cancel()
                reply = await self._take_over_script(
                    keys=[stream],
                    args=[
                        self.group,
                        self.name,
                        self._claim_idle_ms,
                        self._cursors[stream],
                        self.batch,
                    ],
                )
                self._cursors[stream], batch = taken_over(stream, reply)
                if batch:
                    log.warning(
                        "consumer %s of group %s took over %d event(s) of %s from a "
                        "consumer silent for %.1fs or more",
                        self.name,
                        self.group,
                        len(batch),
                        stream,
                        self._claim_idle_ms / 1000,
                    )
                    await self._handle(batch)
                if self._cursors[stream] in {"0-0", "0"} or not batch:
                    break
            forgotten = await self._forget_script(
                keys=[stream], args=[self.group, self._forget_idle_ms, ""]
            )
            if forgotten:
                names = ", ".join(text(name) for name in forgotten)
                log.info("group %s forgot idle consumers of %s: %s", self.group, stream, names)

    async def _keep_leases(self) -> None:
        """Renew the lease on every entry this consumer holds, well within claim-idle."""
        while True:
            await asyncio.sleep(self._lease_every)
            honour_cancel()
            for stream, ids in self._in_flight.items():
                if not ids:
                    continue
                held = list(ids)
                try:
                    owned = await self._lease(stream, held, bump=False)
                except (RedisError, OSError) as exc:
                    log.warning("consumer %s could not renew its lease: %s", self.name, exc)
                    continue
                except Exception:
                    log.exception("consumer %s could not renew its lease", self.name)
                    continue
                lost = [eid for eid in held if eid not in owned and eid in ids]
                if lost:  # acknowledged meanwhile, or taken over after a stall
                    log.debug("consumer %s no longer holds %s", self.name, lost)

    async def _lease(self, stream: str, ids: list[str], *, bump: bool) -> dict[str, int]:
        """Claim ``ids`` again if still ours; their delivery counts (+1 when ``bump``)."""
        reply = await self._lease_script(
            keys=[stream], args=[self.group, self.name, "1" if bump else "0", *ids]
        )
        return lease_counts(reply)

    async def _handle(self, batch: list[Delivery]) -> None:
        """Process a batch in order, leasing all of it until each entry is done."""
        if not batch:
            return
        in_flight = self._in_flight[batch[0].stream]
        in_flight.update(delivery.entry_id for delivery in batch)
        try:
            done = await self._done_before(batch)
            for delivery in batch:
                honour_cancel()
                await self._process(delivery, done)
                in_flight.discard(delivery.entry_id)
        finally:  # after an error the rest stays pending, unleased: it will be taken over
            in_flight.difference_update(delivery.entry_id for delivery in batch)

    async def _done_before(self, batch: list[Delivery]) -> set[str]:
        """Event ids of the batch this group already handled, in one round trip.

        The set is extended as the batch is handled, so an id that occurs twice in one
        batch still runs once.
        """
        ids = [
            raw.decode("utf-8", "replace")
            for delivery in batch
            if delivery.fields is not None and (raw := delivery.fields.get(b"id"))
        ]
        if not ids:
            return set()
        async with self.bus.redis.pipeline(transaction=False) as pipe:
            for event_id in ids:
                pipe.exists(done_key(self.group, event_id))
            found = await pipe.execute()
        return {event_id for event_id, hit in zip(ids, found, strict=True) if hit}

    async def _process(self, delivery: Delivery, done: set[str]) -> None:
        if delivery.fields is None:
            reason = "trimmed from the stream before it was handled (MAXLEN too small?)"
            await self._reject(delivery, reason, "unknown")
            return
        try:
            envelope = Envelope.from_fields(delivery.fields)
        except MalformedEvent as exc:
            await self._reject(delivery, str(exc), type_label(delivery.fields))
            return
        route = self._routes.get(envelope.type)
        if route is None:
            if event_class(envelope.type) is None:
                await self._reject(delivery, f"unknown event type {envelope.type!r}", "unknown")
            else:
                await self.bus.redis.xack(delivery.stream, self.group, delivery.entry_id)
                self._count(envelope.type, "skipped")
            return
        event_cls, handler = route
        if envelope.id in done:
            await self.bus.redis.xack(delivery.stream, self.group, delivery.entry_id)
            self._count(envelope.type, "duplicate")
            return
        try:
            event = decode_data(event_cls, envelope)
        except MalformedEvent as exc:
            await self._reject(delivery, str(exc), envelope.type)
            return
        if await self._attempt(delivery, envelope, event, handler):
            done.add(envelope.id)

    async def _attempt(
        self, delivery: Delivery, envelope: Envelope, event: Event, handler: Handler
    ) -> bool:
        """Run the handler until it succeeds (``True``) or the group's delivery budget is
        spent or another consumer took the event over (``False``)."""
        limit = self.bus.settings.events_max_attempts
        deliveries = delivery.deliveries
        while True:
            if deliveries > limit:  # its earlier consumers died while handling it
                error = f"not completed in {deliveries - 1} deliveries (consumers stopped or died)"
                await self._give_up(delivery, envelope, error, deliveries - 1)
                return False
            started = time.perf_counter()
            try:
                await handler(event, envelope)
            except (Exception, asyncio.CancelledError) as exc:
                if isinstance(exc, asyncio.CancelledError) and cancel_requested():
                    raise  # this consumer is being stopped or killed: leave it pending
                self._observe(envelope.type, started)
                self._count(envelope.type, "failed")
                log.warning(
                    "group %s: handler of %s failed on event %s (delivery %d of %d)",
                    self.group,
                    envelope.type,
                    envelope.id,
                    deliveries,
                    limit,
                    exc_info=True,
                )
                if deliveries >= limit:
                    error = f"{type(exc).__name__}: {exc}"[:MAX_ERROR]
                    await self._give_up(delivery, envelope, error, deliveries)
                    return False
                await asyncio.sleep(self.bus.settings.events_retry_delay * 2 ** (deliveries - 1))
                honour_cancel()
                claimed = await self._lease(delivery.stream, [delivery.entry_id], bump=True)
                if delivery.entry_id not in claimed:
                    log.warning("group %s: event %s was taken over", self.group, envelope.id)
                    return False
                deliveries = claimed[delivery.entry_id]
                continue
            self._observe(envelope.type, started)
            async with self.bus.redis.pipeline(transaction=True) as pipe:
                pipe.set(done_key(self.group, envelope.id), delivery.entry_id, px=self._dedupe_ms)
                pipe.xack(delivery.stream, self.group, delivery.entry_id)
                await pipe.execute()
            self._count(envelope.type, "ok")
            return True

    async def _give_up(
        self, delivery: Delivery, envelope: Envelope, error: str, attempts: int
    ) -> None:
        log.error(
            "group %s gave up on event %s (%s) after %d deliveries; see %s%s",
            self.group,
            envelope.id,
            envelope.type,
            attempts,
            delivery.stream,
            DEAD_SUFFIX,
        )
        await self._dead_letter(delivery, error, attempts)
        self._count(envelope.type, "dead_lettered")

    async def _reject(self, delivery: Delivery, reason: str, type_label: str) -> None:
        log.warning(
            "group %s: malformed entry %s in %s: %s",
            self.group,
            delivery.entry_id,
            delivery.stream,
            reason,
        )
        await self._dead_letter(delivery, reason, delivery.deliveries)
        self._count(type_label, "malformed")

    async def _dead_letter(self, delivery: Delivery, error: str, attempts: int) -> None:
        """Copy the entry, annotated, to the dead-letter stream and ack it, atomically."""
        fields = {
            key: value
            for key, value in (delivery.fields or {}).items()
            if key not in DEAD_LETTER_FIELDS
        }
        fields[b"error"] = error.encode()
        fields[b"failed_group"] = self.group.encode()
        fields[b"attempts"] = str(attempts).encode()
        fields[b"stream_id"] = delivery.entry_id.encode()
        async with self.bus.redis.pipeline(transaction=True) as pipe:
            pipe.xadd(
                delivery.stream + DEAD_SUFFIX,
                fields,  # type: ignore[arg-type]  # redis-py's dict is invariant
                maxlen=self.bus.settings.events_maxlen,
                approximate=True,
            )
            pipe.xack(delivery.stream, self.group, delivery.entry_id)
            await pipe.execute()

    def _count(self, type_name: str, outcome: Outcome) -> None:
        self.bus.metrics.count(self.group, type_name, outcome)

    def _observe(self, type_name: str, started: float) -> None:
        elapsed = time.perf_counter() - started
        self.bus.metrics.duration.labels(self.group, type_name).observe(elapsed)
