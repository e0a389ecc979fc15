"""A check's state machine and where it lives (Redis, shared by every instance).

:func:`advance` is the machine, pure; :class:`HealthStates` applies it to the state kept
in Redis atomically (an optimistic ``WATCH``/``MULTI`` transaction), so two instances
recording results for one check never lose one, and each change of state is counted
once and appended once to the check's bounded history.

The machine (``f``, ``s``: consecutive failures, successes, counting the new result;
"slow": a success slower than ``degraded_latency_ms``)::

    f >= failures_to_down                      -> down
    was down:     s >= successes_to_up         -> up (degraded if slow), else down
    was unknown:  s >= successes_to_up         -> up (degraded if slow), else unknown
    was up/degraded: a failure, or slow        -> degraded
                     degraded and s < successes_to_up -> degraded
                     otherwise                 -> up

So a check goes ``down`` only after ``failures_to_down`` failures in a row and comes back
only after ``successes_to_up`` successes in a row (hysteresis: one flap is ``degraded``,
not an alert storm).
"""

from __future__ import annotations

from collections.abc import Iterable

from redis.asyncio import Redis
from redis.exceptions import WatchError

from meshkit.contracts.servers import HealthState
from meshkit.services.servers.health.models import CheckState, ProbeResult, Transition

PREFIX = "meshkit:servers:health:"
ATTEMPTS = 50


def decide(
    current: CheckState,
    result: ProbeResult,
    *,
    failures_to_down: int,
    successes_to_up: int,
    degraded_latency_ms: int | None,
) -> HealthState:
    """The state after ``result`` (see the module docstring); counters are not changed."""
    failures = 0 if result.ok else current.failures + 1
    successes = current.successes + 1 if result.ok else 0
    slow = result.ok and degraded_latency_ms is not None and result.latency_ms > degraded_latency_ms
    healthy: HealthState = "degraded" if slow else "up"
    if failures >= failures_to_down:
        return "down"
    if current.state in ("down", "unknown"):
        return healthy if successes >= successes_to_up else current.state
    if not result.ok or slow:
        return "degraded"
    if current.state == "degraded" and successes < successes_to_up:
        return "degraded"
    return "up"


def advance(
    current: CheckState,
    result: ProbeResult,
    *,
    failures_to_down: int,
    successes_to_up: int,
    degraded_latency_ms: int | None,
) -> CheckState:
    """The check's state after ``result``: counters, last result, and a new ``since`` and
    transition number when the state changed."""
    state = decide(
        current,
        result,
        failures_to_down=failures_to_down,
        successes_to_up=successes_to_up,
        degraded_latency_ms=degraded_latency_ms,
    )
    changed = state != current.state
    return CheckState(
        state=state,
        since=result.at if changed else current.since,
        failures=0 if result.ok else current.failures + 1,
        successes=current.successes + 1 if result.ok else 0,
        transitions=current.transitions + (1 if changed else 0),
        runs=current.runs + 1,
        last_result=result,
    )


def _state_key(check_id: str) -> str:
    return f"{PREFIX}state:{check_id}"


def _history_key(check_id: str) -> str:
    return f"{PREFIX}history:{check_id}"


class HealthStates:
    """Checks' live states and histories in Redis; ``history_size`` changes are kept per
    check (older ones dropped)."""

    def __init__(self, redis: Redis, history_size: int) -> None:
        self.redis = redis
        self.history_size = history_size

    async def get(self, check_id: str) -> CheckState:
        """The check's state (``unknown`` with no runs when it has none yet)."""
        raw = await self.redis.get(_state_key(check_id))
        return CheckState() if raw is None else CheckState.model_validate_json(raw)

    async def get_many(self, check_ids: Iterable[str]) -> dict[str, CheckState]:
        """The states of ``check_ids`` (fresh ones for checks never run)."""
        ids = list(check_ids)
        if not ids:
            return {}
        raws = await self.redis.mget([_state_key(i) for i in ids])
        return {
            i: CheckState() if raw is None else CheckState.model_validate_json(raw)
            for i, raw in zip(ids, raws, strict=True)
        }

    async def record(
        self,
        check_id: str,
        result: ProbeResult,
        *,
        failures_to_down: int,
        successes_to_up: int,
        degraded_latency_ms: int | None,
    ) -> tuple[CheckState, CheckState]:
        """Apply ``result`` to the check's state atomically; ``(before, after)``.

        A change of state is appended to the history in the same transaction.
        """
        key, history = _state_key(check_id), _history_key(check_id)
        for _ in range(ATTEMPTS):
            async with self.redis.pipeline(transaction=True) as pipe:
                try:
                    await pipe.watch(key)
                    raw = await pipe.get(key)
                    before = CheckState() if raw is None else CheckState.model_validate_json(raw)
                    after = advance(
                        before,
                        result,
                        failures_to_down=failures_to_down,
                        successes_to_up=successes_to_up,
                        degraded_latency_ms=degraded_latency_ms,
                    )
                    pipe.multi()  # type: ignore[no-untyped-call]
                    pipe.set(key, after.model_dump_json())
                    if after.state != before.state:
                        change = Transition(
                            number=after.transitions,
                            previous=before.state,
                            state=after.state,
                            at=result.at,
                            detail=result.detail,
                        )
                        pipe.lpush(history, change.model_dump_json())
                        pipe.ltrim(history, 0, self.history_size - 1)
                    await pipe.execute()
                    return before, after
                except WatchError:
                    continue
        raise RuntimeError(f"health state of {check_id} kept changing under us")

    async def history(self, check_id: str, limit: int) -> list[Transition]:
        """The check's newest ``limit`` changes, newest first."""
        raws = await self.redis.lrange(_history_key(check_id), 0, limit - 1)
        return [Transition.model_validate_json(raw) for raw in raws]

    async def forget(self, check_id: str) -> None:
        """Drop the check's state and history (it was deleted)."""
        await self.redis.delete(_state_key(check_id), _history_key(check_id))
