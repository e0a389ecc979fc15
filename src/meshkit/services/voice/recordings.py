"""Room recordings: one core for start, stop, list, download and delete.

A recording consumes the room's mix (:mod:`meshkit.services.voice.media.mix`) on the
instance hosting the room, so it starts there; its metadata is a
:class:`~meshkit.services.voice.models.Recording` document (any instance lists it) and
its file lives under ``<data dir>/voice/recordings/`` (``0700``; files ``0600``).

Life of one: ``recording`` (``<id>.ogg.part`` grows, fsync-ed every few seconds) until
it is stopped, reaches ``MESHKIT_VOICE_RECORDING_MAX_SECONDS``, its room empties, or the
instance stops; then ``processing`` (normalised into a file of its writer's own,
``<id>.<random>.ogg``, renamed to ``<id>.ogg`` when complete); then ``ready``, or
``failed`` with the reason. While an instance works on a recording (recording it,
normalising it, recovering it) a Redis key with a short TTL, refreshed every few
seconds, says so; at start every instance looks for recordings left
``recording``/``processing`` whose key is gone (a crashed instance), takes the key,
salvages the part up to its last whole page and finishes it (``stop_reason``
``recovered``), or marks it ``failed`` when nothing usable is left.

When the instance stops, a running recording only closes its part (whole, fsync-ed: a
fraction of a second) and is left ``processing`` with ``stop_reason`` ``shutdown``:
normalising takes minutes for a long recording, so the next instance to start finishes
it through :meth:`Recordings.recover`. One already being normalised gets
``RecordingConfig.shutdown_timeout`` seconds, then is left the same way. Normalising
runs in a daemon thread of its own, which a stopping process does not wait for.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import threading
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar, cast

from redis.asyncio import Redis

from meshkit.errors import NotFound
from meshkit.files import private_dir
from meshkit.services.voice.errors import AlreadyRecording, RecordingNotReady, RoomEmpty
from meshkit.services.voice.media.mix import RATE, Mixer, Pcm, Subscription
from meshkit.services.voice.media.recorder import Normalised, PartWriter, normalise, salvage
from meshkit.services.voice.media.room import MediaRoom
from meshkit.services.voice.models import Recording
from meshkit.store import Sort, Store
from meshkit.store.errors import DocumentNotFound

log = logging.getLogger("meshkit.voice.recording")

ALIVE = "meshkit:voice:recording:{}"
"""A recording's liveness key: the instance working on it (recording, normalising or
recovering). Taken with NX by a recovering instance, so it is also the recovery lock."""
ALIVE_TTL = 30
"""Seconds a recording's liveness key lives without a refresh."""
KEEPALIVE = 5.0
"""Seconds between refreshes of the liveness key."""
CHECKPOINT = 250
"""Frames (5 s) between fsyncs and duration updates."""
EMPTY_CHECK = 25
"""Frames (0.5 s) between looks at whether the room emptied."""
NO_RECORDING = "no such recording in this room"
SHUTDOWN = "shutdown"
T = TypeVar("T")


@dataclass(frozen=True)
class RecordingConfig:
    """What a recording is made with (from ``VoiceSettings``)."""

    directory: Path
    max_seconds: int
    loudness: float
    bitrate: int
    shutdown_timeout: float = 10.0
    """Seconds :meth:`Recordings.close` waits for recordings being normalised before it
    leaves them to :meth:`Recordings.recover` (``MESHKIT_SHUTDOWN_TIMEOUT``)."""


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
        self._rooms: dict[str, str] = {}
        """Room id -> the recording of it this instance runs (reserved before any await)."""
        self._background: set[asyncio.Task[Any]] = set()
        self._closing = False

    def path(self, recording_id: str) -> Path:
        """The finished file of a recording."""
        return self.config.directory / f"{recording_id}.ogg"

    def _part(self, recording_id: str) -> Path:
        return self.config.directory / f"{recording_id}.ogg.part"

    def _strays(self, recording_id: str) -> list[Path]:
        """Files of writers that normalised this recording (``<id>.<random>.ogg[.tmp]``)."""
        return list(self.config.directory.glob(f"{recording_id}.*.ogg*"))

    def _empty(self, room_id: str) -> bool:
        room = self._locate(room_id)
        return room is None or (not room.peers and not room.sources)

    # --- the core ------------------------------------------------------------------------

    async def start(self, room_id: str, user_id: str) -> Recording:
        """Start recording ``room_id`` (hosted here; checked by the caller).

        The room is reserved before anything is awaited, so two starts at once record it
        once; the liveness key is set before the document exists, so no instance's
        :meth:`recover` takes a starting recording for a crashed one. A failure on the
        way leaves no ``recording`` document behind (it is marked ``failed``).
        """
        if self._empty(room_id):
            raise RoomEmpty("nobody is in the room: there is nothing to record")
        if room_id in self._rooms:
            raise AlreadyRecording(
                "the room is being recorded already",
                extensions={"recording_id": self._rooms[room_id]},
            )
        recording = Recording(
            room_id=room_id,
            started_by=user_id,
            started_at=datetime.now(UTC),
            instance=self.instance,
        )
        self._rooms[room_id] = recording.id
        inserted = False
        try:
            private_dir(self.config.directory)
            await self.redis.set(ALIVE.format(recording.id), self.instance, ex=ALIVE_TTL)
            try:
                recording = await self.store.insert(recording)
                inserted = True
            except BaseException:
                with contextlib.suppress(Exception):  # the store may have written it
                    await self._update(
                        recording.id, state="failed", error="the recording could not be stored"
                    )
                raise
            running = _Running(recording)
            self.running[recording.id] = running
            running.task = asyncio.create_task(
                self._record(running), name=f"voice-recording-{recording.id}"
            )
        except BaseException:
            if self._rooms.get(room_id) == recording.id:
                del self._rooms[room_id]
            if not inserted:
                with contextlib.suppress(Exception):
                    await self.redis.delete(ALIVE.format(recording.id))
            raise
        return recording

    async def stop(self, room_id: str, recording_id: str) -> Recording:
        """Stop a running recording and wait until its file is finished (or, when the
        instance stops meanwhile, left ``processing`` for the next start)."""
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
        if running.task is not None:  # not cancelled with the caller; ends at shutdown too
            await asyncio.wait({running.task})
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
                await asyncio.wait({running.task})
        await asyncio.to_thread(
            _remove, self.path(recording.id), self._part(recording.id), *self._strays(recording.id)
        )
        await self.store.delete(Recording, recording.id)

    # --- the running recording -----------------------------------------------------------

    @contextlib.asynccontextmanager
    async def _alive(self, recording_id: str) -> AsyncIterator[None]:
        """Refresh the recording's liveness key while the block runs (recording,
        normalising, recovering): no other instance takes it for a crashed one."""
        key = ALIVE.format(recording_id)

        async def refresh() -> None:
            while True:
                await asyncio.sleep(KEEPALIVE)
                try:
                    await self.redis.set(key, self.instance, ex=ALIVE_TTL)
                except Exception:  # Redis away: the work goes on
                    log.warning("recording %s: refreshing its key failed", recording_id)

        task = asyncio.create_task(refresh(), name=f"voice-recording-alive-{recording_id}")
        try:
            yield
        finally:
            task.cancel()

    async def _record(self, running: _Running) -> None:
        loop = asyncio.get_running_loop()
        recording = running.recording
        part = self._part(recording.id)
        writer: PartWriter | None = None
        try:
            async with self._alive(recording.id):
                writer = await loop.run_in_executor(None, PartWriter, part, self.config.bitrate)
                with self.mixer.subscribe(recording.room_id) as frames:
                    running.reason = await self._write(running, frames, writer)
                await loop.run_in_executor(None, writer.close)
                duration = writer.samples / RATE
                if running.reason == SHUTDOWN:
                    await self._shelve(recording.id, duration)
                elif not writer.samples:  # stopped before its first frame
                    await self._fail(recording.id, part, "it ended before any audio came")
                else:
                    await self._finish(
                        recording.id,
                        part,
                        stop_reason=running.reason,
                        ended_at=datetime.now(UTC),
                        duration=round(duration, 2),
                    )
        except asyncio.CancelledError:
            if writer is not None:
                await asyncio.shield(loop.run_in_executor(None, writer.close))
            raise
        except Exception as exc:
            log.exception("recording %s of room %s failed", recording.id, recording.room_id)
            await self._fail(recording.id, part, f"{type(exc).__name__}: {exc}")
        finally:
            self.running.pop(recording.id, None)
            if self._rooms.get(recording.room_id) == recording.id:
                del self._rooms[recording.room_id]
            with contextlib.suppress(Exception):
                await self.redis.delete(ALIVE.format(recording.id))

    async def _write(self, running: _Running, frames: Subscription, writer: PartWriter) -> str:
        """Write the mix into the part until the recording ends; why it ended."""
        loop = asyncio.get_running_loop()
        recording = running.recording
        limit = self.config.max_seconds * RATE
        async for pcm in _until(frames, running.stop):
            await loop.run_in_executor(None, writer.write, pcm)
            if writer.samples >= limit:
                return "max-duration"
            frame = writer.samples // pcm.size
            if frame % EMPTY_CHECK == 0 and self._empty(recording.room_id):
                return "empty"
            if frame % CHECKPOINT == 0:
                await loop.run_in_executor(None, writer.sync)
                await self._checkpoint(recording.id, writer.samples / RATE)
        if running.stop.is_set():
            return running.asked
        if self.mixer.closed or self._closing:
            return SHUTDOWN
        return "error"  # the room's mix failed (logged there): what was recorded is kept

    async def _checkpoint(self, recording_id: str, duration: float) -> None:
        try:
            await self._update(recording_id, duration=round(duration, 2))
        except Exception:  # the store away: the recording goes on
            log.warning("recording %s: checkpoint failed", recording_id, exc_info=True)

    async def _update(self, recording_id: str, **fields: object) -> Recording | None:
        try:
            return await self.store.modify(
                Recording, recording_id, lambda current: current.model_copy(update=fields)
            )
        except DocumentNotFound:
            return None  # deleted meanwhile

    async def _shelve(self, recording_id: str, duration: float) -> None:
        """The instance stops: the part is whole on disk; the next instance to start
        normalises it (:meth:`recover`), since that can take minutes."""
        await self._update(
            recording_id,
            state="processing",
            stop_reason=SHUTDOWN,
            ended_at=datetime.now(UTC),
            duration=round(duration, 2),
        )

    async def _finish(self, recording_id: str, part: Path, **ending: object) -> None:
        """Normalise the part into the final file, and say so in the document (``ending``:
        the fields that say how it ended, when not already stored)."""
        await self._update(recording_id, state="processing", **ending)
        try:
            done = await self._normalise(recording_id, part)
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

    async def _normalise(self, recording_id: str, part: Path) -> Normalised:
        """Normalise ``part`` through a file of this writer's own, then rename it to the
        final name: two writers of one recording (a recovery racing a slow instance)
        never write into the same file."""
        final = self.path(recording_id)
        mine = final.with_name(f"{recording_id}.{secrets.token_hex(6)}.ogg")

        def abandon() -> None:
            _remove(mine, mine.with_name(mine.name + ".tmp"))

        def work() -> Normalised:
            try:
                done = normalise(part, mine, self.config.loudness, self.config.bitrate)
                os.replace(mine, final)
                _sync_dir(final.parent)
            except BaseException:
                abandon()
                raise
            return done

        return await _detached(work, abandon, f"voice-normalise-{recording_id}")

    async def _fail(self, recording_id: str, part: Path, error: str) -> None:
        await asyncio.to_thread(_remove, part)
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
        for found in page.items:
            if self._closing:
                break
            if found.id in self.running:
                continue
            key = ALIVE.format(found.id)
            try:
                if not await self.redis.set(key, self.instance, ex=ALIVE_TTL, nx=True):
                    continue  # its instance is alive, or another one recovers it
            except Exception:
                log.warning("recovering recordings: Redis is unavailable", exc_info=True)
                return handled
            try:
                recording = await self.store.get(Recording, found.id)
                if recording is None or recording.state not in ("recording", "processing"):
                    continue  # finished meanwhile
                handled += 1
                async with self._alive(recording.id):
                    await self._recover_one(recording)
            finally:
                with contextlib.suppress(Exception):
                    await self.redis.delete(key)
        return handled

    async def _recover_one(self, recording: Recording) -> None:
        loop = asyncio.get_running_loop()
        part, final = self._part(recording.id), self.path(recording.id)
        log.warning("recording %s was left %s by a stopped instance", recording.id, recording.state)
        await asyncio.to_thread(_remove_stale, self._strays(recording.id))
        if final.is_file() and not part.exists():  # renamed, then the instance stopped
            size = final.stat().st_size
            await self._update(recording.id, state="ready", size=size)
            return
        if await loop.run_in_executor(None, salvage, part):
            if recording.state == "processing" and recording.stop_reason is not None:
                await self._finish(recording.id, part)  # it had ended whole (a shutdown)
            else:
                await self._finish(
                    recording.id,
                    part,
                    stop_reason="recovered",
                    ended_at=datetime.now(UTC),
                    duration=recording.duration,
                )
        else:
            await self._fail(
                recording.id, part, "the voice instance stopped while recording; nothing was saved"
            )

    async def close(self) -> None:
        """The instance stops: running recordings close their part and are left
        ``processing`` for the next start (module docstring); recordings being
        normalised or recovered get ``shutdown_timeout`` seconds, then are left too."""
        self._closing = True
        for running in list(self.running.values()):
            running.asked = SHUTDOWN
            running.stop.set()
        tasks = [r.task for r in self.running.values() if r.task is not None]
        tasks += list(self._background)
        if not tasks:
            return
        _, pending = await asyncio.wait(tasks, timeout=self.config.shutdown_timeout)
        for task in pending:
            task.cancel()
        if pending:
            log.warning(
                "%d recording(s) still being finished at shutdown: left for the next start",
                len(pending),
            )
            await asyncio.wait(pending, timeout=5.0)


async def _until(frames: Subscription, stop: asyncio.Event) -> AsyncIterator[Pcm]:
    """``frames`` until they end or ``stop`` is set, whichever comes first (a mix that
    never ticks again does not keep a stopped recording waiting)."""
    iterator = aiter(frames)
    stopped = asyncio.ensure_future(stop.wait())
    try:
        while not stop.is_set():
            following = asyncio.ensure_future(anext(iterator))
            await asyncio.wait({following, stopped}, return_when=asyncio.FIRST_COMPLETED)
            if not following.done():
                following.cancel()
                return
            try:
                pcm = following.result()
            except StopAsyncIteration:
                return
            yield pcm
    finally:
        stopped.cancel()


async def _detached(work: Callable[[], T], abandon: Callable[[], None], name: str) -> T:
    """``work()`` in a daemon thread of its own: unlike the loop's executor, a stopping
    process does not wait for it. If the caller stops waiting (cancelled, or the loop
    closed), ``abandon()`` undoes what ``work`` left once it ends."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()

    def deliver(result: T | None, error: BaseException | None) -> None:
        if future.cancelled():
            abandon()
        elif error is not None:
            future.set_exception(error)
        else:
            future.set_result(cast(T, result))

    def run() -> None:
        result: T | None = None
        error: BaseException | None = None
        try:
            result = work()
        except BaseException as exc:
            error = exc
        try:
            loop.call_soon_threadsafe(deliver, result, error)
        except RuntimeError:  # the loop is closed: nobody waits any more
            abandon()

    threading.Thread(target=run, name=name, daemon=True).start()
    return await future


def _remove_stale(paths: list[Path]) -> None:
    """Remove writers' files nobody has written to for a while (a crash mid-normalise)."""
    for path in paths:
        with contextlib.suppress(OSError):
            if time.time() - path.stat().st_mtime > ALIVE_TTL:
                path.unlink()


def _sync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _remove(*paths: Path) -> None:
    for path in paths:
        path.unlink(missing_ok=True)
