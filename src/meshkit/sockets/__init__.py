"""Socket.IO for services: the service-independent edge every real-time service shares.

* :class:`SocketServer` (:mod:`meshkit.sockets.server`): token-authenticated connects,
  guarded emits that always get an ack, the ``auth`` renew emit, connections that end
  with their token (``session.ended``), and the sockets of each user on this instance.
* :mod:`meshkit.sockets.payloads`: frames that never crash the decoder, and the
  libraries' logs at meshkit's levels.
* :mod:`meshkit.sockets.caps`: caps on concurrent connections per user and per client
  address, counted in Redis across instances.

A service composes a :class:`SocketServer` and keeps its domain (rooms, events, pushes);
``docs/sockets.md`` shows how.
"""

from meshkit.sockets.caps import (
    Connection,
    ConnectionCaps,
    TooManyConnections,
    client_address,
    connections_key,
)
from meshkit.sockets.payloads import Refusal, UnknownEvent
from meshkit.sockets.server import (
    AUTH_EVENT,
    MAX_FRAME,
    SESSION_ENDED,
    ConnectHook,
    EventHandler,
    SocketHook,
    SocketOwner,
    SocketServer,
    problem_of,
)

__all__ = [
    "AUTH_EVENT",
    "MAX_FRAME",
    "SESSION_ENDED",
    "ConnectHook",
    "Connection",
    "ConnectionCaps",
    "EventHandler",
    "Refusal",
    "SocketHook",
    "SocketOwner",
    "SocketServer",
    "TooManyConnections",
    "UnknownEvent",
    "client_address",
    "connections_key",
    "problem_of",
]
