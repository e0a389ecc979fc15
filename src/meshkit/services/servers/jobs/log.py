"""A job's log: kept bounded with the job, and streamed live through Redis.

Each entry is appended to the job's in-memory log (stored with the job periodically
and when it ends; past ``max_bytes`` the oldest entries are dropped and counted) and
to a Redis stream, ``meshkit:servers:job:<id>:log`` (``XADD`` with ``MAXLEN``), under
the id ``<seq>-0``. Followers (SSE, Socket.IO) read that stream from any id on and stop
at its ``end`` entry; a finished job whose stream expired is replayed from the store.

Output is scrubbed of the job's secret values before it goes anywhere, a line at a time
(:class:`LineBuffer`), never cut through a secret, so a secret split across chunks of
output is still caught; multi-line secrets are also scrubbed line by line.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import AsyncGenerator, Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any, cast

from redis.asyncio import Redis
from redis.exceptions import RedisError

from meshkit.services.servers.jobs.models import FINAL, Job, LogEntry, LogType
from meshkit.services.servers.redact import scrub
from meshkit.store import Store

log = logging.getLogger("meshkit.servers.jobs")
STREAM_MAXLEN = 10_000
"""Entries a job's live stream keeps (approximately); the stored log has the rest."""
STREAM_TTL = 3600
"""Seconds a finished job's live stream is kept (then followers replay the stored log)."""
BLOCK_MS = 1000
"""How long a follower waits for the next entry before it looks at the job itself."""
END = "end"
"""The ``type`` of the last entry of a job's stream."""
IDLE = "idle"
"""The ``type`` :func:`follow` yields (with an empty id) after a quiet second: not an
entry, a chance for the reader to keep its connection alive or to stop."""
MAX_CHUNK = 4096
"""Output held back waiting for a newline at most, in characters (plus, when it may
be part of a secret, the longest secret's length)."""
MIN_SECRET = 4
"""Shorter secret values are not scrubbed (:func:`~meshkit.services.servers.redact.scrub`)."""
EVENT_ID = re.compile(r"^\d{1,20}-\d{1,20}$")
MAX_ID_PART = 2**64 - 1
"""Largest part of a Redis stream id (each is an unsigned 64-bit integer)."""


def is_event_id(value: str | None) -> bool:
    """Whether ``value`` is an event id Redis can read after (``<ms>-<seq>``, each part
    at most :data:`MAX_ID_PART`)."""
    if value is None or not EVENT_ID.match(value):
        return False
    return all(int(part) <= MAX_ID_PART for part in value.split("-"))


def log_key(job_id: str) -> str:
    """The Redis stream of a job's live log."""
    return f"meshkit:servers:job:{job_id}:log"


def entry_size(entry: LogEntry) -> int:
    """Bytes an entry counts against the log's limit."""
    return len(entry.text.encode()) + 64


class JobLog:
    """The log of one running job (module docstring); owned by the job's runner."""

    def __init__(
        self,
        redis: Redis,
        job: Job,
        *,
        max_bytes: int,
        secrets: list[str],
        on_entry: Callable[[LogEntry], Awaitable[None]] | None = None,
    ) -> None:
        self.redis = redis
        self.key = log_key(job.id)
        self.entries = list(job.log)
        self.dropped = job.log_dropped
        self.size = sum(entry_size(e) for e in self.entries)
        self.seq = self.entries[-1].seq if self.entries else 0
        self.max_bytes = max_bytes
        self.secrets = secrets
        self.on_entry = on_entry
        self.dirty = False
        self._order = asyncio.Lock()
        """Entries reach the stream in ``seq`` order: their ids must grow (hosts log at
        once; the lock is taken in the same step as the number, and waiters are FIFO)."""

    def scrub(self, text: str) -> str:
        """``text`` without the job's secret values."""
        return scrub(text, self.secrets)

    async def add(
        self,
        type: LogType,
        text: str,
        *,
        host_id: str | None = None,
        step: int | None = None,
        stream: str | None = None,
        status: str | None = None,
    ) -> LogEntry:
        """Append an entry (scrubbed) to the log and its live stream."""
        self.seq += 1
        entry = LogEntry(
            seq=self.seq,
            at=datetime.now(UTC),
            type=type,
            host_id=host_id,
            step=step,
            stream=stream,
            status=status,
            text=self.scrub(text),
        )
        self.entries.append(entry)
        self.size += entry_size(entry)
        while self.size > self.max_bytes and len(self.entries) > 1:
            gone = self.entries.pop(0)
            self.size -= entry_size(gone)
            self.dropped += entry_size(gone)
        self.dirty = True
        async with self._order:
            await self._publish(f"{entry.seq}-0", entry.model_dump(mode="json"))
        return entry

    async def end(self, status: str, reason: str | None) -> None:
        """Mark the live stream finished (followers stop) and let it expire."""
        async with self._order:
            await self._publish("*", {"type": END, "status": status, "text": reason or status})
        try:
            await self.redis.expire(self.key, STREAM_TTL)
        except RedisError as exc:
            log.warning("could not set the expiry of %s: %r", self.key, exc)

    async def _publish(self, entry_id: str, data: dict[str, Any]) -> None:
        try:
            await self.redis.xadd(
                self.key,
                {"entry": json.dumps(data)},
                id=entry_id,
                maxlen=STREAM_MAXLEN,
                approximate=True,
            )
        except RedisError as exc:  # the stored log still has it; live followers miss it
            log.warning("could not stream a log entry of %s: %r", self.key, exc)
        if self.on_entry is not None and data.get("type") != END:
            try:
                await self.on_entry(LogEntry.model_validate(data))
            except Exception as exc:
                log.warning("a live log listener failed: %r", exc)


async def end_stream(redis: Redis, job_id: str, status: str, reason: str | None) -> None:
    """Mark a job's live stream finished from outside its runner (recovery)."""
    key = log_key(job_id)
    data = {"type": END, "status": status, "text": reason or status}
    try:
        await redis.xadd(key, {"entry": json.dumps(data)}, maxlen=STREAM_MAXLEN, approximate=True)
        await redis.expire(key, STREAM_TTL)
    except RedisError as exc:
        log.warning("could not end the live log %s: %r", key, exc)


class LineBuffer:
    """Passes output on a line at a time (or :data:`MAX_CHUNK` characters without one)
    per stream, so each piece can be scrubbed whole, and never cuts through a secret:
    output that is, or may become, a secret across the cut (one printed in pieces, or
    across lines) is held back until it is complete or shown not to be one."""

    def __init__(
        self, sink: Callable[[str, str], Awaitable[None]], secrets: Sequence[str] = ()
    ) -> None:
        self.sink = sink
        self.secrets = sorted({s for s in secrets if len(s) >= MIN_SECRET}, key=len)
        self.longest = max((len(s) for s in self.secrets), default=0)
        self.pending: dict[str, str] = {}

    async def feed(self, stream: str, text: str) -> None:
        """Take a chunk of ``stream``'s output."""
        buffered = self.pending.get(stream, "") + text
        cut = buffered.rfind("\n") + 1
        if len(buffered) - cut > MAX_CHUNK:
            cut = len(buffered)
        cut = self._clear_of_secrets(buffered, cut)
        if len(buffered) - cut > self.longest + MAX_CHUNK:
            cut = len(buffered)  # overlapping secrets all along: bounded memory first
        if cut:
            await self.sink(stream, buffered[:cut])
        self.pending[stream] = buffered[cut:]

    def _clear_of_secrets(self, text: str, cut: int) -> int:
        """``cut`` moved back to before any secret (or possible start of one, at the end
        of ``text``) that runs across it."""
        moved = True
        while moved and cut:
            moved = False
            for secret in self.secrets:
                size = len(secret)
                start = max(0, cut - size + 1)
                found = text.find(secret, start, cut + size - 1)
                if 0 <= found < cut:
                    cut, moved = found, True
                    break
                for at in range(max(start, len(text) - size + 1), cut):
                    if secret.startswith(text[at:]):  # the rest may follow
                        cut, moved = at, True
                        break
                if moved:
                    break
        return cut

    async def close(self) -> None:
        """Pass on what is left (output that did not end with a newline)."""
        for stream, text in list(self.pending.items()):
            if text:
                await self.sink(stream, text)
        self.pending.clear()


def _after(entry_id: str, after: str | None) -> bool:
    if after is None:
        return True
    a, b = (int(part) for part in entry_id.split("-"))
    c, d = (int(part) for part in after.split("-"))
    return (a, b) > (c, d)


async def follow(
    redis: Redis, store: Store, job_id: str, after: str | None = None
) -> AsyncGenerator[tuple[str, dict[str, Any]], None]:
    """``(event id, entry)`` of a job's log from after ``after`` (an earlier event id)
    on, live, ending with an ``end`` entry (``{"type": "end", "status", "text"}``) when
    the job finishes; an :data:`IDLE` one after each quiet second. An ``after`` that is
    not an event id (:func:`is_event_id`) reads from the start. The caller has checked
    the job exists."""
    key = log_key(job_id)
    last = after if after is not None and is_event_id(after) else "0-0"
    while True:
        try:
            reply = cast(
                list[tuple[bytes, list[tuple[bytes, dict[bytes, bytes]]]]] | None,
                await redis.xread({key: last}, count=500, block=BLOCK_MS),
            )
        except RedisError as exc:
            log.warning("reading the live log %s failed: %r", key, exc)
            reply = None
            await asyncio.sleep(BLOCK_MS / 1000)  # as long as a quiet read: no busy loop
        for _, entries in reply or ():
            for raw_id, fields in entries:
                last = raw_id.decode()
                data = json.loads(fields[b"entry"])
                yield last, data
                if data.get("type") == END:
                    return
        if reply:
            continue
        job = await store.get(Job, job_id)
        if job is None or job.status in FINAL:
            # no end entry in the stream (it expired, or Redis lost it): the stored log
            if not await _exists(redis, key):
                for entry in job.log if job else []:
                    entry_id = f"{entry.seq}-0"
                    if _after(entry_id, last if last != "0-0" else None):
                        yield entry_id, entry.model_dump(mode="json")
            status = job.status if job else "failed"
            text = (job.reason if job else None) or status
            yield END, {"type": END, "status": status, "text": text}
            return
        yield "", {"type": IDLE}


async def _exists(redis: Redis, key: str) -> bool:
    try:
        return bool(await redis.exists(key))
    except RedisError:
        return False
