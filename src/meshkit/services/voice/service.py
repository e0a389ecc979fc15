"""The voice service (see the class docstring)."""

from collections.abc import AsyncIterator
from functools import partial
from typing import ClassVar

from aiohttp import web
from aiortc import RTCIceServer

from meshkit.affinity import Affinity
from meshkit.ratelimit import RateLimitSettings
from meshkit.service import Need
from meshkit.services.voice.api import VoiceApi
from meshkit.services.voice.api_recording import VoiceRecordingApi
from meshkit.services.voice.calls import Calls
from meshkit.services.voice.events import VoiceConsumers
from meshkit.services.voice.ice import ice_grant
from meshkit.services.voice.media.sfu import MediaSettings, Sfu
from meshkit.services.voice.models import SIGNALING_PATH, VoiceRoom
from meshkit.services.voice.rooms import Rooms, messaging_channel_check
from meshkit.services.voice.settings import VoiceSettings
from meshkit.services.voice.signaling import VoiceSignaling
from meshkit.services.voice.state import ROOM_SCOPE, VoiceState
from meshkit.sockets import ConnectionCaps
from meshkit.store import Document

CONNECTIONS_PREFIX = "meshkit:voice:connections:"


class VoiceService(VoiceApi, VoiceRecordingApi, VoiceConsumers):
    """WebRTC voice rooms: a REST control plane, Socket.IO signaling and an SFU that
    forwards Opus without re-encoding it. ``docs/voice.md`` says what exists."""

    name = "voice"
    default_port = 3003
    title = "meshkit voice"
    description = "WebRTC voice rooms, audio streaming and voice processing."
    needs: ClassVar[frozenset[Need]] = frozenset({"store", "redis"})
    documents: ClassVar[tuple[type[Document], ...]] = (VoiceRoom,)
    gateway_prefixes = (SIGNALING_PATH,)
    affinities = (
        # a room's media lives in one process: its signaling and media requests go there
        Affinity(ROOM_SCOPE, SIGNALING_PATH + "/*", "room"),
        Affinity(ROOM_SCOPE, "/v1/voice/rooms/{room_id}/listen", "room_id"),
        Affinity(ROOM_SCOPE, "/v1/voice/rooms/{room_id}/playback*", "room_id"),
        # voice processing: a recording is made where the room's mix is
        Affinity(ROOM_SCOPE, "/v1/voice/rooms/{room_id}/recordings*", "room_id"),
    )

    def setup_app(self, app: web.Application) -> None:
        """Serve signaling (Socket.IO) on ``/voice/socket.io`` next to the REST API."""
        settings = self.settings.section(VoiceSettings)
        self.instance = self.instance_id
        """This process's id in live state (which instance hosts which room)."""
        self.sfu = Sfu(
            MediaSettings(
                ice_servers=[
                    RTCIceServer(urls=s.urls, username=s.username, credential=s.credential)
                    for s in settings.ice_servers
                ],
                listen_ips=settings.listen_ips,
                announced_ip=settings.announced_ip,
                ports=(settings.rtc_port_min, settings.rtc_port_max)
                if settings.rtc_port_min
                else None,
                max_forwarded=settings.max_forwarded,
            ),
            on_speaking=self._on_speaking,
            on_stale=self._on_stale,
        )
        self.signaling = VoiceSignaling(self, self.sfu, self.instance)
        self.signaling.attach(app)
        # --- audio streaming (api_media.VoiceMediaApi): playback bots, the mix, listening ---
        self.setup_media(app)
        # --- end of audio streaming ---
        # --- voice processing (api_recording.VoiceRecordingApi): recordings, noise
        # suppression of the mix, the plugins' audio hook ---
        self.setup_processing(app)
        # --- end of voice processing ---

    async def _on_speaking(self, room_id: str, user_id: str, speaking: bool) -> None:
        await self.signaling.on_speaking(room_id, user_id, speaking)

    async def _on_stale(self, room_id: str, user_id: str, why: str) -> None:
        await self.signaling.on_stale(room_id, user_id, why)

    async def lifespan(self) -> AsyncIterator[None]:
        """Build the control plane on the injected store and Redis, then signaling."""
        settings = self.settings.section(VoiceSettings)
        self.voice_state = VoiceState(self.redis, settings.state_ttl)
        rooms = Rooms(self.store, messaging_channel_check(self.rpc))
        self.calls = Calls(
            rooms,
            self.voice_state,
            self.redis,
            partial(ice_grant, settings),
            events=self.events.publish,
        )
        await self.voice_state.start(on_lost=self.signaling.on_lost, sweep=self.calls.sweep)
        await self.signaling.start(
            self.calls,
            session_check_interval=settings.session_check_interval,
            caps=ConnectionCaps(
                self.redis,
                prefix=CONNECTIONS_PREFIX,
                per_user=settings.max_connections_per_user,
                per_address=settings.max_connections_per_ip,
                ttl=settings.state_ttl,
                fail_open=self.settings.section(RateLimitSettings).rate_limit_fail_open,
            ),
        )
        try:
            yield
        finally:
            await self.signaling.stop()
            await self.voice_state.stop()
