"""SyncMeshkitClient: the REST side of MeshkitClient for code without an event loop.

Scripts, notebooks and WSGI apps call the gateway without writing ``async``: each call
runs on a private event loop in a background thread, and the calling thread waits for
it. Sessions, token refresh (one refresh for concurrent callers, across threads) and
typed errors are those of :class:`~meshkit_sdk.MeshkitClient`, which it wraps. Real
time needs an event loop to deliver events: use the async client for it.

    with SyncMeshkitClient("http://127.0.0.1:3000") as client:
        client.login("ada", "correct horse battery staple")
        channel = client.create_channel("general")
        client.send(channel.id, "hello")
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Awaitable, Callable, Coroutine
from types import TracebackType
from typing import Any, Concatenate, ParamSpec, Self, TypeVar

from .client import ApiFunction, MeshkitClient, Tokens

P = ParamSpec("P")
R = TypeVar("R")


def _blocking(
    method: Callable[Concatenate[MeshkitClient, P], Awaitable[R]],
) -> Callable[Concatenate[SyncMeshkitClient, P], R]:
    """``method`` of the async client, run on the loop thread and waited for."""

    def call(self: SyncMeshkitClient, /, *args: P.args, **kwargs: P.kwargs) -> R:
        async def run() -> R:
            return await method(self.client, *args, **kwargs)

        return self._wait(run())

    call.__name__ = method.__name__
    call.__doc__ = method.__doc__
    return call


class SyncMeshkitClient:
    """A blocking :class:`~meshkit_sdk.MeshkitClient` (REST only); takes the same
    arguments. Safe to share between threads. ``on_tokens`` runs on the client's own
    thread. Close it (or use ``with``) to stop that thread. ``client`` is the async
    client underneath, for what only it offers."""

    def __init__(self, base_url: str = "http://127.0.0.1:3000", **options: Any) -> None:
        self._lock = threading.Lock()
        self._closed = False
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="meshkit-sdk", daemon=True
        )
        self._thread.start()

        async def make() -> MeshkitClient:  # the client's locks belong to this loop
            return MeshkitClient(base_url, **options)

        try:
            self.client = self._wait(make())
        except BaseException:
            self._stop_loop()
            raise

    def _wait(self, work: Coroutine[Any, Any, R]) -> R:
        """Run ``work`` on the client's loop and wait for it. Interrupting the wait
        (Ctrl+C) cancels the call; closing the client meanwhile ends it with an error."""
        if threading.current_thread() is self._thread:
            work.close()
            raise RuntimeError("a SyncMeshkitClient cannot be called from its own callbacks")
        with self._lock:  # close() cannot slip in between the check and the submit
            if self._closed:
                work.close()
                raise RuntimeError("the client is closed")
            future = asyncio.run_coroutine_threadsafe(work, self._loop)
        try:
            return future.result()
        except concurrent.futures.CancelledError:
            raise RuntimeError("the client was closed during the call") from None
        except BaseException:
            future.cancel()
            raise

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the HTTP connections and stop the thread (the session stays valid).

        Calls still running in other threads end with ``RuntimeError``; later ones
        raise it at once. Closing twice, or from two threads, is harmless.
        """
        with self._lock:
            if self._closed:
                return
            self._closed = True

        async def shutdown() -> None:
            others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in others:  # the calls in flight first: their callers get the error
                task.cancel()
            await asyncio.gather(*others, return_exceptions=True)
            await self.client.aclose()

        try:
            asyncio.run_coroutine_threadsafe(shutdown(), self._loop).result()
        finally:
            self._stop_loop()

    def _stop_loop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
        self._loop.close()

    @property
    def tokens(self) -> Tokens | None:
        """The current token pair, or ``None`` when logged out."""
        return self.client.tokens

    @property
    def access_token(self) -> str | None:
        return self.client.access_token

    def call(self, fn: ApiFunction[R], /, *args: Any, **kwargs: Any) -> R:
        """:meth:`MeshkitClient.call`: any generated ``asyncio_detailed`` function."""
        return self._wait(self.client.call(fn, *args, **kwargs))

    register = _blocking(MeshkitClient.register)
    login = _blocking(MeshkitClient.login)
    logout = _blocking(MeshkitClient.logout)
    refresh = _blocking(MeshkitClient.refresh)
    me = _blocking(MeshkitClient.me)
    create_channel = _blocking(MeshkitClient.create_channel)
    channels = _blocking(MeshkitClient.channels)
    join = _blocking(MeshkitClient.join)
    leave = _blocking(MeshkitClient.leave)
    send = _blocking(MeshkitClient.send)
    history = _blocking(MeshkitClient.history)
    notifications = _blocking(MeshkitClient.notifications)
