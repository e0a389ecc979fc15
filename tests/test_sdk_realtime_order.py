"""The SDK's delivery order across reconnects, event by event.

The end-to-end tests (test_sdk_client.py) run real reconnects, but cannot choose how a
server push, a connection confirmation and a second reconnect interleave. Here the
dispatcher gets those events in a chosen order; ``resume`` is answered from a list of
stored messages, the way the messaging service answers it.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent.parent / "sdk"))  # until conftest has it

from meshkit_sdk import MeshkitClient, MessageOut, Realtime
from meshkit_sdk.realtime import _CONNECTED, ulid_floor


def stored(number: int, at: float | None = None) -> dict[str, Any]:
    """Message ``number`` as the server sends it (ids sort by number; ``at``: made at
    that Unix time, for the ids that must sort by time)."""
    prefix = "01M000000000000000000000" if at is None else ulid_floor(at)[:10] + "0" * 14
    return {
        "id": f"{prefix}{number:02d}",
        "channel_id": "01M0000000000000000000CHAN",
        "author_id": "01M0000000000000000000USER",
        "content": f"message {number}",
        "created_at": "2026-12-01T00:00:00+00:00",
        "edited_at": None,
        "deleted": False,
        "mentions": [],
        "mentions_channel": False,
        "attachments": [],
        "reactions": {},
        "reply_to": None,
        "system": False,
    }


class Server:
    """What the messaging service has stored; answers ``resume`` like it does."""

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []
        self.resumes: list[str] = []
        self.meanwhile: list[Callable[[], None]] = []  # runs while an ack travels back

    async def emit(self, event: str, payload: Any) -> dict[str, Any]:
        assert event == "resume"
        self.resumes.append(payload["last_seen_id"])
        missed = [m for m in self.messages if m["id"] > payload["last_seen_id"]]
        if self.meanwhile:
            self.meanwhile.pop(0)()
        await asyncio.sleep(0)  # the answer travels back
        return {"ok": True, "messages": missed, "more": False}


async def started(server: Server) -> tuple[Realtime, list[str]]:
    client = MeshkitClient("http://127.0.0.1:9")  # never contacted: the server is above
    realtime = Realtime(client)
    realtime.emit = server.emit  # type: ignore[method-assign]
    received: list[str] = []

    @realtime.on_message
    def keep(message: MessageOut) -> None:
        received.append(message.content)

    realtime._dispatcher = asyncio.create_task(realtime._dispatch())
    return realtime, received


def connection_attempt(realtime: Realtime) -> int:
    """What ``_auth`` does when a connection attempt starts (no token needed here)."""
    realtime._attempt += 1
    realtime._resuming = True
    return realtime._attempt


async def settle(realtime: Realtime) -> None:
    """Let the dispatcher work through what was queued."""
    await asyncio.sleep(0.2)
    assert realtime._queue.empty()


async def test_a_push_before_the_connection_is_confirmed_waits_for_the_resume() -> None:
    server = Server()
    realtime, received = await started(server)
    try:
        realtime._last_id = stored(1)["id"]  # delivered on an earlier connection
        server.messages = [stored(2), stored(3)]  # 2 posted while disconnected
        attempt = connection_attempt(realtime)
        realtime._queue.put_nowait(("message.created", stored(3)))  # pushed before connect
        realtime._queue.put_nowait((_CONNECTED, attempt))
        await settle(realtime)
        assert received == ["message 2", "message 3"]  # in order, no gap, no duplicate
        assert server.resumes == [stored(1)["id"]]
    finally:
        await realtime.disconnect()


async def test_an_older_connections_resume_does_not_release_a_newer_ones_messages() -> None:
    server = Server()
    realtime, received = await started(server)
    try:
        realtime._last_id = stored(1)["id"]
        first = connection_attempt(realtime)
        realtime._queue.put_nowait((_CONNECTED, first))

        def drop_and_reconnect() -> None:
            # while the first connection's resume answer (nothing missed) travels back,
            # that connection drops, message 2 is posted, a second connection starts
            # and the server pushes message 3 on it before confirming it
            server.messages = [stored(2), stored(3)]
            second = connection_attempt(realtime)
            realtime._queue.put_nowait(("message.created", stored(3)))
            realtime._queue.put_nowait((_CONNECTED, second))

        server.meanwhile.append(drop_and_reconnect)
        await settle(realtime)
        assert received == ["message 2", "message 3"]
        assert server.resumes == [stored(1)["id"], stored(1)["id"]]
    finally:
        await realtime.disconnect()


async def test_a_failed_resume_keeps_holding_and_is_retried_while_connected() -> None:
    server = Server()
    realtime, received = await started(server)
    failures = [True]
    answer = server.emit

    async def flaky(event: str, payload: Any) -> dict[str, Any]:
        if failures:
            failures.pop()
            raise TimeoutError("no ack")
        return await answer(event, payload)

    realtime.emit = flaky  # type: ignore[method-assign]
    realtime._sio.connected = True  # as far as the retry can tell
    try:
        realtime._last_id = stored(1)["id"]
        server.messages = [stored(2), stored(3)]
        attempt = connection_attempt(realtime)
        realtime._queue.put_nowait(("message.created", stored(3)))
        realtime._queue.put_nowait((_CONNECTED, attempt))
        await settle(realtime)
        assert received == []  # 3 is held: delivering it first would hide the gap
        await asyncio.sleep(1.1)  # the first retry comes after a second
        await settle(realtime)
        assert received == ["message 2", "message 3"]
    finally:
        realtime._sio.connected = False
        await realtime.disconnect()


async def test_a_join_catches_up_with_what_was_posted_before_the_room_move() -> None:
    server = Server()
    realtime, received = await started(server)
    try:
        now = time.time()
        before_join = stored(4, now - 0.5)  # in the new channel; never pushed to us
        live = stored(5, now - 0.2)  # another channel, delivered live just before
        realtime._last_id = ulid_floor(now - 60)
        realtime._queue.put_nowait(("message.created", live))
        server.messages = [before_join, live]
        realtime._queue.put_nowait(("channel.joined", channel_out()))
        await settle(realtime)
        assert received == ["message 5", "message 4"]  # caught up; 5 not twice
        assert server.resumes[0] <= ulid_floor(now - realtime.clock_margin + 0.1)
    finally:
        await realtime.disconnect()


def channel_out() -> dict[str, Any]:
    """A ``channel.joined`` payload."""
    return {
        "id": "01M0000000000000000000CHAN",
        "kind": "public",
        "name": "new",
        "topic": "",
        "created_by": "01M0000000000000000000USER",
        "created_at": "2026-12-01T00:00:00+00:00",
        "archived": False,
        "member_count": 2,
        "role": "member",
        "unread": 0,
    }
