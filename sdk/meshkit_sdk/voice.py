"""Voice: join a meshkit voice room from Python, play audio files into it, hear the others.

Needs the ``voice`` extra (``pip install './sdk[voice]'``: aiortc, which brings PyAV)::

    async with client.voice(room_id) as call:  # join ticket, signaling, WebRTC
        await call.play("greeting.ogg")  # any file PyAV reads; returns when played
        async for user_id, frame in call.audio():  # what the others say, decoded
            ...

The contract with the voice service (``docs/voice.md``): a REST join ticket names the
Socket.IO path (and query) and the ICE servers; the server makes every SDP offer (in the
``voice.join`` ack, then ``voice.offer`` when it needs another m-line) and the client
answers each one. The first m-line carries the client's audio; each other one a
participant the offer's ``streams`` names, or the latest ``voice.streams`` signal when the
server reassigns them without renegotiating. aiortc gathers its ICE candidates while
setting the local description, so each answer carries them all: nothing is trickled.

Only the ICE servers of the ticket are used: none means host candidates only, never
aiortc's default public STUN server. Decoding a file and encoding or decoding Opus run
in threads, off the event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import fractions
import logging
import os
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from types import TracebackType
from typing import TYPE_CHECKING, Any, BinaryIO, Literal, Self, TypeVar

import av
from aioice import Candidate
from aiortc import (
    RTCConfiguration,
    RTCIceServer,
    RTCPeerConnection,
    RTCSessionDescription,
)
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from meshkit_api_client.api.voice import voice_join_room
from meshkit_api_client.models import JoinTicket, ParticipantOut
from meshkit_api_client.types import Unset

from .errors import MeshkitError, error_from_problem
from .realtime import Realtime, call_handlers

if TYPE_CHECKING:
    from .client import MeshkitClient

log = logging.getLogger("meshkit_sdk.voice")

RATE = 48_000
FRAME = 960  # 20 ms at 48 kHz: what the Opus encoder takes
TIME_BASE = fractions.Fraction(1, RATE)
READ_AHEAD = 50  # frames decoded per trip to the decoding thread (1 s)
LISTEN_DEPTH = 500  # frames an audio() listener may fall behind before the oldest go (10 s)
ENDED = "\0voice.call.ended"  # the call ended: the ordered handlers hear of it

Source = str | os.PathLike[str] | BinaryIO
"""What :meth:`VoiceCall.play` takes: a path, or a binary file object, of anything PyAV
decodes (Ogg/Opus, WAV, MP3, FLAC, …)."""

H = TypeVar("H", bound=Callable[[Any], Awaitable[None] | None])


class CallEnded(ConnectionError):
    """The call is over: raised by a call's methods once it ended, and what
    :meth:`VoiceCall.wait` answers.

    ``reason`` is the server's (``kicked``, ``moved`` with ``to_room_id``, ``closed``,
    ``replaced``, ``failed``, ``lost``) or the client's own: ``left`` (:meth:`VoiceCall.leave`),
    ``session-ended`` (the access token was revoked or ran out; ``error`` says why),
    ``disconnected`` (the signaling connection dropped).
    """

    def __init__(
        self,
        reason: str,
        *,
        room_id: str,
        to_room_id: str | None = None,
        detail: str = "",
        error: MeshkitError | None = None,
    ) -> None:
        self.reason = reason
        self.room_id = room_id
        self.to_room_id = to_room_id
        self.detail = detail
        self.error = error
        super().__init__(f"the voice call in {room_id} ended: {reason}")


@dataclass(frozen=True, slots=True)
class ParticipantEvent:
    """Someone ``joined``, ``left`` or changed (``updated``: muted, deafened, server muted)."""

    kind: Literal["joined", "left", "updated"]
    participant: ParticipantOut
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class SpeakingEvent:
    """Someone in the room (the caller too) started or stopped speaking."""

    user_id: str
    speaking: bool


class _Signaling(Realtime):
    """The voice service's Socket.IO connection.

    Realtime's connection, with its typed refusals, acked emits, token renewal over the
    socket and in-order handlers, but on the voice path and never reconnecting: a voice
    signaling connection that drops has left its room.
    """

    def __init__(
        self,
        client: MeshkitClient,
        path: str,
        query: Mapping[str, str],
        ack_timeout: float,
    ) -> None:
        super().__init__(
            client, ack_timeout=ack_timeout, path=path, query=query, reconnection=False
        )

    def on_arrival(self, event: str, handler: Callable[[Any], None]) -> None:
        """Run ``handler`` as ``event`` arrives, ahead of the ordered handlers (for what
        must not wait behind them). It replaces Realtime's own handling of that event:
        ``session.ended`` then ends the call instead of reconnecting."""
        self._sio.on(event, handler)

    def raise_local(self, event: str, data: Any = None) -> None:
        """Queue an event of the client's own for the ordered handlers."""
        self._queue.put_nowait((event, data))


def _gather_on(pc: RTCPeerConnection, addresses: Sequence[str]) -> None:
    """Gather ``pc``'s host candidates on ``addresses`` only (loopback allowed).

    aioice gathers on every interface but loopback and has no option to choose, so this
    wraps each ICE connection's ``get_component_candidates`` (aiortc 1.16, aioice 0.13:
    the ``voice`` extra pins that range) to bind to these addresses instead. Call before
    each ``setLocalDescription``; a connection already wrapped is left as it is.
    """
    chosen = list(addresses)
    for transceiver in pc.getTransceivers():
        connection = transceiver.receiver.transport.transport.iceGatherer._connection
        if getattr(connection, "_meshkit_sdk_gather_on", None) is not None:
            continue
        original = connection.get_component_candidates

        async def gather(
            component: int,
            addresses: list[str],
            timeout: int = 5,  # noqa: ASYNC109 (aioice's signature)
            original: Callable[..., Awaitable[list[Candidate]]] = original,
        ) -> list[Candidate]:
            return await original(component=component, addresses=chosen, timeout=timeout)

        connection.get_component_candidates = gather  # type: ignore[method-assign]
        connection._meshkit_sdk_gather_on = chosen  # type: ignore[attr-defined]


def _configuration(ticket: JoinTicket) -> RTCConfiguration:
    """Exactly the ticket's ICE servers (an empty list, never aiortc's default STUN)."""
    servers = [
        RTCIceServer(
            urls=list(server.urls),
            username=None if isinstance(server.username, Unset) else server.username,
            credential=None if isinstance(server.credential, Unset) else server.credential,
        )
        for server in ticket.ice_servers
    ]
    return RTCConfiguration(iceServers=servers)


class _Decoder:
    """A file being decoded into 20 ms stereo 48 kHz s16 frames, in worker threads (one
    call at a time: a play that stops closes the file while a read may be under way)."""

    def __init__(self, source: Source) -> None:
        self._lock = threading.Lock()
        self._container = av.open(source, mode="r")
        if not self._container.streams.audio:
            self._container.close()
            raise ValueError(f"{source!r} has no audio stream")
        self._frames = self._container.decode(self._container.streams.audio[0])
        self._resampler = av.AudioResampler(
            format="s16", layout="stereo", rate=RATE, frame_size=FRAME
        )
        self._done = False

    def read(self, count: int) -> list[av.AudioFrame]:
        """Up to ``count`` frames (more or fewer); empty at the end of the file."""
        with self._lock:
            return self._read(count)

    def _read(self, count: int) -> list[av.AudioFrame]:
        frames: list[av.AudioFrame] = []
        while len(frames) < count and not self._done:
            try:
                frame = next(self._frames)
            except StopIteration:
                self._done = True
                frames += self._resampler.resample(None)  # the rest, padded to 20 ms
                break
            frame.pts = None  # the track stamps its own, continuous across files
            frames += self._resampler.resample(frame)
        return frames

    def close(self) -> None:
        with self._lock:
            self._done = True
            self._container.close()


class _Playing:
    """One :meth:`VoiceCall.play` in progress: its decoder and its outcome."""

    def __init__(self, decoder: _Decoder) -> None:
        self.decoder = decoder
        self.frames: list[av.AudioFrame] = []
        self.done: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    async def next_frame(self) -> av.AudioFrame | None:
        if not self.frames:
            self.frames = await asyncio.to_thread(self.decoder.read, READ_AHEAD)
            self.frames.reverse()
        return self.frames.pop() if self.frames else None


class _Playback(MediaStreamTrack):
    """The call's outgoing audio: what is being played, paced in real time, and nothing
    (no packets) in between. Timestamps keep counting through the pauses, as with DTX."""

    kind = "audio"

    def __init__(self) -> None:
        super().__init__()
        self.playing: _Playing | None = None
        self.wake = asyncio.Event()
        self._pts = 0
        self._due = 0.0  # when the next frame is due (monotonic)

    async def recv(self) -> av.AudioFrame:
        while True:
            if self.readyState != "live":
                raise MediaStreamError
            playing = self.playing
            if playing is None:
                self.wake.clear()
                await self.wake.wait()
                continue
            try:
                frame = await playing.next_frame()
            except Exception as exc:  # a corrupt file: its play() raises
                self._finish(playing, exc)
                continue
            if self.playing is not playing:  # stopped while this was decoded
                continue
            if frame is None:
                self._finish(playing, None)
                continue
            return await self._paced(frame)

    async def _paced(self, frame: av.AudioFrame) -> av.AudioFrame:
        now = time.monotonic()
        if self._due == 0.0:
            self._due = now
        elif self._due < now - 0.1:  # after a pause: the timestamps skip it, as with DTX
            self._pts += round((now - self._due) * RATE / FRAME) * FRAME
            self._due = now
        await asyncio.sleep(max(0.0, self._due - now))
        frame.pts = self._pts
        frame.time_base = TIME_BASE
        self._pts += frame.samples
        self._due += frame.samples / RATE
        return frame

    def start(self, playing: _Playing) -> None:
        self.playing = playing
        self.wake.set()

    def drop(self, playing: _Playing) -> None:
        """Stop playing ``playing`` (if it still is); an unfinished one is cancelled."""
        if self.playing is playing:
            self.playing = None
        playing.done.cancel()

    def _finish(self, playing: _Playing, error: BaseException | None) -> None:
        if self.playing is playing:
            self.playing = None
        if not playing.done.done():
            if error is None:
                playing.done.set_result(None)
            else:
                playing.done.set_exception(error)

    def stop(self) -> None:
        super().stop()
        self.wake.set()


class VoiceCall:
    """A seat in one voice room: made by :meth:`MeshkitClient.voice`, joined by ``async
    with`` (or :meth:`join`), left on the way out (or :meth:`leave`).

    ``listen_ips`` restricts the client's ICE host candidates to those addresses
    (``["127.0.0.1"]`` for a server on the same machine, as in tests); by default aioice
    gathers on every interface but loopback. ``connect_timeout`` bounds joining, media
    connection included.
    """

    def __init__(
        self,
        client: MeshkitClient,
        room_id: str,
        *,
        listen_ips: Sequence[str] = (),
        connect_timeout: float = 15.0,
        ack_timeout: float = 10.0,
    ) -> None:
        self.client = client
        self.room_id = room_id
        self.listen_ips = list(listen_ips)
        self.connect_timeout = connect_timeout
        self.ack_timeout = ack_timeout
        self.ticket: JoinTicket | None = None
        self.me: ParticipantOut | None = None
        """The caller as the room sees them (``user_id``, ``muted``, ``deafened``, …)."""
        self.participants: dict[str, ParticipantOut] = {}
        """Who is in the room now, the caller included, by user id (kept up to date)."""
        self._signaling: _Signaling | None = None
        self._pc: RTCPeerConnection | None = None
        self._playback = _Playback()
        self._play_turn = asyncio.Lock()
        self._negotiation = asyncio.Lock()
        self._streams: dict[str, str] = {}  # mid -> the user id that m-line carries
        self._listeners: list[asyncio.Queue[tuple[str, av.AudioFrame] | None]] = []
        self._tasks: set[asyncio.Task[None]] = set()  # answers and track readers
        self._ended: CallEnded | None = None
        self._ended_event = asyncio.Event()
        self._handlers: dict[str, list[Callable[[Any], Awaitable[None] | None]]] = {}
        self._closing: asyncio.Task[None] | None = None

    # --- joining and leaving ------------------------------------------------------------

    async def __aenter__(self) -> Self:
        await self.join()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.leave()

    async def join(self) -> None:
        """Enter the room: the join ticket (REST), signaling, and a connected media path.

        Raises the typed error of a refusal (``NotFound`` for an unknown room,
        ``Conflict`` ``room-full``, ``Forbidden``), or ``TimeoutError`` when the media
        connection is not up within ``connect_timeout``; nothing is left open then.
        """
        if self._signaling is not None:
            raise RuntimeError("a VoiceCall joins once; make another for another room")
        ticket = await self.client.call(voice_join_room.asyncio_detailed, self.room_id)
        self.ticket = ticket
        signaling = _Signaling(
            self.client, str(ticket.signaling_path), _query(ticket), self.ack_timeout
        )
        self._signaling = signaling
        self._pc = RTCPeerConnection(_configuration(ticket))
        self._pc.on("track", self._on_track)
        self._pc.on("connectionstatechange", self._on_connection_state)
        signaling.on_arrival("voice.offer", self._on_offer)
        signaling.on_arrival("voice.streams", self._on_streams)
        for event in ("joined", "left", "updated"):
            signaling.on(f"voice.participant.{event}", partial(self._on_participant, event))
        signaling.on("voice.speaking", self._on_speaking)
        signaling.on_arrival("voice.ended", self._on_ended)
        signaling.on_arrival("session.ended", self._on_session_ended)
        signaling.on_arrival("disconnect", self._on_disconnect)
        signaling.on(ENDED, self._after_end)
        try:
            async with asyncio.timeout(self.connect_timeout):
                await signaling.connect(wait_timeout=self.connect_timeout)
                ack = await signaling.emit("voice.join", {"room_id": self.room_id})
                self.me = ParticipantOut.from_dict(ack["participant"])
                for raw in ack.get("participants") or ():
                    participant = ParticipantOut.from_dict(raw)
                    self.participants[participant.user_id] = participant
                self.participants[self.me.user_id] = self.me
                self._streams = _streams(ack["offer"])
                await self._answer(str(ack["offer"]["sdp"]))
                await self._connected()
        except BaseException:
            self._mark(CallEnded("failed", room_id=self.room_id))
            await self._close()
            raise

    async def _connected(self) -> None:
        pc = self._pc
        assert pc is not None
        while pc.connectionState != "connected":
            if pc.connectionState in ("failed", "closed") or self._ended is not None:
                raise self._ended or CallEnded("failed", room_id=self.room_id)
            await asyncio.sleep(0.02)

    async def leave(self) -> None:
        """Leave the room and close everything (idempotent; after an end, it only waits
        for the clean-up)."""
        if self._ended is None:
            if self._signaling is not None:
                with contextlib.suppress(Exception):
                    await self._signaling.emit("voice.leave", {})
            self._mark(CallEnded("left", room_id=self.room_id))
        await self._close()

    async def wait(self) -> CallEnded:
        """Wait until the call ends (kicked, closed, left, …); answers why."""
        await self._ended_event.wait()
        assert self._ended is not None
        return self._ended

    @property
    def ended(self) -> CallEnded | None:
        """Why the call ended, or ``None`` while it goes on."""
        return self._ended

    @property
    def user_id(self) -> str:
        if self.me is None:
            raise RuntimeError("not joined")
        return self.me.user_id

    # --- audio ------------------------------------------------------------------------

    async def play(self, source: Source) -> None:
        """Play a file into the room; returns once it has all been sent.

        Plays queue up: a second call waits for the first. Cancelling a play stops it.
        Raises what PyAV raises for a file it cannot open or decode (``FileNotFoundError``,
        ``ValueError``), and :class:`CallEnded` if the call ends first.
        """
        self._check()
        async with self._play_turn:
            self._check()
            decoder = await asyncio.to_thread(_Decoder, source)
            playing = _Playing(decoder)
            ended: asyncio.Future[Any] = asyncio.ensure_future(self._ended_event.wait())
            try:
                self._playback.start(playing)
                await asyncio.wait({playing.done, ended}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                ended.cancel()
                self._playback.drop(playing)
                await asyncio.to_thread(decoder.close)
            if not playing.done.cancelled():
                playing.done.result()  # a file that could not be decoded to the end raises
                return
            self._check()

    async def audio(self) -> AsyncIterator[tuple[str, av.AudioFrame]]:
        """What the others say: ``(user_id, frame)`` as it arrives, until the call ends.

        Frames are 20 ms of stereo 48 kHz s16 audio, each participant's separately
        (``frame.to_ndarray()`` gives the samples, interleaved). Each iterator sees every
        frame from when it starts; one that falls ``LISTEN_DEPTH`` frames behind loses
        the oldest.
        """
        if self._ended is not None:
            return
        queue: asyncio.Queue[tuple[str, av.AudioFrame] | None] = asyncio.Queue()
        self._listeners.append(queue)
        try:
            while (item := await queue.get()) is not None:
                yield item
        finally:
            self._listeners.remove(queue)

    async def mute(self, muted: bool = True) -> ParticipantOut:
        """Mute (or unmute) the caller: the room stops (or starts again) hearing them."""
        return await self._set_state({"muted": muted})

    async def deafen(self, deafened: bool = True) -> ParticipantOut:
        """Deafen (or undeafen): hear nothing, and not be heard either, while deafened."""
        return await self._set_state({"deafened": deafened})

    async def _set_state(self, state: dict[str, bool]) -> ParticipantOut:
        self._check()
        assert self._signaling is not None
        ack = await self._signaling.emit("voice.state", state)
        self.me = ParticipantOut.from_dict(ack["participant"])
        self.participants[self.me.user_id] = self.me
        return self.me

    def _check(self) -> None:
        if self._ended is not None:
            raise self._ended
        if self._signaling is None:
            raise RuntimeError("join the room first (async with client.voice(room_id))")

    # --- events -------------------------------------------------------------------------

    def on_participant(self, handler: H) -> H:
        """Someone joined, left or changed: a :class:`ParticipantEvent` (``participants``
        is up to date when handlers run). Handlers run in arrival order, one at a time; one
        that awaits (a play) holds back the events after it, never the media or offers."""
        return self._add("participant", handler)

    def on_speaking(self, handler: H) -> H:
        """Someone started or stopped speaking: a :class:`SpeakingEvent`."""
        return self._add("speaking", handler)

    def on_ended(self, handler: H) -> H:
        """The call ended (not by :meth:`leave`): the :class:`CallEnded` saying why."""
        return self._add("ended", handler)

    def _add(self, kind: str, handler: H) -> H:
        self._handlers.setdefault(kind, []).append(handler)
        return handler

    async def _fire(self, kind: str, value: Any) -> None:
        # a handler that was playing, say, when the call ended has not failed
        await call_handlers(
            self._handlers.get(kind, ()), value, f"voice {kind}", quiet=(CallEnded,)
        )

    async def _on_participant(
        self, kind: Literal["joined", "left", "updated"], data: Mapping[str, Any]
    ) -> None:
        participant = ParticipantOut.from_dict(data["participant"])
        if kind == "left":
            self.participants.pop(participant.user_id, None)
        else:
            self.participants[participant.user_id] = participant
            if self.me is not None and participant.user_id == self.me.user_id:
                self.me = participant
        reason = data.get("reason")
        await self._fire("participant", ParticipantEvent(kind, participant, reason and str(reason)))

    async def _on_speaking(self, data: Mapping[str, Any]) -> None:
        user_id, speaking = str(data["user_id"]), bool(data["speaking"])
        known = self.participants.get(user_id)
        if known is not None:
            known.speaking = speaking
        await self._fire("speaking", SpeakingEvent(user_id, speaking))

    def _on_ended(self, data: Any) -> None:
        data = data if isinstance(data, Mapping) else {}
        to_room = data.get("to_room_id")
        self._end(
            CallEnded(
                str(data.get("reason") or "ended"),
                room_id=self.room_id,
                to_room_id=str(to_room) if to_room else None,
                detail=str(data.get("detail") or ""),
            )
        )

    def _on_session_ended(self, data: Any = None) -> None:
        error = error_from_problem(data if isinstance(data, Mapping) else {"status": 401})
        self._end(
            CallEnded("session-ended", room_id=self.room_id, detail=error.detail, error=error)
        )

    def _on_disconnect(self, reason: Any = None) -> None:
        self._end(CallEnded("disconnected", room_id=self.room_id, detail=str(reason or "")))

    def _end(self, ended: CallEnded) -> None:
        """The call is over (the server said so, or the connection went), as it arrives:
        plays and audio() stop now; the handlers hear of it in order, then all closes."""
        if self._ended is not None or self._signaling is None:
            return
        self._mark(ended)
        self._signaling.raise_local(ENDED, ended)

    async def _after_end(self, ended: CallEnded) -> None:
        await self._fire("ended", ended)
        self._start_close()  # not awaited: closing stops the dispatcher this runs on

    def _mark(self, ended: CallEnded) -> None:
        """Record why the call ended (the first reason stands) and stop the waiters."""
        if self._ended is not None:
            return
        self._ended = ended
        self._ended_event.set()
        for queue in self._listeners:
            queue.put_nowait(None)

    # --- negotiation and media ----------------------------------------------------------

    def _on_offer(self, offer: Mapping[str, Any]) -> None:
        """A renegotiation: answered on a task of its own, so a handler that awaits (a
        play, say) never keeps an offer waiting (the server drops a client that does not
        answer in time); the stream map changes here, in order with ``voice.streams``."""
        self._streams = _streams(offer)
        self._spawn(self._answer_quietly(str(offer["sdp"])))

    async def _answer_quietly(self, sdp: str) -> None:
        try:
            await self._answer(sdp)
        except Exception as exc:  # the server drops the call if it gets no answer
            log.warning("answering the voice server's offer failed: %r", exc)

    async def _answer(self, sdp: str) -> None:
        """Answer one server offer: apply it, put the playback on the first m-line,
        gather where told, and send the answer (all candidates in it)."""
        pc, signaling = self._pc, self._signaling
        assert pc is not None
        assert signaling is not None
        async with self._negotiation:
            await pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="offer"))
            first = pc.getTransceivers()[0]
            if first.sender.track is None:
                first.sender.replaceTrack(self._playback)
                first.direction = "sendonly"
            if self.listen_ips:
                _gather_on(pc, self.listen_ips)
            await pc.setLocalDescription(await pc.createAnswer())
            await signaling.emit("voice.answer", {"sdp": pc.localDescription.sdp})

    def _on_streams(self, data: Mapping[str, Any]) -> None:
        """The m-lines were reassigned without an offer (people came and went, others
        started speaking in a large room): whose audio each now carries."""
        self._streams = _streams(data)

    def _on_track(self, track: MediaStreamTrack) -> None:
        self._spawn(self._read(track))

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _read(self, track: MediaStreamTrack) -> None:
        """Hand each decoded frame to the audio() listeners (always read: aiortc queues
        what nobody takes without bound)."""
        assert self._pc is not None
        transceiver = next(t for t in self._pc.getTransceivers() if t.receiver.track is track)
        with contextlib.suppress(MediaStreamError):
            while True:
                frame = await track.recv()
                user_id = self._streams.get(str(transceiver.mid))
                if user_id is None or not isinstance(frame, av.AudioFrame):
                    continue
                for queue in self._listeners:
                    if queue.qsize() >= LISTEN_DEPTH:
                        queue.get_nowait()
                    queue.put_nowait((user_id, frame))

    def _on_connection_state(self) -> None:
        pc = self._pc
        if pc is not None and pc.connectionState == "failed":
            self._end(CallEnded("failed", room_id=self.room_id, detail="media connection failed"))

    async def _close(self) -> None:
        """Close signaling and media, once (a second caller waits for the first)."""
        await asyncio.shield(self._start_close())

    def _start_close(self) -> asyncio.Task[None]:
        if self._closing is None:
            self._closing = asyncio.create_task(self._teardown(), name="meshkit-voice-close")
        return self._closing

    async def _teardown(self) -> None:
        self._playback.stop()
        if self._signaling is not None:
            with contextlib.suppress(Exception):
                await self._signaling.disconnect()
        for task in list(self._tasks):
            task.cancel()
            with contextlib.suppress(BaseException):
                await task
        if self._pc is not None:
            with contextlib.suppress(Exception):
                await self._pc.close()


def _streams(signal: Mapping[str, Any]) -> dict[str, str]:
    """An offer's or a ``voice.streams`` signal's map: mid -> the user id it carries."""
    streams = signal.get("streams")
    return {str(k): str(v) for k, v in streams.items()} if isinstance(streams, Mapping) else {}


def _query(ticket: JoinTicket) -> dict[str, str]:
    """The query parameters the ticket says to connect with (``signaling_query``: the
    gateway routes the connection to the voice instance hosting the room by them)."""
    query = ticket.to_dict().get("signaling_query")
    return {str(k): str(v) for k, v in query.items()} if isinstance(query, Mapping) else {}
