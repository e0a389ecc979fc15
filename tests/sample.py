"""A sample service and plugin used by the framework tests (and shown in docs/services.md)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from typing import Annotated, ClassVar

from aiohttp import web
from pydantic import BaseModel, Field

import meshkit
from meshkit import Service, hookimpl
from meshkit.errors import NotFound
from meshkit.service import Need
from meshkit.store import Document, Index


class Note(Document):
    collection: ClassVar[str] = "notes"
    indexes: ClassVar[tuple[Index, ...]] = (Index("owner", "created_at"),)
    owner: str
    title: str
    created_at: datetime


class NoteIn(BaseModel):
    """What a client sends to create a note."""

    owner: Annotated[str, Field(min_length=1, max_length=40)]
    title: Annotated[str, Field(min_length=1, max_length=200)]
    created_at: datetime


class NoteOut(BaseModel):
    """A stored note."""

    id: str
    owner: str
    title: str
    version: int


class Listing(BaseModel):
    """Query of the list endpoint."""

    owner: str
    limit: Annotated[int, Field(ge=1, le=100)] = 20


class NotesService(Service):
    name = "notes"
    default_port = 3999
    title = "Notes"
    description = "A sample service for the tests."
    needs: ClassVar[frozenset[Need]] = frozenset({"store", "redis"})
    documents = (Note,)

    started: ClassVar[list[str]] = []

    async def lifespan(self) -> AsyncIterator[None]:
        self.started.append("up")
        yield
        self.started.append("down")

    @meshkit.post("/v1/notes", status=201)
    async def create_note(self, body: NoteIn) -> NoteOut:
        """Create a note.

        Stores it in the service's own store.
        """
        note = await self.store.insert(Note(**body.model_dump()))
        return NoteOut.model_validate(note.model_dump())

    @meshkit.get("/v1/notes/{note_id}", errors=(404,))
    async def get_note(self, note_id: str) -> NoteOut:
        """Fetch one note."""
        note = await self.store.get(Note, note_id)
        if note is None:
            raise NotFound(f"no note {note_id}")
        return NoteOut.model_validate(note.model_dump())

    @meshkit.get("/v1/notes")
    async def list_notes(self, query: Listing) -> list[NoteOut]:
        """List a user's notes."""
        page = await self.store.find(Note, where={"owner": query.owner}, limit=query.limit)
        return [NoteOut.model_validate(n.model_dump()) for n in page.items]

    @meshkit.delete("/v1/notes/{note_id}")
    async def delete_note(self, note_id: str) -> None:
        """Delete a note."""
        await self.store.delete(Note, note_id)

    @meshkit.get("/v1/items/{item_id}")
    async def item(self, item_id: int, verbose: bool = False) -> dict[str, int | bool]:
        """Typed path and query parameters."""
        return {"item_id": item_id, "verbose": verbose}

    @meshkit.get("/v1/boom")
    async def boom(self) -> None:
        """Fails unexpectedly."""
        raise RuntimeError("secret internals must not leak")


class StatelessService(Service):
    """A service that needs nothing: no store, no Redis."""

    name = "stateless"
    default_port = 3998
    needs: ClassVar[frozenset[Need]] = frozenset()

    @meshkit.get("/v1/echo")
    async def echo(self, request: web.Request, text: str) -> dict[str, str]:
        """Echo a query parameter."""
        return {"text": text, "request_id": request.headers.get("X-Request-ID", "")}

    @meshkit.get("/v1/slow")
    async def slow(self, seconds: float = 0.5) -> dict[str, float]:
        """Answer after a delay (to test draining)."""
        await asyncio.sleep(seconds)
        return {"slept": seconds}


class Greeting(BaseModel):
    greeting: str
    service: str


@meshkit.get("/v1/hello/{who}", operation_id="greeter.hello")
async def hello(who: str, service: Service) -> Greeting:
    """Say hello (added by a plugin)."""
    return Greeting(greeting=f"hello {who}", service=service.name)


@web.middleware
async def tag_middleware(request, handler):
    response = await handler(request)
    response.headers["X-Plugin"] = "greeter"
    return response


class GreeterPlugin:
    """A plugin adding a route and a middleware to the notes service."""

    events: ClassVar[list[str]] = []

    @hookimpl
    def meshkit_services(self) -> Sequence[type[Service]]:
        return [NotesService, StatelessService]

    @hookimpl
    def meshkit_routes(self, service: Service) -> Sequence[object]:
        return [hello] if service.name == "notes" else []

    @hookimpl
    def meshkit_middlewares(self, service: Service) -> Sequence[object]:
        return [tag_middleware] if service.name == "notes" else []

    @hookimpl
    def meshkit_startup(self, service: Service) -> None:
        self.events.append(f"startup:{service.name}")

    @hookimpl
    async def meshkit_shutdown(self, service: Service) -> None:
        self.events.append(f"shutdown:{service.name}")
