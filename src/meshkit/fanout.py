"""Socket.IO fan-out across instances over one Redis stream, with gap detection.

python-socketio's Redis manager fans out over pub/sub: what is published while an
instance's listener is reconnecting (Redis restarted, a connection dropped) is gone, and
nobody is told. Here every instance appends what it emits to one capped Redis stream and
reads it from the last entry it delivered, so a listener that reconnects picks up where
it stopped and nothing published after Redis came back is lost.

Emits reach sockets only as they are read back from the stream, local sockets included:
every socket sees one order (the stream's), so a message emitted here while the listener
was still catching up with another instance's cannot overtake it.

What a stream cannot hold is reported instead of silently dropped. ``on_gap`` runs (and
the service tells its sockets to resume from their store) when:

* the listener reconnects and its last entry is no longer in the stream: Redis lost its
  data (restart without persistence) or trimmed entries this instance never read;
* an instance could not append to the stream (Redis was down when it emitted): it
  appends a ``resync`` marker as soon as it can, and every instance's ``on_gap`` runs.

Contract for services: an emit reaches each socket at most once, in stream order; when
that cannot be promised, ``on_gap`` says so. Emits with ``ignore_queue`` (one local
socket) and room changes are local at once, as in python-socketio.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, cast

from redis.asyncio import Redis
from redis.exceptions import RedisError
from socketio.async_pubsub_manager import AsyncPubSubManager

from meshkit.events.tasks import honour_cancel
from meshkit.observability import ThrottledLog

log = logging.getLogger("meshkit.fanout")

FIELD = b"m"
RESYNC = "resync"
HELLO = "hello"
READ_COUNT = 256
BLOCK_MS = 5_000
RETRY_MIN = 0.05
RETRY_MAX = 1.0
WARN_EVERY = 10.0
GapHandler = Callable[[str], Awaitable[None]]


class StreamFanout(AsyncPubSubManager):  # type: ignore[misc]
    """A python-socketio client manager that fans out over the Redis stream ``stream``.

    ``client`` returns the service's Redis client (embedded or external; it may be
    replaced while running). ``maxlen`` caps the stream (approximately): a listener more
    than that many entries behind gets ``on_gap`` rather than a silent hole.
    """

    name = "meshkit-redis-stream"

    def __init__(
        self,
        client: Callable[[], Redis],
        stream: str,
        *,
        maxlen: int = 10_000,
        on_gap: GapHandler | None = None,
    ) -> None:
        super().__init__(channel=stream)
        self._client = client
        self.stream = stream
        self.maxlen = maxlen
        self.on_gap = on_gap
        self._last_id: bytes | None = None
        self._owe_resync = False
        self._warnings = ThrottledLog(log, WARN_EVERY)
        self.gaps = 0
        """How many times ``on_gap`` ran (for tests and metrics)."""

    # --- writing ---------------------------------------------------------------------

    async def _publish(self, data: dict[str, Any]) -> None:
        """Append ``data`` to the stream; on failure, owe the others a ``resync``."""
        try:
            await self._settle_resync()
            await self._append(data)
        except (RedisError, OSError) as exc:
            self._owe_resync = True
            self._warnings.log(
                logging.WARNING, "cannot append Socket.IO fan-out to Redis (%r); resync owed", exc
            )

    async def _append(self, data: dict[str, Any]) -> bytes:
        raw = json.dumps(data, separators=(",", ":"))
        entry_id = await self._client().xadd(
            self.stream, {FIELD: raw}, maxlen=self.maxlen, approximate=True
        )
        return entry_id.encode() if isinstance(entry_id, str) else entry_id

    async def _settle_resync(self) -> None:
        """Append the ``resync`` marker this instance owes (a failed append), if any."""
        if self._owe_resync:
            await self._append({"method": RESYNC, "host_id": self.host_id})
            self._owe_resync = False

    async def _handle_emit(self, message: dict[str, Any]) -> None:
        """Deliver an emit to this instance's sockets, unless it was made here and is not
        yet read back from the stream (python-socketio delivers locally first)."""
        if message.get("host_id") != self.host_id or message.get("\0read"):
            await super()._handle_emit(message)

    # --- reading ---------------------------------------------------------------------

    async def _listen(self) -> AsyncIterator[dict[str, Any]]:
        """Entries of other instances, in stream order, forever; reconnects quickly."""
        delay = RETRY_MIN
        interrupted = False
        while True:
            honour_cancel()
            try:
                if self._last_id is None:
                    self._last_id = await self._append({"method": HELLO, "host_id": self.host_id})
                elif interrupted and not await self._holds(self._last_id):
                    self._last_id = b"0-0"  # everything still there is newer than what we read
                    await self._gap("the fan-out stream lost entries this instance never read")
                interrupted = False
                await self._settle_resync()
                batches = cast(
                    list[tuple[bytes, list[tuple[bytes, dict[bytes, bytes]]]]] | None,
                    await self._client().xread(
                        {self.stream: self._last_id}, count=READ_COUNT, block=BLOCK_MS
                    ),
                )
                delay = RETRY_MIN
                for _, entries in batches or ():
                    for entry_id, fields in entries:
                        self._last_id = entry_id
                        message = _decode(fields)
                        if message is None:
                            continue
                        method, own = message.get("method"), message.get("host_id") == self.host_id
                        if method == RESYNC:
                            await self._gap("an instance could not fan out")
                        elif method == "emit" and own:
                            message["\0read"] = True
                            await self._handle_emit(message)
                        elif method != HELLO and (not own or method == "callback"):
                            yield message  # own room changes were applied when made
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError) as exc:
                honour_cancel()  # redis-py may turn a cancellation into a timeout
                interrupted = True
                self._warnings.log(
                    logging.WARNING, "Socket.IO fan-out cannot read Redis (%r); reconnecting", exc
                )
                await asyncio.sleep(delay)
                delay = min(RETRY_MAX, delay * 2)

    async def _holds(self, entry_id: bytes) -> bool:
        """Whether the stream still has ``entry_id`` (and so everything after it)."""
        found = await self._client().xrange(self.stream, min=entry_id, max=entry_id, count=1)
        return bool(found)

    async def _gap(self, reason: str) -> None:
        self.gaps += 1
        log.info("Socket.IO fan-out gap: %s; asking local sockets to resync", reason)
        if self.on_gap is not None:
            try:
                await self.on_gap(reason)
            except Exception as exc:  # the feed must go on
                log.warning("telling sockets to resync failed: %r", exc)


def _decode(fields: dict[bytes, bytes]) -> dict[str, Any] | None:
    """The message in a stream entry; ``None`` for an entry this code did not write."""
    try:
        message = json.loads(fields[FIELD])
    except (KeyError, ValueError, TypeError):
        return None
    return message if isinstance(message, dict) and "method" in message else None
