"""Fixes of the auth security review: bootstrap, session denylist, reset tokens, the last
admin, throttled password re-checks, odd tokens, key rotation, algorithms, role event
order, API key scopes, and the smaller ones (per-user lockout, disabled accounts, no
echoed ids, control characters in display names)."""

import asyncio
import json
import logging
import secrets
from datetime import UTC, datetime, timedelta

import jwt as pyjwt
import pytest
from joserfc.jws import JWSRegistry

from meshkit.app import SERVICE_KEY
from meshkit.cli import main
from meshkit.config import ConfigError
from meshkit.outbox import read_messages
from meshkit.services.auth import AuthService
from meshkit.services.auth.keys import SigningKeys, generate, signing_algorithm
from meshkit.services.auth.models import RoleAssignment, User
from meshkit.services.auth.roles import ADMIN, LastAdmin, Roles
from meshkit.services.auth.sessions import utcnow
from meshkit.store import new_id, open_store
from meshkit.testing import make_settings
from meshkit.tokens import (
    ALGORITHMS,
    DENYLIST_PREFIX,
    SESSION_DENYLIST_PREFIX,
    StaticJwks,
    TokenVerifier,
)
from tests.test_auth import (
    ADMIN_PASSWORD,
    PASSWORD,
    admin_tokens,
    bearer,
    login,
    register,
    tokens_of,
)

JSON = {"Content-Type": "application/json"}


def service_of(client):
    return client.server.app[SERVICE_KEY]


async def me(client, tokens):
    return await (await client.get("/v1/users/me", headers=bearer(tokens))).json()


async def reset_tokens(client, settings, email="ada@example.test", count=1):
    for _ in range(count):
        await client.post("/v1/auth/password-reset", json={"email": email})
    for _ in range(200):
        messages = read_messages(settings, kind="password-reset")
        if len(messages) >= count:
            return [m["data"]["token"] for m in messages]
        await asyncio.sleep(0.02)
    raise AssertionError("no reset message arrived")


# 1. The bootstrap administrator


async def test_bootstrap_never_promotes_an_existing_account(
    service_client, auth_settings, meshkit_redis, caplog
):
    first = await service_client(
        AuthService, settings=auth_settings(MESHKIT_AUTH_BOOTSTRAP_ADMIN_EMAIL="")
    )
    squatter = await register(first, "squatter", email="root@example.test")
    assert squatter.status == 201
    await first.close()
    caplog.set_level(logging.WARNING, logger="meshkit.auth")
    second = await service_client(AuthService, settings=auth_settings())
    tokens = await (await login(second, "squatter")).json()
    assert (await me(second, tokens))["roles"] == ["user"], "not promoted"
    assert (await login(second, "root@example.test", ADMIN_PASSWORD)).status == 401
    assert not await service_of(second).roles.has_admin()
    assert any("not made administrator" in r.getMessage() for r in caplog.records)


async def test_bootstrap_promotes_the_account_it_creates(auth):
    admin = await admin_tokens(auth)
    profile = await me(auth, admin)
    assert profile["roles"] == ["admin", "user"]
    assert profile["username"] == "admin"


# 2. Revoking a session revokes every access token of it


async def test_revoking_a_session_refuses_all_its_access_tokens(auth, meshkit_redis):
    first = await tokens_of(auth)
    refreshed = await (
        await auth.post("/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    ).json()
    other = await (await login(auth)).json()
    for tokens in (first, refreshed):
        assert (await auth.get("/v1/users/me", headers=bearer(tokens))).status == 200
    gone = await auth.delete(f"/v1/auth/sessions/{first['session_id']}", headers=bearer(other))
    assert gone.status == 204
    for tokens in (first, refreshed):  # the older one had a jti nobody denylisted before
        response = await auth.get("/v1/users/me", headers=bearer(tokens))
        assert response.status == 401
        assert (await response.json())["detail"] == "token revoked"
    assert (await auth.get("/v1/users/me", headers=bearer(other))).status == 200
    ttl = await meshkit_redis.ttl(SESSION_DENYLIST_PREFIX + first["session_id"])
    assert 900 < ttl <= 1200 + 1, "access token lifetime plus the largest leeway"


async def test_logout_with_an_older_token_denies_it_and_the_session(auth, meshkit_redis):
    first = await tokens_of(auth)
    second = await (
        await auth.post("/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    ).json()
    assert (await auth.post("/v1/auth/logout", headers=bearer(first))).status == 204
    for tokens in (first, second):
        assert (await auth.get("/v1/users/me", headers=bearer(tokens))).status == 401
    jti = pyjwt.decode(first["access_token"], options={"verify_signature": False})["jti"]
    assert await meshkit_redis.exists(DENYLIST_PREFIX + jti), "the presented token itself"
    assert await meshkit_redis.exists(SESSION_DENYLIST_PREFIX + first["session_id"])


async def test_reuse_of_a_refresh_token_refuses_every_token_of_the_session(auth):
    first = await tokens_of(auth)
    second = await (
        await auth.post("/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    ).json()
    reuse = await auth.post("/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert reuse.status == 401
    for tokens in (first, second):
        assert (await auth.get("/v1/users/me", headers=bearer(tokens))).status == 401


# 3. Setting a password spends the other reset tokens


async def test_a_reset_spends_every_other_reset_token(auth, auth_settings):
    await tokens_of(auth)
    first, second = await reset_tokens(auth, auth_settings(), count=2)
    done = await auth.post(
        "/v1/auth/password-reset/confirm",
        json={"token": second, "new_password": "a brand new passphrase"},
    )
    assert done.status == 204
    older = await auth.post(
        "/v1/auth/password-reset/confirm",
        json={"token": first, "new_password": "an attacker's passphrase"},
    )
    assert older.status == 400
    assert (await older.json())["type"] == "urn:meshkit:problem:invalid-reset-token"
    assert (await login(auth, "ada", "a brand new passphrase")).status == 200


async def test_a_password_change_spends_pending_reset_tokens(auth, auth_settings):
    tokens = await tokens_of(auth)
    (pending,) = await reset_tokens(auth, auth_settings())
    changed = await auth.post(
        "/v1/auth/password",
        headers=bearer(tokens),
        json={"current_password": PASSWORD, "new_password": "another fine passphrase"},
    )
    assert changed.status == 204
    late = await auth.post(
        "/v1/auth/password-reset/confirm",
        json={"token": pending, "new_password": "an attacker's passphrase"},
    )
    assert late.status == 400


# 4. The last administrator


async def test_the_last_admin_keeps_the_role_and_cannot_delete_the_account(auth):
    admin = await admin_tokens(auth)
    root = await me(auth, admin)
    alone = await auth.delete(f"/v1/roles/admin/members/{root['id']}", headers=bearer(admin))
    assert alone.status == 409
    assert (await alone.json())["type"] == "urn:meshkit:problem:last-admin"
    refused = await auth.delete(
        "/v1/users/me", headers=bearer(admin), json={"password": ADMIN_PASSWORD}
    )
    assert refused.status == 409
    assert refused.content_type == "application/problem+json"
    assert (await me(auth, admin))["roles"] == ["admin", "user"], "nothing was undone halfway"
    # With a second administrator, the first may go.
    user = await tokens_of(auth)
    ada = await me(auth, user)
    given = await auth.post(f"/v1/roles/admin/members/{ada['id']}", headers=bearer(admin))
    assert given.status == 201
    gone = await auth.delete(
        "/v1/users/me", headers=bearer(admin), json={"password": ADMIN_PASSWORD}
    )
    assert gone.status == 204
    assert await service_of(auth).roles.admin_count() == 1
    ada_admin = await (await login(auth)).json()
    last = await auth.delete("/v1/users/me", headers=bearer(ada_admin), json={"password": PASSWORD})
    assert last.status == 409


async def test_admins_revoking_each_other_at_once_leave_one(auth):
    admin = await admin_tokens(auth)
    user = await tokens_of(auth)
    ada = await me(auth, user)
    root = await me(auth, admin)
    await auth.post(f"/v1/roles/admin/members/{ada['id']}", headers=bearer(admin))
    ada_admin = await (await login(auth)).json()
    answers = await asyncio.gather(
        auth.delete(f"/v1/roles/admin/members/{ada['id']}", headers=bearer(admin)),
        auth.delete(f"/v1/roles/admin/members/{root['id']}", headers=bearer(ada_admin)),
    )
    assert sorted(a.status for a in answers) in ([204, 409], [409, 409])
    assert await service_of(auth).roles.admin_count() >= 1


async def test_a_revocation_that_raced_to_zero_admins_is_rolled_back(tmp_path):
    settings = make_settings(tmp_path)
    store = await open_store(settings, service="auth")
    try:
        await store.ensure_indexes([User, RoleAssignment])
        roles = Roles(store)
        now = utcnow()
        user = await store.insert(
            User(
                email="x@example.test",
                username="x",
                username_key="x",
                password_hash="-",
                created_at=now,
                updated_at=now,
                password_changed_at=now,
            )
        )
        await store.insert(RoleAssignment(user_id=user.id, role=ADMIN, assigned_at=now))
        real = roles.admin_count
        calls = []

        async def stale_first() -> int:
            calls.append(1)
            # The check before the change saw a second admin who lost the role meanwhile.
            return 2 if len(calls) == 1 else await real()

        roles.admin_count = stale_first
        with pytest.raises(LastAdmin):
            await roles.revoke(user, ADMIN)
        assert await real() == 1, "the assignment was put back"
        assert (await store.get(User, user.id)).version == 1, "no version bump for a refusal"
    finally:
        await store.close()


async def test_the_admin_roles_permissions_cannot_change(auth):
    admin = await admin_tokens(auth)
    narrowed = await auth.patch(
        "/v1/roles/admin", headers=bearer(admin), json={"permissions": ["messaging:*"]}
    )
    assert narrowed.status == 409
    emptied = await auth.patch("/v1/roles/admin", headers=bearer(admin), json={"permissions": []})
    assert emptied.status == 409
    described = await auth.patch(
        "/v1/roles/admin",
        headers=bearer(admin),
        json={"description": "Root.", "permissions": ["*"]},
    )
    assert described.status == 200
    assert (await described.json())["permissions"] == ["*"]
    user_role = await auth.patch(
        "/v1/roles/user", headers=bearer(admin), json={"permissions": ["messaging:*"]}
    )
    assert user_role.status == 200, "the user role's permissions may change"


# 5. Re-checking the current password is throttled by the account


@pytest.mark.parametrize("route", ["password", "delete"])
async def test_password_rechecks_lock_out_by_user(
    service_client, auth_settings, meshkit_redis, route
):
    client = await service_client(
        AuthService, settings=auth_settings(MESHKIT_AUTH_LOCKOUT_THRESHOLD="3")
    )
    tokens = await tokens_of(client)

    async def attempt(password):
        if route == "password":
            return await client.post(
                "/v1/auth/password",
                headers=bearer(tokens),
                json={"current_password": password, "new_password": "another fine passphrase"},
            )
        return await client.delete(
            "/v1/users/me", headers=bearer(tokens), json={"password": password}
        )

    answers = await asyncio.gather(*(attempt(f"guess number {n}") for n in range(12)))
    statuses = [a.status for a in answers]
    assert set(statuses) <= {401, 429}
    assert statuses.count(401) <= 3, "a burst gets no more guesses than the threshold"
    locked = await attempt(PASSWORD)
    assert locked.status == 429
    assert int(locked.headers["Retry-After"]) >= 1
    assert (await login(client, "ada", PASSWORD)).status == 429, "the account is locked"


async def test_login_failures_count_per_account_whatever_it_is_called(
    service_client, auth_settings, meshkit_redis
):
    client = await service_client(
        AuthService, settings=auth_settings(MESHKIT_AUTH_LOCKOUT_THRESHOLD="3")
    )
    await register(client)
    assert (await login(client, "ada", "wrong wrong wrong")).status == 401
    assert (await login(client, "ada", "wrong wrong wrong")).status == 401
    assert (await login(client, "ada@example.test", "wrong wrong wrong")).status == 401
    # The email was typed once only: the account's own count locks it.
    assert (await login(client, "ada@example.test", PASSWORD)).status == 429


async def test_a_disabled_account_answers_like_a_wrong_password(auth):
    await register(auth)
    wrong = await login(auth, "ada", "not the password at all")
    service = service_of(auth)
    user = await service.accounts.find_by_login("ada")
    await service.store.update(user.model_copy(update={"disabled": True}))
    disabled = await login(auth, "ada", PASSWORD)
    assert disabled.status == wrong.status == 401
    assert await disabled.json() == await wrong.json()


# 6. Odd refresh and reset tokens


def odd_refresh_tokens(session_id):
    secret = secrets.token_urlsafe(32)
    return [
        '"\\ud800"',
        '"mkr_\\ud800.abc"',
        f'"mkr_{session_id}.\\ud800{secret}"',
        f'"mkr_{session_id}.{secret}\\ud800"',
        f'"mkr_{session_id}\\ud800.{secret}"',
        f'"mkr_{session_id}.{secret}\\u0000"',
        f'"mkr_{session_id}.{secret}\\n"',
        f'"mkr_{session_id}.{secret[:-1]}\\u00e9"',
        f'"mkr_{session_id.lower()}.{secret}"',
        f'"mkr_{session_id}.{secret}.{secret}"',
        f'"mkr_{session_id}.{secret[:8]}"',
        '"mkr_\\u0000.x"',
        '"mkr_../../etc.passwd"',
        f'"mkr_{session_id}"',
        '""',
    ]


async def test_odd_refresh_tokens_are_401_never_500(auth):
    tokens = await tokens_of(auth)
    for raw in odd_refresh_tokens(tokens["session_id"]):
        body = ('{"refresh_token": ' + raw + "}").encode()
        response = await auth.post("/v1/auth/refresh", data=body, headers=JSON)
        # 400: a lone surrogate is no I-JSON (the body reader's malformed-body problem)
        assert response.status in (400, 401, 422), (raw, response.status)
        assert response.content_type == "application/problem+json"
        if response.status == 400:
            assert (await response.json())["type"] == "urn:meshkit:problem:malformed-body"
        if response.status == 401:
            assert (await response.json())["type"] == "urn:meshkit:problem:invalid-refresh-token"
    again = await auth.post("/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert again.status == 200, "none of them counted as reuse of the real token"


async def test_odd_reset_tokens_are_refused_never_500(auth):
    """A token of the wrong shape breaks the pattern the document declares (422 at
    body.token); one holding a lone surrogate is no I-JSON (400 malformed-body); a
    well-shaped unknown one is the domain's invalid-reset-token (400)."""
    secret = secrets.token_urlsafe(32)
    for raw, status, kind in (
        ('"mkp_\\ud800"', 400, "malformed-body"),
        (f'"mkp_{secret}\\ud800"', 400, "malformed-body"),
        ('"\\ud800"', 400, "malformed-body"),
        (f'"mkp_{secret}\\u0000"', 422, "validation-error"),
        (f'"mkp_{secret[:-1]}\\u00e9"', 422, "validation-error"),
        (f'"mkp_{secret}\\n"', 422, "validation-error"),
        ('"mkp_"', 422, "validation-error"),
        (f'"mkp_{secret}"', 400, "invalid-reset-token"),
    ):
        body = ('{"token": ' + raw + ', "new_password": "a brand new passphrase"}').encode()
        response = await auth.post("/v1/auth/password-reset/confirm", data=body, headers=JSON)
        assert response.status == status, (raw, response.status)
        problem = await response.json()
        assert problem["type"] == "urn:meshkit:problem:" + kind
        if status == 422:
            assert [e["loc"] for e in problem["errors"]] == [["body", "token"]]


# 7. Key rotation (the HTTP side is in test_auth.py)


class Clock:
    def __init__(self):
        self.now = datetime.now(UTC)

    def __call__(self):
        return self.now


async def test_a_rotated_key_signs_only_after_the_publish_delay(tmp_path):
    store = await open_store(make_settings(tmp_path), service="auth")
    try:
        from meshkit.services.auth.models import SigningKey

        await store.ensure_indexes([SigningKey])
        clock = Clock()
        keys = SigningKeys(store, algorithm="ES256", token_ttl=900, publish_delay=60, clock=clock)
        old = await keys.active()
        fresh = await keys.rotate()
        assert fresh.activates_at == clock.now + timedelta(seconds=60)
        assert {k["kid"] for k in (await keys.jwks())["keys"]} == {old.kid, fresh.kid}
        assert (await keys.active()).kid == old.kid
        clock.now += timedelta(seconds=59)
        assert (await keys.active()).kid == old.kid
        clock.now += timedelta(seconds=1)
        assert (await keys.active()).kid == fresh.kid
        # Two rotations in a row: each key waits its turn, none is left without a signer.
        third = await keys.rotate()
        fourth = await keys.rotate()
        assert (await keys.active()).kid == fresh.kid
        clock.now += timedelta(seconds=60)
        assert (await keys.active()).kid == fourth.kid
        published = {k["kid"] for k in (await keys.jwks())["keys"]}
        assert published == {old.kid, fresh.kid, third.kid, fourth.kid}
        clock.now += timedelta(seconds=900 + 61)
        assert await keys.prune() == 3
        assert {k["kid"] for k in (await keys.jwks())["keys"]} == {fourth.kid}
        # Another instance (its own cache) agrees on the signer.
        other = SigningKeys(store, algorithm="ES256", token_ttl=900, clock=clock)
        assert (await other.active()).kid == fourth.kid
    finally:
        await store.close()


# 8. Every signing algorithm


@pytest.mark.parametrize("algorithm", ["RS256", "ES256", "EdDSA"])
async def test_auth_signs_and_verifies_with_the_configured_algorithm(
    service_client, auth_settings, meshkit_redis, algorithm
):
    settings = auth_settings(MESHKIT_JWT_ALGORITHMS=algorithm)
    client = await service_client(AuthService, settings=settings)
    tokens = await tokens_of(client)
    header = pyjwt.get_unverified_header(tokens["access_token"])
    assert header["alg"] == algorithm
    assert (await client.get("/v1/users/me", headers=bearer(tokens))).status == 200
    jwks = await (await client.get("/.well-known/jwks.json")).json()
    verifier = TokenVerifier.for_settings(settings, StaticJwks(jwks))
    principal = await verifier.verify(tokens["access_token"])
    assert principal.session_id == tokens["session_id"]
    refreshed = await client.post(
        "/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
    )
    assert refreshed.status == 200


@pytest.mark.parametrize("algorithm", sorted(ALGORITHMS))
def test_every_allowed_algorithm_can_sign(algorithm):
    if algorithm not in JWSRegistry.algorithms:
        with pytest.raises(ConfigError, match="joserfc"):
            signing_algorithm(algorithm)
        return
    assert signing_algorithm(algorithm.lower()) == algorithm
    key = generate(algorithm)
    public = key.as_dict(private=False)
    if public["kty"] == "RSA":
        assert len(pyjwt.utils.base64url_decode(public["n"])) * 8 == 3072
    store_clock = Clock()

    async def check():
        from joserfc import jwt

        from meshkit.tokens import jws_registry

        now = int(store_clock.now.timestamp())
        claims = {
            "iss": "meshkit",
            "aud": "meshkit",
            "sub": "u",
            "jti": "j",
            "typ": "access",
            "iat": now,
            "exp": now + 60,
        }
        header = {"alg": algorithm, "kid": key.kid, "typ": "at+jwt"}
        token = jwt.encode(header, claims, key, registry=jws_registry([algorithm]))
        verifier = TokenVerifier(
            StaticJwks({"keys": [public]}),
            issuer="meshkit",
            audience="meshkit",
            algorithms=[algorithm],
        )
        assert (await verifier.verify(token)).subject == "u"

    asyncio.run(check())


def test_an_algorithm_joserfc_lacks_stops_the_start(monkeypatch):
    algorithms = dict(JWSRegistry.algorithms)
    algorithms.pop("Ed448", None)
    monkeypatch.setattr(JWSRegistry, "algorithms", algorithms)
    with pytest.raises(ConfigError, match="Ed448"):
        signing_algorithm("Ed448")
    with pytest.raises(ConfigError, match="HS256"):
        signing_algorithm("HS256,RS256")


@pytest.mark.parametrize("configured", ["HS256", "none", "XYZ", ""])
async def test_an_unusable_algorithm_stops_the_auth_service(auth_settings, configured):
    service = AuthService(auth_settings(MESHKIT_JWT_ALGORITHMS=configured))
    with pytest.raises(ConfigError, match="MESHKIT_JWT_ALGORITHMS"):
        await anext(service.lifespan())  # before it touches the store or Redis


# 9. Role events can be ordered


async def test_role_events_carry_increasing_versions(auth, meshkit_redis):
    admin = await admin_tokens(auth)
    user = await tokens_of(auth)
    ada = await me(auth, user)
    create = await auth.post("/v1/roles", headers=bearer(admin), json={"name": "ops"})
    assert create.status == 201
    for method in ("post", "delete", "post", "delete"):
        answer = await getattr(auth, method)(
            f"/v1/roles/ops/members/{ada['id']}", headers=bearer(admin)
        )
        assert answer.status in (201, 204)
    entries = await meshkit_redis.xrange("meshkit:events:auth.roles")
    data = [json.loads(fields[b"data"]) for _, fields in entries]
    versions = [d["version"] for d in data if d["user_id"] == ada["id"]]
    assert len(versions) == 4
    assert versions == sorted(set(versions)), "strictly increasing"
    assert versions[0] > 1, "above the registration's version"


# 10. API key scopes


@pytest.mark.parametrize(
    ("scopes", "field"),
    [
        ([], "scopes"),
        (None, "scopes"),
        (["messaging:channel.create"], "scopes.0"),
        (["service:Messaging"], "scopes.0"),
        (["service:*", "service:"], "scopes.1"),
        (["service:" + "a" * 33], "scopes.0"),
        (["service:a-b"], "scopes.0"),
        (["**"], "scopes.0"),
    ],
)
async def test_api_keys_need_well_formed_scopes(auth, scopes, field):
    admin = await admin_tokens(auth)
    body = {"name": "ci"} if scopes is None else {"name": "ci", "scopes": scopes}
    response = await auth.post("/v1/api-keys", headers=bearer(admin), json=body)
    assert response.status == 422
    problem = await response.json()
    assert [e["field"] for e in problem["errors"]] == [field]


async def test_well_formed_scopes_are_accepted(auth):
    admin = await admin_tokens(auth)
    for scopes in (["service:messaging"], ["service:*"], ["*"], ["service:a", "service:b_2"]):
        response = await auth.post(
            "/v1/api-keys", headers=bearer(admin), json={"name": "ci", "scopes": scopes}
        )
        assert response.status == 201, scopes


def test_the_cli_refuses_malformed_scopes(tmp_path, monkeypatch, meshkit_redis_url, capsys):
    monkeypatch.setenv("MESHKIT_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("MESHKIT_REDIS_URL", meshkit_redis_url)
    assert main(["auth", "api-keys", "create", "x", "--scope", "messaging"]) == 2
    assert "scope" in capsys.readouterr().err


# Smaller findings


async def test_problem_details_do_not_echo_ids(auth):
    admin = await admin_tokens(auth)
    probe = "<script>alert(1)<script>"
    for method, path in (
        ("DELETE", f"/v1/auth/sessions/{probe}"),
        ("DELETE", f"/v1/auth/sessions/{new_id()}"),
        ("POST", f"/v1/roles/user/members/{probe}"),
        ("DELETE", f"/v1/roles/user/members/{probe}"),
        ("POST", f"/v1/roles/nosuchrole/members/{probe}"),
        ("DELETE", f"/v1/api-keys/{probe}"),
        ("PATCH", "/v1/roles/nosuchrole"),
    ):
        response = await auth.request(method, path, headers=bearer(admin), json={})
        assert response.status == 404, (method, path)
        detail = (await response.json())["detail"]
        assert "script" not in detail, detail
        assert "nosuchrole" not in detail, detail


@pytest.mark.parametrize("name", ["Ada\u0000", "Ada\nLovelace", "\u202eadA", "Ada\x7f", "\ud800"])
async def test_display_names_refuse_control_characters(auth, name):
    tokens = await tokens_of(auth)
    body = ('{"display_name": ' + json.dumps(name) + "}").encode()
    response = await auth.patch("/v1/users/me", data=body, headers={**JSON, **bearer(tokens)})
    refused = 400 if name == "\ud800" else 422  # a lone surrogate: malformed-body
    assert response.status == refused
    registered = await auth.post(
        "/v1/auth/register",
        data=json.dumps({"email": "g@example.test", "username": "grace", "password": PASSWORD})[
            :-1
        ].encode()
        + b', "display_name": '
        + json.dumps(name).encode()
        + b"}",
        headers=JSON,
    )
    assert registered.status == refused
    fine = await auth.patch(
        "/v1/users/me", headers=bearer(tokens), json={"display_name": "Ada 👩\u200d💻 Lovelace"}
    )
    assert fine.status == 200
