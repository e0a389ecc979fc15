"""The auth service end to end over HTTP: accounts, tokens, sessions, reset, roles, keys."""

import asyncio
import json
import logging
import statistics
import time
from datetime import UTC, datetime, timedelta

import jwt as pyjwt
import pytest

from meshkit.app import SERVICE_KEY
from meshkit.outbox import read_messages
from meshkit.services.auth import AuthService
from meshkit.services.auth.models import ResetToken
from meshkit.tokens import CallableJwks, TokenVerifier
from tests.test_tokens import Clock

PASSWORD = "correct horse battery staple"
ADMIN_PASSWORD = "trusty operator passphrase 42"


async def register(client, name="ada", password=PASSWORD, email=None):
    response = await client.post(
        "/v1/auth/register",
        json={"email": email or f"{name}@example.test", "username": name, "password": password},
    )
    return response


async def login(client, login_name="ada", password=PASSWORD):
    response = await client.post("/v1/auth/login", json={"login": login_name, "password": password})
    return response


async def tokens_of(client, name="ada"):
    await register(client, name)
    response = await login(client, name)
    assert response.status == 200, await response.text()
    return await response.json()


def bearer(tokens):
    return {"Authorization": f"Bearer {tokens['access_token']}"}


async def test_register_and_login_by_email_or_username(auth):
    response = await register(auth)
    assert response.status == 201
    user = await response.json()
    assert user["username"] == "ada"
    assert user["roles"] == ["user"]
    for name in ("ada", "ADA", "Ada@Example.test"):
        answer = await login(auth, name)
        assert answer.status == 200, name
        tokens = await answer.json()
        assert tokens["token_type"] == "Bearer"
        assert tokens["expires_in"] == 900
        assert tokens["refresh_token"].startswith("mkr_")


async def test_duplicates_are_409_case_insensitively(auth):
    await register(auth)
    again = await register(auth, "ADA", email="other@example.test")
    assert again.status == 409
    problem = await again.json()
    assert problem["type"] == "urn:meshkit:problem:conflict"
    assert problem["fields"] == ["username"]
    email = await register(auth, "bob", email="ADA@example.test")
    assert (await email.json())["fields"] == ["email"]


@pytest.mark.parametrize(
    ("password", "why"),
    [("tiny", "at least"), ("password123", "common"), ("grace-hopper-1", "username")],
)
async def test_weak_passwords_are_refused_with_the_reason(auth, password, why):
    response = await register(auth, "grace", password=password)
    assert response.status == 422
    text = await response.text()
    assert why in text
    assert password not in text


async def test_bad_input_is_422_not_500(auth):
    for body in (
        {"email": "not-an-email", "username": "ada", "password": PASSWORD},
        {"email": "a@example.test", "username": "a", "password": PASSWORD},
        {"email": "a@example.test", "username": "ada"},
    ):
        response = await auth.post("/v1/auth/register", json=body)
        assert response.status == 422
    assert (await auth.post("/v1/auth/login", data="{")).status in (400, 415)


async def test_wrong_password_and_unknown_account_answer_identically(auth):
    await register(auth)
    wrong = await login(auth, "ada", "not the password at all")
    unknown = await login(auth, "nobody", "not the password at all")
    assert wrong.status == unknown.status == 401
    first, second = await wrong.json(), await unknown.json()
    assert first == second
    assert first["type"] == "urn:meshkit:problem:invalid-credentials"


async def test_tokens_verify_with_pyjwt_using_only_the_published_jwks(auth):
    tokens = await tokens_of(auth)
    jwks = await (await auth.get("/.well-known/jwks.json")).json()
    header = pyjwt.get_unverified_header(tokens["access_token"])
    assert header["typ"] == "at+jwt"
    assert header["alg"] == "RS256"
    key = pyjwt.PyJWKSet.from_dict(jwks)[header["kid"]]
    claims = pyjwt.decode(
        tokens["access_token"],
        key.key,
        algorithms=["RS256"],
        audience="meshkit",
        issuer="meshkit",
        options={"require": ["exp", "iat", "nbf", "iss", "aud", "sub", "jti"]},
    )
    assert claims["typ"] == "access"
    assert claims["roles"] == ["user"]
    assert "messaging:message.send" in claims["perms"]
    assert claims["sid"] == tokens["session_id"]


async def test_profile_read_and_update(auth):
    tokens = await tokens_of(auth)
    me = await (await auth.get("/v1/users/me", headers=bearer(tokens))).json()
    assert me["email"] == "ada@example.test"
    response = await auth.patch(
        "/v1/users/me",
        headers=bearer(tokens),
        json={"display_name": "Ada L.", "avatar_url": "https://example.test/a.png"},
    )
    assert response.status == 200
    changed = await response.json()
    assert changed["display_name"] == "Ada L."
    assert changed["avatar_url"] == "https://example.test/a.png"
    bad = await auth.patch("/v1/users/me", headers=bearer(tokens), json={"avatar_url": "nope"})
    assert bad.status == 422
    assert (await auth.get("/v1/users/me")).status == 401


async def test_refresh_rotates_and_reuse_revokes_the_family(auth):
    first = await tokens_of(auth)
    response = await auth.post("/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert response.status == 200
    second = await response.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert second["session_id"] == first["session_id"]
    reuse = await auth.post("/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert reuse.status == 401
    assert "revoked" in (await reuse.json())["detail"]
    after = await auth.post("/v1/auth/refresh", json={"refresh_token": second["refresh_token"]})
    assert after.status == 401, "the whole family is revoked"
    assert (await auth.get("/v1/users/me", headers=bearer(second))).status == 401


async def test_a_refresh_token_is_not_an_access_token(auth):
    tokens = await tokens_of(auth)
    response = await auth.get(
        "/v1/users/me", headers={"Authorization": f"Bearer {tokens['refresh_token']}"}
    )
    assert response.status == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


async def test_logout_denylists_the_access_token_and_ends_the_session(auth):
    tokens = await tokens_of(auth)
    assert (await auth.post("/v1/auth/logout", headers=bearer(tokens))).status == 204
    assert (await auth.get("/v1/users/me", headers=bearer(tokens))).status == 401
    refreshed = await auth.post("/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert refreshed.status == 401


async def test_sessions_are_listed_and_revocable(auth):
    first = await tokens_of(auth)
    second = await (await login(auth)).json()
    listed = await (await auth.get("/v1/auth/sessions", headers=bearer(second))).json()
    assert [s["id"] for s in listed] == [second["session_id"], first["session_id"]]
    assert [s["current"] for s in listed] == [True, False]
    gone = await auth.delete(f"/v1/auth/sessions/{first['session_id']}", headers=bearer(second))
    assert gone.status == 204
    assert (await auth.get("/v1/users/me", headers=bearer(first))).status == 401
    assert (await auth.get("/v1/users/me", headers=bearer(second))).status == 200
    other = await auth.delete(
        "/v1/auth/sessions/01HNOTMINE0000000000000000", headers=bearer(second)
    )
    assert other.status == 404


async def test_password_reset_answers_the_same_and_works_once(auth, auth_settings):
    tokens = await tokens_of(auth)
    known = await auth.post("/v1/auth/password-reset", json={"email": "ada@example.test"})
    unknown = await auth.post("/v1/auth/password-reset", json={"email": "who@example.test"})
    assert known.status == unknown.status == 202
    assert await known.json() == await unknown.json()
    settings = auth_settings()
    for _ in range(100):
        messages = read_messages(settings, kind="password-reset")
        if messages:
            break
        await asyncio.sleep(0.02)
    assert [m["to"] for m in messages] == ["ada@example.test"]
    token = messages[0]["data"]["token"]
    weak = await auth.post(
        "/v1/auth/password-reset/confirm", json={"token": token, "new_password": "password"}
    )
    assert weak.status == 422, "a refused password leaves the token usable"
    new_password = "a brand new passphrase"
    done = await auth.post(
        "/v1/auth/password-reset/confirm", json={"token": token, "new_password": new_password}
    )
    assert done.status == 204
    again = await auth.post(
        "/v1/auth/password-reset/confirm", json={"token": token, "new_password": new_password}
    )
    assert again.status == 400
    assert (await again.json())["type"] == "urn:meshkit:problem:invalid-reset-token"
    assert (await auth.get("/v1/users/me", headers=bearer(tokens))).status == 401
    assert (await login(auth, "ada", PASSWORD)).status == 401
    assert (await login(auth, "ada", new_password)).status == 200


async def test_an_expired_reset_token_is_refused(auth, auth_settings):
    await tokens_of(auth)
    await auth.post("/v1/auth/password-reset", json={"email": "ada@example.test"})
    settings = auth_settings()
    for _ in range(100):
        if messages := read_messages(settings, kind="password-reset"):
            break
        await asyncio.sleep(0.02)
    service = auth.server.app[SERVICE_KEY]
    record = (await service.store.find(ResetToken, limit=1)).items[0]
    await service.store.update(
        record.model_copy(update={"expires_at": datetime.now(UTC) - timedelta(seconds=1)})
    )
    response = await auth.post(
        "/v1/auth/password-reset/confirm",
        json={"token": messages[0]["data"]["token"], "new_password": "another fine passphrase"},
    )
    assert response.status == 400


async def test_change_password_needs_the_current_one(auth):
    tokens = await tokens_of(auth)
    wrong = await auth.post(
        "/v1/auth/password",
        headers=bearer(tokens),
        json={"current_password": "nope nope nope", "new_password": "another fine passphrase"},
    )
    assert wrong.status == 401
    right = await auth.post(
        "/v1/auth/password",
        headers=bearer(tokens),
        json={"current_password": PASSWORD, "new_password": "another fine passphrase"},
    )
    assert right.status == 204
    assert (await login(auth, "ada", "another fine passphrase")).status == 200


async def test_deleting_an_account_needs_the_password(auth):
    tokens = await tokens_of(auth)
    refused = await auth.delete("/v1/users/me", headers=bearer(tokens), json={"password": "x"})
    assert refused.status == 401
    done = await auth.delete("/v1/users/me", headers=bearer(tokens), json={"password": PASSWORD})
    assert done.status == 204
    assert (await login(auth)).status == 401


async def test_repeated_failures_lock_out_with_retry_after(
    service_client, auth_settings, meshkit_redis
):
    client = await service_client(
        AuthService,
        settings=auth_settings(MESHKIT_AUTH_LOCKOUT_THRESHOLD="3", MESHKIT_AUTH_LOCKOUT_BASE="0.5"),
    )
    await register(client)
    for _ in range(3):
        assert (await login(client, "ada", "wrong wrong wrong")).status == 401
    locked = await login(client, "ada", PASSWORD)
    assert locked.status == 429
    assert int(locked.headers["Retry-After"]) >= 1
    for _ in range(3):
        await login(client, "ghost", "wrong wrong wrong")
    ghost = await login(client, "ghost", "wrong wrong wrong")
    assert ghost.status == 429
    assert (await ghost.json())["detail"] == (await locked.json())["detail"]
    await asyncio.sleep(1.1)
    assert (await login(client, "ada", PASSWORD)).status == 200
    assert (await login(client, "ada", "wrong wrong wrong")).status == 401, "counter was reset"


async def admin_tokens(client):
    response = await login(client, "root@example.test", ADMIN_PASSWORD)
    assert response.status == 200, await response.text()
    return await response.json()


async def test_roles_are_admin_only_and_end_up_in_tokens(auth):
    user = await tokens_of(auth)
    assert (await auth.get("/v1/roles", headers=bearer(user))).status == 403
    admin = await admin_tokens(auth)
    roles = await (await auth.get("/v1/roles", headers=bearer(admin))).json()
    assert {r["name"] for r in roles} == {"admin", "user"}
    created = await auth.post(
        "/v1/roles",
        headers=bearer(admin),
        json={"name": "ops", "permissions": ["servers:deploy", "servers:*"]},
    )
    assert created.status == 201
    bad = await auth.post(
        "/v1/roles", headers=bearer(admin), json={"name": "x y", "permissions": ["NOPE"]}
    )
    assert bad.status == 422
    me = await (await auth.get("/v1/users/me", headers=bearer(user))).json()
    assigned = await auth.post(f"/v1/roles/ops/members/{me['id']}", headers=bearer(admin))
    assert (await assigned.json()) == {"roles": ["ops", "user"]}
    refreshed = await (
        await auth.post("/v1/auth/refresh", json={"refresh_token": user["refresh_token"]})
    ).json()
    claims = pyjwt.decode(refreshed["access_token"], options={"verify_signature": False})
    assert "servers:deploy" in claims["perms"]
    assert claims["roles"] == ["ops", "user"]
    assert (await auth.delete("/v1/roles/user", headers=bearer(admin))).status == 409
    assert (await auth.delete("/v1/roles/ops", headers=bearer(admin))).status == 409
    revoked = await auth.delete(f"/v1/roles/ops/members/{me['id']}", headers=bearer(admin))
    assert revoked.status == 204
    assert (await auth.delete("/v1/roles/ops", headers=bearer(admin))).status == 204


async def test_api_keys_are_shown_once_scoped_and_revocable(auth):
    admin = await admin_tokens(auth)
    created = await auth.post(
        "/v1/api-keys",
        headers=bearer(admin),
        json={"name": "ci", "scopes": ["service:messaging"]},
    )
    assert created.status == 201
    record = await created.json()
    key = record["key"]
    assert key.startswith("mk_")
    listed = await (await auth.get("/v1/api-keys", headers=bearer(admin))).json()
    assert "key" not in listed[0]
    assert listed[0]["prefix"] == key[:10]
    service = auth.server.app[SERVICE_KEY]
    await service.keyring.sync(service.redis)
    identity = service.keyring.identify(key)
    assert identity is not None
    assert identity.allows("messaging")
    assert not identity.allows("auth")
    gone = await auth.delete(f"/v1/api-keys/{record['id']}", headers=bearer(admin))
    assert gone.status == 204
    await service.keyring.sync(service.redis)
    assert service.keyring.identify(key) is None


async def test_key_rotation_publishes_before_it_signs(auth):
    service = auth.server.app[SERVICE_KEY]
    admin = await admin_tokens(auth)
    old_kid = pyjwt.get_unverified_header(admin["access_token"])["kid"]
    clock = Clock()
    verifier = TokenVerifier(
        CallableJwks(service.keys.jwks), issuer="meshkit", audience="meshkit", clock=clock
    )
    assert await verifier.verify(admin["access_token"])  # the verifier cached the old set
    rotated = await auth.post("/v1/auth/keys/rotate", headers=bearer(admin))
    assert rotated.status == 201
    answer = await rotated.json()
    new_kid = answer["kid"]
    assert new_kid != old_kid
    activates = datetime.fromisoformat(answer["activates_at"])
    assert 55 <= (activates - datetime.now(UTC)).total_seconds() <= 60, "the default is 60 s"
    jwks = await (await auth.get("/.well-known/jwks.json")).json()
    assert {k["kid"] for k in jwks["keys"]} == {old_kid, new_kid}, "published at once"
    assert (await auth.get("/v1/users/me", headers=bearer(admin))).status == 200
    during = await admin_tokens(auth)
    assert pyjwt.get_unverified_header(during["access_token"])["kid"] == old_kid
    assert await verifier.verify(during["access_token"]), "no refetch needed meanwhile"
    # The publish delay passes: the new key signs, and a verifier has had time to refetch.
    service.keys._clock = lambda: datetime.now(UTC) + timedelta(seconds=61)
    clock.advance(61)
    fresh = await admin_tokens(auth)
    assert pyjwt.get_unverified_header(fresh["access_token"])["kid"] == new_kid
    assert await verifier.verify(fresh["access_token"])
    assert await verifier.verify(during["access_token"]), "the old key still verifies"


async def test_key_rotation_without_delay_signs_at_once(
    service_client, auth_settings, meshkit_redis
):
    client = await service_client(
        AuthService, settings=auth_settings(MESHKIT_AUTH_KEY_PUBLISH_DELAY="0")
    )
    admin = await admin_tokens(client)
    rotated = await (await client.post("/v1/auth/keys/rotate", headers=bearer(admin))).json()
    fresh = await admin_tokens(client)
    assert pyjwt.get_unverified_header(fresh["access_token"])["kid"] == rotated["kid"]
    assert (await client.get("/v1/users/me", headers=bearer(admin))).status == 200


async def test_bcrypt_does_not_stall_the_loop(service_client, auth_settings, meshkit_redis):
    client = await service_client(
        AuthService, settings=auth_settings(MESHKIT_AUTH_BCRYPT_COST="12")
    )
    await register(client)
    logins = [asyncio.create_task(login(client)) for _ in range(20)]
    latencies = []
    while not all(task.done() for task in logins):
        started = time.perf_counter()
        assert (await client.get("/healthz")).status == 200
        latencies.append(time.perf_counter() - started)
        await asyncio.sleep(0.01)
    statuses = [(await task).status for task in logins]
    assert statuses == [200] * 20
    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    assert len(latencies) > 20
    assert p99 < 0.05, (
        f"/healthz p99 {p99 * 1000:.1f} ms (median {statistics.median(latencies) * 1000:.1f})"
    )


async def test_no_secret_reaches_the_logs(auth, caplog):
    caplog.set_level(logging.DEBUG)
    tokens = await tokens_of(auth)
    await login(auth, "ada", "wrong wrong wrong")
    await auth.post("/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    await auth.post("/v1/auth/password-reset", json={"email": "ada@example.test"})
    await asyncio.sleep(0.2)
    service = auth.server.app[SERVICE_KEY]
    from meshkit.services.auth.models import User

    stored = (await service.store.find(User, limit=10)).items
    text = "\n".join(
        f"{record.getMessage()} {json.dumps(record.__dict__, default=str)}"
        for record in caplog.records
    )
    secrets = [PASSWORD, "wrong wrong wrong", tokens["access_token"], tokens["refresh_token"]]
    secrets += [tokens["refresh_token"].split(".", 1)[1]]
    secrets += [user.password_hash for user in stored]
    for message in read_messages(service.settings, kind="password-reset"):
        secrets.append(message["data"]["token"])
    assert caplog.records, "the flow logged nothing at all: the check would be empty"
    for secret in secrets:
        assert secret not in text


async def test_account_changes_are_published_as_events(auth, meshkit_redis):
    tokens = await tokens_of(auth)
    await auth.patch("/v1/users/me", headers=bearer(tokens), json={"display_name": "Ada"})
    await auth.post("/v1/auth/logout", headers=bearer(tokens))
    tokens = await (await login(auth)).json()
    await auth.delete("/v1/users/me", headers=bearer(tokens), json={"password": PASSWORD})

    async def types(topic):
        entries = await meshkit_redis.xrange(f"meshkit:events:{topic}")
        return [fields[b"type"].decode() for _, fields in entries]

    assert await types("auth.users") == [
        "meshkit.auth.user.registered.v1",
        "meshkit.auth.user.updated.v1",
        "meshkit.auth.user.deleted.v1",
    ]
    assert await types("auth.sessions") == ["meshkit.auth.sessions.revoked.v1"] * 2
    entries = await meshkit_redis.xrange("meshkit:events:auth.users")
    assert all(b"ada@example.test" not in value for _, f in entries for value in f.values())


BAD_BODIES = [
    b"{",
    b"[]",
    b"null",
    b'{"login": 5, "password": []}',
    b'{"email": "\\u0000@x.y", "username": "\\ud800", "password": "x"}',
    ("{" * 5000 + "}" * 5000).encode(),
    b'{"refresh_token": "' + b"A" * 600 + b'"}',
    b'{"token": "mkp_", "new_password": "' + "é".encode() * 3000 + b'"}',
    b'{"refresh_token": "mkr_\\ud800.abc", "token": "mkp_\\ud800", "password": "\\ud800"}',
    b'{"refresh_token": "mkr_01HZZZZZZZZZZZZZZZZZZZZZZZ.\\ud800", "scopes": ["\\ud800"]}',
]


async def test_no_endpoint_answers_500_to_bad_input(auth):
    tokens = await tokens_of(auth)
    routes = [
        ("POST", "/v1/auth/register"),
        ("POST", "/v1/auth/login"),
        ("POST", "/v1/auth/refresh"),
        ("POST", "/v1/auth/password-reset"),
        ("POST", "/v1/auth/password-reset/confirm"),
        ("POST", "/v1/auth/password"),
        ("PATCH", "/v1/users/me"),
        ("DELETE", "/v1/users/me"),
        ("POST", "/v1/roles"),
        ("POST", "/v1/api-keys"),
    ]
    for method, path in routes:
        for body in BAD_BODIES:
            for headers in ({}, bearer(tokens)):
                response = await auth.request(
                    method, path, data=body, headers={"Content-Type": "application/json", **headers}
                )
                assert response.status < 500, (method, path, body[:40], response.status)
                if response.status >= 400:
                    assert response.content_type == "application/problem+json"
    weird = await auth.get("/v1/users/me", headers={"Authorization": "Bearer \u00e9\u00e9.x.y"})
    assert weird.status == 401


async def test_forwarded_addresses_count_only_from_a_service(
    service_client, auth_settings, meshkit_redis
):
    from meshkit.security import local_service_key

    settings = auth_settings(MESHKIT_AUTH_LOCKOUT_IP_THRESHOLD="2")
    client = await service_client(AuthService, settings=settings)
    key = local_service_key(settings)
    spoofed = {"X-Forwarded-For": "203.0.113.7"}
    for _ in range(2):
        await client.post("/v1/auth/login", json={"login": "x", "password": "y"}, headers=spoofed)
    locked = await client.post("/v1/auth/login", json={"login": "z", "password": "y"})
    assert locked.status == 429, "a client's own X-Forwarded-For is ignored: 127.0.0.1 counted"
    gateway = {"X-Forwarded-For": "198.51.100.9, 10.0.0.1", "X-Meshkit-Api-Key": key}
    answer = await client.post(
        "/v1/auth/login", json={"login": "z", "password": "y"}, headers=gateway
    )
    assert answer.status == 401, "through a service, the forwarded client address counts"
