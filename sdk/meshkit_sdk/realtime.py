"""Realtime: the Socket.IO side of a MeshkitClient, with typed events, acks and resume.

Handlers run one at a time, in the order the events arrived, on one dispatcher task, so a
handler that awaits never sees a later message before an earlier one. Message ids are
ULIDs (they sort by time): the highest id delivered to the ``message.created`` handlers
says where the client stopped in every channel at once. After every reconnect the client
emits ``resume`` from there (again while the server says ``more``) and delivers what it
missed, oldest first, before any message of the new connection (the server may push one
before it confirms the connection: such messages are held until the resume is done); an
id already delivered is dropped, so handlers see no gap and no duplicate.

The server may also say ``resync`` on a live connection (its fan-out across instances
lost pushes, e.g. Redis restarted): the client resumes the same way, holding new
messages until it has caught up.

The server trusts a connection only as long as its access token: when the client would
refresh the token, the connection hands the new one to the server (the ``auth`` emit)
without reconnecting. Should the server end the session anyway (the token was revoked,
or ran out while the process slept), handlers get ``session.ended`` and the connection
is made again with a fresh token, and resumed; when the session itself is over (logout,
revoked), it stays down.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import time
import uuid
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, TypeVar
from urllib.parse import urlencode

import socketio  # type: ignore[import-untyped, unused-ignore]
from meshkit_api_client.models import ChannelOut, MessageOut, NotificationOut

from .errors import INVALID_TOKEN, MeshkitError, Unauthenticated, error_from_problem

if TYPE_CHECKING:
    from .client import MeshkitClient

log = logging.getLogger("meshkit_sdk.realtime")

T = TypeVar("T")
Handler = Callable[[T], Awaitable[None] | None]
MessageHandler = TypeVar("MessageHandler", bound=Callable[[MessageOut], Awaitable[None] | None])
TypingHandler = TypeVar("TypingHandler", bound=Callable[["TypingEvent"], Awaitable[None] | None])
PresenceHandler = TypeVar(
    "PresenceHandler", bound=Callable[["PresenceEvent"], Awaitable[None] | None]
)
NotificationHandler = TypeVar(
    "NotificationHandler", bound=Callable[["NotificationEvent"], Awaitable[None] | None]
)
ChannelHandler = TypeVar("ChannelHandler", bound=Callable[[ChannelOut], Awaitable[None] | None])
SessionEndedHandler = TypeVar(
    "SessionEndedHandler", bound=Callable[[MeshkitError], Awaitable[None] | None]
)
AnyHandler = TypeVar("AnyHandler", bound=Callable[[Any], Awaitable[None] | None])

PresenceStatus = Literal["online", "idle", "dnd", "offline"]

RESUME_LIMIT = 500
SEEN_LIMIT = 10_000  # ids remembered for dropping duplicates
RENEW_POLL = 1.0  # seconds between looks at the clock while a renewal is not due
RENEW_RETRY = 5.0  # seconds before a failed renewal is tried again
RESUME_RETRY_MAX = 30.0  # longest wait before a failed resume is tried again, connected
_CONNECTED = "\0connected"  # the dispatcher's marker for "a connection (re)started"
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def ulid_floor(unix_seconds: float) -> str:
    """The smallest ULID of a moment: every message created later sorts after it."""
    ms = max(0, int(unix_seconds * 1000))
    head = []
    for _ in range(10):
        head.append(_CROCKFORD[ms & 31])
        ms >>= 5
    return "".join(reversed(head)) + "0" * 16


@dataclass(frozen=True, slots=True)
class TypingEvent:
    """``typing``: someone is typing in a channel."""

    channel_id: str
    user_id: str


@dataclass(frozen=True, slots=True)
class PresenceEvent:
    """``presence``: a user's status changed (``online``, ``idle``, ``dnd``, ``offline``)."""

    user_id: str
    status: str


@dataclass(frozen=True, slots=True)
class NotificationEvent:
    """``notification``: a new notification for the user, and the unread badge."""

    notification: NotificationOut
    unread: int


class NotConnected(ConnectionError):
    """An emit while the Socket.IO connection is down."""


async def call_handlers(
    handlers: Iterable[Callable[[Any], Awaitable[None] | None]],
    value: Any,
    what: str,
    *,
    quiet: tuple[type[Exception], ...] = (),
) -> None:
    """Call each of ``handlers`` with ``value`` in turn, awaiting what is awaitable. A
    handler that fails is logged (``what`` names the event) and the others still run;
    the ``quiet`` exceptions are expected endings, not failures, and are not logged."""
    for handler in list(handlers):
        try:
            result = handler(value)
            if inspect.isawaitable(result):
                await result
        except asyncio.CancelledError:
            raise
        except quiet:
            pass
        except Exception:
            log.exception("handler %r for %r failed", handler, what)


class Realtime:
    """The Socket.IO connection of a :class:`~meshkit_sdk.MeshkitClient`.

    Reconnects by itself (with the client's current, refreshed access token) and resumes
    the message stream without gap or duplicate.
    """

    def __init__(
        self,
        client: MeshkitClient,
        *,
        transports: Sequence[str] | None = ("websocket",),
        ack_timeout: float = 10.0,
        clock_margin: float = 2.0,
        reconnection_delay: float = 0.5,
        reconnection_delay_max: float = 5.0,
        path: str = "socket.io",
        query: Mapping[str, str] | None = None,
        reconnection: bool = True,
    ) -> None:
        self._client = client
        self.transports = list(transports) if transports is not None else None
        self.path = path.strip("/")
        """The server's Socket.IO path (``socket.io``: messaging's)."""
        self.url = client.base_url + (f"?{urlencode(query)}" if query else "")
        """Where to connect, with ``query`` (the voice service routes by ``room``)."""
        self.ack_timeout = ack_timeout
        self.clock_margin = clock_margin
        self.resume_limit = RESUME_LIMIT  # messages per ``resume`` page (server max 500)
        self._sio = socketio.AsyncClient(
            reconnection=reconnection,
            reconnection_delay=reconnection_delay,
            reconnection_delay_max=reconnection_delay_max,
            logger=False,
            engineio_logger=False,
        )
        self._handlers: dict[str, list[Callable[[Any], Awaitable[None] | None]]] = {}
        self._queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        self._dispatcher: asyncio.Task[None] | None = None
        self._last_id: str | None = None
        self._resume_from: str | None = None  # owed a resume from here (None: nothing owed)
        self._resuming = False  # a connection is being made: hold new messages back
        self._held: list[MessageOut] = []
        self._attempt = 0  # connection attempts made; a resume releases only its own
        self._resume_failures = 0
        self._closing = False
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._auth_token: str | None = None  # what the server knows the connection by
        self._renew_at = 0.0  # client clock: hand the server a fresh token from then on
        self._wait_timeout = 10.0
        self._keeper: asyncio.Task[None] | None = None
        self._connect_error: Any = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._sio.on("connect", self._on_connect)
        self._sio.on("connect_error", self._on_connect_error)
        self._sio.on("session.ended", self._on_session_ended)
        self._sio.on("resync", self._on_resync)
        for event in (
            "message.created",
            "message.updated",
            "message.deleted",
            "typing",
            "presence",
            "notification",
            "channel.joined",
        ):
            self._listen(event)

    # --- connection ------------------------------------------------------------------

    @property
    def connected(self) -> bool:
        return bool(self._sio.connected)

    @property
    def last_message_id(self) -> str | None:
        """The highest message id delivered to the message handlers (the resume point)."""
        return self._last_id

    async def connect(self, *, wait_timeout: float = 10.0) -> None:
        """Connect through the gateway with the current access token.

        A token the server refuses as ``invalid-token`` (revoked early) is refreshed and
        the connection tried once more; other refusals raise their typed error.
        """
        await self._client.fresh_token()  # not logged in: Unauthenticated, before any I/O
        self._closing = False
        self._wait_timeout = wait_timeout
        if self._dispatcher is None or self._dispatcher.done():
            self._dispatcher = asyncio.create_task(self._dispatch(), name="meshkit-realtime")
        if self._keeper is None or self._keeper.done():
            self._keeper = asyncio.create_task(self._keep_token_fresh(), name="meshkit-renew")
        try:
            await self._connect(wait_timeout)
        except Unauthenticated as exc:
            if exc.type != INVALID_TOKEN or self._auth_token is None:
                raise
            await self._client._refresh(stale=self._auth_token)
            await self._connect(wait_timeout)

    async def _connect(self, wait_timeout: float) -> None:
        self._connect_error = None
        try:
            await self._sio.connect(
                self.url,
                auth=self._auth,
                transports=self.transports,
                socketio_path=self.path,
                wait_timeout=wait_timeout,
            )
        except socketio.exceptions.ConnectionError as exc:
            refused = self._connect_error
            if isinstance(refused, Mapping) and isinstance(refused.get("data"), Mapping):
                raise error_from_problem(refused["data"]) from exc
            raise

    async def disconnect(self) -> None:
        """Disconnect (and stop reconnecting); handlers already queued still run."""
        self._closing = True  # until the next connect(): nothing reconnects meanwhile
        await self._cancel_tasks()  # a reconnection in flight first
        await self._sio.shutdown()
        if self._sio.eio.state != "disconnected":  # a connect cut off half-way
            await self._sio.eio.disconnect()
        await self._cancel_tasks()  # and what the shutdown set off
        if self._dispatcher is not None:
            self._dispatcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._dispatcher
            self._dispatcher = None

    async def _cancel_tasks(self) -> None:
        for task in (self._keeper, *self._tasks):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._keeper = None

    async def wait(self) -> None:
        """Wait until the connection ends for good (disconnect, or reconnection gave up)."""
        await self._sio.wait()

    async def _auth(self) -> dict[str, str]:
        """The ``auth`` payload of each (re)connection: the current, refreshed token."""
        try:
            token = await self._client.fresh_token()
        except Exception as exc:  # the server refuses; reconnection tries again later
            log.warning("no access token for the Socket.IO connection: %s", exc)
            return {}
        self._auth_token = token
        self._renew_at = self._client._refresh_at
        self._attempt += 1
        self._resuming = True  # from here the server may push; the resume goes first
        return {"token": token}

    def _on_connect(self) -> None:
        self._queue.put_nowait((_CONNECTED, self._attempt))

    def _on_resync(self, data: Any = None) -> None:
        # The server's fan-out lost pushes it cannot name: resume as after a reconnect.
        # Synchronous, so every message that arrives from here on waits for the resume.
        self._resuming = True
        self._queue.put_nowait((_CONNECTED, self._attempt))

    def _on_connect_error(self, data: Any = None) -> None:
        self._connect_error = data
        problem = data.get("data") if isinstance(data, Mapping) else None
        stale = self._auth_token
        if (
            isinstance(problem, Mapping)
            and problem.get("type") == INVALID_TOKEN
            and stale
            and self._sio._reconnect_task is not None
        ):
            # revoked before it expired: refresh, so the next reconnection attempt works
            self._spawn(self._refresh_quietly(stale))

    async def _refresh_quietly(self, stale: str) -> None:
        try:
            await self._client._refresh(stale=stale)
        except Exception as exc:
            log.warning("refreshing the token for Socket.IO failed: %s", exc)

    def _spawn(self, work: Awaitable[None]) -> None:
        task: asyncio.Task[None] = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # --- session lifetime ------------------------------------------------------------

    async def _keep_token_fresh(self) -> None:
        """When the client's token is due for a refresh, hand the connection the new one."""
        while True:
            wait = self._renew_at - self._client.clock()
            if wait > 0 or "/" not in self._sio.namespaces:
                await asyncio.sleep(min(wait, RENEW_POLL) if wait > 0 else RENEW_POLL)
                continue
            try:
                token = await self._client.fresh_token()
                if token != self._auth_token:
                    await self.emit("auth", {"token": token})
                    self._auth_token = token
                self._renew_at = self._client._refresh_at
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the server ends the session if it comes to that
                log.warning("renewing the Socket.IO session's token failed: %s", exc)
                self._renew_at = self._client.clock() + RENEW_RETRY

    def _on_session_ended(self, data: Any = None) -> None:
        self._queue.put_nowait(("session.ended", data))  # handlers: in arrival order
        self._spawn(self._reconnect_after_end(self._auth_token))

    async def _reconnect_after_end(self, stale: str | None) -> None:
        """The server ends the session and disconnects: connect again with a fresh token
        (and resume); stay down when the session itself is over."""
        eio = self._sio.eio
        for _ in range(250):  # the server's disconnect follows its event
            # engine.io closes its HTTP session last, after saying "disconnected": a
            # connection made before that would have its new session closed under it
            if eio.state == "disconnected" and eio.http is None:
                break
            await asyncio.sleep(0.02)
        if self._closing:
            return
        try:
            if stale is not None:
                await self._client._refresh(stale=stale)
            await self._connect(self._wait_timeout)
        except Exception as exc:
            log.warning("the server ended the session; connecting again failed: %s", exc)

    # --- emits -----------------------------------------------------------------------

    async def emit(self, event: str, payload: Mapping[str, Any]) -> dict[str, Any]:
        """Emit with an ack; answers the ack (``ok: true``) or raises its typed error."""
        # ``namespaces``, not ``connected``: the connect handlers (resume) run before
        # socketio sets ``connected``
        if "/" not in self._sio.namespaces:
            raise NotConnected(f"cannot emit {event!r}: not connected")
        try:
            ack = await self._sio.call(event, dict(payload), timeout=self.ack_timeout)
        except socketio.exceptions.BadNamespaceError as exc:
            raise NotConnected(f"cannot emit {event!r}: not connected") from exc
        except socketio.exceptions.TimeoutError as exc:
            raise TimeoutError(f"no ack for {event!r} in {self.ack_timeout} s") from exc
        if not isinstance(ack, dict):
            raise MeshkitError({"title": "Malformed ack", "detail": repr(ack)[:200]})
        if ack.get("ok") is not True:
            error = ack.get("error")
            raise error_from_problem(error if isinstance(error, Mapping) else {"status": 0})
        return ack

    async def send(
        self,
        channel_id: str,
        content: str,
        *,
        nonce: str | None = None,
        reply_to: str | None = None,
    ) -> MessageOut:
        """Post a message over the socket; answers it once stored (the ack)."""
        payload: dict[str, Any] = {
            "channel_id": channel_id,
            "content": content,
            "nonce": nonce or uuid.uuid4().hex,
        }
        if reply_to is not None:
            payload["reply_to"] = reply_to
        ack = await self.emit("message.send", payload)
        return MessageOut.from_dict(ack["message"])

    async def typing(self, channel_id: str) -> None:
        """Tell the channel the user is typing (the server throttles it)."""
        await self.emit("typing", {"channel_id": channel_id})

    async def read(self, channel_id: str, message_id: str) -> str:
        """Move the read marker forward; answers the marker (it never moves back)."""
        ack = await self.emit("read", {"channel_id": channel_id, "message_id": message_id})
        return str(ack["last_read_id"])

    async def set_presence(self, status: PresenceStatus) -> str:
        """Choose the status others see while connected; answers it."""
        ack = await self.emit("presence.set", {"status": status})
        return str(ack["status"])

    # --- handlers --------------------------------------------------------------------

    def on_message(self, handler: MessageHandler) -> MessageHandler:
        """``message.created``, in id order, without gap or duplicate across reconnects."""
        return self._add("message.created", handler)

    def on_message_updated(self, handler: MessageHandler) -> MessageHandler:
        return self._add("message.updated", handler)

    def on_message_deleted(self, handler: MessageHandler) -> MessageHandler:
        """A deleted message: a tombstone (``deleted``, empty content)."""
        return self._add("message.deleted", handler)

    def on_typing(self, handler: TypingHandler) -> TypingHandler:
        return self._add("typing", handler)

    def on_presence(self, handler: PresenceHandler) -> PresenceHandler:
        return self._add("presence", handler)

    def on_notification(self, handler: NotificationHandler) -> NotificationHandler:
        return self._add("notification", handler)

    def on_channel_joined(self, handler: ChannelHandler) -> ChannelHandler:
        """The user is now in a channel (joined, added, or in it when it was created),
        as they see it; every message after this reaches the connection."""
        return self._add("channel.joined", handler)

    def on_session_ended(self, handler: SessionEndedHandler) -> SessionEndedHandler:
        """The server ended the connection's session (``Unauthenticated``, saying why);
        the client connects again by itself unless the session is over."""
        return self._add("session.ended", handler)

    def on(self, event: str, handler: AnyHandler) -> AnyHandler:
        """Any server event, with its raw payload (``reaction.added``, ``read``, …);
        for the events above, the typed value."""
        self._listen(event)
        return self._add(event, handler)

    def _add(self, event: str, handler: AnyHandler) -> AnyHandler:
        self._handlers.setdefault(event, []).append(handler)
        return handler

    def _listen(self, event: str) -> None:
        if event in self._sio.handlers.get("/", {}):
            return

        def enqueue(data: Any = None) -> None:
            # synchronous: events reach the queue in the order they arrived
            self._queue.put_nowait((event, data))

        self._sio.on(event, enqueue)

    # --- dispatch --------------------------------------------------------------------

    async def _dispatch(self) -> None:
        while True:
            event, data = await self._queue.get()
            try:
                if event == _CONNECTED:
                    await self._after_connect(data)
                elif event == "channel.joined":
                    await self._fire(event, _typed(event, data))
                    await self._catch_up_after_join()
                elif event == "message.created":
                    message = MessageOut.from_dict(data)
                    if self._resuming:
                        self._held.append(message)
                    else:
                        await self._deliver(message)
                else:
                    await self._fire(event, _typed(event, data))
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("Socket.IO event %r could not be handled", event)

    async def _deliver(self, message: MessageOut) -> None:
        """Hand a new message to the handlers unless it was delivered already."""
        if message.id in self._seen:
            return
        self._seen[message.id] = None
        if len(self._seen) > SEEN_LIMIT:
            self._seen.popitem(last=False)
        if self._last_id is None or message.id > self._last_id:
            self._last_id = message.id
        await self._fire("message.created", message)

    async def _catch_up_after_join(self) -> None:
        """A message posted in the channel just before the socket entered its room was
        never pushed: resume from a little before the join (``clock_margin``), or from
        the last delivered id if that is earlier; what was delivered already is dropped."""
        if self._resuming:
            return  # a resume is on its way anyway
        floor = ulid_floor(time.time() - self.clock_margin)
        owed = self._resume_from or self._last_id
        self._resume_from = min(owed, floor) if owed else floor
        await self._resume()  # on failure the point stays owed: the next resume covers it

    async def _after_connect(self, attempt: int) -> None:
        """Resume, then deliver what was held, unless a newer connection attempt started
        meanwhile (its own resume will); a failed resume is retried while connected."""
        resumed = await self._resume()
        if attempt != self._attempt:
            return
        if resumed:
            self._resume_failures = 0
            await self._release_held()
        elif self.connected:
            self._resume_failures += 1
            delay = min(RESUME_RETRY_MAX, 2.0 ** (self._resume_failures - 1))
            self._spawn(self._resume_later(attempt, delay))

    async def _resume_later(self, attempt: int, delay: float) -> None:
        await asyncio.sleep(delay)
        if attempt == self._attempt and not self._closing:
            self._queue.put_nowait((_CONNECTED, attempt))

    async def _release_held(self) -> None:
        """Deliver what arrived while the connection was being made, in id order."""
        self._resuming = False
        held, self._held = sorted(self._held, key=lambda m: m.id), []
        for message in held:
            await self._deliver(message)

    async def _fire(self, event: str, value: Any) -> None:
        await call_handlers(self._handlers.get(event, ()), value, event)

    async def _resume(self) -> bool:
        """Deliver what was missed since the last delivered id; whether that worked."""
        start = self._resume_from or self._last_id
        if start is None:
            # first connection, nothing delivered yet: should it drop before the first
            # message arrives, resume from the moment it was made (less the clock margin)
            self._last_id = ulid_floor(time.time() - self.clock_margin)
            return True
        self._resume_from = start  # owed until a resume completes
        cursor = start
        try:
            while True:
                ack = await self.emit(
                    "resume", {"last_seen_id": cursor, "limit": self.resume_limit}
                )
                messages = ack.get("messages") or []
                for raw in messages:
                    await self._deliver(MessageOut.from_dict(raw))
                if not ack.get("more") or not messages:
                    break
                cursor = str(messages[-1]["id"])
        except (NotConnected, TimeoutError, MeshkitError) as exc:
            # tried again from ``start`` (this connection or the next); duplicates dropped
            log.warning("resume failed, to be retried: %s", exc)
            return False
        self._resume_from = None
        return True


def _typed(event: str, data: Any) -> Any:
    """The typed value handlers of ``event`` receive."""
    if event in ("message.updated", "message.deleted"):
        return MessageOut.from_dict(data)
    if event == "typing":
        return TypingEvent(channel_id=str(data["channel_id"]), user_id=str(data["user_id"]))
    if event == "presence":
        return PresenceEvent(user_id=str(data["user_id"]), status=str(data["status"]))
    if event == "channel.joined":
        return ChannelOut.from_dict(data)
    if event == "session.ended":
        return error_from_problem(data if isinstance(data, Mapping) else {"status": 401})
    if event == "notification":
        return NotificationEvent(
            notification=NotificationOut.from_dict(data["notification"]),
            unread=int(data["unread"]),
        )
    return data
