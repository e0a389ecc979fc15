"""Live voice state in Redis: who is in which room, in what state, on which instance.

Keys (``{room}`` is a room id, ``{user}`` a user id)::

    meshkit:voice:room:{room}:participants   hash  user -> Participant JSON
    meshkit:voice:room:{room}:alive:{user}   string (the hosting instance), TTL
    meshkit:voice:room:{room}:instance       string (the instance hosting the room), TTL
    meshkit:voice:room:{room}:server_muted   set of users a moderator muted (no TTL)

*Liveness.* A participant counts only while its ``alive`` key exists. The instance that
hosts its media refreshes that key every third of the TTL (:meth:`VoiceState.heartbeat`,
run by :meth:`VoiceState.start`), so when the instance dies (SIGKILL, lost host) its
participants stop counting one TTL later. Whoever reads a room next
(:meth:`VoiceState.roster`) removes them, atomically, and is told which, so exactly one
reader announces each of them gone. A heartbeat only refreshes entries that still name
its instance: a participant kicked through another instance, or pruned while this one
stalled, is reported lost to the host instead of coming back.

*One instance per room.* The first participant's instance claims the room (``SET NX``
with the TTL); its heartbeat keeps the claim while it hosts anyone there, and the last
one leaving releases it. Entering a room another live instance holds is refused
(:class:`~meshkit.services.voice.errors.RoomElsewhere`): signaling was misrouted.

*Server mute* is a moderator's decision about a user in a room, not about one
connection: it is kept in a set that outlives leaving and joining again, and goes with
the room.

Every decision that reads and then writes is one Lua script, so concurrent joins on
several instances cannot overfill a room. The scripts build a room's key names from
the prefix (each room's keys share a ``{room}`` hash tag's worth of prefix): meant for
one Redis server, as meshkit uses.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, NamedTuple

from redis.asyncio import Redis
from redis.exceptions import RedisError

from meshkit.errors import ServiceUnavailable
from meshkit.services.voice.errors import RoomElsewhere
from meshkit.services.voice.models import Participant

log = logging.getLogger("meshkit.voice")

PREFIX = "meshkit:voice:"
HASH_TTL_FACTOR = 4  # the hash outlives its entries' liveness keys

ENTER = """
local hash, roomkey, muted = KEYS[1], KEYS[2], KEYS[3]
local user, fresh, ttl, max = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
local alive_prefix, instance = ARGV[5], ARGV[6]
local owner = redis.call('GET', roomkey)
if owner and owner ~= instance then
  return {'elsewhere', owner, 0}
end
local gone = {}
local live = 0
local entries = redis.call('HGETALL', hash)
for i = 1, #entries, 2 do
  local who = entries[i]
  if who ~= user then
    if redis.call('EXISTS', alive_prefix .. who) == 1 then
      live = live + 1
    else
      redis.call('HDEL', hash, who)
      gone[#gone + 1] = entries[i + 1]
    end
  end
end
local old = redis.call('HGET', hash, user)
if old and redis.call('EXISTS', alive_prefix .. user) == 0 then
  redis.call('HDEL', hash, user)
  gone[#gone + 1] = old
  old = false
end
local participant
if old then
  participant = cjson.decode(old)
  participant['instance'] = instance
  participant['speaking'] = false
else
  if live >= max then
    return {'full', '', live, unpack(gone)}
  end
  participant = cjson.decode(fresh)
end
participant['server_muted'] = redis.call('SISMEMBER', muted, user) == 1
local encoded = cjson.encode(participant)
redis.call('HSET', hash, user, encoded)
redis.call('PEXPIRE', hash, ttl * HASH_TTL_FACTOR)
redis.call('SET', alive_prefix .. user, instance, 'PX', ttl)
redis.call('SET', roomkey, instance, 'PX', ttl)
return {old and 'again' or 'new', encoded, live, unpack(gone)}
""".replace("HASH_TTL_FACTOR", str(HASH_TTL_FACTOR))

LEAVE = """
local hash, alive, roomkey = KEYS[1], KEYS[2], KEYS[3]
local raw = redis.call('HGET', hash, ARGV[1])
redis.call('DEL', alive)
if not raw then return false end
redis.call('HDEL', hash, ARGV[1])
if redis.call('HLEN', hash) == 0 then redis.call('DEL', roomkey) end
return raw
"""

UPDATE = """
local hash, alive, muted = KEYS[1], KEYS[2], KEYS[3]
local user, patch, mute = ARGV[1], cjson.decode(ARGV[2]), ARGV[3]
local raw = redis.call('HGET', hash, user)
if not raw or redis.call('EXISTS', alive) == 0 then return false end
if mute == '1' then redis.call('SADD', muted, user) end
if mute == '0' then redis.call('SREM', muted, user) end
local participant = cjson.decode(raw)
for name, value in pairs(patch) do participant[name] = value end
local encoded = cjson.encode(participant)
redis.call('HSET', hash, user, encoded)
return {raw, encoded}
"""

ROSTER = """
local hash, alive_prefix = KEYS[1], ARGV[1]
local out = {}
local gone = {}
local entries = redis.call('HGETALL', hash)
for i = 1, #entries, 2 do
  if redis.call('EXISTS', alive_prefix .. entries[i]) == 1 then
    out[#out + 1] = entries[i + 1]
  else
    redis.call('HDEL', hash, entries[i])
    gone[#gone + 1] = entries[i + 1]
  end
end
return {out, gone}
"""

HEARTBEAT = """
local instance, ttl = ARGV[1], tonumber(ARGV[2])
local out = {}
for i = 3, #ARGV do
  local j = (i - 3) * 3
  local hash, alive, roomkey = KEYS[j + 1], KEYS[j + 2], KEYS[j + 3]
  local raw = redis.call('HGET', hash, ARGV[i])
  local kept = 0
  if raw and cjson.decode(raw)['instance'] == instance then
    redis.call('SET', alive, instance, 'PX', ttl)
    redis.call('PEXPIRE', hash, ttl * HASH_TTL_FACTOR)
    local owner = redis.call('GET', roomkey)
    if not owner or owner == instance then
      redis.call('SET', roomkey, instance, 'PX', ttl)
    end
    kept = 1
  end
  out[#out + 1] = kept
end
return out
""".replace("HASH_TTL_FACTOR", str(HASH_TTL_FACTOR))

CLEAR = """
local hash, roomkey, muted, alive_prefix = KEYS[1], KEYS[2], KEYS[3], ARGV[1]
local out = {}
local entries = redis.call('HGETALL', hash)
for i = 1, #entries, 2 do
  if redis.call('DEL', alive_prefix .. entries[i]) == 1 then
    out[#out + 1] = entries[i + 1]
  end
end
redis.call('DEL', hash, roomkey, muted)
return out
"""

RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""

LostCallback = Callable[[str, str], Awaitable[None]]
"""Called with ``(room_id, user_id)`` for a hosted participant that is gone from state."""


class Entered(NamedTuple):
    """The outcome of :meth:`VoiceState.enter`."""

    participant: Participant | None
    """The participant as recorded; ``None`` when the room was full (nothing recorded)."""
    new: bool
    """``False`` when the user was in the room already (a reconnect): state is kept."""
    gone: list[Participant]
    """Participants whose liveness had lapsed, removed on the way (announce them gone)."""
    others: int
    """Live participants besides this user when the decision was taken."""


class Roster(NamedTuple):
    """A room's participants now, and the lapsed ones this read removed."""

    live: list[Participant]
    gone: list[Participant]


def utcnow() -> datetime:
    """Now, in UTC."""
    return datetime.now(UTC)


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _participant(raw: Any) -> Participant:
    return Participant.model_validate_json(raw)


@contextlib.asynccontextmanager
async def _redis() -> AsyncIterator[None]:
    """Redis failures become a 503 problem (a client may retry), not a 500."""
    try:
        yield
    except (RedisError, OSError) as exc:
        log.warning("voice state unavailable: %r", exc)
        raise ServiceUnavailable("voice state is unavailable; retry shortly") from exc


@dataclass
class _Hosted:
    """The participants this process hosts: what its heartbeat keeps alive."""

    members: dict[tuple[str, str], str] = field(default_factory=dict)


class VoiceState:
    """Live voice state of every room (module docstring), as one process sees it.

    ``ttl`` is seconds of liveness without a heartbeat. The participants entered through
    this object are the ones its heartbeat refreshes: one ``VoiceState`` per process.
    """

    def __init__(self, redis: Redis, ttl: float, *, prefix: str = PREFIX) -> None:
        if ttl <= 0:
            raise ValueError("ttl must be positive")
        self.redis = redis
        self.ttl = ttl
        self.ttl_ms = max(10, round(ttl * 1000))
        self.prefix = prefix
        self._hosted = _Hosted()
        self._task: asyncio.Task[None] | None = None
        self._enter = redis.register_script(ENTER)
        self._leave = redis.register_script(LEAVE)
        self._update = redis.register_script(UPDATE)
        self._roster = redis.register_script(ROSTER)
        self._heartbeat = redis.register_script(HEARTBEAT)
        self._clear = redis.register_script(CLEAR)
        self._release = redis.register_script(RELEASE)

    # key names -------------------------------------------------------------------

    def _room(self, room_id: str) -> str:
        return f"{self.prefix}room:{room_id}:"

    def participants_key(self, room_id: str) -> str:
        """The hash of a room's participants."""
        return self._room(room_id) + "participants"

    def alive_key(self, room_id: str, user_id: str) -> str:
        """The liveness key of one participant."""
        return self._room(room_id) + "alive:" + user_id

    def instance_key(self, room_id: str) -> str:
        """The room → hosting instance claim."""
        return self._room(room_id) + "instance"

    def muted_key(self, room_id: str) -> str:
        """The set of server-muted users of a room."""
        return self._room(room_id) + "server_muted"

    # operations ------------------------------------------------------------------

    async def enter(
        self, room_id: str, user_id: str, instance: str, *, max_participants: int
    ) -> Entered:
        """Record ``user_id`` in the room, hosted by ``instance``.

        A user already in the room (a reconnect, maybe through another connection)
        keeps their state and place. Otherwise they need a free place: with
        ``max_participants`` live participants in it, nothing is recorded and the
        outcome's ``participant`` is ``None`` (the caller refuses: it also has the lapsed
        participants removed on the way to announce). :class:`RoomElsewhere` when another
        live instance hosts the room.
        """
        fresh = Participant(user_id=user_id, joined_at=utcnow(), instance=instance)
        keys = [self.participants_key(room_id), self.instance_key(room_id), self.muted_key(room_id)]
        args: list[str | int] = [
            user_id,
            fresh.model_dump_json(),
            self.ttl_ms,
            max_participants,
            self._room(room_id) + "alive:",
            instance,
        ]
        async with _redis():
            outcome, value, live, *gone_raw = await self._enter(keys=keys, args=args)
        kind = _text(outcome)
        if kind == "elsewhere":
            owner = _text(value)
            raise RoomElsewhere(
                "another voice instance hosts this room", extensions={"instance": owner}
            )
        gone = [_participant(raw) for raw in gone_raw]
        if kind == "full":
            return Entered(None, False, gone, int(live))
        participant = _participant(value)
        self._hosted.members[(room_id, user_id)] = instance
        return Entered(participant, kind == "new", gone, int(live))

    async def leave(self, room_id: str, user_id: str) -> Participant | None:
        """Remove ``user_id`` from the room; the participant as it was (lapsed or not:
        whoever removes an entry announces it), or ``None`` if they were not in it."""
        self._hosted.members.pop((room_id, user_id), None)
        keys = [
            self.participants_key(room_id),
            self.alive_key(room_id, user_id),
            self.instance_key(room_id),
        ]
        async with _redis():
            raw = await self._leave(keys=keys, args=[user_id])
        return _participant(raw) if raw else None

    async def update(
        self, room_id: str, user_id: str, *, server_muted: bool | None = None, **fields: bool
    ) -> tuple[Participant, Participant] | None:
        """Change a live participant's flags (``muted``, ``deafened``, ``speaking``,
        ``server_muted``); ``(before, after)``, or ``None`` if they are not in the room.

        ``server_muted`` also records (or clears) the moderator's mute for the room, so
        that it holds when they join again.
        """
        unknown = set(fields) - {"muted", "deafened", "speaking"}
        if unknown:
            raise ValueError(f"not participant flags: {sorted(unknown)}")
        patch: dict[str, bool] = dict(fields)
        mute = ""
        if server_muted is not None:
            patch["server_muted"] = server_muted
            mute = "1" if server_muted else "0"
        keys = [
            self.participants_key(room_id),
            self.alive_key(room_id, user_id),
            self.muted_key(room_id),
        ]
        async with _redis():
            found = await self._update(keys=keys, args=[user_id, json.dumps(patch), mute])
        if not found:
            return None
        before, after = found
        return _participant(before), _participant(after)

    async def roster(self, room_id: str) -> Roster:
        """The room's live participants (by join time), removing the lapsed ones."""
        async with _redis():
            live, gone = await self._roster(
                keys=[self.participants_key(room_id)], args=[self._room(room_id) + "alive:"]
            )
        people = sorted((_participant(raw) for raw in live), key=lambda p: p.joined_at)
        return Roster(people, [_participant(raw) for raw in gone])

    async def participants(self, room_id: str) -> list[Participant]:
        """The room's live participants (lapsed ones are removed, silently)."""
        return (await self.roster(room_id)).live

    async def participant(self, room_id: str, user_id: str) -> Participant | None:
        """One live participant, or ``None``."""
        async with _redis(), self.redis.pipeline(transaction=False) as pipe:
            pipe.hget(self.participants_key(room_id), user_id)
            pipe.exists(self.alive_key(room_id, user_id))
            raw, alive = await pipe.execute()
        return _participant(raw) if raw and alive else None

    async def counts(self, room_ids: Iterable[str]) -> dict[str, int]:
        """How many are live in each room (one round trip; removes lapsed ones)."""
        ids = list(dict.fromkeys(room_ids))
        if not ids:
            return {}
        async with _redis(), self.redis.pipeline(transaction=False) as pipe:
            for room_id in ids:
                await self._roster(
                    keys=[self.participants_key(room_id)],
                    args=[self._room(room_id) + "alive:"],
                    client=pipe,
                )
            results = await pipe.execute()
        return {room_id: len(live) for room_id, (live, _) in zip(ids, results, strict=True)}

    async def clear_room(self, room_id: str) -> list[Participant]:
        """Forget everything about a room (it was deleted); the live participants it had."""
        for key in [k for k in self._hosted.members if k[0] == room_id]:
            del self._hosted.members[key]
        keys = [self.participants_key(room_id), self.instance_key(room_id), self.muted_key(room_id)]
        async with _redis():
            found = await self._clear(keys=keys, args=[self._room(room_id) + "alive:"])
        return [_participant(raw) for raw in found]

    async def room_instance(self, room_id: str) -> str | None:
        """The instance hosting the room now, if any."""
        async with _redis():
            raw = await self.redis.get(self.instance_key(room_id))
        return _text(raw) if raw is not None else None

    async def release_room(self, room_id: str, instance: str) -> bool:
        """Give up ``instance``'s claim on the room (it stops hosting it)."""
        async with _redis():
            return bool(await self._release(keys=[self.instance_key(room_id)], args=[instance]))

    # liveness --------------------------------------------------------------------

    def hosted(self) -> list[tuple[str, str]]:
        """``(room_id, user_id)`` of every participant this process hosts."""
        return list(self._hosted.members)

    async def heartbeat(self) -> list[tuple[str, str]]:
        """Refresh the liveness of every hosted participant and their rooms' claims;
        the ``(room_id, user_id)`` that are no longer in state (kicked elsewhere,
        pruned while this process stalled, re-entered on another instance): stop
        hosting them."""
        members = list(self._hosted.members.items())
        lost: list[tuple[str, str]] = []
        by_instance: dict[str, list[tuple[str, str]]] = {}
        for key, instance in members:
            by_instance.setdefault(instance, []).append(key)
        for instance, hosted in by_instance.items():
            for start in range(0, len(hosted), 500):  # bounded script calls
                batch = hosted[start : start + 500]
                keys: list[str] = []
                for room_id, user_id in batch:
                    keys += [
                        self.participants_key(room_id),
                        self.alive_key(room_id, user_id),
                        self.instance_key(room_id),
                    ]
                args: list[str | int] = [instance, self.ttl_ms, *(user for _, user in batch)]
                kept = await self._heartbeat(keys=keys, args=args)
                for key, ok in zip(batch, kept, strict=True):
                    if not int(ok):
                        lost.append(key)
        for key in lost:
            if self._hosted.members.get(key) is not None:
                del self._hosted.members[key]
        return lost

    async def start(self, on_lost: LostCallback | None = None) -> None:
        """Beat every third of the TTL until :meth:`stop`; ``on_lost`` hears of hosted
        participants that are gone from state (the media plane drops them)."""
        if self._task is None:
            self._task = asyncio.create_task(self._beat(on_lost), name="voice-state-heartbeat")

    async def stop(self) -> None:
        """Stop beating (the hosted participants then lapse after the TTL)."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _beat(self, on_lost: LostCallback | None) -> None:
        while True:
            await asyncio.sleep(self.ttl / 3)
            try:
                lost = await self.heartbeat()
            except (RedisError, OSError) as exc:
                log.warning("voice heartbeat failed (%r); retrying", exc)
                continue
            for room_id, user_id in lost:
                if on_lost is None:
                    continue
                try:
                    await on_lost(room_id, user_id)
                except Exception:
                    log.exception("voice: dropping lost participant %s in %s", user_id, room_id)
