"""Who is online, across devices and messaging instances, kept in Redis.

A user is online while any of their connections, on any instance, is alive; each
connection is a member of ``meshkit:presence:conns:<user>`` whose score is when it
expires. Every instance refreshes its own connections every third of the TTL, so an
instance that dies (SIGKILL, lost host) stops refreshing and its users' connections
expire. ``meshkit:presence:alive`` holds every user with a live connection, scored by
the latest expiry; each instance sweeps it and the one whose ``ZREM`` wins announces
the user offline — once, whichever instance noticed.

The status a user chose (``online``, ``idle``, ``dnd``, or ``offline`` to appear
offline) is kept in ``meshkit:presence:status:<user>`` and applies while connected.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping

from redis.asyncio import Redis

PREFIX = "meshkit:presence:"
ALIVE = PREFIX + "alive"
STATUSES = ("online", "idle", "dnd", "offline")


def _conns(user_id: str) -> str:
    return f"{PREFIX}conns:{user_id}"


def _chosen(user_id: str) -> str:
    return f"{PREFIX}status:{user_id}"


class Presence:
    """Presence records of one messaging instance (``instance`` names it in Redis)."""

    def __init__(self, redis: Redis, *, instance: str, ttl: float) -> None:
        self.redis = redis
        self.instance = instance
        self.ttl = ttl

    def _member(self, sid: str) -> str:
        return f"{self.instance}:{sid}"

    async def connected(self, user_id: str, sid: str) -> str:
        """Record a live connection; the user's status now."""
        expires = time.time() + self.ttl
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.zadd(_conns(user_id), {self._member(sid): expires})
            pipe.expire(_conns(user_id), int(self.ttl * 2) + 1)
            pipe.zadd(ALIVE, {user_id: expires}, gt=True)  # adds, or only moves it later
            await pipe.execute()
        return await self.status(user_id)

    async def disconnected(self, user_id: str, sid: str) -> str:
        """Forget a connection; the user's status now (``offline`` if it was the last)."""
        await self.redis.zrem(_conns(user_id), self._member(sid))
        status = await self.status(user_id)
        if status == "offline":
            await self.redis.zrem(ALIVE, user_id)
        return status

    async def heartbeat(self, local: Mapping[str, Iterable[str]]) -> None:
        """Extend every connection this instance holds by one TTL."""
        if not local:
            return
        expires = time.time() + self.ttl
        async with self.redis.pipeline(transaction=False) as pipe:
            for user_id, sids in local.items():
                members = {self._member(sid): expires for sid in sids}
                if not members:
                    continue
                pipe.zadd(_conns(user_id), members)
                pipe.expire(_conns(user_id), int(self.ttl * 2) + 1)
                pipe.zadd(ALIVE, {user_id: expires})
            await pipe.execute()

    async def status(self, user_id: str) -> str:
        """``offline`` without a live connection, else the chosen status (``online``)."""
        now = time.time()
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.zremrangebyscore(_conns(user_id), "-inf", now)
            pipe.zcard(_conns(user_id))
            pipe.get(_chosen(user_id))
            _, alive, chosen = await pipe.execute()
        if not alive:
            return "offline"
        text = chosen.decode() if isinstance(chosen, bytes) else chosen
        return text if text in STATUSES else "online"

    async def choose(self, user_id: str, status: str) -> str:
        """Set the status the user wants shown; the status now."""
        if status == "online":
            await self.redis.delete(_chosen(user_id))
        else:
            await self.redis.set(_chosen(user_id), status)
        return await self.status(user_id)

    async def expired(self) -> list[str]:
        """Users whose every connection has expired, each claimed by exactly one caller."""
        now = time.time()
        candidates = await self.redis.zrangebyscore(ALIVE, "-inf", now, start=0, num=500)
        gone = []
        for raw in candidates:
            user_id = raw.decode() if isinstance(raw, bytes) else str(raw)
            if await self.status(user_id) != "offline":
                continue
            if not await self.redis.zrem(ALIVE, user_id):
                continue  # another sweeper won this user
            if await self.status(user_id) != "offline":  # reconnected meanwhile: keep it
                await self.redis.zadd(ALIVE, {user_id: time.time() + self.ttl}, gt=True)
                continue
            gone.append(user_id)
        return gone
