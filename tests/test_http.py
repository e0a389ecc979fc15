"""The service base over real HTTP: what every service gets without writing it."""

import json
import logging
from datetime import UTC, datetime

import pytest
from aiohttp.test_utils import make_mocked_request
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, Field

from meshkit.app import SERVICE_KEY
from meshkit.errors import PROBLEM_TYPE_PREFIX, Forbidden, MalformedBody
from meshkit.http import RouteSpec, bind, build_openapi
from meshkit.http.binding import PerRequest, arguments, decode_json
from tests.sample import GreeterPlugin, Note, NotesService, StatelessService

PROBLEM = "application/problem+json"
NOTE = {"owner": "ada", "title": "hello", "created_at": "2026-01-02T03:04:05Z"}


async def problem(response, status):
    assert response.status == status, await response.text()
    assert response.content_type == PROBLEM
    body = await response.json()
    assert body["status"] == status
    assert body["type"].startswith(PROBLEM_TYPE_PREFIX)
    assert body["title"]
    assert body["detail"]
    return body


async def test_create_and_fetch_round_trip(notes):
    created = await notes.post("/v1/notes", json=NOTE)
    assert created.status == 201
    note = await created.json()
    assert note["owner"] == "ada"
    assert note["version"] == 1
    fetched = await notes.get(f"/v1/notes/{note['id']}")
    assert fetched.status == 200
    assert await fetched.json() == note
    listed = await notes.get("/v1/notes", params={"owner": "ada"})
    assert [n["id"] for n in await listed.json()] == [note["id"]]
    deleted = await notes.delete(f"/v1/notes/{note['id']}")
    assert deleted.status == 204
    assert await deleted.read() == b""
    await problem(await notes.get(f"/v1/notes/{note['id']}"), 404)


async def test_healthz(notes):
    response = await notes.get("/healthz")
    assert response.status == 200
    body = await response.json()
    assert body == {"status": "ok", "service": "notes", "instance": body["instance"]}
    assert len(body["instance"]) == 32  # this process's instance id (meshkit.affinity)


async def test_readyz_checks_store_and_redis(notes):
    response = await notes.get("/readyz")
    assert response.status == 200
    body = await response.json()
    assert body["checks"] == {"store": "ok", "redis": "ok"}


async def test_readyz_reports_unreachable_dependency(notes):
    service = notes.app[SERVICE_KEY]
    assert isinstance(service, NotesService)
    await service.store.close()
    body = await problem(await notes.get("/readyz"), 503)
    assert body["checks"]["store"] != "ok"
    assert body["checks"]["redis"] == "ok"


async def test_readyz_when_draining(notes):
    service = notes.app[SERVICE_KEY]
    service.draining = True
    body = await problem(await notes.get("/readyz"), 503)
    assert "draining" in body["checks"]


async def test_service_without_dependencies_is_ready(service_client):
    client = await service_client(StatelessService)
    response = await client.get("/readyz")
    assert response.status == 200
    assert (await response.json())["checks"] == {}


async def test_metrics_count_requests_by_route_template(notes):
    for _ in range(3):
        await notes.get("/v1/items/7")
    await notes.get("/v1/items/8")
    await notes.get("/nowhere")
    text = await (await notes.get("/metrics")).text()
    assert (
        'meshkit_http_requests_total{method="GET",route="/v1/items/{item_id}",'
        'service="notes",status="200"} 4.0' in text
    )
    assert 'route="unmatched",service="notes",status="404"} 1.0' in text
    assert "meshkit_http_request_duration_seconds_bucket" in text
    assert "meshkit_http_requests_in_flight" in text


async def test_openapi_document_is_generated_from_routes(notes):
    doc = await (await notes.get("/openapi.json")).json()
    assert doc["openapi"] == "3.1.0"
    assert doc["info"]["title"] == "Notes"
    create = doc["paths"]["/v1/notes"]["post"]
    assert create["operationId"] == "notes.create_note"
    assert create["summary"] == "Create a note."
    assert create["description"] == "Stores it in the service's own store."
    assert create["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/NoteIn"
    }
    assert "201" in create["responses"]
    assert create["responses"]["422"]["content"][PROBLEM]["schema"] == {
        "$ref": "#/components/schemas/Problem"
    }
    listing = doc["paths"]["/v1/notes"]["get"]
    params = {p["name"]: p for p in listing["parameters"]}
    assert params["owner"]["required"] is True
    assert params["limit"]["schema"]["maximum"] == 100
    item = doc["paths"]["/v1/items/{item_id}"]["get"]
    kinds = {(p["name"], p["in"], p["required"]) for p in item["parameters"]}
    assert kinds == {("item_id", "path", True), ("verbose", "query", False)}
    assert doc["paths"]["/v1/notes/{note_id}"]["delete"]["responses"].keys() >= {"204"}
    assert "404" in doc["paths"]["/v1/notes/{note_id}"]["get"]["responses"]
    schemas = doc["components"]["schemas"]
    assert {"NoteIn", "NoteOut", "Problem", "Greeting"} <= schemas.keys()
    assert "/healthz" not in doc["paths"]
    # the plugin's route is documented with its own operation id
    assert doc["paths"]["/v1/hello/{who}"]["get"]["operationId"] == "greeter.hello"


async def test_validation_errors_list_every_field(notes):
    body = await problem(
        await notes.post("/v1/notes", json={"owner": "", "created_at": "yesterday-ish"}), 422
    )
    fields = {(tuple(e["loc"]), e["code"]) for e in body["errors"]}
    assert (("body", "owner"), "string_too_short") in fields
    assert (("body", "title"), "missing") in fields
    assert any(loc == ("body", "created_at") for loc, _ in fields)
    assert all(e["message"] and e["field"] for e in body["errors"])


async def test_query_and_path_validation(notes):
    body = await problem(await notes.get("/v1/items/abc", params={"verbose": "maybe"}), 422)
    locs = {tuple(e["loc"]) for e in body["errors"]}
    assert locs == {("path", "item_id"), ("query", "verbose")}
    body = await problem(await notes.get("/v1/notes", params={"limit": "0"}), 422)
    locs = {tuple(e["loc"]) for e in body["errors"]}
    assert locs == {("query", "owner"), ("query", "limit")}
    ok = await notes.get("/v1/items/5", params={"verbose": "true"})
    assert await ok.json() == {"item_id": 5, "verbose": True}


async def test_malformed_json(notes):
    body = await problem(
        await notes.post(
            "/v1/notes", data=b'{"owner": ', headers={"Content-Type": "application/json"}
        ),
        400,
    )
    assert body["type"] == PROBLEM_TYPE_PREFIX + "malformed-body"


async def test_deeply_nested_json_is_refused_not_crashed(notes):
    body = await problem(
        await notes.post(
            "/v1/notes", data=b"[" * 100_000, headers={"Content-Type": "application/json"}
        ),
        400,
    )
    assert body["type"] == PROBLEM_TYPE_PREFIX + "malformed-body"


async def test_missing_body(notes):
    # An empty body is no JSON document: malformed, like any other undecodable body.
    for headers in ({"Content-Type": "application/json"}, {}):
        body = await problem(await notes.post("/v1/notes", headers=headers), 400)
        assert body["type"] == PROBLEM_TYPE_PREFIX + "malformed-body"


async def test_json_that_is_not_an_object(notes):
    body = await problem(await notes.post("/v1/notes", json=[1, 2]), 422)
    assert body["errors"][0]["loc"][0] == "body"


async def test_wrong_content_type(notes):
    body = await problem(
        await notes.post("/v1/notes", data="owner=ada", headers={"Content-Type": "text/plain"}),
        415,
    )
    assert body["accepted"] == ["application/json"]


async def test_oversized_body(service_client, meshkit_settings):
    settings = meshkit_settings.model_copy(update={"max_body_size": 1024})
    client = await service_client(NotesService, settings=settings)
    huge = {**NOTE, "title": "x" * 5000}
    body = await problem(await client.post("/v1/notes", json=huge), 413)
    assert body["limit"] == 1024


async def test_oversized_chunked_body(service_client, meshkit_settings):
    settings = meshkit_settings.model_copy(update={"max_body_size": 1024})
    client = await service_client(NotesService, settings=settings)

    async def chunks():
        yield b'{"owner": "ada", "title": "'
        for _ in range(10):
            yield b"x" * 512
        yield b'"}'

    response = await client.post(
        "/v1/notes", data=chunks(), headers={"Content-Type": "application/json"}
    )
    await problem(response, 413)


async def test_unknown_route_and_method(notes):
    body = await problem(await notes.get("/v1/nothing-here"), 404)
    assert "/v1/nothing-here" in body["detail"]
    response = await notes.put("/v1/notes")
    body = await problem(response, 405)
    assert set(body["allowed"]) == {"GET", "HEAD", "POST"}
    assert set(response.headers["Allow"].split(", ")) == {"GET", "HEAD", "POST"}


async def test_every_get_route_answers_head_without_a_body(notes):
    got = await notes.get("/v1/notes", params={"owner": "ada"})
    head = await notes.head("/v1/notes", params={"owner": "ada"})
    assert head.status == got.status == 200
    assert head.headers["Content-Type"] == got.headers["Content-Type"]
    assert head.headers["Content-Length"] == got.headers["Content-Length"]
    assert await head.read() == b""
    assert (await notes.head("/healthz")).status == 200  # framework routes too


async def test_unexpected_error_is_a_500_problem_without_internals(notes, caplog):
    with caplog.at_level(logging.ERROR, logger="meshkit.http"):
        response = await notes.get("/v1/boom")
    body = await problem(response, 500)
    assert "secret internals" not in json.dumps(body)
    assert "Traceback" not in json.dumps(body)
    assert any("secret internals" in r.getMessage() or r.exc_info for r in caplog.records)


async def test_request_id_is_propagated_or_generated(notes):
    given = await notes.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert given.headers["X-Request-ID"] == "abc-123"
    made = await notes.get("/healthz")
    assert len(made.headers["X-Request-ID"]) == 32
    hostile = await notes.get("/healthz", headers={"X-Request-ID": "x" * 500})
    assert hostile.headers["X-Request-ID"] != "x" * 500
    failed = await notes.get("/nope", headers={"X-Request-ID": "req-9"})
    assert failed.headers["X-Request-ID"] == "req-9"


async def test_one_json_access_log_line_per_request_without_secrets(notes, caplog):
    with caplog.at_level(logging.INFO, logger="meshkit.access"):
        await notes.post(
            "/v1/notes?token=hunter2",
            json={**NOTE, "title": "my password is hunter2"},
            headers={"X-Request-ID": "log-1", "Authorization": "Bearer hunter2"},
        )
    lines = [r for r in caplog.records if r.name == "meshkit.access"]
    assert len(lines) == 1
    record = lines[0]
    assert record.status == 201
    assert record.route == "/v1/notes"
    assert record.request_id == "log-1"
    assert record.service == "notes"
    assert "hunter2" not in json.dumps({k: str(v) for k, v in vars(record).items()})


async def test_plugin_route_middleware_and_lifecycle_hooks(notes):
    response = await notes.get("/v1/hello/world")
    assert response.status == 200
    assert await response.json() == {"greeting": "hello world", "service": "notes"}
    assert response.headers["X-Plugin"] == "greeter"
    assert GreeterPlugin.events == ["startup:notes"]
    assert NotesService.started[-1] == "up"


@pytest.mark.parametrize("path", ["/v1/notes/x", "/healthz"])
async def test_head_and_options_do_not_500(notes, path):
    response = await notes.options(path)
    assert response.status < 500


async def test_datetime_round_trip_keeps_timezone(notes):
    created = await (await notes.post("/v1/notes", json=NOTE)).json()
    service = notes.app[SERVICE_KEY]
    stored = await service.store.get(Note, created["id"])
    assert stored.created_at == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


# Point 3 of issue 12: no body, however broken, is answered with a 500.

MALFORMED = PROBLEM_TYPE_PREFIX + "malformed-body"


@pytest.mark.parametrize(
    "raw",
    [
        b'{"owner": ' + b"9" * 5000 + b"}",  # past Python's int digit limit: ValueError
        b"[" * 100_000,  # RecursionError
        b'{"owner": "\xff\xfe"}',  # invalid UTF-8
        b'{"owner": NaN}',
        b'{"owner": -Infinity}',
        b'{"owner": "\\ud800"}',  # a lone surrogate: no store or encoder takes it
        b'{"\\udfff": 1}',
        b"   ",
        b'{"owner": "ada"} {"owner": "bob"}',
    ],
)
async def test_undecodable_bodies_are_400_malformed_body(notes, raw):
    response = await notes.post("/v1/notes", data=raw, headers={"Content-Type": "application/json"})
    body = await problem(response, 400)
    assert body["type"] == MALFORMED
    assert "Traceback" not in json.dumps(body)


async def test_a_valid_surrogate_pair_is_fine(notes):
    raw = json.dumps({**NOTE, "title": "\U0001f600"}, ensure_ascii=True).encode()
    assert b"\\ud83d\\ude00" in raw
    created = await notes.post("/v1/notes", data=raw, headers={"Content-Type": "application/json"})
    assert created.status == 201, await created.text()
    assert (await created.json())["title"] == "\U0001f600"


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)
bodies = st.one_of(
    st.binary(max_size=200),
    st.text(max_size=200).map(str.encode),
    json_values.map(lambda v: json.dumps(v).encode()),
    json_values.map(lambda v: json.dumps(v, ensure_ascii=False).encode("utf-8", "surrogatepass")),
    st.integers(min_value=4000, max_value=6000).map(lambda n: b"1" * n),
    st.integers(min_value=1, max_value=50_000).map(lambda n: b"[" * n + b"]" * (n % 3)),
)


@settings(max_examples=400, deadline=None)
@given(bodies)
def test_decode_json_returns_a_value_or_a_malformed_body_problem(raw):
    """The body reader's contract, for any bytes: a value, or MalformedBody; nothing else."""
    try:
        value = decode_json(raw)
    except MalformedBody:
        return
    # What it lets through re-encodes: no lone surrogate, no NaN, one document.
    json.dumps(value, allow_nan=False).encode("utf-8")


@settings(max_examples=200, deadline=None)
@given(json_values)
def test_decode_json_reads_what_json_writes(value):
    text = json.dumps(value, ensure_ascii=False)  # Infinity for inf: not JSON
    raw = text.encode("utf-8", "surrogatepass")
    try:
        decoded = decode_json(raw)
    except MalformedBody:  # only for what RFC 8259 / I-JSON refuse
        assert "Infinity" in text or any(0xD800 <= ord(c) <= 0xDFFF for c in text)
        return
    assert decoded == value


async def test_any_body_on_a_json_route_is_2xx_or_a_4xx_problem(notes):
    """The same property end to end: hypothesis draws the bodies, the real app answers."""
    drawn: list[bytes] = []

    @settings(max_examples=150, deadline=None, database=None)
    @given(bodies)
    def draw(raw):
        drawn.append(raw)

    draw()
    for raw in drawn:
        response = await notes.post(
            "/v1/notes", data=raw, headers={"Content-Type": "application/json"}
        )
        assert response.status < 500, (raw[:80], await response.text())
        if response.status >= 400:
            await problem(response, response.status)


# Point 8 of issue 12: a route's permission is checked before anything is validated.


class Caller:
    """A stand-in for the authenticated principal (anything with has_permission)."""

    def __init__(self, *granted: str) -> None:
        self.granted = set(granted)

    def has_permission(self, permission: str) -> bool:
        return permission in self.granted


class Guarded(BaseModel):
    title: str = Field(min_length=1)


async def _create(caller: Caller, item_id: int, body: Guarded) -> dict[str, str]:
    return {"title": body.title}


def test_a_permission_without_a_principal_is_refused_at_start():
    async def orphan(body: Guarded) -> None:
        return None

    with pytest.raises(TypeError, match="permission"):
        bind(RouteSpec("POST", "/v1/x", orphan, permission="notes:write"), (Caller,))


async def test_permission_is_checked_before_path_query_and_body():
    spec = RouteSpec("POST", "/v1/items/{item_id}", _create, permission="notes:write")
    binding = bind(spec, (Caller,))

    async def who(caller: Caller) -> PerRequest:
        async def resolve(request):
            return caller

        return PerRequest(resolve)

    # Everything about the request is wrong, and unread: the answer is 403 alone.
    request = make_mocked_request(
        "POST", "/v1/items/not-a-number", match_info={"item_id": "not-a-number"}
    )
    with pytest.raises(Forbidden) as refused:
        await arguments(binding, request, 1024, {Caller: await who(Caller("notes:read"))})
    assert refused.value.extensions["required_permission"] == "notes:write"
    # With the permission, the same request reaches validation (its empty body first).
    with pytest.raises(MalformedBody):
        await arguments(binding, request, 1024, {Caller: await who(Caller("notes:write"))})


def test_the_document_declares_the_permission_and_its_403():
    spec = RouteSpec("POST", "/v1/items/{item_id}", _create, permission="notes:write")
    document = build_openapi(
        service="notes",
        title="Notes",
        version="1",
        description="",
        bindings=[bind(spec, (Caller,))],
    )
    operation = document["paths"]["/v1/items/{item_id}"]["post"]
    assert operation["x-meshkit-permission"] == "notes:write"
    assert "notes:write" in operation["description"]
    assert {"400", "403", "422"} <= operation["responses"].keys()
