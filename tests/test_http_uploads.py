"""Raw request bodies (uploads): the declared types and size limit, enforced and documented."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, ClassVar

import pytest
from aiohttp import web
from openapi_spec_validator import validate

import meshkit
from meshkit.app import openapi_document
from meshkit.errors import PROBLEM_TYPE_PREFIX, PayloadTooLarge
from meshkit.http import RawBody, RouteSpec, Upload, bind
from meshkit.service import Need, Service
from meshkit.testing import make_settings

TYPES = ("audio/wav", "audio/ogg")


class TooBig(PayloadTooLarge):
    slug = "file-too-big"
    title = "File too big"


class Files(Service):
    """Takes uploads; its limit comes from the instance, as a setting would."""

    name = "files"
    default_port = 3997
    needs: ClassVar[frozenset[Need]] = frozenset()
    limit = 1000

    @meshkit.post("/v1/files/{name}", status=201)
    async def upload(
        self,
        name: str,
        file: Annotated[
            Upload, RawBody(TYPES, max_bytes=lambda service: service.limit, too_large=TooBig)
        ],
    ) -> dict[str, Any]:
        """Store a file."""
        return {"name": name, "size": len(file.data), "type": file.media_type}

    @meshkit.get("/v1/stream", produces="audio/ogg")
    async def stream(self, request: web.Request) -> web.StreamResponse:
        """A streamed body."""
        response = web.StreamResponse(headers={"Content-Type": "audio/ogg"})
        await response.prepare(request)
        await response.write(b"OggS")
        return response


async def problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status == status, await response.text()
    body: dict[str, Any] = await response.json()
    assert body["type"].startswith(PROBLEM_TYPE_PREFIX)
    return body


async def test_an_upload_within_the_rules_reaches_the_handler(service_client: Any) -> None:
    client = await service_client(Files)
    response = await client.post(
        "/v1/files/a", data=b"RIFF" * 10, headers={"Content-Type": "audio/WAV; rate=1"}
    )
    assert response.status == 201
    assert await response.json() == {"name": "a", "size": 40, "type": "audio/wav"}
    streamed = await client.get("/v1/stream")
    assert streamed.content_type == "audio/ogg"
    assert await streamed.read() == b"OggS"


async def test_the_rules_are_problems(service_client: Any) -> None:
    client = await service_client(Files)
    wav = {"Content-Type": "audio/wav"}
    body = await problem(await client.post("/v1/files/a", data=b"x" * 1001, headers=wav), 413)
    assert body["type"].endswith(":file-too-big")
    assert body["limit"] == 1000

    async def chunks() -> Any:  # no Content-Length: the limit holds while reading
        for _ in range(20):
            yield b"x" * 100

    body = await problem(await client.post("/v1/files/a", data=chunks(), headers=wav), 413)
    assert body["limit"] == 1000
    body = await problem(
        await client.post("/v1/files/a", data=b"{}", headers={"Content-Type": "text/plain"}), 415
    )
    assert body["accepted"] == list(TYPES)
    await problem(await client.post("/v1/files/a", data=b"", headers=wav), 400)


def test_the_document_declares_types_limit_and_problems(tmp_path: Path) -> None:
    document = openapi_document(Files(make_settings(tmp_path)))
    validate(document)
    operation = document["paths"]["/v1/files/{name}"]["post"]
    content = operation["requestBody"]["content"]
    assert list(content) == list(TYPES)
    assert content["audio/wav"]["schema"] == {
        "type": "string",
        "format": "binary",
        "maxLength": 1000,
    }
    assert operation["x-meshkit-max-body-bytes"] == 1000
    assert {"400", "413", "415", "422"} <= operation["responses"].keys()
    stream = document["paths"]["/v1/stream"]["get"]["responses"]["200"]
    assert list(stream["content"]) == ["audio/ogg"]


def test_an_upload_needs_exactly_one_rule_and_a_bound_computed_limit() -> None:
    async def bare(file: Upload) -> None:
        return None

    with pytest.raises(TypeError, match="RawBody"):
        bind(RouteSpec("POST", "/v1/x", bare))

    async def unbound(file: Annotated[Upload, RawBody(TYPES, max_bytes=lambda s: 1)]) -> None:
        return None

    with pytest.raises(TypeError, match="bound"):
        bind(RouteSpec("POST", "/v1/x", unbound))
