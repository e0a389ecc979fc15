"""Reading what Socket.IO clients send: every frame decodes, whatever it holds.

python-socketio decodes a packet with ``json.loads`` inside engine.io's message handler:
a payload with a 5,000-digit integer (``ValueError``) or 3,000 levels of nesting
(``RecursionError``) raised there, so the client got no ack and the log an ERROR
traceback. This module is the edge that turns such input into answers.

Contract:

* :class:`GuardedPacket` (the server's ``serializer``) never raises while decoding. An
  event it cannot read becomes an event whose name is a :class:`Refusal` carrying the
  problem (``400 malformed-body``; ``404 unknown-event`` for the reserved names
  ``connect``, ``disconnect`` and ``*``); its ack id is kept whenever the id itself could be read,
  so the client's callback gets ``{"ok": false, "error": <problem>}``. A packet without a
  readable id cannot be answered and is dropped. Binary payloads are refused the same
  way (the API is JSON only); their attachment frames are dropped.
* :data:`SafeJson` (``json=``) raises only ``ValueError``: numbers of more than
  :data:`MAX_INT_DIGITS` digits, ``NaN``/``Infinity``, nesting deeper than
  :data:`MAX_DEPTH` and anything ``json`` cannot parse. python-socketio also hands it
  to engine.io (process-wide, as engine.io does for any ``json=``), whose decoder
  already treats ``ValueError`` as "not JSON".
* :class:`GuardedWebSocket` closes, instead of crashing on, a WebSocket frame that is no
  Engine.IO packet, and a frame over ``max_http_buffer_size`` is refused with close code
  1009 and the reason :data:`TOO_BIG_REASON`.
* :class:`LibraryLog` gives python-socketio and engine.io meshkit's log levels: their
  per-packet chatter is DEBUG and the client mistakes they report (bad session ids,
  bad transports, undecodable polling bodies) are WARNING, so no client can put ERROR
  lines in the log. Their genuine failures stay ERROR.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import socketio
from aiohttp import WSCloseCode
from aiohttp.web import WebSocketResponse
from engineio.async_drivers.aiohttp import WebSocket as EngineWebSocket
from socketio import packet as sio_packet

from meshkit.errors import MalformedBody, NotFound, Problem

MAX_INT_DIGITS = 100
"""Longest integer accepted in a payload (as engine.io's own decoder)."""
MAX_DEPTH = 32
"""Deepest nesting of arrays and objects accepted in a payload."""
MAX_ID_DIGITS = 18
"""Longest ack id accepted (socket.io clients count from 0; this never wraps)."""
MAX_EVENT_NAME = 64
"""Characters of an unknown event's name quoted back in its problem."""
TOO_BIG_REASON = "frame too large"
"""Close reason (with code 1009) of a WebSocket frame over the size limit."""
RESERVED_EVENTS = frozenset({"connect", "disconnect", "*"})
"""Names python-socketio gives a meaning of its own (``*``: its catch-all handler)."""
PACKET_TYPES = frozenset("0123456")
"""First character of every Engine.IO and every Socket.IO packet (types 0-6)."""


class UnknownEvent(NotFound):
    """The client emitted an event the server does not handle."""

    slug = "unknown-event"
    title = "Unknown event"


class Refusal:
    """The name of an event that could not be read: the problem its ack carries.

    Never equal to a string, so no client can emit it by name.
    """

    __slots__ = ("problem",)

    def __init__(self, problem: Problem) -> None:
        self.problem = problem

    def __repr__(self) -> str:
        return f"Refusal({self.problem.slug}: {self.problem.detail})"


def _parse_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise ValueError(f"numbers may have at most {MAX_INT_DIGITS} digits")
    return int(text)


def _no_constant(text: str) -> Any:
    raise ValueError(f"{text} is not JSON")


def _depth_within(value: Any, limit: int) -> bool:
    """Whether ``value`` nests at most ``limit`` arrays/objects deep (no recursion)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return False
        stack.extend((child, depth + 1) for child in children)
    return True


class SafeJson:
    """A ``json`` module for python-socketio and engine.io whose ``loads`` raises only
    ``ValueError`` (see the module docstring); ``dumps`` is :func:`json.dumps`."""

    dumps = staticmethod(json.dumps)

    @staticmethod
    def loads(text: str | bytes, **options: Any) -> Any:
        """``text`` as JSON, or ``ValueError`` saying why not."""
        try:
            value = json.loads(text, parse_int=_parse_int, parse_constant=_no_constant, **options)
        except RecursionError:
            raise ValueError(f"nesting deeper than {MAX_DEPTH} levels") from None
        if not _depth_within(value, MAX_DEPTH):
            raise ValueError(f"nesting deeper than {MAX_DEPTH} levels")
        return value


class GuardedPacket(sio_packet.Packet):  # type: ignore[misc]
    """A Socket.IO packet whose decoding never raises (see the module docstring)."""

    json = SafeJson

    def __init__(self, *args: Any, encoded_packet: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, encoded_packet=encoded_packet, **kwargs)
        if encoded_packet is not None and not encoded_packet:  # the base skips it
            self.attachment_count = self.decode(encoded_packet)

    def decode(self, encoded_packet: Any) -> int:
        """Read ``encoded_packet``; the number of binary attachments to wait for (0)."""
        self.namespace = None
        self.data = None
        self.id = None
        self.attachment_count = 0
        if not isinstance(encoded_packet, str) or encoded_packet[:1] not in PACKET_TYPES:
            return self._refuse("not a Socket.IO packet")
        self.packet_type = int(encoded_packet[0])
        rest = encoded_packet[1:]
        binary = self.packet_type in (sio_packet.BINARY_EVENT, sio_packet.BINARY_ACK)
        if binary:
            count, dash, after = rest.partition("-")
            if not dash or not _ascii_digits(count):
                return self._refuse("a binary packet needs its attachment count")
            rest = after
        if rest.startswith("/"):
            namespace, comma, after = rest.partition(",")
            self.namespace = namespace.partition("?")[0]
            rest = after if comma else ""
        digits = len(rest) - len(rest.lstrip("0123456789"))
        if digits > MAX_ID_DIGITS:
            return self._refuse("the ack id is too long")
        if digits:
            self.id = int(rest[:digits])
            rest = rest[digits:]
        if binary:  # the API is JSON only; the attachments that follow are dropped
            return self._refuse("binary payloads are not accepted; send JSON")
        if rest:
            try:
                self.data = self.json.loads(rest)
            except ValueError as exc:
                return self._refuse(f"the payload is not valid JSON: {exc}")
        return self._check()

    def _check(self) -> int:
        """Refuse what python-socketio would choke on after a clean decode."""
        kind = self.packet_type
        if kind == sio_packet.EVENT:
            data = self.data
            if not isinstance(data, list) or not data or not isinstance(data[0], str):
                return self._refuse("an event is a JSON array starting with its name")
            if data[0] in RESERVED_EVENTS:
                return self._refuse(problem=UnknownEvent(f"{data[0]!r} cannot be emitted"))
        elif kind == sio_packet.ACK:
            if not isinstance(self.data, list):
                self.data = []
        elif kind not in (sio_packet.CONNECT, sio_packet.DISCONNECT):
            self.id = None  # CONNECT_ERROR is the server's to send
            return self._refuse("unexpected packet type")
        return 0

    def _refuse(self, detail: str = "", *, problem: Problem | None = None) -> int:
        """Make this an event named by a :class:`Refusal`; a CONNECT keeps its type and
        carries the refusal as its auth payload."""
        refusal = Refusal(problem or MalformedBody(detail))
        if self.packet_type == sio_packet.CONNECT and problem is None:
            self.data = refusal
        else:
            self.packet_type = sio_packet.EVENT
            self.data = [refusal]
        self.attachment_count = 0
        return 0


def _ascii_digits(text: str) -> bool:
    return 0 < len(text) <= 10 and text.isascii() and text.isdigit()


def read_packet(encoded: Any) -> GuardedPacket:
    """Decode one Socket.IO packet as the server does (never raises)."""
    return GuardedPacket(encoded_packet=encoded)


class _Response(WebSocketResponse):
    """aiohttp's WebSocket response, naming the reason when a frame is too large."""

    async def close(
        self, *, code: int = WSCloseCode.OK, message: bytes = b"", drain: bool = True
    ) -> bool:
        if code == WSCloseCode.MESSAGE_TOO_BIG and not message:
            message = TOO_BIG_REASON.encode()
        return await super().close(code=code, message=message, drain=drain)


class GuardedWebSocket(EngineWebSocket):  # type: ignore[misc]
    """engine.io's aiohttp WebSocket: frames over the size limit are refused with 1009
    and :data:`TOO_BIG_REASON`; a text frame that is no Engine.IO packet (empty, or not
    starting with a packet type) ends the connection instead of the handler."""

    async def __call__(self, environ: dict[str, Any]) -> WebSocketResponse:
        request = environ["aiohttp.request"]
        self._sock = _Response(max_msg_size=self.server.max_http_buffer_size)
        await self._sock.prepare(request)
        self.environ = environ
        await self.handler(self)
        return self._sock

    async def wait(self) -> str | bytes:
        """The next frame; ``OSError`` (engine.io's "connection gone") for one it
        could not decode."""
        data: str | bytes = await super().wait()
        if isinstance(data, str) and data[:1] not in PACKET_TYPES:
            await self._sock.close(code=WSCloseCode.PROTOCOL_ERROR, message=b"not engine.io")
            raise OSError("not an Engine.IO packet")
        return data


def guard(server: socketio.AsyncServer) -> None:
    """Serve ``server``'s WebSocket transport with :class:`GuardedWebSocket`."""
    drivers = dict(server.eio._async)
    drivers["websocket"] = GuardedWebSocket
    server.eio._async = drivers


CLIENT_FAULTS = frozenset({"post request handler error"})
"""engine.io's ``logger.exception`` messages that only a client's bytes cause (an
undecodable long-polling body): meshkit's own handlers never raise into engine.io."""


class LibraryLog(logging.LoggerAdapter):  # type: ignore[type-arg]
    """python-socketio's and engine.io's logger calls at meshkit's levels (see the
    module docstring)."""

    def info(self, msg: object, *args: Any, **kwargs: Any) -> None:
        """Per-packet chatter: DEBUG."""
        self.log(logging.DEBUG, msg, *args, **kwargs)

    def error(self, msg: object, *args: Any, **kwargs: Any) -> None:
        """engine.io's "bad request" reports (``_log_error_once``): WARNING."""
        self.log(logging.WARNING, msg, *args, **kwargs)

    def exception(self, msg: object, *args: Any, **kwargs: Any) -> None:
        """A failure with a traceback: ERROR, unless a client's input caused it."""
        kwargs.setdefault("exc_info", True)
        level = logging.WARNING if msg in CLIENT_FAULTS else logging.ERROR
        self.log(level, msg, *args, **kwargs)


def library_log(name: str, parent: str = "meshkit.sockets") -> LibraryLog:
    """The adapter for one library's logger (``socketio``, ``engineio``), named
    ``<parent>.<name>`` (each service passes its own logger's name)."""
    return LibraryLog(logging.getLogger(f"{parent}.{name}"), {})
