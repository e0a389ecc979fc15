"""Metric time series in Redis, kept for a bounded time.

Layout (``P`` = ``meshkit:servers:metrics:``):

- ``P<host_id>:<metric>``: a sorted set scored by sample time (Unix seconds); each
  member is one sample of that metric, ``[at, [[labels, value], ...]]`` in JSON (every
  labelled series of the metric at that moment). Each write drops the members older
  than the retention and sets the key to expire with it, so a forgotten host's series
  vanish by themselves.
- ``P<latest>``: a hash host id → the host's latest :class:`Sample` in JSON.
- ``P<host_id>:counters``: the raw counters of the host's previous sample, for rates.

Memory per host is about the retention over the interval times the size of a sample
(a kilobyte or two): a day at 30 s is a few megabytes.
"""

from __future__ import annotations

import json
import math
import time
from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from redis.asyncio import Redis

from meshkit.services.servers.monitoring.models import MAX_POINTS, Sample, SeriesOut

PREFIX = "meshkit:servers:metrics:"
LATEST = f"{PREFIX}<latest>"


def _labels_key(labels: Mapping[str, str]) -> str:
    return json.dumps(labels, sort_keys=True, separators=(",", ":"))


def downsample(points: list[tuple[float, float]], step: float) -> list[tuple[float, float]]:
    """Average ``points`` (time-ordered) per ``step`` seconds, each at its step's start."""
    buckets: dict[float, list[float]] = {}
    for at, value in points:
        buckets.setdefault(math.floor(at / step) * step, []).append(value)
    return [(start, sum(values) / len(values)) for start, values in buckets.items()]


class Series:
    """Writes samples and answers range queries (module docstring)."""

    def __init__(self, redis: Redis, retention: float) -> None:
        self.redis = redis
        self.retention = retention

    def _key(self, host_id: str, metric: str) -> str:
        return f"{PREFIX}{host_id}:{metric}"

    async def write(self, sample: Sample) -> None:
        """Store every point of ``sample``, drop what is past the retention, and make it
        the host's latest sample."""
        grouped: dict[str, list[list[Any]]] = defaultdict(list)
        for point in sample.points:
            grouped[point.name].append([point.labels, point.value])
        oldest = sample.at - self.retention
        ttl = max(1, math.ceil(self.retention))
        async with self.redis.pipeline(transaction=False) as pipe:
            for metric, values in grouped.items():
                key = self._key(sample.host_id, metric)
                member = json.dumps([sample.at, values], separators=(",", ":"))
                pipe.zadd(key, {member: sample.at})
                pipe.zremrangebyscore(key, "-inf", f"({oldest}")
                pipe.expire(key, ttl)
            pipe.hset(LATEST, sample.host_id, json.dumps(sample.to_json()))
            await pipe.execute()

    async def query(
        self,
        host_id: str,
        metric: str,
        since: float,
        until: float,
        step: float | None = None,
    ) -> tuple[list[SeriesOut], float | None]:
        """The series of ``metric`` on ``host_id`` between ``since`` and ``until``
        (inclusive), one per label set, averaged per ``step`` seconds; when no step is
        given and a series has more than :data:`MAX_POINTS`, a step that fits is chosen.
        Returns the series and the step used (``None``: raw samples)."""
        members = await self.redis.zrangebyscore(self._key(host_id, metric), since, until)
        by_labels: dict[str, tuple[dict[str, str], list[tuple[float, float]]]] = {}
        for member in members:
            at, values = json.loads(member if isinstance(member, bytes | str) else str(member))
            for labels, value in values:
                key = _labels_key(labels)
                entry = by_labels.setdefault(key, (labels, []))
                entry[1].append((float(at), float(value)))
        longest = max((len(points) for _, points in by_labels.values()), default=0)
        if step is None and longest > MAX_POINTS:
            step = math.ceil((until - since) / MAX_POINTS)
        series = []
        for key in sorted(by_labels):
            labels, points = by_labels[key]
            series.append(
                SeriesOut(labels=labels, points=downsample(points, step) if step else points)
            )
        return series, step

    async def latest(self, host_ids: Iterable[str] | None = None) -> list[Sample]:
        """The latest sample of each host (of ``host_ids``, or all), newer than the
        retention, ordered by host id."""
        values: list[bytes | str | None]
        if host_ids is None:
            raw = await self.redis.hgetall(LATEST)
            values = list(raw.values())
        else:
            wanted = list(host_ids)
            values = list(await self.redis.hmget(LATEST, wanted)) if wanted else []
        oldest = time.time() - self.retention
        samples = [Sample.from_json(json.loads(v)) for v in values if v is not None]
        return sorted((s for s in samples if s.at >= oldest), key=lambda s: s.host_id)

    async def swap_counters(
        self, host_id: str, at: float, counters: Mapping[str, Any], ttl: float
    ) -> tuple[float, dict[str, Any]] | None:
        """Keep ``counters`` (taken at ``at``) for the host's next sample, for ``ttl``
        seconds; return the previous ones and their time, if any were kept."""
        value = json.dumps({"at": at, "counters": counters})
        previous = await self.redis.set(
            f"{PREFIX}{host_id}:counters", value, ex=max(1, math.ceil(ttl)), get=True
        )
        if not isinstance(previous, bytes | str):
            return None
        data = json.loads(previous)
        return float(data["at"]), dict(data["counters"])

    async def forget(self, host_id: str) -> None:
        """Drop the host's latest sample and counters (its series expire by themselves)."""
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.hdel(LATEST, host_id)
            pipe.delete(f"{PREFIX}{host_id}:counters")
            await pipe.execute()
