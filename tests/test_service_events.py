"""Events wired into the Service base: `self.events` publishes, `@on` methods consume in
the service's own group, started and stopped with the app."""

import asyncio
from typing import ClassVar

from pydantic import BaseModel

from meshkit import Service, post
from meshkit.events import Envelope, Event, on
from meshkit.service import Need


class Pinged(Event):
    topic: ClassVar[str] = "tests.pings"
    type: ClassVar[str] = "meshkit.tests.pinged.v1"

    n: int


class PingIn(BaseModel):
    n: int


class Listener(Service):
    """Publishes a ping per request and remembers every ping it hears."""

    name = "listener"
    default_port = 3950
    needs: ClassVar[frozenset[Need]] = frozenset({"redis"})
    heard: ClassVar[list[tuple[int, str, str | None]]] = []

    @post("/v1/pings", status=202)
    async def ping(self, body: PingIn) -> dict[str, str]:
        """Publish a ping."""
        envelope = await self.events.publish(Pinged(n=body.n), subject=f"ping/{body.n}")
        return {"id": envelope.id}

    @on(Pinged)
    async def hear(self, event: Pinged, envelope: Envelope) -> None:
        self.heard.append((event.n, envelope.source, envelope.subject))


class Deaf(Service):
    """Has no handlers: no consumer group is created for it."""

    name = "deaf"
    default_port = 3951
    needs: ClassVar[frozenset[Need]] = frozenset({"redis"})


async def until(predicate, within=5.0):
    loop = asyncio.get_running_loop()
    end = loop.time() + within
    while not predicate():
        assert loop.time() < end, "timed out"
        await asyncio.sleep(0.02)


async def test_a_service_publishes_and_its_handlers_consume(service_client, meshkit_redis):
    Listener.heard.clear()
    client = await service_client(Listener)
    for n in range(3):
        response = await client.post("/v1/pings", json={"n": n})
        assert response.status == 202
    await until(lambda: len(Listener.heard) == 3)
    assert sorted(Listener.heard) == [(n, "listener", f"ping/{n}") for n in range(3)]
    groups = await meshkit_redis.xinfo_groups("meshkit:events:tests.pings")
    assert [g["name"] for g in groups] == [b"listener"]
    assert all(g["pending"] == 0 for g in groups)


async def test_a_service_without_handlers_starts_no_consumer(service_client, meshkit_redis):
    client = await service_client(Deaf)
    assert (await client.get("/readyz")).status == 200
    assert not await meshkit_redis.exists("meshkit:events:tests.pings")
