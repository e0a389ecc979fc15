"""A service's Socket.IO edge: token-authenticated connections, guarded and acked emits,
and connections that live only as long as their access token.

What a service gets from :class:`SocketServer` (the contract its clients see):

* Connect to the server's path with ``auth={"token": "<access token>"}``. A missing,
  invalid, expired or revoked token is refused; the ``connect_error`` data is a problem
  document (``type``, ``title``, ``status``, ``detail``) saying why. So is a connection
  over a cap (:mod:`meshkit.sockets.caps`) or one the service's ``on_connect`` refuses by
  raising a :class:`~meshkit.errors.Problem`; anything else going wrong while setting up
  is ``503`` (logged), and leaves no trace.
* Every client emit is answered by an ack: ``{"ok": true, ...}`` or ``{"ok": false,
  "error": <problem document>}``. A malformed payload is an ``ok: false`` ack, never a
  dropped connection: undecodable JSON is ``400 malformed-body``, a payload that does not
  fit the event ``422 validation-error``, an event the server does not know ``404
  unknown-event`` (:mod:`meshkit.sockets.payloads` reads the frames). An unexpected
  exception in a handler is a ``500`` ack (logged), and the socket stays up.
* A connection lives as long as its access token: renew it before it expires with the
  ``auth`` emit (``{"token": "<new access token>"}``, same user; the ack carries
  ``expires_at``). Every emit a handler checks with :meth:`SocketServer.principal` is
  refused once the token expired or was revoked; the periodic check (and
  :meth:`SocketServer.check_user`, for a revocation announced by auth) sends such a
  connection ``session.ended`` (a problem document) and disconnects it.
* One connection's emits are handled one after the other, in the order they were sent
  (``async_handlers=False``); different connections are handled concurrently.

The service keeps its domain (rooms, what each event does) and composes this class; it
never subclasses it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from typing import Any, Protocol

import socketio
from aiohttp import web
from pydantic import BaseModel, Field, ValidationError

from meshkit.errors import (
    FieldError,
    Forbidden,
    InternalError,
    MalformedBody,
    Problem,
    ServiceUnavailable,
    ValidationFailed,
)
from meshkit.events.tasks import cancel_and_wait
from meshkit.security import KeyRing
from meshkit.sockets.caps import Connection, ConnectionCaps, client_address
from meshkit.sockets.payloads import (
    MAX_EVENT_NAME,
    RESERVED_EVENTS,
    GuardedPacket,
    Refusal,
    SafeJson,
    UnknownEvent,
    guard,
    library_log,
)
from meshkit.tokens import Principal, RevocationUnavailable, TokenInvalid, TokenMissing
from meshkit.tokens.principal import MAX_TOKEN
from meshkit.tokens.verifier import TokenVerifier

log = logging.getLogger("meshkit.sockets")
MAX_FRAME = 64 * 1024
"""Largest frame (WebSocket message, long-polling POST body) accepted by default, in bytes."""
STOP_GRACE = 5.0
"""Seconds a background task may take to stop."""
AUTH_EVENT = "auth"
"""The emit that renews a connection's access token (handled by :class:`SocketServer`)."""
SESSION_ENDED = "session.ended"
"""The push a connection gets, with a problem document, before it is ended."""

EventHandler = Callable[[str, Any], Awaitable[dict[str, Any]]]
"""``handler(sid, payload) -> ack fields``: its result is acked as ``{"ok": true, **result}``;
what it raises, as ``{"ok": false, "error": problem_of(exc)}``."""
ConnectHook = Callable[[str, Principal, dict[str, Any]], Awaitable[None]]
"""``on_connect(sid, principal, environ)``: set up a connection whose token checked out."""
SocketHook = Callable[[str, Principal], Awaitable[None]]
"""``hook(sid, principal)``: ``on_registered`` and ``on_disconnect``."""


class SocketOwner(Protocol):
    """What :class:`SocketServer` needs of its service (a :class:`~meshkit.Service` is one).

    Read on use, not at construction: the runtime injects both after ``setup_app``.
    """

    @property
    def tokens(self) -> TokenVerifier:
        """Verifies access tokens."""
        ...

    @property
    def keyring(self) -> KeyRing:
        """The service API keys this process accepts (whose ``X-Forwarded-For`` to believe)."""
        ...


class AuthIn(BaseModel):
    """``auth``: a fresh access token for the connection (the same user's)."""

    token: str = Field(min_length=1, max_length=MAX_TOKEN)


def problem_of(exc: BaseException, logger: logging.Logger | None = None) -> dict[str, Any]:
    """The problem document an ack carries for ``exc``: a pydantic ``ValidationError``
    is ``422`` with one entry per field (under ``payload``), a :class:`Problem` is itself,
    anything else an opaque ``500`` (logged with its traceback on ``logger``)."""
    if isinstance(exc, ValidationError):
        exc = ValidationFailed(
            [
                FieldError.of(("payload", *(str(p) for p in e["loc"])), e["msg"], e["type"])
                for e in exc.errors(include_url=False)
            ]
        )
    if not isinstance(exc, Problem):
        (logger or log).exception("Socket.IO handler failed", exc_info=exc)
        exc = InternalError("an unexpected error occurred")
    return exc.to_dict()


def _refused(problem: Problem) -> socketio.exceptions.ConnectionRefusedError:
    """The refusal whose ``connect_error`` data is ``{"message": detail, "data": problem}``."""
    return socketio.exceptions.ConnectionRefusedError(problem.detail, problem.to_dict())


class SocketServer:
    """One service instance's authenticated Socket.IO server (see the module docstring).

    :param owner: the service (its ``tokens`` verify, its ``keyring`` names the gateway).
    :param path: where it is served, without slashes (``socket.io``, ``voice/socket.io``).
    :param client_manager: python-socketio's manager (e.g. a cross-instance fan-out);
        in-memory when ``None``.
    :param cors_origins: origins browsers may connect from. Empty (the default) turns
        python-engineio's ``Origin`` check off: any page may open a connection, which is
        safe because a connection authenticates with a bearer token in its handshake,
        never with cookies, so a foreign page gains nothing a script holding the token
        would not have. Name origins to refuse the others.
    :param max_frame: largest frame accepted, in bytes (larger WebSocket frames close
        the connection with 1009).
    :param log_name: the logger for this server and, below it, python-socketio's and
        engine.io's (``<log_name>.socketio``, ``<log_name>.engineio``).
    :param on_connect: ``(sid, principal, environ)``, once the token checked out (and
        the connection caps admitted it), before the socket is listed in
        :meth:`sids_of`. Raise a :class:`Problem` to refuse the connection with it.
    :param on_registered: ``(sid, principal)``, right after the socket is listed in
        :meth:`sids_of`: catch up on changes that, published during ``on_connect``,
        could not find it yet. Failures refuse the connection as ``on_connect``'s do.
    :param on_disconnect: ``(sid, principal)``, when a connected socket goes, and also
        after a failed ``on_connect``/``on_registered`` (so it must undo partial set-ups).
        Its failures are logged, never raised.
    """

    def __init__(
        self,
        owner: SocketOwner,
        *,
        path: str = "socket.io",
        client_manager: socketio.AsyncManager | None = None,
        cors_origins: Sequence[str] | str = (),
        max_frame: int = MAX_FRAME,
        log_name: str = "meshkit.sockets",
        on_connect: ConnectHook | None = None,
        on_registered: SocketHook | None = None,
        on_disconnect: SocketHook | None = None,
    ) -> None:
        self.owner = owner
        self.path = path.strip("/")
        self.log = logging.getLogger(log_name)
        self.sio = socketio.AsyncServer(
            async_mode="aiohttp",
            client_manager=client_manager,
            cors_allowed_origins=cors_origins if isinstance(cors_origins, str) else [*cors_origins],
            serializer=GuardedPacket,  # every frame decodes; see meshkit.sockets.payloads
            json=SafeJson,
            max_http_buffer_size=max_frame,
            # Each socket's emits run inline in its own receive loop (engine.io calls the
            # message handler without a task; python-socketio would otherwise start one
            # task per event, and the order of their effects would follow the order in
            # which they finish). Other sockets have their own loops and run
            # concurrently; a slow emit holds back only its own connection's next frames.
            async_handlers=False,
            logger=library_log("socketio", log_name),
            engineio_logger=library_log("engineio", log_name),
        )
        guard(self.sio)
        self.principals: dict[str, Principal] = {}
        """sid → whom its current access token names (replaced by the ``auth`` emit)."""
        self.connections: dict[str, Connection] = {}
        """sid → whom and which address the connection caps count it against."""
        self.caps: ConnectionCaps | None = None
        self._by_user: dict[str, set[str]] = {}
        self._on_connect = on_connect
        self._on_registered = on_registered
        self._on_disconnect = on_disconnect
        self._tasks: list[asyncio.Task[None]] = []
        self.sio.on("connect", self._connect)
        self.sio.on("disconnect", self._disconnect)
        self.sio.on(AUTH_EVENT, self._guarded(self._auth))
        self.sio.on("*", self._other)

    # --- wiring ------------------------------------------------------------------------

    def attach(self, app: web.Application) -> None:
        """Serve Socket.IO on ``app`` at ``/<path>/`` (call it from ``setup_app``)."""
        self.sio.attach(app, socketio_path=self.path)

    def on(self, event: str, handler: EventHandler) -> None:
        """Handle the client emit ``event`` with ``handler(sid, payload)``, guarded: the
        client always gets an ack (the module docstring says which), the socket stays
        up. A handler that acts for the user checks :meth:`principal` first."""
        if event in RESERVED_EVENTS or event == AUTH_EVENT:
            raise ValueError(f"{event!r} is not an event a service can handle")
        self.sio.on(event, self._guarded(handler))

    async def start(
        self, *, session_check_interval: float | None, caps: ConnectionCaps | None = None
    ) -> None:
        """End connections whose token ran out or was revoked every
        ``session_check_interval`` seconds (``None``: only when asked); admit new
        connections through ``caps`` and keep the live ones counted."""
        self.caps = caps
        if session_check_interval is not None:
            self._tasks.append(asyncio.create_task(self._enforce(session_check_interval)))
        if caps is not None:
            self._tasks.append(asyncio.create_task(self._keep_counted(caps)))

    async def stop(self) -> None:
        """Stop background work (the client manager's listener too) and disconnect every
        client. A service stops its own tasks that emit first."""
        thread = getattr(self.sio.manager, "thread", None)  # e.g. a fan-out listener
        for task in (*self._tasks, thread):
            # redis-py can swallow a cancellation (turning it into a timeout): cancel again
            if task is not None and not await cancel_and_wait(task, STOP_GRACE):
                self.log.warning(
                    "a Socket.IO background task did not stop within %.0f s", STOP_GRACE
                )
        self._tasks.clear()
        await self.sio.shutdown()

    # --- who is connected ----------------------------------------------------------------

    def sids_of(self, user_id: str) -> frozenset[str]:
        """The sockets of ``user_id`` connected to this instance (set up completely)."""
        return frozenset(self._by_user.get(user_id, ()))

    @property
    def users(self) -> Mapping[str, AbstractSet[str]]:
        """user id → their sockets on this instance (live; copy it before awaiting while
        iterating)."""
        return self._by_user

    async def principal(self, sid: str) -> Principal:
        """Whom ``sid`` acts for, if its token still holds: not expired (no I/O) and not
        revoked (one Redis ``EXISTS``); otherwise ``401``. Check it on every emit that
        acts for the user."""
        principal = self.principals.get(sid)
        if principal is None:
            raise TokenInvalid("the connection has no session; connect again")
        tokens = self.owner.tokens
        if tokens.expired(principal):
            raise TokenInvalid("token expired; renew it with the auth emit")
        await tokens.check_not_revoked(principal)
        return principal

    # --- connection ----------------------------------------------------------------------

    async def _connect(self, sid: str, environ: dict[str, Any], auth: Any = None) -> None:
        token = auth.get("token") if isinstance(auth, dict) else None
        connection: Connection | None = None
        try:
            if isinstance(auth, Refusal):
                raise auth.problem
            if not isinstance(token, str) or not token:
                raise TokenMissing('connect with auth={"token": "<access token>"}')
            principal = await self.owner.tokens.verify(token)
            if self.caps is not None:  # before anything else is set up
                address = client_address(environ, self.owner.keyring)
                connection = Connection(sid, principal.subject, address)
                await self.caps.admit(connection)
        except Problem as problem:
            raise _refused(problem) from None
        user = principal.subject
        self.principals[sid] = principal
        try:
            if self._on_connect is not None:
                await self._on_connect(sid, principal, environ)
            # Listed last: a connection that fails half-way must leave no trace
            # (socket.io never calls disconnect for a refused connect).
            self._by_user.setdefault(user, set()).add(sid)
            if connection is not None:
                self.connections[sid] = connection
            if self._on_registered is not None:
                await self._on_registered(sid, principal)
        except Exception as exc:
            if isinstance(exc, Problem):
                refusal: Problem = exc
            else:
                self.log.warning("Socket.IO connect of %s failed: %r", user, exc)
                refusal = ServiceUnavailable("cannot set up the connection now; retry")
            await self._forget(sid, principal, connection)
            raise _refused(refusal) from None

    async def _disconnect(self, sid: str, *args: Any) -> None:
        principal = self.principals.get(sid)
        await self._forget(sid, principal, self.connections.get(sid))

    async def _forget(
        self, sid: str, principal: Principal | None, connection: Connection | None
    ) -> None:
        """Unlist ``sid``, stop counting it, and let the service undo its set-up."""
        self.principals.pop(sid, None)
        self.connections.pop(sid, None)
        if principal is not None:
            sids = self._by_user.get(principal.subject)
            if sids is not None:
                sids.discard(sid)
                if not sids:
                    del self._by_user[principal.subject]
        if connection is not None and self.caps is not None:
            await self.caps.release(connection)
        if principal is not None and self._on_disconnect is not None:
            try:
                await self._on_disconnect(sid, principal)
            except Exception as exc:
                self.log.warning("cleaning up socket %s failed: %r", sid, exc)

    # --- emits ---------------------------------------------------------------------------

    def _guarded(self, handler: EventHandler) -> Callable[..., Awaitable[dict[str, Any]]]:
        async def run(sid: str, *args: Any) -> dict[str, Any]:
            try:
                if len(args) > 1:
                    raise MalformedBody("an emit carries one payload argument")
                result = await handler(sid, args[0] if args else None)
            except Exception as exc:  # every emit gets an ack; the socket stays up
                return {"ok": False, "error": problem_of(exc, self.log)}
            return {"ok": True, **result}

        return run

    async def _other(self, event: str | Refusal, sid: str, *args: Any) -> dict[str, Any]:
        """The ack of an event no handler takes: one that could not be read (its
        :class:`Refusal` names the problem) or one the server does not know."""
        if isinstance(event, Refusal):
            problem = event.problem
        else:
            shown = event if len(event) <= MAX_EVENT_NAME else event[:MAX_EVENT_NAME] + "…"
            problem = UnknownEvent(f"no such event: {shown!r}")
        return {"ok": False, "error": problem.to_dict()}

    async def _auth(self, sid: str, data: Any) -> dict[str, Any]:
        body = AuthIn.model_validate(data)
        current = self.principals.get(sid)
        if current is None:
            raise TokenInvalid("the connection has no session; connect again")
        principal = await self.owner.tokens.verify(body.token)
        if principal.subject != current.subject:
            raise Forbidden("a connection cannot change user; connect with the other token")
        self.principals[sid] = principal
        return {"ok": True, "expires_at": principal.expires_at.isoformat()}

    # --- session lifetime ----------------------------------------------------------------

    async def _enforce(self, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            try:
                await self.end_stale_sessions()
            except asyncio.CancelledError:
                raise
            except RevocationUnavailable:
                pass  # logged by the verifier; emits fail closed meanwhile, sockets stay
            except Exception as exc:
                self.log.warning("checking the connections' tokens failed: %r", exc)

    async def _keep_counted(self, caps: ConnectionCaps) -> None:
        """Refresh this instance's connections in ``caps`` every third of its ttl."""
        while True:
            await asyncio.sleep(caps.ttl / 3)
            try:
                await caps.refresh(list(self.connections.values()))
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.log.warning("refreshing the connection counts failed: %r", exc)

    async def end_stale_sessions(self, sids: Iterable[str] | None = None) -> int:
        """End this instance's connections (or those of ``sids``) whose token expired
        or was revoked; how many.

        One Redis round trip for all of them. Each gets ``session.ended`` with the
        reason as a problem document, then a disconnect. Raises
        :class:`RevocationUnavailable` when the denylist cannot be read.
        """
        tokens = self.owner.tokens
        judged = dict(self.principals)
        if sids is not None:
            judged = {sid: judged[sid] for sid in sids if sid in judged}
        reasons: dict[str, str] = {}
        live = []
        for sid, principal in judged.items():
            if tokens.expired(principal):
                reasons[sid] = "token expired; renew it with the auth emit before it does"
            else:
                live.append((sid, principal))
        revoked = await tokens.revoked([principal for _, principal in live])
        for (sid, _), gone in zip(live, revoked, strict=True):
            if gone:
                reasons[sid] = "token revoked"
        ended = 0
        for sid, detail in reasons.items():
            if self.principals.get(sid) is not judged[sid]:
                continue  # renewed (auth emit) or gone while the denylist was read
            try:
                await self.sio.emit(
                    SESSION_ENDED, TokenInvalid(detail).to_dict(), to=sid, ignore_queue=True
                )
                await self.sio.disconnect(sid)
            except Exception as exc:  # gone meanwhile: nothing to end; the others still are
                self.log.debug("ending the session of socket %s: %r", sid, exc)
                continue
            ended += 1
        return ended

    async def check_user(self, user_id: str) -> int:
        """End ``user_id``'s connections on this instance whose token expired or was
        revoked, now (e.g. when auth announces revoked sessions); how many. When the
        denylist cannot be read, none (the periodic check retries)."""
        sids = self.sids_of(user_id)
        if not sids:
            return 0
        try:
            return await self.end_stale_sessions(sids)
        except RevocationUnavailable:
            return 0
