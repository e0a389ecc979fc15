"""Live voice state in Redis: who is in which room, in what state, on which instance.

Keys (``{room}`` is a room id, ``{user}`` a user id)::

    meshkit:voice:room:{room}:participants   hash  user -> Participant JSON
    meshkit:voice:room:{room}:alive:{user}   string (the hosting instance), TTL
    meshkit:affinity:voice:room:{room}       string (the instance hosting the room), TTL
    meshkit:voice:room:{room}:server_muted   set of users a moderator muted (no TTL)
    meshkit:voice:room:{room}:call           string (the room's current Call, JSON; no TTL)
    meshkit:voice:calls                      sorted set: room -> liveness deadline (ms)

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

*Calls.* A room's call starts when a participant enters it with nobody live in it, and
ends when the last live participant is gone — left, removed, or lapsed and pruned by
whoever read the room. The same scripts that add and remove participants create and
delete the ``call`` key, so exactly one operation sees each start and each end, on
whichever instance (:attr:`Entered.started`, :attr:`Roster.ended`, :attr:`Departed.ended`).
A lapsed room is pruned only when someone reads it; so that a call whose every
participant's instance died still ends, ``meshkit:voice:calls`` holds each room with a
call scored by its participants' liveness deadline (refreshed by the heartbeat), and
:meth:`VoiceState.stale_calls` lists the rooms past it for a sweeper to read
(:meth:`VoiceState.start`'s ``sweep``). The call key has no TTL on purpose: it is ended
(and announced) by that sweep, never silently expired. A call that ends by lapsing ends
at its deadline, not when it was noticed.

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

from pydantic import BaseModel
from redis.asyncio import Redis
from redis.exceptions import RedisError

from meshkit.affinity import owner_key
from meshkit.errors import ServiceUnavailable
from meshkit.services.voice.errors import RoomElsewhere
from meshkit.services.voice.models import Participant
from meshkit.store import new_id

log = logging.getLogger("meshkit.voice")

PREFIX = "meshkit:voice:"
ROOM_SCOPE = "room"
"""The affinity scope of a voice room (``meshkit:affinity:voice:room:{room}``)."""
HASH_TTL_FACTOR = 4  # the hash outlives its entries' liveness keys

LIB = """
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function finish(callkey, index, room, now, lapsed)
  local call = redis.call('GET', callkey)
  if not call then return {'', 0} end
  local at = now
  if lapsed then
    local deadline = tonumber(redis.call('ZSCORE', index, room) or now)
    if deadline < at then at = deadline end
  end
  redis.call('DEL', callkey)
  redis.call('ZREM', index, room)
  return {call, at}
end
"""
"""Lua shared by the scripts: Redis's clock (one clock for every instance), and ending a
room's call: ``{call JSON, ended_at ms}``, or ``{'', 0}`` when it has none. A call that
ends because its participants lapsed ends at its liveness deadline."""

ENTER = (
    LIB
    + """
local hash, roomkey, muted, callkey, index = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local user, fresh, ttl, max = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
local alive_prefix, instance, fresh_call, room = ARGV[5], ARGV[6], ARGV[7], ARGV[8]
local owner = redis.call('GET', roomkey)
if owner and owner ~= instance then
  return {'elsewhere', owner, 0, '', 0, '', 0}
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
    return {'full', '', live, redis.call('GET', callkey) or '', 0, '', 0, unpack(gone)}
  end
  participant = cjson.decode(fresh)
end
local now = now_ms()
local ended = {'', 0}
if live == 0 and not old then
  ended = finish(callkey, index, room, now, true)  -- whoever was in it lapsed
end
local call = redis.call('GET', callkey)
local started = 0
if not call then
  call = fresh_call
  redis.call('SET', callkey, call)
  started = 1
end
redis.call('ZADD', index, 'GT', now + ttl, room)
participant['server_muted'] = redis.call('SISMEMBER', muted, user) == 1
local encoded = cjson.encode(participant)
redis.call('HSET', hash, user, encoded)
redis.call('PEXPIRE', hash, ttl * HASH_TTL_FACTOR)
redis.call('SET', alive_prefix .. user, instance, 'PX', ttl)
redis.call('SET', roomkey, instance, 'PX', ttl)
return {old and 'again' or 'new', encoded, live, call, started, ended[1], ended[2], unpack(gone)}
""".replace("HASH_TTL_FACTOR", str(HASH_TTL_FACTOR))
)

LEAVE = (
    LIB
    + """
local hash, alive, roomkey, callkey, index = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local user, alive_prefix, room = ARGV[1], ARGV[2], ARGV[3]
local raw = redis.call('HGET', hash, user)
local was_live = redis.call('DEL', alive) == 1
if raw then redis.call('HDEL', hash, user) end
local live = 0
local gone = {}
local entries = redis.call('HGETALL', hash)
for i = 1, #entries, 2 do
  if redis.call('EXISTS', alive_prefix .. entries[i]) == 1 then
    live = live + 1
  else
    redis.call('HDEL', hash, entries[i])
    gone[#gone + 1] = entries[i + 1]
  end
end
if redis.call('HLEN', hash) == 0 then redis.call('DEL', roomkey) end
local ended = {'', 0}
if live == 0 then
  ended = finish(callkey, index, room, now_ms(), not (raw and was_live))
end
local call = ended[1]
if call == '' then call = redis.call('GET', callkey) or '' end
return {raw or '', call, ended[1] ~= '' and 1 or 0, ended[2], unpack(gone)}
"""
)

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

ROSTER = (
    LIB
    + """
local hash, callkey, index = KEYS[1], KEYS[2], KEYS[3]
local alive_prefix, room, ttl = ARGV[1], ARGV[2], tonumber(ARGV[3])
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
local now = now_ms()
local ended = {'', 0}
if #out == 0 then
  ended = finish(callkey, index, room, now, true)
else
  redis.call('ZADD', index, 'XX', 'GT', now + ttl, room)  -- live: not stale after all
end
local call = ended[1]
if call == '' and #gone > 0 then call = redis.call('GET', callkey) or '' end
return {out, gone, call, ended[1] ~= '' and 1 or 0, ended[2]}
"""
)

HEARTBEAT = (
    LIB
    + """
local index = KEYS[1]
local instance, ttl = ARGV[1], tonumber(ARGV[2])
local now = now_ms()
local out = {}
for k = 1, (#ARGV - 2) / 2 do
  local user, room = ARGV[1 + 2 * k], ARGV[2 + 2 * k]
  local j = 1 + (k - 1) * 3
  local hash, alive, roomkey = KEYS[j + 1], KEYS[j + 2], KEYS[j + 3]
  local raw = redis.call('HGET', hash, user)
  local kept = 0
  if raw and cjson.decode(raw)['instance'] == instance then
    redis.call('SET', alive, instance, 'PX', ttl)
    redis.call('PEXPIRE', hash, ttl * HASH_TTL_FACTOR)
    redis.call('ZADD', index, 'XX', 'GT', now + ttl, room)
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
)

CLEAR = (
    LIB
    + """
local hash, roomkey, muted, callkey, index = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local alive_prefix, room = ARGV[1], ARGV[2]
local out = {}
local entries = redis.call('HGETALL', hash)
for i = 1, #entries, 2 do
  if redis.call('DEL', alive_prefix .. entries[i]) == 1 then
    out[#out + 1] = entries[i + 1]
  end
end
local call = redis.call('GET', callkey) or ''
redis.call('DEL', hash, roomkey, muted, callkey)
redis.call('ZREM', index, room)
return {out, call, now_ms()}
"""
)

STALE = (
    LIB
    + """
return redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now_ms(), 'LIMIT', 0, tonumber(ARGV[1]))
"""
)

RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""

LostCallback = Callable[[str, str], Awaitable[None]]
"""Called with ``(room_id, user_id)`` for a hosted participant that is gone from state."""
SweepCallback = Callable[[], Awaitable[object]]
"""Called on every heartbeat to end the calls whose participants all lapsed (the
caller reads :meth:`VoiceState.stale_calls` and announces what it finds)."""
INDEX = "calls"
SWEEP_BATCH = 100


class Call(BaseModel):
    """A room's call: from the first participant in to the last one out. ``room_name``
    and ``channel_id`` are the room's when the call started."""

    call_id: str
    room_id: str
    room_name: str = ""
    channel_id: str | None = None
    started_at: datetime


class Ending(NamedTuple):
    """A call that just ended, and when (the last leave, or the lapsed liveness)."""

    call: Call
    ended_at: datetime


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
    call: Call | None = None
    """The room's call now (``None`` when nothing was recorded)."""
    started: bool = False
    """This enter started :attr:`call`: nobody was live in the room."""
    ended: Ending | None = None
    """A call whose participants had all lapsed, ended on the way (before ``call``)."""


class Roster(NamedTuple):
    """A room's participants now, and the lapsed ones this read removed."""

    live: list[Participant]
    gone: list[Participant]
    call: Call | None = None
    """The room's call, when ``gone`` is not empty (or the one that ended)."""
    ended: Ending | None = None
    """The call, if removing ``gone`` left the room empty: it ended now."""


class Departed(NamedTuple):
    """The outcome of :meth:`VoiceState.depart`."""

    participant: Participant | None
    """The participant as it was, ``None`` if they were not in the room."""
    gone: list[Participant]
    """Others whose liveness had lapsed, removed on the way."""
    call: Call | None
    """The room's call (the one that ended, if it did)."""
    ended: Ending | None
    """Set when the room is empty now: its call ended."""


class Closed(NamedTuple):
    """The outcome of :meth:`VoiceState.close_room`."""

    live: list[Participant]
    ended: Ending | None


def utcnow() -> datetime:
    """Now, in UTC."""
    return datetime.now(UTC)


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _participant(raw: Any) -> Participant:
    return Participant.model_validate_json(raw)


def _call(raw: Any) -> Call | None:
    return Call.model_validate_json(raw) if raw else None


def _ms(value: Any) -> datetime:
    return datetime.fromtimestamp(int(value) / 1000, UTC)


def _ending(raw: Any, ended: Any, at: Any) -> Ending | None:
    call = _call(raw)
    return Ending(call, _ms(at)) if call is not None and int(ended) else None


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
        self._stale = redis.register_script(STALE)

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
        """The room → hosting instance claim: the owner record the gateway reads to send
        a room's signaling and media requests to its instance (:mod:`meshkit.affinity`)."""
        return owner_key("voice", ROOM_SCOPE, room_id)

    def muted_key(self, room_id: str) -> str:
        """The set of server-muted users of a room."""
        return self._room(room_id) + "server_muted"

    def call_key(self, room_id: str) -> str:
        """The room's current call."""
        return self._room(room_id) + "call"

    @property
    def calls_key(self) -> str:
        """Rooms with a call, scored by their liveness deadline (ms)."""
        return self.prefix + INDEX

    # operations ------------------------------------------------------------------

    async def enter(
        self,
        room_id: str,
        user_id: str,
        instance: str,
        *,
        max_participants: int,
        room_name: str = "",
        channel_id: str | None = None,
    ) -> Entered:
        """Record ``user_id`` in the room, hosted by ``instance``.

        A user already in the room (a reconnect, maybe through another connection)
        keeps their state and place. Otherwise they need a free place: with
        ``max_participants`` live participants in it, nothing is recorded and the
        outcome's ``participant`` is ``None`` (the caller refuses: it also has the lapsed
        participants removed on the way to announce). :class:`RoomElsewhere` when another
        live instance hosts the room.

        Entering a room where nobody is live starts its call (described by ``room_name``
        and ``channel_id``), after ending the previous one if its participants lapsed.
        """
        now = utcnow()
        fresh = Participant(user_id=user_id, joined_at=now, instance=instance)
        call = Call(
            call_id=new_id(),
            room_id=room_id,
            room_name=room_name,
            channel_id=channel_id,
            started_at=now,
        )
        keys = [
            self.participants_key(room_id),
            self.instance_key(room_id),
            self.muted_key(room_id),
            self.call_key(room_id),
            self.calls_key,
        ]
        args: list[str | int] = [
            user_id,
            fresh.model_dump_json(),
            self.ttl_ms,
            max_participants,
            self._room(room_id) + "alive:",
            instance,
            call.model_dump_json(),
            room_id,
        ]
        async with _redis():
            reply = await self._enter(keys=keys, args=args)
        outcome, value, live, call_raw, started, ended_raw, ended_at, *gone_raw = reply
        kind = _text(outcome)
        if kind == "elsewhere":
            owner = _text(value)
            raise RoomElsewhere(
                "another voice instance hosts this room", extensions={"instance": owner}
            )
        gone = [_participant(raw) for raw in gone_raw]
        if kind == "full":
            return Entered(None, False, gone, int(live), _call(call_raw))
        participant = _participant(value)
        self._hosted.members[(room_id, user_id)] = instance
        ended = _ending(ended_raw, 1, ended_at)
        return Entered(
            participant, kind == "new", gone, int(live), _call(call_raw), bool(int(started)), ended
        )

    async def leave(self, room_id: str, user_id: str) -> Participant | None:
        """Remove ``user_id`` from the room; the participant as it was (lapsed or not:
        whoever removes an entry announces it), or ``None`` if they were not in it.
        :meth:`depart` also says what else changed (lapsed others, the call ending)."""
        return (await self.depart(room_id, user_id)).participant

    async def depart(self, room_id: str, user_id: str) -> Departed:
        """Remove ``user_id`` from the room, and the lapsed others; if nobody live is
        left, the room's call ends (:attr:`Departed.ended`), exactly once."""
        self._hosted.members.pop((room_id, user_id), None)
        keys = [
            self.participants_key(room_id),
            self.alive_key(room_id, user_id),
            self.instance_key(room_id),
            self.call_key(room_id),
            self.calls_key,
        ]
        args = [user_id, self._room(room_id) + "alive:", room_id]
        async with _redis():
            raw, call_raw, ended, ended_at, *gone_raw = await self._leave(keys=keys, args=args)
        return Departed(
            _participant(raw) if raw else None,
            [_participant(each) for each in gone_raw],
            _call(call_raw),
            _ending(call_raw, ended, ended_at),
        )

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

    def _roster_call(self, room_id: str) -> dict[str, Any]:
        keys = [self.participants_key(room_id), self.call_key(room_id), self.calls_key]
        return {"keys": keys, "args": [self._room(room_id) + "alive:", room_id, self.ttl_ms]}

    @staticmethod
    def _decode_roster(reply: Any) -> Roster:
        live, gone, call_raw, ended, ended_at = reply
        people = sorted((_participant(raw) for raw in live), key=lambda p: p.joined_at)
        return Roster(
            people,
            [_participant(raw) for raw in gone],
            _call(call_raw),
            _ending(call_raw, ended, ended_at),
        )

    async def roster(self, room_id: str) -> Roster:
        """The room's live participants (by join time), removing the lapsed ones (and
        ending the call if that empties the room)."""
        async with _redis():
            reply = await self._roster(**self._roster_call(room_id))
        return self._decode_roster(reply)

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

    async def rosters(self, room_ids: Iterable[str]) -> dict[str, Roster]:
        """:meth:`roster` of each room, in one round trip."""
        ids = list(dict.fromkeys(room_ids))
        if not ids:
            return {}
        async with _redis(), self.redis.pipeline(transaction=False) as pipe:
            for room_id in ids:
                await self._roster(**self._roster_call(room_id), client=pipe)
            results = await pipe.execute()
        return {
            room_id: self._decode_roster(reply) for room_id, reply in zip(ids, results, strict=True)
        }

    async def counts(self, room_ids: Iterable[str]) -> dict[str, int]:
        """How many are live in each room (one round trip; removes lapsed ones, silently:
        announcers use :meth:`rosters`)."""
        return {room_id: len(r.live) for room_id, r in (await self.rosters(room_ids)).items()}

    async def clear_room(self, room_id: str) -> list[Participant]:
        """Forget everything about a room (it was deleted); the live participants it had."""
        return (await self.close_room(room_id)).live

    async def close_room(self, room_id: str) -> Closed:
        """Forget everything about a room (it was deleted): the live participants it had,
        and its call, which ends now."""
        for key in [k for k in self._hosted.members if k[0] == room_id]:
            del self._hosted.members[key]
        keys = [
            self.participants_key(room_id),
            self.instance_key(room_id),
            self.muted_key(room_id),
            self.call_key(room_id),
            self.calls_key,
        ]
        async with _redis():
            found, call_raw, now = await self._clear(
                keys=keys, args=[self._room(room_id) + "alive:", room_id]
            )
        return Closed([_participant(raw) for raw in found], _ending(call_raw, 1, now))

    async def stale_calls(self, limit: int = SWEEP_BATCH) -> list[str]:
        """Rooms whose call is past its liveness deadline: every participant's instance
        stopped refreshing them. Reading such a room (:meth:`roster`) ends its call."""
        async with _redis():
            found = await self._stale(keys=[self.calls_key], args=[limit])
        return [_text(room) for room in found]

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
                keys: list[str] = [self.calls_key]
                args: list[str | int] = [instance, self.ttl_ms]
                for room_id, user_id in batch:
                    keys += [
                        self.participants_key(room_id),
                        self.alive_key(room_id, user_id),
                        self.instance_key(room_id),
                    ]
                    args += [user_id, room_id]
                kept = await self._heartbeat(keys=keys, args=args)
                for key, ok in zip(batch, kept, strict=True):
                    if not int(ok):
                        lost.append(key)
        for key in lost:
            if self._hosted.members.get(key) is not None:
                del self._hosted.members[key]
        return lost

    async def start(
        self, on_lost: LostCallback | None = None, *, sweep: SweepCallback | None = None
    ) -> None:
        """Beat every third of the TTL until :meth:`stop`; ``on_lost`` hears of hosted
        participants that are gone from state (the media plane drops them); ``sweep``
        runs after each beat (it ends the calls of rooms whose instances died)."""
        if self._task is None:
            self._task = asyncio.create_task(
                self._beat(on_lost, sweep), name="voice-state-heartbeat"
            )

    async def stop(self) -> None:
        """Stop beating (the hosted participants then lapse after the TTL)."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _beat(self, on_lost: LostCallback | None, sweep: SweepCallback | None) -> None:
        while True:
            await asyncio.sleep(self.ttl / 3)
            try:
                lost = await self.heartbeat()
            except (RedisError, OSError) as exc:
                log.warning("voice heartbeat failed (%r); retrying", exc)
                continue
            if sweep is not None:
                try:
                    await sweep()
                except Exception:
                    log.warning("voice: sweeping ended calls failed", exc_info=True)
            for room_id, user_id in lost:
                if on_lost is None:
                    continue
                try:
                    await on_lost(room_id, user_id)
                except Exception:
                    log.exception("voice: dropping lost participant %s in %s", user_id, room_id)
