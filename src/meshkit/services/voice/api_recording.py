"""Room recordings over REST (:mod:`meshkit.services.voice.recordings` is the core).

Paths (stable; clients and the SDK depend on them)::

    POST   /v1/voice/rooms/{room_id}/recordings                       start
    GET    /v1/voice/rooms/{room_id}/recordings                       list
    GET    /v1/voice/rooms/{room_id}/recordings/{recording_id}        one
    POST   /v1/voice/rooms/{room_id}/recordings/{recording_id}/stop   stop
    GET    /v1/voice/rooms/{room_id}/recordings/{recording_id}/audio  the file (audio/ogg)
    DELETE /v1/voice/rooms/{room_id}/recordings/{recording_id}        delete

Every route needs ``voice:room.record`` (recordings hold what people said: the right to
join a room is not the right to keep it). Starting and stopping need the room's media
on this instance (409 ``room-elsewhere`` otherwise); the others work on any instance
that shares the data directory.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web

from meshkit import delete, get, post
from meshkit.plugins import each_result
from meshkit.services.voice.api_media import VoiceMediaApi
from meshkit.services.voice.audio import AudioTaps
from meshkit.services.voice.media.denoise import denoiser_factory
from meshkit.services.voice.models import RecordingOut
from meshkit.services.voice.recordings import RecordingConfig, Recordings
from meshkit.services.voice.settings import VoiceSettings
from meshkit.tokens import Principal

log = logging.getLogger("meshkit.voice")

TAGS = ("voice",)
RECORD = "voice:room.record"
BASE = "/v1/voice/rooms/{room_id}/recordings"


class VoiceRecordingApi(VoiceMediaApi):
    """Recording routes of :class:`~meshkit.services.voice.service.VoiceService` (module
    docstring); the service builds :attr:`recordings` in its lifespan."""

    recordings: Recordings
    audio_taps: AudioTaps | None

    def setup_processing(self, app: web.Application) -> None:
        """Noise suppression on the mix, recordings and the plugins' audio hook (call
        after :meth:`setup_media`): recordings start with the app's resources; when it
        stops, running ones close their file and are left for the next start to finish
        (:mod:`meshkit.services.voice.recordings`), so shutdown is not held up."""
        settings = self.settings.section(VoiceSettings)
        self.mixer.denoiser = denoiser_factory(settings.noise_suppression, settings.noise_floor)
        config = RecordingConfig(
            directory=self.settings.data_dir / "voice" / "recordings",
            max_seconds=settings.recording_max_seconds,
            loudness=settings.recording_loudness,
            bitrate=settings.recording_bitrate,
            shutdown_timeout=self.settings.shutdown_timeout,
        )
        self.audio_taps = None

        async def processing(app: web.Application) -> AsyncIterator[None]:
            self.recordings = Recordings(
                self.store, self.redis, self.mixer, self.sfu.rooms.get, self.instance, config
            )
            self.recordings.recover_soon()
            if self.plugins.hook.meshkit_voice_audio.get_hookimpls():
                self.audio_taps = AudioTaps(self.sfu.rooms, self.mixer, self._ask_plugins)
                self.audio_taps.start()
            try:
                yield
            finally:
                if self.audio_taps is not None:
                    await self.audio_taps.close()
                await self.recordings.close()

        app.cleanup_ctx.append(processing)

    async def _ask_plugins(self, room_id: str) -> list[tuple[str, Any]]:
        """Every plugin's answer to ``meshkit_voice_audio`` for a room, in pluggy's order
        (None left out; a failing plugin is logged and left out)."""
        return await each_result(
            self.plugins.hook.meshkit_voice_audio, service=self, room_id=room_id
        )

    @post(BASE, status=201, tags=TAGS, errors=(401, 403, 404, 409), permission=RECORD)
    async def start_recording(self, principal: Principal, room_id: str) -> RecordingOut:
        """Start recording the room's mix (needs ``voice:room.record``).

        The recording runs until stopped, until ``MESHKIT_VOICE_RECORDING_MAX_SECONDS``,
        or until the room empties; then it is loudness-normalised and becomes ``ready``.
        409 ``room-empty`` when nobody is in the room, ``already-recording`` when it is
        being recorded, ``room-elsewhere`` when another voice instance hosts it.
        """
        room = await self.calls.get_room(room_id)
        await self._hosted_here(room.id)
        return RecordingOut.of(await self.recordings.start(room.id, principal.subject))

    @get(BASE, tags=TAGS, errors=(401, 403, 404), permission=RECORD)
    async def list_recordings(self, principal: Principal, room_id: str) -> list[RecordingOut]:
        """The room's recordings, oldest first (needs ``voice:room.record``)."""
        room = await self.calls.get_room(room_id)
        return [RecordingOut.of(r) for r in await self.recordings.list(room.id)]

    @get(BASE + "/{recording_id}", tags=TAGS, errors=(401, 403, 404), permission=RECORD)
    async def get_recording(
        self, principal: Principal, room_id: str, recording_id: str
    ) -> RecordingOut:
        """One recording (needs ``voice:room.record``)."""
        return RecordingOut.of(await self.recordings.get(room_id, recording_id))

    @post(
        BASE + "/{recording_id}/stop",
        tags=TAGS,
        errors=(401, 403, 404, 409),
        permission=RECORD,
    )
    async def stop_recording(
        self, principal: Principal, room_id: str, recording_id: str
    ) -> RecordingOut:
        """Stop a recording; answers once its file is finished (``ready`` or ``failed``).
        A recording that already ended is answered as it is."""
        return RecordingOut.of(await self.recordings.stop(room_id, recording_id))

    @get(
        BASE + "/{recording_id}/audio",
        tags=TAGS,
        errors=(401, 403, 404, 409),
        permission=RECORD,
        produces="audio/ogg",
    )
    async def download_recording(
        self, principal: Principal, room_id: str, recording_id: str
    ) -> web.StreamResponse:
        """The recording's file, Ogg/Opus (needs ``voice:room.record``); 409
        ``recording-not-ready`` while it is recording or being normalised, or failed."""
        recording, path = await self.recordings.ready_file(room_id, recording_id)
        return web.FileResponse(
            path,
            headers={
                "Content-Type": "audio/ogg",
                "Content-Disposition": f'attachment; filename="{recording.id}.ogg"',
                "Cache-Control": "no-store",
                "X-Content-Type-Options": "nosniff",
            },
        )

    @delete(
        BASE + "/{recording_id}", status=204, tags=TAGS, errors=(401, 403, 404), permission=RECORD
    )
    async def delete_recording(self, principal: Principal, room_id: str, recording_id: str) -> None:
        """Delete a recording, its file and its metadata (a running one is stopped first)."""
        await self.recordings.delete(room_id, recording_id)
