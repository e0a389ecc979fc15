"""The messaging service (see the class docstring)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence
from typing import Any, ClassVar

from aiohttp import web
from grpclib.const import Status
from grpclib.exceptions import GRPCError

from meshkit.contracts.messaging import MessagePosted
from meshkit.errors import NotFound
from meshkit.proto.auth.v1 import auth_pb2
from meshkit.proto.auth.v1.auth_grpc import AuthServiceStub
from meshkit.ratelimit import RateLimiter, RateLimitRules, RateLimitSettings
from meshkit.service import Need
from meshkit.services.messaging.api import MessagingApi
from meshkit.services.messaging.channels import Channels
from meshkit.services.messaging.consumers import MessagingConsumers
from meshkit.services.messaging.messages import Messages
from meshkit.services.messaging.models import (
    Channel,
    Membership,
    Message,
    MessageOut,
    ReactionMark,
    UserProfile,
)
from meshkit.services.messaging.notifications import (
    Notification,
    Notifications,
    NotificationsApi,
)
from meshkit.services.messaging.realtime import Realtime, user_room
from meshkit.services.messaging.rpc import MessagingRpc
from meshkit.services.messaging.settings import MessagingSettings
from meshkit.services.messaging.socket_limits import CONNECTIONS, EmitLimits
from meshkit.sockets import ConnectionCaps
from meshkit.store import Document

log = logging.getLogger("meshkit.messaging")


class MessagingService(NotificationsApi, MessagingApi, MessagingConsumers):
    """Chat: channels, membership, messages, history, and real time over Socket.IO.

    ``docs/messaging.md`` says what exists today.
    """

    name = "messaging"
    default_port = 3002
    title = "meshkit messaging"
    description = "Real-time chat over Socket.IO: channels, history, presence, notifications."
    needs: ClassVar[frozenset[Need]] = frozenset({"store", "redis"})
    documents: ClassVar[tuple[type[Document], ...]] = (
        Channel,
        Membership,
        Message,
        Notification,
        ReactionMark,
        UserProfile,
    )

    def servicers(self) -> Sequence[Any]:
        """``meshkit.messaging.v1.MessagingService`` (PostSystemMessage) on the gRPC port."""
        return [MessagingRpc(self)]

    async def user_exists(self, user_id: str) -> None:
        """NotFound unless the auth service knows ``user_id`` (an enabled account)."""
        auth = self.rpc.stub(AuthServiceStub, "auth")
        try:
            user = await auth.GetUser(auth_pb2.GetUserRequest(user_id=user_id))
        except GRPCError as exc:
            if exc.status is Status.NOT_FOUND:
                raise NotFound("no such user") from None
            raise
        if user.disabled:
            raise NotFound("no such user")

    gateway_prefixes = ("/socket.io",)

    def setup_app(self, app: web.Application) -> None:
        """Serve Socket.IO on ``/socket.io`` next to the REST API."""
        self.realtime = Realtime(self, cors_origins=[])
        self.realtime.attach(app)

    async def _push_notification(self, user_id: str, payload: dict[str, Any]) -> None:
        """Real-time delivery to every device of the recipient."""
        await self.realtime.sio.emit("notification", payload, room=user_room(user_id))

    async def announce(self, channel: Channel, message: MessageOut) -> None:
        """Tell the channel's connected members, and publish ``MessagePosted``.

        Notifications are recorded in the messaging consumer group on that event
        (:meth:`on_message_posted`): off the request path, retried until done. If the
        event cannot be published they are recorded here instead, best effort: the
        message is stored either way, and a failure must not answer its sender 500.
        """
        await self.realtime.broadcast_message("message.created", message)
        try:
            await self.events.publish(
                MessagePosted(
                    message_id=message.id,
                    channel_id=channel.id,
                    author_id=message.author_id,
                    mentions_channel=message.mentions_channel,
                    created_at=message.created_at,
                ),
                id=message.id,  # a retried announce is one event
                subject=f"channel/{channel.id}",
            )
            return
        except Exception:
            log.warning("could not publish MessagePosted %s", message.id, exc_info=True)
        try:
            await self.notify(channel, message)
        except Exception:
            log.exception("could not record the notifications of %s", message.id)

    async def notify(self, channel: Channel, message: MessageOut) -> None:
        """Record and deliver the notifications ``message`` causes (idempotent)."""
        audience = await self._audience(channel, message)
        if audience:
            await self.notifications.for_message(message, channel.kind, audience)

    async def _audience(self, channel: Channel, message: MessageOut) -> list[str]:
        """The members ``message`` may notify: all of them in a DM or for ``@channel``;
        otherwise only the mentioned ones (a lookup each: most messages mention nobody
        and cost no scan of a large channel's members)."""
        if channel.kind == "dm" or message.mentions_channel:
            return [m.user_id for m in await self.channels.members(channel.id)]
        found = [await self.channels.membership(channel.id, user) for user in message.mentions]
        return [member.user_id for member in found if member is not None]

    async def lifespan(self) -> AsyncIterator[None]:
        """Build the domain objects on the store the runtime injected; run real time."""
        self.channels = Channels(self.store, self.user_exists)
        self.messages = Messages(self.store, self.plugins, self)
        self.notifications = Notifications(
            self.store, self.plugins, self, push=self._push_notification
        )
        settings = self.settings.section(MessagingSettings)
        shared = self.settings.section(RateLimitSettings)  # the gateway's policies
        rules = RateLimitRules.from_settings(shared)
        limiter = None
        if rules.policies:
            limiter = RateLimiter(
                self.redis, fail_open=shared.rate_limit_fail_open, registry=self.metrics.registry
            )
        await self.realtime.start(
            presence_ttl=settings.presence_ttl,
            session_check_interval=settings.session_check_interval,
            limits=EmitLimits(limiter, rules),
            caps=ConnectionCaps(
                self.redis,
                prefix=CONNECTIONS,
                per_user=settings.max_connections_per_user,
                per_address=settings.max_connections_per_ip,
                ttl=settings.presence_ttl,
                fail_open=shared.rate_limit_fail_open,
            ),
        )
        try:
            yield
        finally:
            await self.realtime.stop()
