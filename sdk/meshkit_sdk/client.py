"""MeshkitClient: sessions, automatic token refresh and typed errors over the generated API.

Every REST call goes through :meth:`MeshkitClient.call`, which takes a generated
``asyncio_detailed`` function (``meshkit_api_client.api.<service>.<operation>``) and
returns its parsed success model, or raises a :class:`~meshkit_sdk.errors.MeshkitError`.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable, Generator, Iterable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, Self, TypeVar, cast

import httpx
from meshkit_api_client import AuthenticatedClient
from meshkit_api_client.api.auth import (
    auth_login,
    auth_logout,
    auth_me,
    auth_refresh,
    auth_register,
)
from meshkit_api_client.api.messaging import (
    messaging_add_member,
    messaging_create_channel,
    messaging_list_channels,
    messaging_list_messages,
    messaging_list_notifications,
    messaging_post_message,
    messaging_remove_member,
)
from meshkit_api_client.models import (
    ChannelIn,
    ChannelInKind,
    ChannelOut,
    LoginIn,
    MessageIn,
    MessageOut,
    NotificationList,
    Problem,
    RefreshIn,
    RegisterIn,
    TokenOut,
    UserOut,
)
from meshkit_api_client.types import UNSET, Response

from .errors import INVALID_TOKEN, PROBLEM_PREFIX, Unauthenticated, error_from_response

if TYPE_CHECKING:
    from .realtime import Realtime
    from .voice import VoiceCall

R = TypeVar("R")

#: The generated ``asyncio_detailed`` functions: they answer ``Response[<model> | Problem]``.
ApiFunction = Callable[..., Awaitable[Response[R | Problem]]]

#: The access token of the call in flight in this task (``None``: an anonymous call).
_BEARER: ContextVar[str | None] = ContextVar("meshkit_sdk_bearer", default=None)


@dataclass(frozen=True, slots=True)
class Tokens:
    """What a login or a refresh answered."""

    access_token: str
    refresh_token: str
    expires_in: int
    session_id: str


class _Bearer(httpx.Auth):
    """Sets ``Authorization`` from the calling task's token, read when the request is sent."""

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        token = _BEARER.get()
        if token is not None:
            request.headers["Authorization"] = f"Bearer {token}"
        yield request


async def _raise_for_problem(response: httpx.Response) -> None:
    """Turn every non-2xx answer into a typed error before the generated parser sees it."""
    if 200 <= response.status_code < 300:
        return
    await response.aread()
    raise error_from_response(response.status_code, response.content, response.headers)


def _not_logged_in(detail: str) -> Unauthenticated:
    return Unauthenticated(
        {
            "type": PROBLEM_PREFIX + "token-missing",
            "title": "Not logged in",
            "status": 401,
            "detail": detail,
        }
    )


class MeshkitClient:
    """An async client of a meshkit gateway: REST through the generated API, real time
    through :attr:`realtime`.

    ``refresh_margin`` seconds before the access token expires (at most half its lifetime),
    the next call refreshes it first; a call answered ``401 invalid-token`` (the token was
    revoked, or the clocks disagree) refreshes and is retried once. Concurrent callers share
    one refresh. ``clock`` (monotonic seconds) and ``on_tokens`` (called with every new
    pair, e.g. to persist the refresh token) are for applications and tests.
    """

    def __init__(
        self,
        base_url: str = "http://127.0.0.1:3000",
        *,
        timeout: float = 10.0,
        refresh_margin: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
        on_tokens: Callable[[Tokens], None] | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.refresh_margin = refresh_margin
        self.clock = clock
        self.on_tokens = on_tokens
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            timeout=timeout,
            auth=_Bearer(),
            event_hooks={"response": [_raise_for_problem]},
        )
        # The generated functions take a ``client``; this one only lends them ``_http``.
        self._api = AuthenticatedClient(base_url=self.base_url, token="").set_async_httpx_client(
            self._http
        )
        self._tokens: Tokens | None = None
        self._refresh_at = 0.0
        self._lock = asyncio.Lock()
        self._realtime: Realtime | None = None

    # --- lifecycle -------------------------------------------------------------------

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Disconnect real time and close the HTTP connections (the session stays valid)."""
        if self._realtime is not None:
            await self._realtime.disconnect()
        await self._http.aclose()

    @property
    def realtime(self) -> Realtime:
        """The Socket.IO connection of this client (created on first use, not connected)."""
        if self._realtime is None:
            from .realtime import Realtime

            self._realtime = Realtime(self)
        return self._realtime

    def voice(
        self,
        room_id: str,
        *,
        listen_ips: Sequence[str] = (),
        connect_timeout: float = 15.0,
    ) -> VoiceCall:
        """A call in a voice room, joined by ``async with`` (needs the ``voice`` extra:
        ``pip install './sdk[voice]'``). ``listen_ips`` restricts the ICE host candidates
        to those addresses (``["127.0.0.1"]`` for a server on the same machine)."""
        try:
            from .voice import VoiceCall
        except ImportError as exc:  # pragma: no cover - depends on the installation
            raise ImportError(
                f"the voice client needs aiortc: pip install 'meshkit-sdk[voice]' ({exc})"
            ) from exc
        return VoiceCall(self, room_id, listen_ips=listen_ips, connect_timeout=connect_timeout)

    # --- session ---------------------------------------------------------------------

    @property
    def tokens(self) -> Tokens | None:
        """The current token pair, or ``None`` when logged out."""
        return self._tokens

    @property
    def access_token(self) -> str | None:
        return self._tokens.access_token if self._tokens else None

    async def register(
        self, *, email: str, username: str, password: str, display_name: str | None = None
    ) -> UserOut:
        """Create an account (it does not log in)."""
        body = RegisterIn(email=email, username=username, password=password)
        if display_name is not None:
            body.display_name = display_name
        return await self._send(auth_register.asyncio_detailed, None, (), {"body": body})

    async def login(self, login: str, password: str) -> None:
        """Log in with an email or a username; the client holds the tokens from now on."""
        out = await self._send(
            auth_login.asyncio_detailed, None, (), {"body": LoginIn(login=login, password=password)}
        )
        self._store(out)

    async def logout(self) -> None:
        """End the session on the server (all its access tokens stop working) and forget it."""
        try:
            if self._tokens is not None:
                await self.call(auth_logout.asyncio_detailed)
        finally:
            self._tokens = None
            if self._realtime is not None:
                await self._realtime.disconnect()

    async def refresh(self) -> None:
        """Exchange the refresh token for a new pair now."""
        await self._refresh(stale=self.access_token)

    async def fresh_token(self) -> str:
        """A usable access token: refreshed first when it is about to expire."""
        tokens = self._tokens
        if tokens is None:
            raise _not_logged_in("log in first")
        if self.clock() >= self._refresh_at:
            return await self._refresh(stale=tokens.access_token)
        return tokens.access_token

    # --- calls -----------------------------------------------------------------------

    async def call(self, fn: ApiFunction[R], /, *args: Any, **kwargs: Any) -> R:
        """Call a generated ``asyncio_detailed`` function with this client's session.

        ``args`` and ``kwargs`` are the function's own (path parameters, ``body``, query
        parameters); ``client`` is supplied. Answers the parsed success model; raises a
        typed :class:`~meshkit_sdk.errors.MeshkitError` for any non-2xx answer.
        """
        token = await self.fresh_token() if self._tokens is not None else None
        try:
            return await self._send(fn, token, args, kwargs)
        except Unauthenticated as exc:
            if token is None or exc.type != INVALID_TOKEN:
                raise
        token = await self._refresh(stale=token)
        return await self._send(fn, token, args, kwargs)

    async def _send(
        self,
        fn: ApiFunction[R],
        token: str | None,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
    ) -> R:
        bearer = _BEARER.set(token)
        try:
            response = await fn(*args, client=self._api, **kwargs)
        finally:
            _BEARER.reset(bearer)
        parsed = response.parsed
        if isinstance(parsed, Problem):  # a 2xx the document calls a problem: never expected
            raise error_from_response(int(response.status_code), response.content, response.headers)
        return cast(R, parsed)

    async def _refresh(self, *, stale: str | None) -> str:
        """Refresh once for every caller that saw ``stale`` (single flight)."""
        async with self._lock:
            current = self._tokens
            if current is not None and current.access_token != stale:
                return current.access_token  # another caller refreshed meanwhile
            if current is None:
                raise _not_logged_in("the session ended; log in again")
            body = RefreshIn(refresh_token=current.refresh_token)
            try:
                out = await self._send(auth_refresh.asyncio_detailed, None, (), {"body": body})
            except Unauthenticated:
                self._tokens = None  # the refresh token is spent, expired or revoked
                raise
            return self._store(out).access_token

    def _store(self, out: TokenOut) -> Tokens:
        tokens = Tokens(out.access_token, out.refresh_token, out.expires_in, out.session_id)
        lifetime = float(out.expires_in)
        self._refresh_at = self.clock() + max(lifetime - self.refresh_margin, lifetime / 2)
        self._tokens = tokens
        if self.on_tokens is not None:
            self.on_tokens(tokens)
        return tokens

    # --- common flows ----------------------------------------------------------------

    async def me(self) -> UserOut:
        return await self.call(auth_me.asyncio_detailed)

    async def create_channel(
        self,
        name: str | None,
        *,
        kind: Literal["public", "private", "dm"] = "public",
        topic: str = "",
        members: Iterable[str] = (),
    ) -> ChannelOut:
        """Create a public or private channel, or open a DM with ``members``."""
        body = ChannelIn(kind=ChannelInKind(kind), name=name, topic=topic)
        listed = list(members)
        if listed:
            body.members = listed
        return await self.call(messaging_create_channel.asyncio_detailed, body=body)

    async def channels(self) -> list[ChannelOut]:
        """The caller's channels, with ``role``, ``member_count`` and ``unread``."""
        return await self.call(messaging_list_channels.asyncio_detailed)

    async def join(self, channel_id: str) -> None:
        await self.call(messaging_add_member.asyncio_detailed, channel_id, "me")

    async def leave(self, channel_id: str) -> None:
        await self.call(messaging_remove_member.asyncio_detailed, channel_id, "me")

    async def send(
        self,
        channel_id: str,
        content: str,
        *,
        nonce: str | None = None,
        reply_to: str | None = None,
    ) -> MessageOut:
        """Post a message. The nonce (a fresh UUID unless given) makes retries idempotent:
        pass the same one again after a lost answer and get the same message back."""
        body = MessageIn(content=content, nonce=nonce or uuid.uuid4().hex)
        if reply_to is not None:
            body.reply_to = reply_to
        return await self.call(messaging_post_message.asyncio_detailed, channel_id, body=body)

    async def history(
        self,
        channel_id: str,
        *,
        before: str | None = None,
        after: str | None = None,
        around: str | None = None,
        limit: int = 50,
    ) -> list[MessageOut]:
        """A page of history, oldest first (at most one of ``before``/``after``/``around``)."""
        return await self.call(
            messaging_list_messages.asyncio_detailed,
            channel_id,
            before=UNSET if before is None else before,
            after=UNSET if after is None else after,
            around=UNSET if around is None else around,
            limit=limit,
        )

    async def notifications(
        self, *, unread_only: bool = False, limit: int = 50, cursor: str | None = None
    ) -> NotificationList:
        """The caller's notifications, newest first, with the unread badge."""
        return await self.call(
            messaging_list_notifications.asyncio_detailed,
            unread_only=unread_only,
            limit=limit,
            cursor=UNSET if cursor is None else cursor,
        )
