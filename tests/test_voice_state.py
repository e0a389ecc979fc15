"""Live voice state on a real Redis: places, reconnects, liveness TTLs, the room claim,
heartbeats and server mutes; several ``VoiceState`` objects stand for several instances."""

from __future__ import annotations

import asyncio

import pytest

from meshkit.services.voice.errors import RoomElsewhere
from meshkit.services.voice.state import VoiceState

ROOM = "01HZX3Y8ZP7Q4V2N6M5K9J1T0A"
OTHER = "01HZX3Y8ZP7Q4V2N6M5K9J1T0B"
TTL = 0.4  # seconds: short, so lapsing is quick to observe


@pytest.fixture
def state(meshkit_redis):
    return VoiceState(meshkit_redis, TTL)


async def users(state: VoiceState, room: str = ROOM) -> list[str]:
    return [p.user_id for p in await state.participants(room)]


async def test_enter_roster_and_leave(state):
    first = await state.enter(ROOM, "ada", "i1", max_participants=5)
    assert first.participant is not None
    assert first.new
    assert first.participant.instance == "i1"
    assert not first.participant.muted
    await state.enter(ROOM, "bob", "i1", max_participants=5)
    assert await users(state) == ["ada", "bob"]  # by join time
    assert await state.room_instance(ROOM) == "i1"
    left = await state.leave(ROOM, "ada")
    assert left is not None
    assert left.user_id == "ada"
    assert await state.leave(ROOM, "ada") is None  # once
    assert await users(state) == ["bob"]
    await state.leave(ROOM, "bob")
    assert await users(state) == []
    assert await state.room_instance(ROOM) is None  # the last one out releases the room


async def test_a_full_room_records_nothing_but_a_reconnect_keeps_its_place(state):
    await state.enter(ROOM, "ada", "i1", max_participants=2)
    await state.enter(ROOM, "bob", "i1", max_participants=2)
    refused = await state.enter(ROOM, "eve", "i1", max_participants=2)
    assert refused.participant is None
    assert refused.others == 2
    assert await users(state) == ["ada", "bob"]
    await state.update(ROOM, "ada", muted=True, speaking=True)
    again = await state.enter(ROOM, "ada", "i1", max_participants=2)
    assert again.participant is not None
    assert not again.new
    assert again.participant.muted  # state kept
    assert not again.participant.speaking  # a new connection is not speaking yet


async def test_concurrent_enters_never_overfill_a_room(meshkit_redis):
    instances = [VoiceState(meshkit_redis, 5.0) for _ in range(4)]
    outcomes = await asyncio.gather(
        *(instances[n % 4].enter(ROOM, f"user{n}", "i1", max_participants=5) for n in range(40))
    )
    assert sum(o.participant is not None for o in outcomes) == 5
    assert len(await instances[0].participants(ROOM)) == 5


async def test_a_crashed_instances_participants_vanish_after_the_ttl(meshkit_redis):
    crashed = VoiceState(meshkit_redis, TTL)  # never beats: as if SIGKILLed after entering
    reader = VoiceState(meshkit_redis, TTL)
    await crashed.enter(ROOM, "ada", "dead", max_participants=5)
    await crashed.enter(ROOM, "bob", "dead", max_participants=5)
    assert await users(reader) == ["ada", "bob"]
    with pytest.raises(RoomElsewhere) as refused:
        await reader.enter(ROOM, "eve", "alive", max_participants=5)
    assert refused.value.extensions["instance"] == "dead"
    await asyncio.sleep(TTL + 0.2)
    roster = await reader.roster(ROOM)
    assert roster.live == []
    assert sorted(p.user_id for p in roster.gone) == ["ada", "bob"]
    assert (await reader.roster(ROOM)).gone == []  # removed once: announced once
    # the room's claim lapsed too: another instance hosts it now
    entered = await reader.enter(ROOM, "eve", "alive", max_participants=5)
    assert entered.participant is not None
    assert await reader.room_instance(ROOM) == "alive"


async def test_a_lapsed_participant_is_removed_by_the_next_enter(meshkit_redis):
    crashed = VoiceState(meshkit_redis, TTL)
    await crashed.enter(ROOM, "ada", "dead", max_participants=1)
    await asyncio.sleep(TTL + 0.2)
    other = VoiceState(meshkit_redis, TTL)
    entered = await other.enter(ROOM, "bob", "alive", max_participants=1)  # ada's place is free
    assert entered.participant is not None
    assert [p.user_id for p in entered.gone] == ["ada"]


async def test_the_heartbeat_keeps_participants_and_the_room_claim(state):
    await state.enter(ROOM, "ada", "i1", max_participants=5)
    await state.start()
    try:
        await asyncio.sleep(TTL * 3)
        assert await users(state) == ["ada"]
        assert await state.room_instance(ROOM) == "i1"
    finally:
        await state.stop()
    await asyncio.sleep(TTL + 0.2)
    assert await users(state) == []


async def test_the_heartbeat_reports_participants_removed_elsewhere(meshkit_redis):
    host = VoiceState(meshkit_redis, TTL)
    elsewhere = VoiceState(meshkit_redis, TTL)
    await host.enter(ROOM, "ada", "host", max_participants=5)
    await host.enter(ROOM, "bob", "host", max_participants=5)
    await elsewhere.leave(ROOM, "ada")  # a kick through another instance
    lost: list[tuple[str, str]] = []

    async def on_lost(room_id: str, user_id: str) -> None:
        lost.append((room_id, user_id))

    await host.start(on_lost)
    try:
        await asyncio.sleep(TTL)
    finally:
        await host.stop()
    assert lost == [(ROOM, "ada")]  # reported once, not revived
    assert host.hosted() == [(ROOM, "bob")]
    assert await users(host) == ["bob"]


async def test_a_participant_reentering_on_another_instance_is_lost_to_the_old_one(meshkit_redis):
    old = VoiceState(meshkit_redis, TTL)
    new = VoiceState(meshkit_redis, TTL)
    await old.enter(ROOM, "ada", "old", max_participants=5)
    await old.release_room(ROOM, "old")  # the old instance let the room go
    await new.enter(ROOM, "ada", "new", max_participants=5)
    assert await old.heartbeat() == [(ROOM, "ada")]
    participant = await new.participant(ROOM, "ada")
    assert participant is not None
    assert participant.instance == "new"


async def test_server_mute_outlives_leaving_and_goes_with_the_room(state):
    await state.enter(ROOM, "ada", "i1", max_participants=5)
    changed = await state.update(ROOM, "ada", server_muted=True)
    assert changed is not None
    before, after = changed
    assert not before.server_muted
    assert after.server_muted
    await state.leave(ROOM, "ada")
    again = await state.enter(ROOM, "ada", "i1", max_participants=5)
    assert again.participant is not None
    assert again.participant.server_muted
    dropped = await state.clear_room(ROOM)
    assert [p.user_id for p in dropped] == ["ada"]
    assert await users(state) == []
    fresh = await state.enter(ROOM, "ada", "i1", max_participants=5)
    assert fresh.participant is not None
    assert not fresh.participant.server_muted


async def test_updates_need_a_live_participant(state):
    assert await state.update(ROOM, "ghost", muted=True) is None
    assert await state.participant(ROOM, "ghost") is None
    with pytest.raises(ValueError, match="instance"):
        await state.update(ROOM, "ghost", instance=True)


async def test_counts_of_many_rooms_in_one_round_trip(state):
    await state.enter(ROOM, "ada", "i1", max_participants=5)
    await state.enter(ROOM, "bob", "i1", max_participants=5)
    await state.enter(OTHER, "eve", "i1", max_participants=5)
    assert await state.counts([ROOM, OTHER, "01HZX3Y8ZP7Q4V2N6M5K9J1T0C"]) == {
        ROOM: 2,
        OTHER: 1,
        "01HZX3Y8ZP7Q4V2N6M5K9J1T0C": 0,
    }
    assert await state.counts([]) == {}


async def test_redis_down_is_a_503_problem_not_a_crash():
    from redis.asyncio import Redis

    from meshkit.errors import ServiceUnavailable

    dead = Redis.from_url("redis://127.0.0.1:1", socket_connect_timeout=0.2)
    try:
        with pytest.raises(ServiceUnavailable):
            await VoiceState(dead, TTL).participants(ROOM)
    finally:
        await dead.aclose()
