"""Audio streaming over REST: play a file into a room, listen to a room without WebRTC.

Paths (stable; clients and the SDK depend on them)::

    POST   /v1/voice/rooms/{room_id}/playback                  play a file (voice:room.play)
    GET    /v1/voice/rooms/{room_id}/playback                  what is playing there
    DELETE /v1/voice/rooms/{room_id}/playback/{playback_id}    stop it (voice:room.play)
    GET    /v1/voice/rooms/{room_id}/listen                    Ogg/Opus stream of the mix
                                                               (voice:room.join)

A playback is a bot participant, ``bot:<playback id>``, that joins the room through the
control plane like anyone (announced, counted against ``max_participants``, speaking
indicators from its audio levels) with the rights of whoever started it, and leaves at
the end of the file or when stopped. Both need the room's media on this instance: a
room another voice instance hosts is refused with 409 ``room-elsewhere``.
"""

from __future__ import annotations

import contextlib
import dataclasses
from datetime import datetime
from typing import Annotated, Any

from aiohttp import web
from pydantic import BaseModel, Field

from meshkit import Service, delete, get, post
from meshkit.errors import NotFound
from meshkit.http import RawBody, Upload
from meshkit.services.voice.calls import Calls
from meshkit.services.voice.errors import RoomElsewhere, UnsupportedAudio, UploadTooLarge
from meshkit.services.voice.media.mix import Mixer
from meshkit.services.voice.media.ogg import Listening
from meshkit.services.voice.media.player import Playback, Playbacks, Undecodable
from meshkit.services.voice.media.room import MediaRoom
from meshkit.services.voice.media.sfu import Sfu
from meshkit.services.voice.settings import VoiceSettings
from meshkit.store import new_id
from meshkit.tokens import Principal

TAGS = ("voice",)
PLAY = "voice:room.play"
LISTEN = "voice:room.listen"
"""Hearing a room without being in it: not the built-in ``user`` role's (a listener is
neither counted nor announced), grant it to whom may."""
BOT_PREFIX = "bot:"
AUDIO_TYPES = (
    "audio/ogg",
    "audio/opus",
    "audio/webm",
    "audio/wav",
    "audio/x-wav",
    "audio/wave",
    "audio/mpeg",
    "audio/mp3",
    "audio/flac",
    "audio/x-flac",
    "audio/aac",
    "audio/mp4",
    "application/octet-stream",
)
"""What ``POST …/playback`` accepts; the content decides (PyAV probes it): a file that
does not decode is 415 ``unsupported-audio`` whatever its declared type."""


def _upload_limit(service: Any) -> int:
    limit: int = service.settings.section(VoiceSettings).max_upload_bytes
    return limit


AudioUpload = Annotated[
    Upload,
    RawBody(
        AUDIO_TYPES,
        max_bytes=_upload_limit,
        too_large=UploadTooLarge,
        unsupported=UnsupportedAudio,
        description="The audio file (Ogg/Opus, WAV, MP3, FLAC, AAC, …) as the request body, "
        "with its `Content-Type`.",
    ),
]


class PlaybackOut(BaseModel):
    """A file playing into a room, as a bot participant."""

    id: str
    room_id: str
    user_id: str = Field(description="The bot's participant id (`bot:<id>`).")
    started_by: str = Field(description="The user who started it.")
    media_type: str
    size: int = Field(description="Bytes uploaded.")
    duration: float | None = Field(description="Seconds, when the file says (null: unknown).")
    position: float = Field(description="Seconds played so far.")
    started_at: datetime


def playback_out(playback: Playback) -> PlaybackOut:
    """The API shape of a playback."""
    return PlaybackOut(
        id=playback.id,
        room_id=playback.room_id,
        user_id=playback.user_id,
        started_by=playback.started_by,
        media_type=playback.media_type,
        size=playback.size,
        duration=playback.duration,
        position=round(playback.position, 2),
        started_at=playback.started_at,
    )


class VoiceMediaApi(Service):
    """Audio streaming routes of :class:`~meshkit.services.voice.service.VoiceService`
    (module docstring). The service provides :attr:`calls`, :attr:`sfu` and
    :attr:`instance`, and calls :meth:`setup_media` when it builds its app."""

    calls: Calls
    sfu: Sfu
    instance: str
    playbacks: Playbacks
    mixer: Mixer
    listening: Listening

    def setup_media(self, app: web.Application) -> None:
        """Build the players and the mix; stop them when the app shuts down (before it
        waits for open requests, so listen streams end instead of holding it up)."""
        self.playbacks = Playbacks(self._bot_leave, self._bot_present)
        self.mixer = Mixer(self.sfu.rooms.get)
        self.listening = Listening(self.mixer)

        async def stop(app: web.Application) -> None:
            self.mixer.close()
            await self.playbacks.close()

        app.on_shutdown.append(stop)

    # --- the bot, through the control plane ----------------------------------------------

    async def _bot_join(self, principal: Principal, playback: Playback) -> MediaRoom:
        bot = dataclasses.replace(principal, subject=playback.user_id)
        participant = await self.calls.enter(bot, playback.room_id, self.instance)
        room = self.sfu.room(playback.room_id)
        room.add_source(playback.user_id)
        if participant.server_muted:
            self.sfu.set_flags(playback.room_id, playback.user_id, sending=False)
        return room

    async def _bot_leave(self, playback: Playback) -> None:
        await self.sfu.leave(playback.room_id, playback.user_id)
        with contextlib.suppress(Exception):  # logged by the state layer; the TTL is the backstop
            await self.calls.leave(playback.room_id, playback.user_id)

    async def _bot_present(self, playback: Playback) -> bool:
        try:
            found = await self.calls.state.participant(playback.room_id, playback.user_id)
        except Exception:
            return True  # Redis away: keep playing; the heartbeat settles it later
        return found is not None

    async def _hosted_here(self, room_id: str) -> None:
        host = await self.calls.state.room_instance(room_id)
        if host is not None and host != self.instance:
            raise RoomElsewhere(
                "another voice instance hosts this room", extensions={"instance": host}
            )

    # --- routes --------------------------------------------------------------------------

    @post(
        "/v1/voice/rooms/{room_id}/playback",
        status=202,
        tags=TAGS,
        errors=(401, 404, 409),
        permission=PLAY,
    )
    async def start_playback(
        self, principal: Principal, room_id: str, audio: AudioUpload
    ) -> PlaybackOut:
        """Play an audio file into the room, as a bot participant (needs ``voice:room.play``).

        The file is the request body. It starts at once; the bot joins the room
        (``voice.participant.joined``, user id ``bot:<playback id>``), speaks, and leaves
        at the end or when stopped. 415 ``unsupported-audio`` when the file does not
        decode, 413 ``upload-too-large`` past the limit, 409 ``room-full`` or
        ``room-elsewhere``.
        """
        room = await self.calls.get_room(room_id)
        await self._hosted_here(room.id)
        playback_id = new_id()
        playback = Playback(
            id=playback_id,
            room_id=room.id,
            user_id=BOT_PREFIX + playback_id,
            started_by=principal.subject,
            media_type=audio.media_type,
            size=len(audio.data),
            duration=None,
        )
        try:
            await self.playbacks.start(
                playback,
                audio.data,
                room.bitrate,
                lambda: self._bot_join(principal, playback),
            )
        except Undecodable as exc:
            raise UnsupportedAudio(str(exc), extensions={"accepted": list(AUDIO_TYPES)}) from None
        return playback_out(playback)

    @get("/v1/voice/rooms/{room_id}/playback", tags=TAGS, errors=(401, 404))
    async def list_playbacks(self, principal: Principal, room_id: str) -> list[PlaybackOut]:
        """The files playing into the room now (on the instance hosting it), oldest first."""
        await self.calls.get_room(room_id)
        return [playback_out(p) for p in self.playbacks.in_room(room_id)]

    @delete(
        "/v1/voice/rooms/{room_id}/playback/{playback_id}",
        status=204,
        tags=TAGS,
        errors=(401, 404),
        permission=PLAY,
    )
    async def stop_playback(self, principal: Principal, room_id: str, playback_id: str) -> None:
        """Stop a playback: its bot leaves the room (needs ``voice:room.play``)."""
        running = {p.id for p in self.playbacks.in_room(room_id)}
        if playback_id not in running or not await self.playbacks.stop(playback_id):
            raise NotFound("no such playback in this room (it may have ended)")

    @get(
        "/v1/voice/rooms/{room_id}/listen",
        tags=TAGS,
        errors=(401, 404, 409),
        permission=LISTEN,
        produces="audio/ogg",
    )
    async def listen(
        self, principal: Principal, room_id: str, request: web.Request
    ) -> web.StreamResponse:
        """Listen to the room without WebRTC: its mix as a live Ogg/Opus stream.

        Needs ``voice:room.listen`` (the listener is not a participant: nobody in the
        room sees them, so joining rights are not enough). The response is chunked and
        ends only when the client closes it or the instance stops. Silence while nobody
        speaks; every source that is not muted is in the mix. 409 ``room-elsewhere`` when
        another voice instance hosts the room.
        """
        room = await self.calls.get_room(room_id)
        await self._hosted_here(room.id)
        response = web.StreamResponse(
            headers={
                "Content-Type": "audio/ogg",
                "Cache-Control": "no-store",
                "X-Content-Type-Options": "nosniff",
            }
        )
        response.enable_chunked_encoding()
        await response.prepare(request)
        with contextlib.suppress(ConnectionError):
            async with self.listening.stream(room.id, room.bitrate) as chunks:
                async for chunk in chunks:  # a chunk at least every few frames, silence too
                    await response.write(chunk)
                    if self.draining:  # stopping: end the stream, do not hold the drain
                        break
            await response.write_eof()
        return response
