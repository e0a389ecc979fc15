"""Servicers of the real generated contracts, with knobs for fault-injection tests."""

from __future__ import annotations

import asyncio

from grpclib.const import Status
from grpclib.exceptions import GRPCError
from grpclib.server import Stream

from meshkit.errors import NotFound
from meshkit.proto.auth.v1 import auth_pb2
from meshkit.proto.auth.v1.auth_grpc import AuthServiceBase
from meshkit.proto.messaging.v1 import messaging_pb2
from meshkit.proto.messaging.v1.messaging_grpc import MessagingServiceBase

USERS = {
    "u1": auth_pb2.User(id="u1", username="ada", email="ada@example.test", roles=["admin"]),
    "u2": auth_pb2.User(id="u2", username="bob", email="bob@example.test", roles=["member"]),
}


class Auth(AuthServiceBase):
    """An auth servicer that can be told to fail, stall, or count what it saw."""

    def __init__(self, name: str = "auth") -> None:
        self.name = name
        self.calls = 0
        self.fail_next = 0
        self.fail_status = Status.UNAVAILABLE
        self.fail_message: str | None = None
        self.delay = 0.0
        self.hold: asyncio.Event | None = None  # when set: calls wait for it
        self.started = asyncio.Event()
        self.finished = 0
        self.metadata: list[dict[str, str]] = []

    async def _enter(self, stream: Stream) -> None:
        self.calls += 1
        self.metadata.append({k: v for k, v in stream.metadata.items() if isinstance(v, str)})
        self.started.set()
        if self.fail_next:
            self.fail_next -= 1
            raise GRPCError(self.fail_status, self.fail_message or f"{self.name} told to fail")
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.hold is not None:
            await self.hold.wait()

    async def ValidateToken(self, stream: Stream) -> None:
        request = await stream.recv_message()
        await self._enter(stream)
        valid = request.token == "good"
        await stream.send_message(
            auth_pb2.ValidateTokenResponse(
                valid=valid, user_id="u1" if valid else "", reason="" if valid else "malformed"
            )
        )
        self.finished += 1

    async def GetUser(self, stream: Stream) -> None:
        request = await stream.recv_message()
        await self._enter(stream)
        user = USERS.get(request.user_id)
        if user is None:
            raise NotFound(f"no user {request.user_id!r}")
        await stream.send_message(user)
        self.finished += 1

    async def BatchGetUsers(self, stream: Stream) -> None:
        request = await stream.recv_message()
        await self._enter(stream)
        found = [USERS[i] for i in request.user_ids if i in USERS]
        missing = [i for i in request.user_ids if i not in USERS]
        await stream.send_message(auth_pb2.BatchGetUsersResponse(users=found, missing_ids=missing))
        self.finished += 1

    async def CheckPermission(self, stream: Stream) -> None:
        request = await stream.recv_message()
        await self._enter(stream)
        user = USERS.get(request.user_id)
        allowed = user is not None and "admin" in user.roles
        await stream.send_message(auth_pb2.CheckPermissionResponse(allowed=allowed))
        self.finished += 1


class Messaging(MessagingServiceBase):
    """Posts 'messages' into a list; can fail *after* posting, like a lost reply."""

    def __init__(self) -> None:
        self.posted: list[str] = []
        self.fail_after_posting = False

    async def PostSystemMessage(self, stream: Stream) -> None:
        request = await stream.recv_message()
        self.posted.append(request.text)
        if self.fail_after_posting:
            raise GRPCError(Status.UNAVAILABLE, "reply lost")
        await stream.send_message(
            messaging_pb2.PostSystemMessageResponse(message_id=f"m{len(self.posted)}")
        )

    async def GetChannel(self, stream: Stream) -> None:
        """Knows no channel (the contract needs the method; these tests do not call it)."""
        request = await stream.recv_message()
        raise GRPCError(Status.NOT_FOUND, f"no channel {request.channel_id!r}")
