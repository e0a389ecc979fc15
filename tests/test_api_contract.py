"""Issue 12, points 8 and 9: the API document declares every rule the servers enforce.

Three kinds of check, on the real auth and messaging services:

* the document carries each rule (pattern, minLength, if/then, oneOf, additionalProperties)
  where a generator, an SDK or a fuzzer can read it;
* a light schemathesis-style check: values drawn by hypothesis *from the document's own
  patterns* are accepted by the server (a schema-valid request is never refused for a
  rule the document hides), and values that break them are refused with 422;
* the edges: 403 before the body is validated, unknown body fields, reactions, and
  ``around`` an id of another channel.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from meshkit.app import openapi_document
from meshkit.services.auth import AuthService
from meshkit.services.messaging.reactions import EMOJI, SHORTCODES
from meshkit.services.messaging.service import MessagingService
from tests.test_auth import admin_tokens, bearer, tokens_of
from tests.test_messaging import chat  # noqa: F401  (the fixture)

PROBLEM = "application/problem+json"


def _draw(strategy: st.SearchStrategy[Any], count: int) -> list[Any]:
    """``count`` values hypothesis draws from ``strategy`` (for async, fixture-using
    tests, where ``@given`` cannot wrap the test itself)."""
    drawn: list[Any] = []

    @settings(
        max_examples=count,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def collect(value: Any) -> None:
        drawn.append(value)

    collect()
    return drawn


def _from_pattern(pattern: str) -> st.SearchStrategy[str]:
    """Strings matching a document pattern (ECMA ``^…$``: the whole string)."""
    return st.from_regex(re.compile(pattern.removeprefix("^").removesuffix("$")), fullmatch=True)


@pytest.fixture(scope="module")
def documents(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    from meshkit.testing import make_settings

    settings_ = make_settings(tmp_path_factory.mktemp("doc"))
    return {
        "auth": openapi_document(AuthService(settings_)),
        "messaging": openapi_document(MessagingService(settings_)),
    }


def _schema(document: dict[str, Any], name: str) -> dict[str, Any]:
    schema: dict[str, Any] = document["components"]["schemas"][name]
    return schema


def _prop(document: dict[str, Any], model: str, field: str) -> dict[str, Any]:
    prop: dict[str, Any] = _schema(document, model)["properties"][field]
    return prop


def _item(schema: dict[str, Any]) -> dict[str, Any]:
    """The string schema inside ``anyOf [x, null]`` and ``array`` wrappers."""
    for key in ("anyOf", "oneOf"):
        if key in schema:
            schema = next(s for s in schema[key] if s.get("type") != "null")
    if schema.get("type") == "array":
        schema = schema["items"]
    return schema


# The document carries the rules


def test_every_request_body_refuses_unknown_fields_in_the_document(documents):
    for service, document in documents.items():
        for path, operations in document["paths"].items():
            for method, operation in operations.items():
                body = operation.get("requestBody")
                if body is None:
                    continue
                ref = body["content"]["application/json"]["schema"]["$ref"]
                schema = _schema(document, ref.rsplit("/", 1)[1])
                assert schema.get("additionalProperties") is False, (service, method, path)


def test_the_auth_document_declares_its_rules(documents):
    auth = documents["auth"]
    assert _item(_prop(auth, "ApiKeyIn", "scopes"))["pattern"]
    assert _prop(auth, "ApiKeyIn", "scopes")["minItems"] == 1
    assert _item(_prop(auth, "RoleIn", "permissions"))["pattern"]
    assert _item(_prop(auth, "RolePatch", "permissions"))["pattern"]
    for model in ("RegisterIn", "ProfilePatch"):
        assert "pattern" in _item(_prop(auth, model, "display_name"))
    for model, field in (
        ("RegisterIn", "password"),
        ("PasswordChangeIn", "new_password"),
        ("ResetConfirmIn", "new_password"),
    ):
        assert _prop(auth, model, field)["minLength"] == 8
        assert _prop(auth, model, field)["maxLength"] == 256
    assert _prop(auth, "ResetConfirmIn", "token")["pattern"].startswith("^mkp_")
    for path in ("/v1/roles", "/v1/api-keys"):
        operation = auth["paths"][path]["post"]
        assert "x-meshkit-permission" in operation
        assert "403" in operation["responses"]


def test_the_messaging_document_declares_its_rules(documents):
    messaging = documents["messaging"]
    channel = _schema(messaging, "ChannelIn")
    assert channel["if"]["properties"]["kind"] == {"const": "dm"}
    assert channel["else"]["required"] == ["name"]
    mark = _schema(messaging, "MarkRead")
    assert mark["if"]["properties"]["all"] == {"const": True}
    assert mark["else"]["required"] == ["ids"]
    react = messaging["paths"]["/v1/channels/{channel_id}/messages/{message_id}/reactions/{emoji}"][
        "put"
    ]
    emoji = next(p for p in react["parameters"] if p["name"] == "emoji")
    assert emoji["schema"] == {"$ref": "#/components/schemas/Reaction"}  # stated once
    assert _schema(messaging, "Reaction")["pattern"].startswith("^")
    history = messaging["paths"]["/v1/channels/{channel_id}/messages"]["get"]
    for param in history["parameters"]:
        if param["name"] in ("before", "after", "around"):
            assert "at most one of" in param["description"], param


def test_the_emoji_pattern_is_exactly_the_set(documents):
    messaging = documents["messaging"]
    pattern = re.compile(_schema(messaging, "Reaction")["pattern"])
    assert all(pattern.fullmatch(value) for value in EMOJI | SHORTCODES)
    for value in ("a", "👍👍", "\u202e👍", "👍\u200d", ":nope_nope:", "", "\ufe0f", "👍 "):
        assert not pattern.fullmatch(value), value


# A schema-valid request is accepted; a schema-invalid one is a 422


async def test_values_drawn_from_the_auth_document_are_accepted(auth, documents):
    document = documents["auth"]
    admin = await admin_tokens(auth)
    scope = _item(_prop(document, "ApiKeyIn", "scopes"))["pattern"]
    for index, value in enumerate(_draw(_from_pattern(scope), 25)):
        created = await auth.post(
            "/v1/api-keys", headers=bearer(admin), json={"name": f"k{index}", "scopes": [value]}
        )
        assert created.status == 201, (value, await created.text())
    permission = _item(_prop(document, "RoleIn", "permissions"))["pattern"]
    perms = _draw(st.lists(_from_pattern(permission), min_size=1, max_size=5), 20)
    for index, value in enumerate(perms):
        created = await auth.post(
            "/v1/roles", headers=bearer(admin), json={"name": f"role{index}", "permissions": value}
        )
        assert created.status == 201, (value, await created.text())
    user = await tokens_of(auth)
    display = _item(_prop(document, "ProfilePatch", "display_name"))
    names = _draw(
        _from_pattern(display["pattern"]).filter(lambda v: len(v) <= display["maxLength"]), 40
    )
    for value in names:
        changed = await auth.patch(
            "/v1/users/me", headers=bearer(user), json={"display_name": value}
        )
        assert changed.status == 200, (value, await changed.text())


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/v1/api-keys", {"name": "k", "scopes": ["service:"]}),
        ("/v1/api-keys", {"name": "k", "scopes": ["service:ok\n"]}),
        ("/v1/api-keys", {"name": "k", "scopes": []}),
        ("/v1/roles", {"name": "ops", "permissions": ["Servers:deploy"]}),
        ("/v1/roles", {"name": "ops", "permissions": ["servers:deploy\n"]}),
    ],
)
async def test_what_breaks_a_declared_rule_is_a_422(auth, path, body):
    admin = await admin_tokens(auth)
    response = await auth.post(path, headers=bearer(admin), json=body)
    assert response.status == 422, await response.text()


# 403 before the body is validated


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/v1/roles", {"name": "x y", "permissions": ["NOPE"], "bogus": 1}),
        ("PATCH", "/v1/roles/user", {"permissions": "not a list"}),
        ("POST", "/v1/api-keys", {"scopes": ["*"], "extra": True}),
        ("POST", "/v1/api-keys", None),
        ("GET", "/v1/api-keys", None),
    ],
)
async def test_a_caller_without_permission_gets_403_whatever_the_body(auth, method, path, body):
    user = await tokens_of(auth)
    kwargs: dict[str, Any] = {"json": body} if body is not None else {}
    if method == "POST" and body is None:
        kwargs = {"data": b"{" + b"9" * 5000, "headers": {"Content-Type": "application/json"}}
    response = await auth.request(
        method, path, headers={**bearer(user), **kwargs.pop("headers", {})}, **kwargs
    )
    assert response.status == 403, await response.text()
    problem = await response.json()
    assert problem["type"] == "urn:meshkit:problem:forbidden"
    assert "errors" not in problem


# Unknown body fields


async def test_unknown_body_fields_are_422_not_ignored(auth):
    response = await auth.post(
        "/v1/auth/register",
        json={
            "email": "ada@example.test",
            "username": "ada",
            "password": "correct horse battery staple",
            "dispaly_name": "Ada",
        },
    )
    assert response.status == 422
    problem = await response.json()
    assert [(e["loc"], e["code"]) for e in problem["errors"]] == [
        (["body", "dispaly_name"], "extra_forbidden")
    ]


async def test_unknown_fields_in_messaging_bodies_are_422(chat):  # noqa: F811
    user, _ = chat
    ada = await user("ada")
    status, problem = await ada.call("POST", "/v1/channels", json={"name": "g", "colour": "red"})
    assert status == 422
    assert problem["errors"][0]["loc"] == ["body", "colour"]
    status, channel = await ada.call("POST", "/v1/channels", json={"name": "general"})
    cid = channel["id"]
    status, problem = await ada.call(
        "POST",
        f"/v1/channels/{cid}/messages",
        json={"content": "hi", "attachments": [{"url": "https://x.test/a", "evil": 1}]},
    )
    assert status == 422
    assert problem["errors"][0]["loc"] == ["body", "attachments", "0", "evil"]


# The messaging rules: channel names, notifications/read, history cursors, reactions


async def test_channel_name_rule_follows_kind(chat):  # noqa: F811
    user, _ = chat
    ada, bob = await user("ada"), await user("bob")
    for body in ({}, {"kind": "public"}, {"kind": "private", "name": None}):
        status, problem = await ada.call("POST", "/v1/channels", json=body)
        assert status == 422, body
        assert "needs a name" in problem["errors"][0]["message"]
    status, _ = await ada.call(
        "POST", "/v1/channels", json={"kind": "dm", "name": "x", "members": [bob.user_id]}
    )
    assert status == 422
    status, _ = await ada.call("POST", "/v1/channels", json={"kind": "dm"})
    assert status == 422
    status, dm = await ada.call(
        "POST", "/v1/channels", json={"kind": "dm", "members": [bob.user_id]}
    )
    assert status == 201
    assert dm["kind"] == "dm"


async def test_notifications_read_takes_ids_or_all(chat):  # noqa: F811
    user, _ = chat
    ada = await user("ada")
    for body in (
        {},
        {"all": False},
        {"ids": None},
        {"ids": ["01ARZ3NDEKTSV4RRFFQ69G5FAV"], "all": True},
    ):
        status, _ = await ada.call("POST", "/v1/notifications/read", json=body)
        assert status == 422, body
    for body in (
        {"all": True},
        {"ids": ["01ARZ3NDEKTSV4RRFFQ69G5FAV"]},
        {"ids": ["01ARZ3NDEKTSV4RRFFQ69G5FAV"], "all": False},
    ):
        status, _ = await ada.call("POST", "/v1/notifications/read", json=body)
        assert status == 200, body


async def test_history_cursors_exclude_each_other_and_around_stays_in_its_channel(chat):  # noqa: F811
    user, _ = chat
    ada = await user("ada")
    _, one = await ada.call("POST", "/v1/channels", json={"name": "one"})
    _, two = await ada.call("POST", "/v1/channels", json={"name": "two"})
    _, elsewhere = await ada.call(
        "POST", f"/v1/channels/{two['id']}/messages", json={"content": "x"}
    )
    _, here = await ada.call("POST", f"/v1/channels/{one['id']}/messages", json={"content": "y"})
    base = f"/v1/channels/{one['id']}/messages"
    status, problem = await ada.call(
        "GET", base, params={"before": here["id"], "after": here["id"]}
    )
    assert status == 422
    assert "only one of before, after and around" in problem["errors"][0]["message"]
    status, problem = await ada.call("GET", base, params={"around": elsewhere["id"]})
    assert status == 404, problem
    status, page = await ada.call("GET", base, params={"around": here["id"]})
    assert status == 200
    assert [m["id"] for m in page] == [here["id"]]


async def test_reactions_take_one_emoji_or_a_known_shortcode(chat):  # noqa: F811
    user, _ = chat
    ada = await user("ada")
    _, channel = await ada.call("POST", "/v1/channels", json={"name": "general"})
    _, message = await ada.call(
        "POST", f"/v1/channels/{channel['id']}/messages", json={"content": "hi"}
    )
    base = f"/v1/channels/{channel['id']}/messages/{message['id']}/reactions/"
    for bad in (
        "a",
        "%F0%9F%91%8D%F0%9F%91%8D",
        "%E2%80%AE%F0%9F%91%8D",
        "%F0%9F%91%8D%E2%80%8D",
        ":nope_nope:",
        "%C3%A9",
        "%E2%80%8B",
    ):
        status, problem = await ada.call("PUT", base + bad)
        assert status == 422, bad
        assert problem["errors"][0]["loc"] == ["path", "emoji"]
    drawn = _draw(st.sampled_from(sorted(EMOJI)) | st.sampled_from(sorted(SHORTCODES)), 15)
    accepted = []
    for value in dict.fromkeys(drawn):
        if len(accepted) == 20:
            break
        status, _ = await ada.call("PUT", base + _quote(value))
        assert status == 204, value
        accepted.append(value)
    _, page = await ada.call("GET", f"/v1/channels/{channel['id']}/messages")
    assert set(page[0]["reactions"]) == set(accepted)


def _quote(value: str) -> str:
    from urllib.parse import quote

    return quote(value, safe="")
