"""Room recordings: one core for start, stop, list, download and delete.

A recording consumes the room's mix (:mod:`meshkit.services.voice.media.mix`) on the
instance hosting the room, so it starts there; its metadata is a
:class:`~meshkit.services.voice.models.Recording` document (any instance lists it) and
its file lives under ``<data dir>/voice/recordings/`` (``0700``; files ``0600``).

Life of one: ``recording`` (``<id>.ogg.part`` grows, fsync-ed every few seconds) until
it is stopped, reaches ``MESHKIT_VOICE_RECORDING_MAX_SECONDS``, its room empties, or the
instance stops; then ``processing`` (normalised into ``<id>.ogg``, renamed when
complete); then ``ready``, or ``failed`` with the reason. While it runs, a Redis key
with a short TTL says its instance is alive; at start every instance looks for
recordings left ``recording``/``processing`` whose key is gone (a crashed instance),
salvages the part up to its last whole page and finishes it (``stop_reason``
``recovered``), or marks it ``failed`` when nothing usable is left.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from redis.asyncio import Redis

from meshkit.errors import NotFound
from meshkit.files import private_dir
from meshkit.services.voice.errors import AlreadyRecording, RecordingNotReady, RoomEmpty
from meshkit.services.voice.media.mix import RATE, Mixer
from meshkit.services.voice.media.recorder import PartWriter, normalise, salvage
from meshkit.services.voice.media.room import MediaRoom
from meshkit.services.voice.models import Recording
from meshkit.store import Sort, Store
from meshkit.store.errors import DocumentNotFound

log = logging.getLogger("meshkit.voice.recording")

ALIVE = "meshkit:voice:recording:{}"
RECOVERING = "meshkit:voice:recording:{}:recovering"
ALIVE_TTL = 30
"""Seconds a recording's liveness key lives; refreshed every :data:`CHECKPOINT`."""
CHECKPOINT = 250
"""Frames (5 s) between fsyncs, liveness refreshes and duration updates."""
EMPTY_CHECK = 25
"""Frames (0.5 s) between looks at whether the room emptied."""
NO_RECORDING = "no such recording in this room"


@dataclass(frozen=True)
class RecordingConfig:
    """What a recording is made with (from ``VoiceSettings``)."""

    directory: Path
    max_seconds: int
    loudness: float
    bitrate: int


@dataclass
class _Running:
    recording: Recording
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    asked: str = "stopped"
    """Why :attr:`stop` was set."""
    reason: str = "stopped"
    task: asyncio.Task[None] | None = None


class Recordings:
    """Recordings of the rooms this instance hosts, and the stored ones of every room."""

    def __init__(
        self,
        store: Store,
        redis: Redis,
        mixer: Mixer,
        locate: Callable[[str], MediaRoom | None],
        instance: str,
        config: RecordingConfig,
    ) -> None:
        self.store = store
        self.redis = redis
        self.mixer = mixer
        self._locate = locate
        self.instance = instance
        self.config = config
        self.running: dict[str, _Running] = {}
        self._background: set[asyncio.Task[Any]] = set()

    def path(self, recording_id: str) -> Path:
        """The finished file of a recording."""
        return self.config.directory / f"{recording_id}.ogg"

    def _part(self, recording_id: str) -> Path:
        return self.config.directory / f"{recording_id}.ogg.part"

    def _empty(self, room_id: str) -> bool:
        room = self._locate(room_id)
        return room is None or (not room.peers and not room.sources)

    # --- the core ------------------------------------------------------------------------

    async def start(self, room_id: str, user_id: str) -> Recording:
        """Start recording ``room_id`` (hosted here; checked by the caller)."""
        if self._empty(room_id):
            raise RoomEmpty("nobody is in the room: there is nothing to record")
        for running in self.running.values():
            if running.recording.room_id == room_id:
                raise AlreadyRecording(
                    "the room is being recorded already",
                    extensions={"recording_id": running.recording.id},
                )
        private_dir(self.config.directory)
        recording = await self.store.insert(
            Recording(
                room_id=room_id,
                started_by=user_id,
                started_at=datetime.now(UTC),
                instance=self.instance,
            )
        )
        await self.redis.set(ALIVE.format(recording.id), self.instance, ex=ALIVE_TTL)
        running = _Running(recording)
        self.running[recording.id] = running
        running.task = asyncio.create_task(
            self._record(running), name=f"voice-recording-{recording.id}"
        )
        return recording

    async def stop(self, room_id: str, recording_id: str) -> Recording:
        """Stop a running recording and wait until its file is finished."""
        running = self.running.get(recording_id)
        if running is None or running.recording.room_id != room_id:
            recording = await self.get(room_id, recording_id)
            if recording.state == "recording":
                raise RecordingNotReady(
                    "another voice instance is recording it",
                    extensions={"state": recording.state},
                )
            return recording
        running.stop.set()
        if running.task is not None:
            await asyncio.shield(running.task)
        return await self.get(room_id, recording_id)

    async def list(self, room_id: str) -> list[Recording]:
        """The room's recordings, oldest first."""
        page = await self.store.find(Recording, {"room_id": room_id}, sort=[Sort("id")], limit=1000)
        return page.items

    async def get(self, room_id: str, recording_id: str) -> Recording:
        """One recording of the room; 404 if there is none."""
        recording = await self.store.get(Recording, recording_id)
        if recording is None or recording.room_id != room_id:
            raise NotFound(NO_RECORDING)
        return recording

    async def ready_file(self, room_id: str, recording_id: str) -> tuple[Recording, Path]:
        """The recording and its file, which must be ready."""
        recording = await self.get(room_id, recording_id)
        path = self.path(recording.id)
        if recording.state != "ready" or not path.is_file():
            raise RecordingNotReady(
                f"the recording is {recording.state}", extensions={"state": recording.state}
            )
        return recording, path

    async def delete(self, room_id: str, recording_id: str) -> None:
        """Delete a recording: its file and its document (a running one is stopped)."""
        recording = await self.get(room_id, recording_id)
        running = self.running.get(recording.id)
        if running is not None:
            running.stop.set()
            if running.task is not None:
                await asyncio.shield(running.task)
        await asyncio.to_thread(_remove, self.path(recording.id), self._part(recording.id))
        await self.store.delete(Recording, recording.id)

    # --- the running recording -----------------------------------------------------------

    async def _record(self, running: _Running) -> None:
        loop = asyncio.get_running_loop()
        recording = running.recording
        part = self._part(recording.id)
        limit = self.config.max_seconds * RATE
        writer: PartWriter | None = None
        try:
            writer = await loop.run_in_executor(None, PartWriter, part, self.config.bitrate)
            with self.mixer.subscribe(recording.room_id) as frames:
                running.reason = "shutdown"  # unless the loop says otherwise
                async for pcm in frames:
                    await loop.run_in_executor(None, writer.write, pcm)
                    if running.stop.is_set():
                        running.reason = running.asked
                        break
                    if writer.samples >= limit:
                        running.reason = "max-duration"
                        break
                    frame = writer.samples // pcm.size
                    if frame % EMPTY_CHECK == 0 and self._empty(recording.room_id):
                        running.reason = "empty"
                        break
                    if frame % CHECKPOINT == 0:
                        await loop.run_in_executor(None, writer.sync)
                        await self._checkpoint(recording.id, writer.samples / RATE)
            await loop.run_in_executor(None, writer.close)
            await self._finish(recording.id, part, running.reason, writer.samples / RATE)
        except asyncio.CancelledError:
            if writer is not None:
                await asyncio.shield(loop.run_in_executor(None, writer.close))
            raise
        except Exception as exc:
            log.exception("recording %s of room %s failed", recording.id, recording.room_id)
            await self._fail(recording.id, part, f"{type(exc).__name__}: {exc}")
        finally:
            self.running.pop(recording.id, None)
            with contextlib.suppress(Exception):
                await self.redis.delete(ALIVE.format(recording.id))

    async def _checkpoint(self, recording_id: str, duration: float) -> None:
        try:
            await self.redis.set(ALIVE.format(recording_id), self.instance, ex=ALIVE_TTL)
            await self._update(recording_id, duration=round(duration, 2))
        except Exception:  # Redis or the store away: the recording goes on
            log.warning("recording %s: checkpoint failed", recording_id, exc_info=True)

    async def _update(self, recording_id: str, **fields: object) -> Recording | None:
        try:
            return await self.store.modify(
                Recording, recording_id, lambda current: current.model_copy(update=fields)
            )
        except DocumentNotFound:
            return None  # deleted meanwhile

    async def _finish(self, recording_id: str, part: Path, reason: str, duration: float) -> None:
        """Normalise the part into the final file, and say so in the document."""
        await self._update(
            recording_id,
            state="processing",
            stop_reason=reason,
            ended_at=datetime.now(UTC),
            duration=round(duration, 2),
        )
        loop = asyncio.get_running_loop()
        try:
            done = await loop.run_in_executor(
                None,
                normalise,
                part,
                self.path(recording_id),
                self.config.loudness,
                self.config.bitrate,
            )
        except Exception as exc:
            log.exception("recording %s: normalising failed", recording_id)
            await self._fail(recording_id, part, f"normalising failed: {exc}")
            return
        await asyncio.to_thread(_remove, part)
        if (
            await self._update(
                recording_id,
                state="ready",
                duration=round(done.duration, 2),
                size=done.size,
                loudness=done.loudness,
            )
            is None
        ):  # deleted while it was being finished
            await asyncio.to_thread(_remove, self.path(recording_id))

    async def _fail(self, recording_id: str, part: Path, error: str) -> None:
        await asyncio.to_thread(_remove, part, self.path(recording_id).with_suffix(".ogg.tmp"))
        with contextlib.suppress(Exception):
            await self._update(
                recording_id, state="failed", error=error, ended_at=datetime.now(UTC)
            )

    # --- start and stop of the instance --------------------------------------------------

    def recover_soon(self) -> None:
        """Recover crashed instances' recordings in the background (:meth:`recover`)."""
        task = asyncio.create_task(self.recover(), name="voice-recording-recovery")
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def recover(self) -> int:
        """Finish or fail recordings whose instance is gone; how many were handled."""
        handled = 0
        try:
            page = await self.store.find(
                Recording, {"state": {"$in": ["recording", "processing"]}}, limit=1000
            )
        except Exception:
            log.warning("recovering recordings: the store is unavailable", exc_info=True)
            return 0
        for recording in page.items:
            if recording.id in self.running or await self.redis.exists(ALIVE.format(recording.id)):
                continue
            if not await self.redis.set(
                RECOVERING.format(recording.id), self.instance, ex=600, nx=True
            ):
                continue  # another instance is on it
            handled += 1
            await self._recover_one(recording)
        return handled

    async def _recover_one(self, recording: Recording) -> None:
        loop = asyncio.get_running_loop()
        part, final = self._part(recording.id), self.path(recording.id)
        log.warning("recording %s was left %s by a stopped instance", recording.id, recording.state)
        if final.is_file() and not part.exists():  # renamed, then the instance stopped
            size = final.stat().st_size
            await self._update(recording.id, state="ready", size=size)
            return
        if await loop.run_in_executor(None, salvage, part):
            await self._finish(recording.id, part, "recovered", recording.duration)
        else:
            await self._fail(
                recording.id, part, "the voice instance stopped while recording; nothing was saved"
            )

    async def close(self) -> None:
        """Stop every running recording and finish its file (the instance stops)."""
        for running in list(self.running.values()):
            running.asked = "shutdown"
            running.stop.set()
        tasks = [r.task for r in self.running.values() if r.task is not None]
        tasks += list(self._background)
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)


def _remove(*paths: Path) -> None:
    for path in paths:
        path.unlink(missing_ok=True)
