"""``meshkit.auth.v1.AuthService`` over gRPC, for services that prefer asking to verifying."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from google.protobuf.timestamp_pb2 import Timestamp
from grpclib.server import Stream

from meshkit.errors import BadRequest, NotFound
from meshkit.proto.auth.v1 import auth_pb2
from meshkit.proto.auth.v1.auth_grpc import AuthServiceBase
from meshkit.services.auth.models import User
from meshkit.services.auth.sessions import permissions_of, roles_of
from meshkit.tokens import Principal, TokenInvalid

if TYPE_CHECKING:
    from meshkit.services.auth.service import AuthService

MAX_BATCH = 500


def _timestamp(moment: datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(moment)
    return stamp


class AuthRpc(AuthServiceBase):
    """The servicer; errors are meshkit problems, mapped to statuses by the server."""

    def __init__(self, service: AuthService) -> None:
        self.service = service

    async def _user_message(self, user: User) -> auth_pb2.User:
        return auth_pb2.User(
            id=user.id,
            username=user.username,
            email=user.email,
            roles=await roles_of(self.service.store, user.id),
            disabled=user.disabled,
            created_at=_timestamp(user.created_at),
        )

    async def ValidateToken(
        self,
        stream: Stream[auth_pb2.ValidateTokenRequest, auth_pb2.ValidateTokenResponse],
    ) -> None:
        """An invalid token is an answer (``valid=false`` and why), not an error."""
        request = await stream.recv_message()
        assert request is not None
        try:
            principal: Principal = await self.service.tokens.verify(request.token)
        except TokenInvalid as exc:
            await stream.send_message(
                auth_pb2.ValidateTokenResponse(valid=False, reason=exc.detail)
            )
            return
        await stream.send_message(
            auth_pb2.ValidateTokenResponse(
                valid=True,
                user_id=principal.subject,
                roles=sorted(principal.roles),
                expires_at=_timestamp(principal.expires_at),
            )
        )

    async def GetUser(self, stream: Stream[auth_pb2.GetUserRequest, auth_pb2.User]) -> None:
        """One user; NOT_FOUND when unknown."""
        request = await stream.recv_message()
        assert request is not None
        user = await self.service.store.get(User, request.user_id) if request.user_id else None
        if user is None:
            raise NotFound(f"no user {request.user_id!r}")
        await stream.send_message(await self._user_message(user))

    async def BatchGetUsers(
        self,
        stream: Stream[auth_pb2.BatchGetUsersRequest, auth_pb2.BatchGetUsersResponse],
    ) -> None:
        """Users in the order asked; unknown ids in ``missing_ids``."""
        request = await stream.recv_message()
        assert request is not None
        ids = list(dict.fromkeys(request.user_ids))
        if len(ids) > MAX_BATCH:
            raise BadRequest(f"at most {MAX_BATCH} ids per call")
        page = await self.service.store.find(User, {"id": {"$in": ids}}, limit=max(1, len(ids)))
        found = {user.id: user for user in page.items}
        await stream.send_message(
            auth_pb2.BatchGetUsersResponse(
                users=[await self._user_message(found[i]) for i in ids if i in found],
                missing_ids=[i for i in ids if i not in found],
            )
        )

    async def CheckPermission(
        self,
        stream: Stream[auth_pb2.CheckPermissionRequest, auth_pb2.CheckPermissionResponse],
    ) -> None:
        """Whether the user's roles grant ``permission`` (wildcards apply)."""
        request = await stream.recv_message()
        assert request is not None
        user = await self.service.store.get(User, request.user_id) if request.user_id else None
        if user is None or user.disabled:
            await stream.send_message(
                auth_pb2.CheckPermissionResponse(allowed=False, reason="unknown or disabled user")
            )
            return
        roles = await roles_of(self.service.store, user.id)
        granted = await permissions_of(self.service.store, roles)
        principal = Principal(
            subject=user.id,
            roles=frozenset(roles),
            permissions=frozenset(granted),
            token_id="",
            session_id=None,
            expires_at=user.created_at,
            claims={},
        )
        allowed = principal.has_permission(request.permission)
        await stream.send_message(
            auth_pb2.CheckPermissionResponse(
                allowed=allowed, reason="" if allowed else f"no role grants {request.permission}"
            )
        )
