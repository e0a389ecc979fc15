"""Who is in voice, per channel: messaging's copy of the voice service's participant
events (``VoiceParticipantJoined`` / ``VoiceParticipantLeft``, :mod:`meshkit.contracts.voice`).

A voice room may be linked to a channel; while someone is in such a room, the channel
shows them "in voice". Per channel, in Redis::

    meshkit:messaging:voice:{channel}        sorted set "<room>:<user>" -> expiry (s)
    meshkit:messaging:voice:{channel}:seen   hash "<room>:<user>" -> time of the latest event (ms)

Events arrive at least once, late, and out of order (retries, takeovers): an event older
than the latest one applied for that room and user is ignored (``seen``), so a late join
cannot bring back someone who left. At the same millisecond a leave wins.

*Hygiene.* A join counts for :data:`VOICE_PRESENCE_TTL` at most, and both keys expire
that long after the channel's last voice event: if the voice service disappears for good
(its own sweeps announce the participants of a crashed instance as left), the channel
stops showing them within that time. A call longer than that shows its participants
until then only.
"""

from __future__ import annotations

import time
from datetime import datetime

from pydantic import BaseModel, Field
from redis.asyncio import Redis

PREFIX = "meshkit:messaging:voice:"
VOICE_PRESENCE_TTL = 24 * 3600
"""Seconds a join counts without its leave, and that a channel's keys outlive its last event."""

APPLY = """
local live, seen = KEYS[1], KEYS[2]
local member, at, joined = ARGV[1], tonumber(ARGV[2]), ARGV[3] == '1'
local expires, keep = tonumber(ARGV[4]), tonumber(ARGV[5])
local last = tonumber(redis.call('HGET', seen, member) or '-1')
if at < last or (at == last and joined) then return 0 end
redis.call('HSET', seen, member, at)
local changed
if joined then
  changed = redis.call('ZADD', live, 'CH', expires, member)
else
  changed = redis.call('ZREM', live, member)
end
redis.call('EXPIRE', live, keep)
redis.call('EXPIRE', seen, keep)
return changed
"""


class VoiceParticipantRef(BaseModel):
    """Someone in a voice room linked to the channel."""

    room_id: str
    user_id: str


class ChannelVoiceOut(BaseModel):
    """Who is in the voice rooms linked to a channel, now."""

    channel_id: str
    user_ids: list[str] = Field(description="Everyone in voice, each once, sorted.")
    participants: list[VoiceParticipantRef] = Field(
        description="Who is in which room (a user may be in several rooms)."
    )


class VoicePresence:
    """Voice presence per channel (module docstring), shared by every messaging instance."""

    def __init__(self, redis: Redis, *, ttl: float = VOICE_PRESENCE_TTL) -> None:
        self.redis = redis
        self.ttl = ttl
        self._apply = redis.register_script(APPLY)

    @staticmethod
    def key(channel_id: str) -> str:
        """The sorted set of a channel's voice participants."""
        return PREFIX + channel_id

    async def record(
        self, channel_id: str, room_id: str, user_id: str, at: datetime, *, joined: bool
    ) -> bool:
        """Apply a join (``joined``) or a leave that happened ``at``; whether the channel's
        voice presence changed (``False`` for a stale or repeated event)."""
        member = f"{room_id}:{user_id}"
        at_ms = round(at.timestamp() * 1000)
        expires = at.timestamp() + self.ttl
        keep = max(1, round(self.ttl))
        changed = await self._apply(
            keys=[self.key(channel_id), self.key(channel_id) + ":seen"],
            args=[member, at_ms, "1" if joined else "0", expires, keep],
        )
        return bool(int(changed))

    async def of_channel(self, channel_id: str) -> ChannelVoiceOut:
        """Who is in voice in ``channel_id`` now (expired joins are dropped)."""
        key = self.key(channel_id)
        now = time.time()
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.zremrangebyscore(key, "-inf", now)
            pipe.zrange(key, 0, -1)
            _, members = await pipe.execute()
        refs = []
        for raw in members:
            text = raw.decode() if isinstance(raw, bytes) else str(raw)
            room_id, _, user_id = text.partition(":")
            refs.append(VoiceParticipantRef(room_id=room_id, user_id=user_id))
        refs.sort(key=lambda ref: (ref.room_id, ref.user_id))
        users = sorted({ref.user_id for ref in refs})
        return ChannelVoiceOut(channel_id=channel_id, user_ids=users, participants=refs)
