"""The event bus against a real redis-server: delivery, takeover, retries, dead letters."""

from __future__ import annotations

import asyncio
import inspect
import json
import signal
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from meshkit.events import (
    Consumer,
    Envelope,
    Event,
    EventBus,
    dead_letter_key,
    done_key,
    event_class,
    handlers_of,
    on,
    stream_key,
)
from meshkit.events import scripts as event_scripts
from meshkit.redis import EmbeddedRedis
from meshkit.testing import make_settings
from tests.event_worker import COMPLETED, Job

ROOT = Path(__file__).parent.parent
CLAIM_IDLE = 0.2


class UserEvent(Event, abstract=True):
    topic = "test.users"


class UserRegistered(UserEvent):
    type = "meshkit.test.user.registered.v1"

    user_id: str
    name: str
    at: datetime


class UserRenamed(UserEvent):
    type = "meshkit.test.user.renamed.v1"

    user_id: str
    name: str


class Ping(Event):
    topic = "test.pings"
    type = "meshkit.test.ping.v1"

    n: int


USERS = stream_key(UserEvent.topic)
PINGS = stream_key(Ping.topic)


def registered(n: int = 1) -> UserRegistered:
    return UserRegistered(user_id=f"u{n}", name=f"user {n}", at=datetime(2024, 5, 6, tzinfo=UTC))


async def eventually(check, *, within: float = 10.0, what: str = "condition"):
    """Poll ``check`` (sync or async) until it returns something truthy."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        result = check()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return result
        if loop.time() > deadline:
            pytest.fail(f"timed out after {within}s waiting for {what}")
        await asyncio.sleep(0.01)


async def hang_forever() -> None:
    await asyncio.Event().wait()


async def pending_count(redis, stream: str, group: str) -> int:
    return (await redis.xpending(stream, group))["pending"]


async def nothing_pending(redis, stream: str, group: str) -> bool:
    return await pending_count(redis, stream, group) == 0


def handled(bus: EventBus, group: str, type_name: str, outcome: str) -> float:
    labels = {"group": group, "type": type_name, "outcome": outcome}
    return bus.registry.get_sample_value("meshkit_events_handled_total", labels) or 0.0


@pytest.fixture
def settings(tmp_path, meshkit_redis_url):
    return make_settings(
        tmp_path,
        MESHKIT_REDIS_URL=meshkit_redis_url,
        MESHKIT_EVENTS_CLAIM_IDLE=str(CLAIM_IDLE),
        MESHKIT_EVENTS_RETRY_DELAY="0.01",
        MESHKIT_EVENTS_MAX_ATTEMPTS="3",
    )


@pytest.fixture
def bus(meshkit_redis, settings):
    return EventBus(meshkit_redis, source="tests", settings=settings, registry=CollectorRegistry())


# Declaring events and handlers


def test_event_classes_are_checked_when_declared():
    with pytest.raises(TypeError, match="topic"):

        class NoTopic(Event):
            type = "meshkit.test.no-topic.v1"

    with pytest.raises(TypeError, match="own type"):

        class NoType(UserEvent):
            pass

    with pytest.raises(TypeError, match="already declared by"):

        class Again(UserEvent):
            type = UserRegistered.type

    with pytest.raises(TypeError, match="own type"):

        class Inherited(UserRegistered):  # would share (and steal) its parent's type
            pass

    with pytest.raises(TypeError, match="topic"):

        class BadTopic(Event):
            topic = "has:colon"
            type = "meshkit.test.bad-topic.v1"

    assert event_class(UserRegistered.type) is UserRegistered
    assert event_class("meshkit.test.no-topic.v1") is None


def test_on_and_handlers_of_follow_the_mro():
    class Base:
        @on(UserRegistered)
        async def greet(self, event: UserRegistered, envelope: Envelope) -> None: ...

        @on(Ping)
        async def pong(self, event: Ping, envelope: Envelope) -> None: ...

    class Child(Base):
        async def pong(self, event: Ping, envelope: Envelope) -> None:  # overridden, unmarked
            ...

        @on(UserRenamed)
        async def rename(self, event: UserRenamed, envelope: Envelope) -> None: ...

    child = Child()
    found = handlers_of(child)
    assert found == {UserRegistered: child.greet, UserRenamed: child.rename}
    assert handlers_of(Base())[Ping].__self__ is not None

    class Twice(Base):
        @on(UserRegistered)
        async def welcome(self, event: UserRegistered, envelope: Envelope) -> None: ...

    with pytest.raises(TypeError, match=r"both welcome\(\) and greet\(\)"):
        handlers_of(Twice())
    with pytest.raises(TypeError, match="async def"):
        on(Ping)(lambda event, envelope: None)
    with pytest.raises(TypeError, match="abstract"):
        on(UserEvent)


async def test_abstract_events_cannot_be_published(bus):
    with pytest.raises(TypeError, match="abstract"):
        await bus.publish(UserEvent())
    with pytest.raises(ValueError, match="event id"):
        await bus.publish(registered(), id="has space")


def test_buses_share_one_registry(meshkit_redis, settings):
    registry = CollectorRegistry()
    first = EventBus(meshkit_redis, source="a", settings=settings, registry=registry)
    second = EventBus(meshkit_redis, source="b", settings=settings, registry=registry)
    assert first.metrics is second.metrics


# Delivery


async def test_published_event_reaches_its_handler_with_the_envelope(bus, meshkit_redis):
    got: list[tuple[UserRegistered, Envelope]] = []

    async def greet(event: UserRegistered, envelope: Envelope) -> None:
        got.append((event, envelope))

    async with Consumer(bus, group="mail", handlers={UserRegistered: greet}):
        sent = await bus.publish(registered(7), subject="u7")
        await eventually(lambda: got, what="the event")

    event, envelope = got[0]
    assert event == registered(7)
    assert isinstance(event, UserRegistered)
    assert event.at == datetime(2024, 5, 6, tzinfo=UTC)
    assert envelope == sent
    assert len(envelope.id) == 26  # a ULID
    assert envelope.type == "meshkit.test.user.registered.v1"
    assert envelope.source == "tests"
    assert envelope.subject == "u7"
    assert envelope.specversion == "1.0"
    assert envelope.time.tzinfo is UTC
    assert abs((datetime.now(UTC) - envelope.time).total_seconds()) < 5
    assert envelope.data == {"user_id": "u7", "name": "user 7", "at": "2024-05-06T00:00:00Z"}

    [(_, fields)] = await meshkit_redis.xrange(USERS)
    assert set(fields) == {b"specversion", b"id", b"type", b"source", b"time", b"subject", b"data"}
    assert fields[b"time"].endswith(b"Z")
    assert json.loads(fields[b"data"]) == envelope.data
    assert await pending_count(meshkit_redis, USERS, "mail") == 0
    assert await meshkit_redis.exists(done_key("mail", envelope.id))
    published = {"topic": "test.users", "type": UserRegistered.type}
    assert bus.registry.get_sample_value("meshkit_events_published_total", published) == 1
    assert handled(bus, "mail", UserRegistered.type, "ok") == 1
    duration = {"group": "mail", "type": UserRegistered.type}
    assert bus.registry.get_sample_value("meshkit_event_handler_duration_seconds_count", duration)


async def test_every_group_gets_every_event_and_a_group_splits_them(bus, meshkit_redis):
    seen: dict[str, list[str]] = {"audit": [], "mail-a": [], "mail-b": []}

    def recorder(key: str):
        async def record(event: Ping, envelope: Envelope) -> None:
            await asyncio.sleep(0.005)
            seen[key].append(envelope.id)

        return record

    consumers = [
        Consumer(bus, group="audit", handlers={Ping: recorder("audit")}),
        Consumer(bus, group="mail", handlers={Ping: recorder("mail-a")}, batch=1),
        Consumer(bus, group="mail", handlers={Ping: recorder("mail-b")}, batch=1),
    ]
    for consumer in consumers:
        await consumer.start()
    try:
        ids = [(await bus.publish(Ping(n=n))).id for n in range(20)]
        await eventually(lambda: len(seen["audit"]) == 20, what="the audit group")
        await eventually(lambda: len(seen["mail-a"]) + len(seen["mail-b"]) >= 20, what="mail")
    finally:
        for consumer in consumers:
            await consumer.stop()

    assert seen["audit"] == ids  # one consumer: in publishing order
    assert sorted(seen["mail-a"] + seen["mail-b"]) == sorted(ids)  # each exactly once
    assert seen["mail-a"], "both consumers of the group took a share"
    assert seen["mail-b"], "both consumers of the group took a share"
    assert consumers[1].name != consumers[2].name


async def test_a_new_group_starts_at_the_oldest_event_unless_told_otherwise(bus):
    old = await bus.publish(Ping(n=1))
    got: dict[str, list[str]] = {"oldest": [], "latest": []}

    def recorder(key: str):
        async def record(event: Ping, envelope: Envelope) -> None:
            got[key].append(envelope.id)

        return record

    oldest = Consumer(bus, group="oldest", handlers={Ping: recorder("oldest")})
    latest = Consumer(bus, group="latest", handlers={Ping: recorder("latest")}, start_at="latest")
    async with oldest, latest:
        new = await bus.publish(Ping(n=2))
        await eventually(lambda: len(got["oldest"]) == 2 and got["latest"], what="both groups")
    assert got == {"oldest": [old.id, new.id], "latest": [new.id]}


async def test_types_without_a_handler_are_acknowledged_and_skipped(bus, meshkit_redis):
    got = []

    async def greet(event: UserRegistered, envelope: Envelope) -> None:
        got.append(envelope.id)

    async with Consumer(bus, group="mail", handlers={UserRegistered: greet}):
        await bus.publish(UserRenamed(user_id="u1", name="new"))
        wanted = await bus.publish(registered())
        await eventually(lambda: got, what="the handled event")
        await eventually(lambda: handled(bus, "mail", UserRenamed.type, "skipped") == 1)
    assert got == [wanted.id]
    assert await pending_count(meshkit_redis, USERS, "mail") == 0


async def test_the_same_event_id_published_twice_is_handled_once(bus, meshkit_redis):
    calls = []

    async def greet(event: UserRegistered, envelope: Envelope) -> None:
        calls.append(envelope.id)

    async with Consumer(bus, group="mail", handlers={UserRegistered: greet}):
        await bus.publish(registered(), id="order-1")
        await bus.publish(registered(), id="order-1")  # a publisher retrying
        await eventually(lambda: handled(bus, "mail", UserRegistered.type, "duplicate") == 1)
    assert calls == ["order-1"]
    assert await meshkit_redis.xlen(USERS) == 2
    assert await pending_count(meshkit_redis, USERS, "mail") == 0
    ttl = await meshkit_redis.ttl(done_key("mail", "order-1"))
    assert 86_000 < ttl <= 86_400  # the dedupe window (MESHKIT_EVENTS_DEDUPE_WINDOW)


async def test_the_same_id_twice_in_one_batch_is_handled_once(bus, meshkit_redis):
    calls = []

    async def greet(event: UserRegistered, envelope: Envelope) -> None:
        calls.append(envelope.id)

    for event_id in ("a", "b", "a", "c", "b"):
        await bus.publish(registered(), id=event_id)
    async with Consumer(bus, group="mail", handlers={UserRegistered: greet}):
        await eventually(lambda: handled(bus, "mail", UserRegistered.type, "duplicate") == 2)
    assert calls == ["a", "b", "c"]
    assert await pending_count(meshkit_redis, USERS, "mail") == 0


# Crashes and slow handlers


async def test_a_cancelled_consumers_events_are_taken_over_exactly_once(bus, meshkit_redis):
    completed: Counter[str] = Counter()
    by_b: list[str] = []
    started_by_a: list[str] = []
    a_is_stuck = asyncio.Event()

    async def handle_a(event: Ping, envelope: Envelope) -> None:
        started_by_a.append(envelope.id)
        if len(started_by_a) == 3:
            a_is_stuck.set()
            await hang_forever()
        completed[envelope.id] += 1

    async def handle_b(event: Ping, envelope: Envelope) -> None:
        await asyncio.sleep(0.002)
        completed[envelope.id] += 1
        by_b.append(envelope.id)

    ids = [(await bus.publish(Ping(n=n))).id for n in range(20)]
    a = Consumer(bus, group="g", handlers={Ping: handle_a}, name="a")
    task = asyncio.create_task(a.run())
    await asyncio.wait_for(a_is_stuck.wait(), 10)
    async with Consumer(bus, group="g", handlers={Ping: handle_b}, name="b"):
        task.cancel()  # a dies while its handler awaits, holding the rest of its batch
        with pytest.raises(asyncio.CancelledError):
            await task
        await eventually(lambda: len(completed) == 20, what="all 20 events")
        await eventually(lambda: nothing_pending(meshkit_redis, PINGS, "g"))

    assert set(completed) == set(ids)
    assert set(completed.values()) == {1}, f"handled more than once: {completed}"
    stuck = started_by_a[2]
    assert stuck in by_b
    assert len(started_by_a) == 3


async def test_a_killed_process_events_are_taken_over_exactly_once(
    bus, meshkit_redis, meshkit_redis_url, tmp_path
):
    ids = [(await bus.publish(Job(n=n))).id for n in range(20)]
    worker = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.event_worker",
        meshkit_redis_url,
        str(tmp_path),
        "jobs",
        "5",
        str(CLAIM_IDLE),
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert worker.stdout is not None
        line = b""
        while not line.startswith(b"hanging "):
            line = await asyncio.wait_for(worker.stdout.readline(), 20)
            assert line, "the worker exited early"
        stuck = line.split()[1].decode()
        worker.send_signal(signal.SIGKILL)  # mid-handler: no cleanup at all
        assert await worker.wait() == -signal.SIGKILL
    finally:
        if worker.returncode is None:
            worker.kill()
            await worker.wait()
    before = await meshkit_redis.lrange(COMPLETED, 0, -1)
    assert len(before) == 4  # the four jobs it finished before hanging on the fifth
    pending = await meshkit_redis.xpending_range(stream_key(Job.topic), "jobs", "-", "+", 100)
    assert {entry["consumer"] for entry in pending} == {b"worker"}
    assert len(pending) == 12  # the hung fifth and the rest of its batch of 16

    async def finish(job: Job, envelope: Envelope) -> None:
        await meshkit_redis.rpush(COMPLETED, envelope.id)

    async def all_completed() -> bool:
        return await meshkit_redis.llen(COMPLETED) >= 20

    async def worker_forgotten() -> bool:
        consumers = await meshkit_redis.xinfo_consumers(stream_key(Job.topic), "jobs")
        return {consumer["name"] for consumer in consumers} == {b"rescuer"}

    async with Consumer(bus, group="jobs", handlers={Job: finish}, name="rescuer"):
        await eventually(all_completed, what="all 20 jobs")
        await eventually(worker_forgotten, what="the dead worker to leave the group")

    completed = [entry.decode() for entry in await meshkit_redis.lrange(COMPLETED, 0, -1)]
    assert sorted(completed) == sorted(ids), "each job completed exactly once"
    assert stuck in completed[4:]
    assert await pending_count(meshkit_redis, stream_key(Job.topic), "jobs") == 0


async def test_a_slow_but_alive_handler_keeps_its_event(bus, meshkit_redis):
    starts: list[str] = []
    deliveries: list[int] = []

    async def slow(event: Ping, envelope: Envelope) -> None:
        starts.append(envelope.id)
        await asyncio.sleep(CLAIM_IDLE * 4)  # far longer than the claim-idle time
        [entry] = await meshkit_redis.xpending_range(PINGS, "g", "-", "+", 10)
        deliveries.append(entry["times_delivered"])

    one = Consumer(bus, group="g", handlers={Ping: slow})
    other = Consumer(bus, group="g", handlers={Ping: slow})
    async with one, other:
        await bus.publish(Ping(n=1))
        await eventually(lambda: handled(bus, "g", Ping.type, "ok") == 1, what="the slow event")
        await asyncio.sleep(CLAIM_IDLE)  # a thief would strike now, if there were one
    assert len(starts) == 1
    assert deliveries == [1]  # never re-claimed by the other consumer


async def test_delivery_counts_survive_crashes_so_a_poison_event_ends_dead(bus, meshkit_redis):
    entered = asyncio.Event()
    calls = 0

    async def crash(event: Ping, envelope: Envelope) -> None:
        nonlocal calls
        calls += 1
        entered.set()
        await hang_forever()  # as if it took the process down

    await bus.publish(Ping(n=1))
    for _ in range(3):  # MESHKIT_EVENTS_MAX_ATTEMPTS=3
        entered.clear()
        task = asyncio.create_task(Consumer(bus, group="g", handlers={Ping: crash}).run())
        await asyncio.wait_for(entered.wait(), 10)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    async with Consumer(bus, group="g", handlers={Ping: crash}):
        await eventually(lambda: meshkit_redis.xlen(dead_letter_key(Ping.topic)))
    assert calls == 3  # the fourth delivery is not attempted
    [(_, dead)] = await meshkit_redis.xrange(dead_letter_key(Ping.topic))
    assert dead[b"attempts"] == b"3"
    assert b"not completed in 3 deliveries" in dead[b"error"]
    assert await pending_count(meshkit_redis, PINGS, "g") == 0


# Failures, retries, dead letters


async def test_a_failing_handler_is_retried_with_backoff_until_it_succeeds(bus, meshkit_redis):
    calls: list[float] = []

    async def flaky(event: Ping, envelope: Envelope) -> None:
        calls.append(time.monotonic())
        if len(calls) < 3:
            raise ConnectionError("upstream down")

    async with Consumer(bus, group="g", handlers={Ping: flaky}):
        await bus.publish(Ping(n=1))
        await eventually(lambda: handled(bus, "g", Ping.type, "ok") == 1, what="success")
    assert len(calls) == 3
    assert calls[1] - calls[0] >= 0.01  # MESHKIT_EVENTS_RETRY_DELAY
    assert calls[2] - calls[1] >= 0.02  # doubled
    assert handled(bus, "g", Ping.type, "failed") == 2
    assert await pending_count(meshkit_redis, PINGS, "g") == 0
    assert await meshkit_redis.xlen(dead_letter_key(Ping.topic)) == 0


async def test_a_cancelled_error_from_the_handler_itself_is_a_failure(bus, meshkit_redis):
    calls = 0

    async def awaits_a_cancelled_future(event: Ping, envelope: Envelope) -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            future = asyncio.get_running_loop().create_future()
            future.cancel()
            await future  # CancelledError, but nobody is stopping the consumer

    async with Consumer(bus, group="g", handlers={Ping: awaits_a_cancelled_future}):
        await bus.publish(Ping(n=1))
        await eventually(lambda: handled(bus, "g", Ping.type, "ok") == 1, what="the retry")
        second = await bus.publish(Ping(n=2))  # and the consumer is still alive
        await eventually(lambda: handled(bus, "g", Ping.type, "ok") == 2, what=second.id)
    assert handled(bus, "g", Ping.type, "failed") == 1


async def test_a_handler_that_always_fails_ends_in_the_dead_letter_stream(bus, meshkit_redis):
    fixed = False
    calls = 0
    audited: list[str] = []

    async def fragile(event: UserRegistered, envelope: Envelope) -> None:
        nonlocal calls
        calls += 1
        if not fixed:
            raise RuntimeError("boom")

    async def audit(event: UserRegistered, envelope: Envelope) -> None:
        audited.append(envelope.id)

    mail = Consumer(bus, group="mail", handlers={UserRegistered: fragile})
    auditor = Consumer(bus, group="audit", handlers={UserRegistered: audit})
    async with mail, auditor:
        sent = await bus.publish(registered(), subject="u1")
        dead = dead_letter_key(UserEvent.topic)
        await eventually(lambda: meshkit_redis.xlen(dead), what="the dead letter")
        assert calls == 3
        assert await pending_count(meshkit_redis, USERS, "mail") == 0
        [(dead_id, fields)] = await meshkit_redis.xrange(dead)
        assert fields[b"error"] == b"RuntimeError: boom"
        assert fields[b"failed_group"] == b"mail"
        assert fields[b"attempts"] == b"3"
        [(original_id, original)] = await meshkit_redis.xrange(USERS)
        assert fields[b"stream_id"] == original_id
        assert {k: v for k, v in fields.items() if k in original} == original
        assert handled(bus, "mail", UserRegistered.type, "failed") == 3
        assert handled(bus, "mail", UserRegistered.type, "dead_lettered") == 1
        await eventually(lambda: audited, what="the other group")

        fixed = True  # the bug is fixed: replay it
        assert await bus.replay_dead_letter(UserEvent.topic, dead_id.decode())
        await eventually(lambda: handled(bus, "mail", UserRegistered.type, "ok") == 1)
        await eventually(lambda: handled(bus, "audit", UserRegistered.type, "duplicate") == 1)
    assert calls == 4
    assert audited == [sent.id]  # the group that had handled it skips the replay
    assert await meshkit_redis.xlen(dead) == 0
    assert await bus.replay_dead_letter(UserEvent.topic, dead_id.decode()) is None


async def test_malformed_entries_are_dead_lettered_and_the_consumer_goes_on(bus, meshkit_redis):
    good = {
        "specversion": "1.0",
        "id": "e1",
        "type": UserRegistered.type,
        "source": "hand",
        "time": "2024-05-06T00:00:00Z",
        "data": json.dumps({"user_id": "u1", "name": "n", "at": "2024-05-06T00:00:00Z"}),
    }
    garbage = {
        "missing field(s): specversion, id, type, source, time, data": {"hello": "world"},
        "'data' is not JSON": {**good, "data": "{not json"},
        "'data' is not a JSON object": {**good, "data": "[1, 2]"},
        "unknown event type 'meshkit.test.nope.v1'": {**good, "type": "meshkit.test.nope.v1"},
        "data does not match meshkit.test.user.registered.v1: name: Field required": {
            **good,
            "data": json.dumps({"user_id": "u1", "at": "2024-05-06T00:00:00Z"}),
        },
        "'time' is not an ISO 8601 timestamp": {**good, "time": "yesterday"},
        "'type' is not UTF-8": {**good, "type": b"\xff\xfe"},
        "unsupported specversion '0.3'": {**good, "specversion": "0.3"},
    }
    entry_ids = {}
    for reason, fields in garbage.items():
        entry_ids[reason] = await meshkit_redis.xadd(USERS, fields)
    got = []

    async def greet(event: UserRegistered, envelope: Envelope) -> None:
        got.append(envelope.id)

    async with Consumer(bus, group="mail", handlers={UserRegistered: greet}):
        sent = await bus.publish(registered())
        await eventually(lambda: got, what="the good event after the garbage")
    assert got == [sent.id]
    dead = {
        fields[b"stream_id"]: fields
        for _, fields in await meshkit_redis.xrange(dead_letter_key("test.users"))
    }
    assert len(dead) == len(garbage)
    for reason, entry_id in entry_ids.items():
        assert reason in dead[entry_id][b"error"].decode(), dead[entry_id][b"error"]
        assert dead[entry_id][b"failed_group"] == b"mail"
    assert dead[entry_ids["'data' is not JSON"]][b"data"] == b"{not json"  # kept for repair
    assert await pending_count(meshkit_redis, USERS, "mail") == 0
    # labelled by type when the type is known, so garbage cannot mint label values
    assert handled(bus, "mail", "unknown", "malformed") == 3
    assert handled(bus, "mail", UserRegistered.type, "malformed") == 5


# Trimming, stopping, outages


async def test_streams_are_trimmed_approximately(meshkit_redis, tmp_path, meshkit_redis_url):
    settings = make_settings(
        tmp_path, MESHKIT_REDIS_URL=meshkit_redis_url, MESHKIT_EVENTS_MAXLEN="10"
    )
    bus = EventBus(meshkit_redis, source="tests", settings=settings)
    for n in range(350):
        await bus.publish(Ping(n=n))
    length = await meshkit_redis.xlen(PINGS)
    # MAXLEN ~ drops whole radix-tree nodes (100 entries by default), never below 10
    assert 10 <= length <= 10 + 100
    [(_, last)] = await meshkit_redis.xrevrange(PINGS, count=1)
    assert json.loads(last[b"data"]) == {"n": 349}


async def test_stop_is_prompt_and_leaves_the_event_in_flight_pending(bus, meshkit_redis):
    entered = asyncio.Event()
    cancelled = []

    async def stuck(event: Ping, envelope: Envelope) -> None:
        entered.set()
        try:
            await hang_forever()
        except asyncio.CancelledError:
            cancelled.append(envelope.id)
            raise

    consumer = Consumer(bus, group="g", handlers={Ping: stuck}, name="stopper")
    await consumer.start()
    sent = await bus.publish(Ping(n=1))
    await asyncio.wait_for(entered.wait(), 10)
    started = time.monotonic()
    await consumer.stop()
    assert time.monotonic() - started < 0.5
    assert cancelled == [sent.id]
    [entry] = await meshkit_redis.xpending_range(PINGS, "g", "-", "+", 10)
    assert entry["consumer"] == b"stopper"
    assert entry["times_delivered"] == 1
    await consumer.stop()  # idempotent

    got = []

    async def fine(event: Ping, envelope: Envelope) -> None:
        got.append(envelope.id)

    async with Consumer(bus, group="g", handlers={Ping: fine}):
        await eventually(lambda: got, what="the takeover")  # nothing lost
    assert got == [sent.id]
    names = {c["name"] for c in await meshkit_redis.xinfo_consumers(PINGS, "g")}
    assert names == {b"stopper"}, "a consumer holding nothing leaves its group when it stops"


async def test_stop_is_prompt_right_after_a_burst(meshkit_redis, tmp_path, meshkit_redis_url):
    # With the default (long) claim-idle time the consumer blocks in XREADGROUP for up
    # to 2 s; a cancellation that redis-py swallows (asyncio.wait_for on Python 3.11)
    # must not leave stop() waiting for the grace period.
    settings = make_settings(tmp_path, MESHKIT_REDIS_URL=meshkit_redis_url)
    bus = EventBus(meshkit_redis, source="tests", settings=settings)
    counts: Counter[str] = Counter()

    async def handle(event: Ping, envelope: Envelope) -> None:
        counts[envelope.source] += 1

    for round_ in range(3):
        group = f"burst-{round_}"
        consumer = Consumer(bus, group=group, handlers={Ping: handle}, start_at="latest")
        await consumer.start()
        for n in range(200):
            await bus.publish(Ping(n=n))
        await eventually(lambda: counts["tests"] == 200 * (round_ + 1), what="the burst")  # noqa: B023
        started = time.monotonic()
        await consumer.stop()
        assert time.monotonic() - started < 0.5


async def test_the_consumer_survives_a_redis_outage(tmp_path, caplog):
    server = EmbeddedRedis(tmp_path)
    await server.start()
    from redis.asyncio import Redis

    redis = Redis.from_url(server.url)
    settings = make_settings(tmp_path, MESHKIT_REDIS_URL=server.url)
    bus = EventBus(redis, source="tests", settings=settings)
    got = []

    async def record(event: Ping, envelope: Envelope) -> None:
        got.append(envelope.id)

    try:
        async with Consumer(bus, group="g", handlers={Ping: record}):
            await bus.publish(Ping(n=1))
            await eventually(lambda: len(got) == 1)
            await server.stop()  # Redis goes away under the blocked XREADGROUP
            await eventually(lambda: "Redis error" in caplog.text, what="the error to be logged")
            server = EmbeddedRedis(tmp_path)
            await server.start()
            sent = await bus.publish(Ping(n=2))
            await eventually(lambda: sent.id in got, what="delivery after the outage")
    finally:
        await redis.aclose()
        await server.stop()


async def test_a_client_that_decodes_responses_works_the_same(settings, meshkit_redis):
    from redis.asyncio import Redis

    url = settings.redis_url.get_secret_value()
    async with Redis.from_url(url, decode_responses=True) as redis:
        bus = EventBus(redis, source="tests", settings=settings)
        calls = []

        async def flaky(event: Ping, envelope: Envelope) -> None:
            calls.append(envelope.id)
            if len(calls) == 1:
                raise RuntimeError("once")

        await redis.xadd(PINGS, {"bad": "entry"})
        async with Consumer(bus, group="g", handlers={Ping: flaky}):
            sent = await bus.publish(Ping(n=1))
            await eventually(lambda: handled(bus, "g", Ping.type, "ok") == 1)
        assert calls == [sent.id, sent.id]
        assert handled(bus, "g", "unknown", "malformed") == 1
        assert await redis.xlen(dead_letter_key(Ping.topic)) == 1


def test_the_docs_quote_the_replay_script():
    text = (ROOT / "docs" / "events.md").read_text()
    assert event_scripts.REPLAY.strip() in text


@pytest.mark.parametrize("start_at", ["oldest", "latest"])
async def test_events_published_right_after_redis_lost_its_data_are_not_skipped(
    bus, meshkit_redis, start_at
):
    """A Redis that restarts empty loses the stream and the group: the group is made
    again from the start of the new stream, not from its end, so an event published
    before the consumer noticed is still handled."""
    got = []

    async def record(event: Ping, envelope: Envelope) -> None:
        got.append(envelope.id)

    async with Consumer(bus, group="g", handlers={Ping: record}, start_at=start_at):
        await bus.publish(Ping(n=1))
        await eventually(lambda: len(got) == 1)
        await meshkit_redis.flushall()  # "restarted empty"
        await meshkit_redis.client_kill_filter(_type="normal", skipme=True)
        sent = await bus.publish(Ping(n=2))  # before the consumer finds its group gone
        await eventually(lambda: sent.id in got, what="the event published meanwhile")
