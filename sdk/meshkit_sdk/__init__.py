"""meshkit_sdk: the hand-written async client of a meshkit gateway.

It wraps the generated ``meshkit_api_client`` (never edited by hand) with a session that
refreshes its tokens, typed errors from problem documents, and a Socket.IO connection
that reconnects and resumes::

    async with MeshkitClient("http://127.0.0.1:3000") as client:
        await client.login("ada", "correct horse battery staple")
        channel = await client.create_channel("general")
        await client.send(channel.id, "hello")

:class:`SyncMeshkitClient` offers the same REST calls to code without an event loop.
"""

from meshkit_api_client.models import ChannelOut, MessageOut, NotificationList, UserOut

from .client import ApiFunction, MeshkitClient, Tokens
from .errors import (
    BadRequest,
    Conflict,
    FieldError,
    Forbidden,
    MeshkitError,
    NotFound,
    RateLimited,
    ServiceUnavailable,
    Unauthenticated,
    UpstreamError,
    ValidationError,
    error_from_problem,
)
from .realtime import NotConnected, NotificationEvent, PresenceEvent, Realtime, TypingEvent
from .sync import SyncMeshkitClient

__all__ = [
    "ApiFunction",
    "BadRequest",
    "ChannelOut",
    "Conflict",
    "FieldError",
    "Forbidden",
    "MeshkitClient",
    "MeshkitError",
    "MessageOut",
    "NotConnected",
    "NotFound",
    "NotificationEvent",
    "NotificationList",
    "PresenceEvent",
    "RateLimited",
    "Realtime",
    "ServiceUnavailable",
    "SyncMeshkitClient",
    "Tokens",
    "TypingEvent",
    "Unauthenticated",
    "UpstreamError",
    "UserOut",
    "ValidationError",
    "error_from_problem",
]
