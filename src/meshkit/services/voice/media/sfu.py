"""The media plane of one voice instance: the rooms it hosts and their peers.

Signaling calls in here; nothing here knows about Socket.IO, REST or Redis. The control
plane (:mod:`meshkit.services.voice.calls`) decides who may join and keeps the shared
state; this part moves the packets.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from aiortc import RTCIceServer

from meshkit.services.voice.errors import NotInRoom
from meshkit.services.voice.media.peer import Peer, Signal
from meshkit.services.voice.media.room import MediaRoom

log = logging.getLogger("meshkit.voice.media")
OnSpeaking = Callable[[str, str, bool], Awaitable[None]]
OnStale = Callable[[str, str, str], Awaitable[None]]


@dataclass(frozen=True)
class MediaSettings:
    """How peers are set up on this instance."""

    ice_servers: Sequence[RTCIceServer] = ()
    listen_ips: Sequence[str] = ()
    announced_ip: str | None = None
    ports: tuple[int, int] | None = None
    """UDP port range (lowest, highest) for media; None: any free port."""
    max_forwarded: int = 8
    """Speakers a subscriber is sent at once (the loudest), however large the room."""


@dataclass
class Sfu:
    """Rooms hosted by this instance (created on first join, dropped when empty)."""

    settings: MediaSettings
    on_speaking: OnSpeaking
    """``(room_id, user_id, speaking)``: a publisher started or stopped speaking."""
    on_stale: OnStale
    """``(room_id, user_id, reason)``: a peer failed or stopped answering; the caller
    should make it leave."""
    rooms: dict[str, MediaRoom] = field(default_factory=dict)

    async def join(
        self, room_id: str, user_id: str, signal: Signal, *, bitrate: int | None = None
    ) -> dict[str, Any]:
        """Connect ``user_id`` to ``room_id``'s media; the server's first offer (asking
        for ``bitrate`` bits/s of Opus). A user already there (another tab) is replaced:
        one peer per user and room."""
        await self.room(room_id).remove(user_id)
        room = self.room(room_id)  # again: a leave during that await may have closed it
        peer = Peer(
            user_id,
            ice_servers=self.settings.ice_servers,
            listen_ips=self.settings.listen_ips,
            announced_ip=self.settings.announced_ip,
            ports=self.settings.ports,
            bitrate=bitrate,
            on_packet=room.on_packet,
            signal=signal,
        )
        room.add(peer)
        try:
            return await peer.first_offer()
        except BaseException:
            await self.leave(room_id, user_id)
            raise

    def room(self, room_id: str) -> MediaRoom:
        """The media of ``room_id`` here, created empty if it has none yet (dropped
        again when the last participant or bot leaves through :meth:`leave`)."""
        room = self.rooms.get(room_id)
        if room is None:
            room = self.rooms[room_id] = MediaRoom(
                room_id,
                max_forwarded=self.settings.max_forwarded,
                on_speaking=lambda user, on: self.on_speaking(room_id, user, on),
                on_stale=lambda user, why: self.on_stale(room_id, user, why),
            )
        return room

    def peer(self, room_id: str, user_id: str) -> Peer:
        """The peer of ``user_id`` in ``room_id``; :class:`NotInRoom` if there is none."""
        room = self.rooms.get(room_id)
        peer = room.peers.get(user_id) if room is not None else None
        if peer is None:
            raise NotInRoom("not connected to this room's media; join first")
        return peer

    async def leave(self, room_id: str, user_id: str) -> bool:
        """Disconnect ``user_id``'s media (True if it was connected)."""
        room = self.rooms.get(room_id)
        if room is None:
            return False
        had = user_id in room.peers or user_id in room.sources
        await room.remove(user_id)
        if room.empty:
            self.rooms.pop(room_id, None)
            await room.close()
        return had

    def set_flags(
        self,
        room_id: str,
        user_id: str,
        *,
        sending: bool | None = None,
        receiving: bool | None = None,
    ) -> None:
        """Mute/unmute (``sending``) and deafen/undeafen (``receiving``) a participant."""
        room = self.rooms.get(room_id)
        if room is None:
            return
        if sending is not None:
            room.set_sending(user_id, sending)
        if receiving is not None:
            room.set_receiving(user_id, receiving)

    async def close_room(self, room_id: str) -> list[str]:
        """Disconnect everyone in ``room_id``; whom."""
        room = self.rooms.pop(room_id, None)
        if room is None:
            return []
        users = list(room.peers)
        await room.close()
        return users

    async def close(self) -> None:
        """Disconnect everyone (the instance stops)."""
        for room_id in list(self.rooms):
            await self.close_room(room_id)

    def stats(self) -> dict[str, int]:
        """Counters for metrics: rooms, peers, forwarded streams, packets in and out."""
        rooms = list(self.rooms.values())
        return {
            "rooms": len(rooms),
            "peers": sum(len(r.peers) for r in rooms),
            "streams": sum(
                sum(1 for o in p.by_source.values() if o.open)
                for r in rooms
                for p in r.peers.values()
            ),
            "packets_in": sum(r.packets_in for r in rooms),
            "packets_out": sum(r.packets_out for r in rooms),
        }
