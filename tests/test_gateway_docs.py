"""The gateway's API documentation: the merged OpenAPI document and Swagger UI at /docs.

The merge is tested on the real documents of the installed services (built without
starting anything), on a real service generated to collide with them, and on small
hand-written documents for each rule. Swagger UI is tested over HTTP and then rendered
by a real headless Chromium that can reach nothing but 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import logging
import re
import struct
import zlib
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urlsplit

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from openapi_spec_validator import validate as spec_validate
from pydantic import BaseModel

import meshkit
from meshkit import Service
from meshkit.app import openapi_document
from meshkit.plugins import get_plugin_manager
from meshkit.service import Need
from meshkit.services.gateway.openapi_merge import (
    BEARER,
    MergeResult,
    merge_documents,
    merge_openapi,
)
from meshkit.services.gateway.swagger import (
    CONTENT_SECURITY_POLICY,
    CONTENT_TYPES,
    swagger_routes,
    swagger_ui_version,
)
from meshkit.testing import make_settings, require_executable
from meshkit.tokens import Principal

TITLE = "meshkit API"
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
CHROMIUM_TIMEOUT = 120.0
# Where Chromium itself phones home when it starts (time, component updater, accounts).
CHROMIUM_OWN = re.compile(r"(^|\.)(google\.com|googleapis\.com|gstatic\.com|gvt1\.com)$")


# --- a real service whose generated document collides with auth's ----------------------


class UserOut(BaseModel):
    """Not auth's UserOut: same name, other fields."""

    account: str
    balance: int


class Entries(BaseModel):
    """Refers to the colliding model, so it must follow its new name."""

    owner: UserOut
    items: list[UserOut]


class ReplayIn(BaseModel):
    """Used only by an internal route: must not be published."""

    since: int


class LedgerService(Service):
    """A ledger, defined here to collide with the auth service's components."""

    name = "ledger"
    default_port = 3990
    description = "A ledger, to collide with auth."
    needs: ClassVar[frozenset[Need]] = frozenset()

    @meshkit.get("/v1/ledger/me")
    async def me(self, principal: Principal) -> UserOut:
        """The caller's account."""
        return UserOut(account=principal.subject, balance=0)

    @meshkit.get("/v1/ledger/entries", errors=(404,))
    async def entries(self) -> Entries:
        """Every entry."""
        raise NotImplementedError

    @meshkit.post("/v1/ledger/replay", internal=True)
    async def replay(self, body: ReplayIn) -> None:
        """Replay entries (other services only)."""


# --- helpers ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """The documents of every installed service the gateway routes (all but itself)."""
    settings = make_settings(tmp_path_factory.mktemp("docs"))
    pm = get_plugin_manager(settings)
    return {
        name: openapi_document(entry.cls(settings), pm)
        for name, entry in sorted(pm.services().items())
        if name != "gateway"
    }


@pytest.fixture(scope="module")
def ledger(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    settings = make_settings(tmp_path_factory.mktemp("ledger"))
    return openapi_document(LedgerService(settings))


def operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in document.get("paths", {}).items():
        for method in METHODS:
            if method in item:
                yield path, method, item[method]


def walk(node: Any) -> Iterator[tuple[str, Any]]:
    """Every (key, value) pair anywhere in ``node``."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield key, value
            yield from walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from walk(value)


def references(document: dict[str, Any]) -> set[str]:
    """Every local reference: ``$ref``, discriminator mappings, security scheme names."""
    found: set[str] = set()
    for key, value in walk(document):
        if key == "$ref":
            found.add(value)
        elif key == "discriminator" and "mapping" in value:
            found.update(value["mapping"].values())
    for _, _, operation in operations(document):
        for requirement in operation.get("security", []):
            found.update(f"#/components/securitySchemes/{name}" for name in requirement)
    return found


def resolve(document: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/"), f"not a local reference: {ref}"
    node: Any = document
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        assert isinstance(node, dict), f"{ref}: {part} is inside a non-object"
        assert part in node, f"dangling reference {ref}"
        node = node[part]
    return node


def assert_sound(document: dict[str, Any]) -> None:
    """No dangling reference, unique operationIds, no internal operation, and valid."""
    for ref in references(document):
        resolve(document, ref)
    ids = [op["operationId"] for _, _, op in operations(document)]
    assert len(ids) == len(set(ids))
    assert not [v for k, v in walk(document) if k == "x-meshkit-internal"]
    validate(document)


def validate(document: dict[str, Any]) -> None:
    spec_validate(document)


def merged(documents: dict[str, dict[str, Any]], **options: Any) -> MergeResult:
    return merge_documents(documents, title=TITLE, version="1.0", **options)


def schema_doc(schemas: dict[str, Any], paths: dict[str, Any], **components: Any) -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {"title": "x", "version": "1"},
        "paths": paths,
        "components": {"schemas": schemas, **components},
    }


def get_op(op_id: str, schema_ref: str, **extra: Any) -> dict[str, Any]:
    return {
        "get": {
            "operationId": op_id,
            "responses": {
                "200": {
                    "description": "ok",
                    "content": {"application/json": {"schema": {"$ref": schema_ref}}},
                }
            },
            **extra,
        }
    }


# --- the merge, on the real documents --------------------------------------------------


def test_installed_services_merge_into_one_sound_document(
    installed: dict[str, dict[str, Any]],
) -> None:
    result = merged(installed)
    document = result.document
    assert result.warnings == ()
    assert_sound(document)
    assert document["openapi"] == "3.1.0"
    assert document["servers"] == [{"url": "/"}]
    assert document["info"] == {"title": TITLE, "version": "1.0"}
    assert [t["name"] for t in document["tags"]] == sorted(installed)
    for tag in document["tags"]:
        assert tag["description"] == installed[tag["name"]]["info"]["description"]
    assert document["components"]["securitySchemes"]["bearerAuth"] == BEARER

    published = {(p, m): op for p, m, op in operations(document)}
    for service, original in installed.items():
        for path, method, operation in operations(original):
            if operation.get("x-meshkit-internal"):
                assert (path, method) not in published
                continue
            mine = published[(path, method)]
            assert mine["tags"] == [service]
            assert mine["operationId"] == operation["operationId"]
            assert mine.get("security") == operation.get("security")
    if "auth" in installed:
        login = published[("/v1/auth/login", "post")]
        assert "security" not in login
        assert published[("/v1/users/me", "get")]["security"] == [{"bearerAuth": []}]


def test_real_collision_renames_and_rewrites(
    installed: dict[str, dict[str, Any]], ledger: dict[str, Any]
) -> None:
    if "auth" not in installed:
        pytest.skip("the auth service is not installed")
    documents = {"auth": installed["auth"], "ledger": ledger}
    document = merged(documents).document
    assert_sound(document)
    schemas = document["components"]["schemas"]
    assert schemas["UserOut"] == installed["auth"]["components"]["schemas"]["UserOut"]
    assert schemas["ledger__UserOut"]["properties"].keys() == {"account", "balance"}
    assert "ledger__Problem" not in schemas  # identical: shared
    assert schemas["Entries"]["properties"]["owner"] == {
        "$ref": "#/components/schemas/ledger__UserOut"
    }
    me = document["paths"]["/v1/ledger/me"]["get"]
    assert me["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ledger__UserOut"
    }
    assert me["security"] == [{"bearerAuth": []}]
    assert me["responses"]["401"]["content"]["application/problem+json"]["schema"] == {
        "$ref": "#/components/schemas/Problem"
    }
    # The internal route, its own model and the service-key scheme are not published.
    assert "/v1/ledger/replay" not in document["paths"]
    assert "ReplayIn" not in schemas
    assert "serviceApiKey" not in document["components"]["securitySchemes"]
    assert "/v1/ledger/replay" in ledger["paths"]  # (it was in the service's document)


def test_output_is_deterministic_and_inputs_untouched(
    installed: dict[str, dict[str, Any]], ledger: dict[str, Any]
) -> None:
    documents = {**installed, "ledger": ledger}
    before = copy.deepcopy(documents)
    first = json.dumps(merged(documents).document)
    reversed_order = dict(reversed(list(copy.deepcopy(documents).items())))
    assert json.dumps(merged(reversed_order).document) == first
    assert documents == before
    again = merged(documents).document
    again["components"]["schemas"].clear()
    assert json.dumps(merged(documents).document) == first  # no shared state


# --- the merge, rule by rule ------------------------------------------------------------

USER_A = {"type": "object", "properties": {"name": {"type": "string"}}}
USER_B = {"type": "object", "properties": {"id": {"type": "integer"}}}
PROBLEM = {"type": "object", "properties": {"title": {"type": "string"}}}
ID = {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}


def colliding() -> dict[str, dict[str, Any]]:
    def service(user: dict[str, Any], header: str, limit: int, path: str) -> dict[str, Any]:
        return schema_doc(
            {
                "User": user,
                "Problem": PROBLEM,
                "Wrapper": {
                    "type": "object",
                    "properties": {"user": {"$ref": "#/components/schemas/User"}},
                },
                "Pet": {
                    "oneOf": [
                        {"$ref": "#/components/schemas/User"},
                        {"$ref": "#/components/schemas/Problem"},
                    ],
                    "discriminator": {
                        "propertyName": "kind",
                        "mapping": {
                            "user": "#/components/schemas/User",
                            "problem": "#/components/schemas/Problem",
                        },
                    },
                },
            },
            {
                path: {
                    "parameters": [{"$ref": "#/components/parameters/Limit"}],
                    **get_op(
                        "list",
                        "#/components/schemas/Wrapper",
                        security=[{"key": []}, {"bearerAuth": []}],
                        tags=["things"],
                    ),
                },
                f"{path}/pets": get_op("pets", "#/components/schemas/Pet"),
                f"{path}/error": get_op("error", "#/components/responses/Bad/content"),
            },
            parameters={"Limit": {"name": "limit", "in": "query", "schema": {"maximum": limit}}},
            responses={
                "Bad": {
                    "description": "bad",
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/Problem"}}
                    },
                }
            },
            securitySchemes={
                "key": {"type": "apiKey", "in": "header", "name": header},
                "bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
            },
        )

    return {
        "beta": service(USER_B, "X-B", 10, "/v1/beta"),
        "alpha": service(USER_A, "X-A", 100, "/v1/alpha"),
    }


def test_colliding_components_are_renamed_and_every_reference_follows() -> None:
    result = merged(colliding())
    document = result.document
    assert_sound(document)
    components = document["components"]
    schemas = components["schemas"]
    assert schemas["User"] == USER_A
    assert schemas["beta__User"] == USER_B
    assert schemas["Problem"] == PROBLEM
    assert "beta__Problem" not in schemas
    # Wrapper and Pet read the same in both, but refer to a renamed User: renamed too.
    assert schemas["beta__Wrapper"]["properties"]["user"] == {
        "$ref": "#/components/schemas/beta__User"
    }
    assert schemas["beta__Pet"]["discriminator"]["mapping"] == {
        "user": "#/components/schemas/beta__User",
        "problem": "#/components/schemas/Problem",
    }
    assert components["responses"].keys() == {"Bad"}  # identical: shared
    assert components["parameters"].keys() == {"Limit", "beta__Limit"}
    assert components["securitySchemes"].keys() == {"bearerAuth", "key", "beta__key"}
    beta = document["paths"]["/v1/beta"]["get"]
    assert beta["security"] == [{"beta__key": []}, {"bearerAuth": []}]
    assert beta["parameters"] == [{"$ref": "#/components/parameters/beta__Limit"}]
    assert beta["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/beta__Wrapper"
    }
    assert document["paths"]["/v1/beta/error"]["get"]["responses"]["200"]["content"][
        "application/json"
    ]["schema"] == {"$ref": "#/components/responses/Bad/content"}
    # operationIds: alpha came first and keeps them.
    assert document["paths"]["/v1/alpha"]["get"]["operationId"] == "list"
    assert beta["operationId"] == "beta.list"
    assert any("operationId 'list'" in w for w in result.warnings)


def test_a_new_name_that_is_taken_gets_a_number() -> None:
    documents = {
        "alpha": schema_doc({"User": USER_A}, {"/a": get_op("a", "#/components/schemas/User")}),
        "beta": schema_doc(
            {"User": USER_B, "beta__User": PROBLEM},
            {
                "/b": get_op("b", "#/components/schemas/User"),
                "/c": get_op("c", "#/components/schemas/beta__User"),
            },
        ),
    }
    document = merged(documents).document
    assert_sound(document)
    assert document["components"]["schemas"] == {
        "User": USER_A,
        "beta__User": PROBLEM,
        "beta__User_2": USER_B,
    }


def test_unused_and_internal_only_components_are_not_published() -> None:
    document = schema_doc(
        {"Public": USER_A, "Secret": USER_B, "Unused": PROBLEM},
        {
            "/v1/public": get_op("public", "#/components/schemas/Public"),
            "/v1/secret": get_op(
                "secret",
                "#/components/schemas/Secret",
                security=[{"serviceApiKey": []}],
                **{"x-meshkit-internal": True},
            ),
        },
        securitySchemes={"serviceApiKey": {"type": "apiKey", "in": "header", "name": "K"}},
    )
    result = merged({"alpha": document}).document
    assert_sound(result)
    assert list(result["paths"]) == ["/v1/public"]
    assert result["components"]["schemas"] == {"Public": USER_A}
    assert result["components"]["securitySchemes"] == {"bearerAuth": BEARER}


def test_conflicting_operations_keep_the_first_service_and_warn(
    caplog: pytest.LogCaptureFixture,
) -> None:
    alpha = schema_doc(
        {"A": USER_A},
        {
            "/v1/things": get_op("alpha.list", "#/components/schemas/A"),
            "/v1/things/{id}": get_op("alpha.get", "#/components/schemas/A", parameters=[ID]),
        },
    )
    beta = schema_doc(
        {"B": USER_B},
        {
            "/v1/things": {
                **get_op("beta.list", "#/components/schemas/B"),
                "post": {"operationId": "beta.create", "responses": {"201": {"description": "ok"}}},
            },
            "/v1/things/{thing_id}": get_op(
                "beta.get", "#/components/schemas/B", parameters=[{**ID, "name": "thing_id"}]
            ),
        },
    )
    with caplog.at_level(logging.WARNING, logger="meshkit.gateway"):
        document = merge_openapi({"beta": beta, "alpha": alpha}, title=TITLE, version="1")
    assert_sound(document)
    things = document["paths"]["/v1/things"]
    assert things["get"]["operationId"] == "alpha.list"
    assert things["post"]["operationId"] == "beta.create"  # another method: merged in
    assert things["post"]["tags"] == ["beta"]
    assert "/v1/things/{thing_id}" not in document["paths"]
    assert document["paths"]["/v1/things/{id}"]["get"]["operationId"] == "alpha.get"
    assert "B" not in document["components"]["schemas"]  # only the dropped ones used it
    messages = [r.getMessage() for r in caplog.records]
    assert any("beta: GET /v1/things is already served by alpha" in m for m in messages)
    assert any("GET /v1/things/{thing_id} is already served by alpha" in m for m in messages)


def test_path_prefix_and_path_level_parts() -> None:
    document = schema_doc(
        {"A": USER_A},
        {
            "/v1/things/{id}": {
                "parameters": [
                    {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}
                ],
                "servers": [{"url": "http://alpha:3001"}],
                **get_op(
                    "get",
                    "#/components/schemas/A",
                    servers=[{"url": "http://alpha:3001"}],
                    responses={
                        "200": {
                            "description": "ok",
                            "links": {"self": {"operationRef": "#/paths/~1v1~1things~1{id}/get"}},
                        }
                    },
                ),
            }
        },
    )
    document["security"] = [{"bearerAuth": []}]
    document["servers"] = [{"url": "http://alpha:3001"}]
    result = merged({"alpha": document, "beta": document}, path_prefixes={"beta": "/edge/"})
    merged_doc = result.document
    assert_sound(merged_doc)
    assert list(merged_doc["paths"]) == ["/edge/v1/things/{id}", "/v1/things/{id}"]
    operation = merged_doc["paths"]["/edge/v1/things/{id}"]["get"]
    assert operation["parameters"][0]["name"] == "id"
    assert operation["security"] == [{"bearerAuth": []}]  # the service-wide default
    assert "servers" not in operation
    assert operation["responses"]["200"]["links"]["self"]["operationRef"] == (
        "#/paths/~1edge~1v1~1things~1{id}/get"
    )
    assert operation["operationId"] == "beta.get"
    assert merged_doc["servers"] == [{"url": "/"}]
    bad = merged({"alpha": document}, path_prefixes={"alpha": "edge"})
    assert list(bad.document["paths"]) == ["/v1/things/{id}"]
    assert any("path prefix 'edge' ignored" in w for w in bad.warnings)


def test_tags_and_skipped_documents() -> None:
    alpha = schema_doc(
        {"A": USER_A}, {"/a": get_op("a", "#/components/schemas/A", tags=["x", "alpha"])}
    )
    alpha["info"]["description"] = "The alpha service."
    alpha["tags"] = [{"name": "alpha", "externalDocs": {"url": "https://example.org/alpha"}}]
    result = merged(
        {"alpha": alpha, "legacy": {"swagger": "2.0", "paths": {}}, "empty": schema_doc({}, {})}
    )
    document = result.document
    assert_sound(document)
    assert document["tags"] == [
        {
            "name": "alpha",
            "description": "The alpha service.",
            "externalDocs": {"url": "https://example.org/alpha"},
        },
        {"name": "empty"},
    ]
    operation = document["paths"]["/a"]["get"]
    assert operation["tags"] == ["alpha"]
    assert operation["x-meshkit-tags"] == ["x"]
    assert result.warnings == ("legacy: not an OpenAPI 3 document; skipped",)
    assert merged({}).document["components"] == {"securitySchemes": {"bearerAuth": BEARER}}


# --- Swagger UI over HTTP -------------------------------------------------------------


def docs_app(document: dict[str, Any] | None = None) -> web.Application:
    app = web.Application()
    app.router.add_routes(swagger_routes())
    body = json.dumps(document or {"openapi": "3.1.0", "info": {"title": "t", "version": "1"}})

    async def openapi(request: web.Request) -> web.Response:
        return web.Response(text=body, content_type="application/json")

    app.router.add_get("/openapi.json", openapi)
    return app


@pytest.fixture
async def docs(aiohttp_client: Any) -> TestClient[Any, web.Application]:
    client: TestClient[Any, web.Application] = await aiohttp_client(docs_app())
    return client


async def raw_get(client: TestClient[Any, web.Application], target: str) -> tuple[int, bytes]:
    """GET ``target`` exactly as written: no client-side normalising or re-encoding."""
    reader, writer = await asyncio.open_connection(client.host, client.port)
    try:
        writer.write(f"GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        await writer.drain()
        answer = await reader.read()
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()
    status = int(answer.split(b" ", 2)[1])
    return status, answer.partition(b"\r\n\r\n")[2]


async def test_page_loads_only_its_own_files_under_a_strict_policy(
    docs: TestClient[Any, web.Application],
) -> None:
    response = await docs.get("/docs")
    assert response.status == 200
    assert response.content_type == "text/html"
    assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert response.headers["Cache-Control"] == "no-cache"
    page = await response.text()
    assert "://" not in page  # nothing from another origin
    assert "<script>" not in page  # no inline script: the policy would refuse it
    assert 'data-openapi-url="/openapi.json"' in page
    version = swagger_ui_version()
    assert version.startswith("5.")
    for target in (
        f"/docs/assets/swagger-ui.css?v={version}",
        f"/docs/assets/swagger-ui-bundle.js?v={version}",
        f"/docs/init.js?v={version}",
    ):
        assert f'"{target}"' in page
        answer = await docs.get(target)
        assert answer.status == 200, target
        assert answer.headers["Cache-Control"] == "public, max-age=31536000, immutable"

    redirect = await docs.get("/docs/", allow_redirects=False)
    assert redirect.status == 301
    assert redirect.headers["Location"] == "/docs"
    init = await docs.get("/docs/init.js")
    assert init.headers["Content-Type"] == "text/javascript; charset=utf-8"
    assert "SwaggerUIBundle(" in await init.text()


async def test_assets_have_types_validators_and_compression(
    docs: TestClient[Any, web.Application],
) -> None:
    for name, content_type in CONTENT_TYPES.items():
        response = await docs.get(f"/docs/assets/{name}", headers={"Accept-Encoding": "identity"})
        assert response.status == 200, name
        assert response.headers["Content-Type"] == content_type
        assert response.headers["Cache-Control"] == "public, max-age=3600"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert "Content-Encoding" not in response.headers
        assert len(await response.read()) > 0
    bundle = "/docs/assets/swagger-ui-bundle.js"
    plain = await docs.get(bundle, headers={"Accept-Encoding": "identity"})
    body = await plain.read()
    assert len(body) > 1_000_000
    zipped = await docs.get(bundle, headers={"Accept-Encoding": "gzip, br"}, auto_decompress=False)
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert zipped.headers["Vary"] == "Accept-Encoding"
    compressed = await zipped.read()
    assert len(compressed) < len(body) / 2
    assert zlib.decompress(compressed, wbits=31) == body
    refused = await docs.get(bundle, headers={"Accept-Encoding": "gzip;q=0"})
    assert "Content-Encoding" not in refused.headers

    etag = plain.headers["ETag"]
    cached = await docs.get(bundle, headers={"If-None-Match": etag})
    assert cached.status == 304
    assert await cached.read() == b""
    stale = await docs.get(bundle, headers={"If-None-Match": 'W/"other"'})
    assert stale.status == 200
    head = await docs.head(bundle)
    assert head.status == 200


@pytest.mark.parametrize(
    "target",
    [
        "/docs/assets/../../pyproject.toml",
        "/docs/assets/../../../../../../etc/passwd",
        "/docs/assets/..%2F..%2Fpyproject.toml",
        "/docs/assets/%2e%2e/%2e%2e/pyproject.toml",
        "/docs/assets/%2e%2e%2f%2e%2e%2fpyproject.toml",
        "/docs/assets/%252e%252e%252fpyproject.toml",
        "/docs/assets/..%5c..%5cpyproject.toml",
        "/docs/assets/....//....//pyproject.toml",
        "/docs/assets/README.md",
        "/docs/assets/VERSION",
        "/docs/assets/swagger-ui-bundle.js.map",
        "/docs/assets/",
        "/docs/assets/%00",
    ],
)
async def test_no_path_leads_outside_the_assets(
    docs: TestClient[Any, web.Application], target: str
) -> None:
    status, body = await raw_get(docs, target)
    assert status in {400, 404}
    assert b"[project]" not in body
    assert b"root:" not in body


def test_prefix_must_be_a_path() -> None:
    for prefix in ("docs", "/docs/", ""):
        with pytest.raises(ValueError, match="prefix"):
            swagger_routes(prefix=prefix)


# --- Swagger UI in a real browser ---------------------------------------------------------


class Recorder:
    """Chromium's proxy: notes each request for another host, then hangs up on it."""

    def __init__(self) -> None:
        self.connections: list[bytes] = []

    def hosts(self) -> list[str]:
        """Hosts of the recorded requests (``CONNECT host:443`` or ``GET http://host/``)."""
        found = []
        for head in self.connections:
            target = head.split(b" ", 2)[1].decode() if head.count(b" ") >= 2 else ""
            found.append(urlsplit(target if "://" in target else f"//{target}").hostname or target)
        return found

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(Exception):
            self.connections.append(await asyncio.wait_for(reader.read(200), 1))
        writer.close()


@contextlib.asynccontextmanager
async def serve(app: web.Application) -> AsyncIterator[str]:
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


async def chromium(executable: str, profile: Path, proxy: str, *args: str) -> tuple[bytes, str]:
    """Run headless Chromium offline: every non-loopback request goes to ``proxy``."""
    process = await asyncio.create_subprocess_exec(
        executable,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        f"--user-data-dir={profile}",
        f"--proxy-server={proxy}",
        "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-default-apps",
        "--disable-extensions",
        "--disable-sync",
        "--no-first-run",
        "--no-default-browser-check",
        "--enable-logging=stderr",
        "--v=0",
        "--virtual-time-budget=15000",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(process.communicate(), CHROMIUM_TIMEOUT)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    assert process.returncode == 0, err.decode(errors="replace")[-2000:]
    return out, err.decode(errors="replace")


def png_size_and_colours(data: bytes) -> tuple[int, int, int]:
    """Width, height and distinct byte values of the pixel data of a PNG."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    offset, idat = 8, b""
    width = height = 0
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        kind = data[offset + 4 : offset + 8]
        chunk = data[offset + 8 : offset + 8 + length]
        if kind == b"IHDR":
            width, height = struct.unpack(">II", chunk[:8])
        elif kind == b"IDAT":
            idat += chunk
        offset += 12 + length
    return width, height, len(set(zlib.decompress(idat)))


@pytest.mark.slow
async def test_swagger_ui_renders_every_service_offline(
    installed: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    executable = require_executable("chromium")
    document = merge_openapi(installed, title=TITLE, version="1.0")
    requested: list[str] = []

    @web.middleware
    async def note(request: web.Request, handler: Any) -> web.StreamResponse:
        requested.append(request.path)
        response: web.StreamResponse = await handler(request)
        return response

    app = docs_app(document)
    app.middlewares.append(note)
    recorder = Recorder()
    proxy = await asyncio.start_server(recorder.handle, "127.0.0.1", 0)
    proxy_url = f"http://127.0.0.1:{proxy.sockets[0].getsockname()[1]}"
    screenshot = tmp_path / "docs.png"
    try:
        async with serve(app) as base:
            (dom, log), (_, shot_log) = await asyncio.gather(
                chromium(executable, tmp_path / "p1", proxy_url, "--dump-dom", f"{base}/docs"),
                chromium(
                    executable,
                    tmp_path / "p2",
                    proxy_url,
                    f"--screenshot={screenshot}",
                    "--window-size=1280,4000",
                    f"{base}/docs",
                ),
            )
    finally:
        proxy.close()
        await proxy.wait_closed()

    html = dom.decode()
    # The proxy refused everything not for 127.0.0.1, yet the page rendered in full: it
    # needs nothing from elsewhere. What did reach the proxy is Chromium's own
    # background traffic (clock, component updates, accounts), never the page's.
    strangers = [h for h in recorder.hosts() if not CHROMIUM_OWN.search(h)]
    assert strangers == [], recorder.connections
    assert set(requested) >= {
        "/docs",
        "/docs/init.js",
        "/docs/assets/swagger-ui.css",
        "/docs/assets/swagger-ui-bundle.js",
        "/openapi.json",
    }
    for output in (log, shot_log):
        assert "Content Security Policy" not in output, output[-3000:]
    assert TITLE in html
    for service in installed:
        assert f'id="operations-tag-{service}"' in html, service
    paths = {path for path, _, _ in operations(document)}
    for path in paths:
        assert f'data-path="{path}"' in html, path
    assert html.count('class="opblock opblock-') == len(list(operations(document)))
    if "auth" in installed:
        assert 'data-path="/v1/auth/login"' in html

    width, height, colours = png_size_and_colours(screenshot.read_bytes())
    assert (width, height) == (1280, 4000)
    assert screenshot.stat().st_size > 20_000
    assert colours > 20  # text and coloured method badges, not a blank page
