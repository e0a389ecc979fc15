"""The access-token verifier against the JWT attack list (RFC 8725), with real keys."""

import base64
import hashlib
import hmac
import json
import time
from datetime import UTC, datetime, timedelta

import jwt as pyjwt
import pytest
from joserfc import jwt
from joserfc.jwk import ECKey, OKPKey, RSAKey

from meshkit.config import ConfigError
from meshkit.errors import Forbidden
from meshkit.tokens import (
    CallableJwks,
    KeysUnavailable,
    Principal,
    StaticJwks,
    TokenInvalid,
    TokenMissing,
    TokenVerifier,
    bearer_token,
    deny,
    require_permission,
)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def rsa(kid="rsa-1"):
    key = RSAKey.generate_key(2048, parameters={"kid": kid, "alg": "RS256", "use": "sig"})
    return key


RSA = rsa()
OTHER = rsa("rsa-2")
ATTACKER = rsa("rsa-1")  # same kid as ours, different key


def claims(**changes):
    now = int(time.time())
    values = {
        "iss": "meshkit",
        "aud": "meshkit",
        "sub": "user-1",
        "iat": now,
        "nbf": now,
        "exp": now + 300,
        "jti": f"jti-{time.monotonic_ns()}",
        "sid": "session-1",
        "typ": "access",
        "roles": ["user"],
        "perms": ["messaging:message.send", "voice:*"],
    }
    values.update(changes)
    return {k: v for k, v in values.items() if v is not None}


def sign(key=RSA, header=None, **changes):
    protected = {"alg": "RS256", "kid": key.kid, "typ": "at+jwt", **(header or {})}
    return jwt.encode(protected, claims(**changes), key, algorithms=[protected["alg"]])


def forge(header, payload, signature=b""):
    """A token assembled by hand (what an attacker sends)."""
    return ".".join(
        [b64(json.dumps(header).encode()), b64(json.dumps(payload).encode()), b64(signature)]
    )


class CountingJwks:
    def __init__(self, *keys):
        self.keys = list(keys)
        self.fetches = 0
        self.fail = False

    async def fetch(self):
        self.fetches += 1
        if self.fail:
            raise OSError("auth is down")
        return {"keys": [k.as_dict(private=False) for k in self.keys]}


def verifier(source=None, **options):
    return TokenVerifier(
        source or StaticJwks({"keys": [RSA.as_dict(private=False)]}),
        issuer="meshkit",
        audience="meshkit",
        **options,
    )


async def refused(token, match, **options):
    with pytest.raises(TokenInvalid, match=match) as caught:
        await verifier(**options).verify(token)
    assert token not in caught.value.detail
    assert caught.value.headers["WWW-Authenticate"].startswith("Bearer error=")
    return caught.value


async def test_a_valid_token_gives_its_principal():
    principal = await verifier().verify(sign())
    assert principal.subject == "user-1"
    assert principal.roles == {"user"}
    assert principal.session_id == "session-1"
    assert principal.has_permission("messaging:message.send")
    assert principal.has_permission("voice:room.join"), "service wildcard"
    assert not principal.has_permission("servers:deploy")


@pytest.mark.parametrize("alg", ["none", "None", "NONE", "nOnE"])
async def test_alg_none_in_any_case_is_refused(alg):
    token = forge({"alg": alg, "kid": RSA.kid, "typ": "at+jwt"}, claims())
    await refused(token, "algorithm not allowed")


async def test_hs256_signed_with_the_public_key_is_refused():
    public_pem = RSA.as_pem(private=False)
    header = {"alg": "HS256", "kid": RSA.kid, "typ": "at+jwt"}
    for secret in (public_pem, json.dumps(RSA.as_dict(private=False)).encode()):
        signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims()).encode())}"
        signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
        await refused(f"{signing_input}.{b64(signature)}", "algorithm not allowed")


def test_hmac_and_none_cannot_even_be_configured():
    for algorithms in (["HS256"], ["none"], ["RS256", "hs512"], []):
        with pytest.raises(ConfigError, match="MESHKIT_JWT_ALGORITHMS"):
            verifier(algorithms=algorithms)


async def test_a_key_of_another_type_than_the_algorithm_is_refused():
    ec = ECKey.generate_key("P-256", parameters={"kid": "ec-1"})
    token = jwt.encode(
        {"alg": "ES256", "kid": RSA.kid, "typ": "at+jwt"}, claims(), ec, algorithms=["ES256"]
    )
    await refused(token, "does not match", algorithms=["RS256", "ES256"])
    okp = OKPKey.generate_key("Ed25519", parameters={"kid": "ed-1"})
    source = StaticJwks({"keys": [okp.as_dict(private=False)]})
    await refused(sign(header={"kid": "ed-1"}), "does not match", source=source)


async def test_unknown_kid_refetches_at_most_once_per_interval():
    source = CountingJwks(RSA)
    check = verifier(source=source, refetch_interval=60)
    await check.verify(sign())
    assert source.fetches == 1
    for number in range(20):
        with pytest.raises(TokenInvalid, match="unknown signing key"):
            await check.verify(sign(OTHER, header={"kid": f"random-{number}"}))
    assert source.fetches == 1, "random kids must not hammer the JWKS endpoint"


@pytest.mark.parametrize(
    "kid", ["../../etc/passwd", "' OR 1=1 --", "k" * 10_000, "", None, 42, {"$ne": 1}]
)
async def test_malicious_kids_are_refused(kid):
    token = forge({"alg": "RS256", "kid": kid, "typ": "at+jwt"}, claims(), b"x" * 256)
    await refused(token, "unknown signing key|malformed")


async def test_embedded_jwk_header_is_ignored():
    header = {"jwk": ATTACKER.as_dict(private=False)}
    await refused(sign(ATTACKER, header=header), "signature invalid")


async def test_jku_and_x5u_headers_are_never_fetched():
    source = CountingJwks(RSA)
    check = verifier(source=source)
    await check.verify(sign())
    for header in ({"jku": "http://127.0.0.1:9/evil.json"}, {"x5u": "http://127.0.0.1:9/x"}):
        with pytest.raises(TokenInvalid, match="signature invalid"):
            await check.verify(sign(ATTACKER, header=header))
    assert source.fetches == 1


@pytest.mark.parametrize(
    ("changes", "match"),
    [
        ({"exp": int(time.time()) - 120}, "expired"),
        ({"exp": None}, "no expiry"),
        ({"nbf": int(time.time()) + 600}, "not valid yet"),
        ({"iat": int(time.time()) + 600}, "future"),
        ({"iss": "https://evil.example"}, "issuer"),
        ({"aud": "someone-else"}, "audience"),
        ({"aud": ["a", "b"]}, "audience"),
        ({"typ": "refresh"}, "not an access token"),
        ({"sub": None}, "sub or jti"),
        ({"jti": None}, "sub or jti"),
    ],
)
async def test_claims_are_checked(changes, match):
    await refused(sign(**changes), match)


async def test_an_audience_list_containing_ours_is_accepted():
    assert (await verifier().verify(sign(aud=["other", "meshkit"]))).subject == "user-1"


async def test_header_typ_must_say_access_token():
    await refused(sign(header={"typ": "JWT"}), "not an access token")
    assert await verifier().verify(sign(header={"typ": "application/at+jwt"}))


async def test_tampering_breaks_the_signature():
    token = sign()
    header, payload, signature = token.split(".")
    changed = json.loads(base64.urlsafe_b64decode(payload + "=="))
    changed["roles"] = ["admin"]
    await refused(f"{header}.{b64(json.dumps(changed).encode())}.{signature}", "signature")
    flipped = signature[:-4] + ("AAAA" if not signature.endswith("AAAA") else "BBBB")
    await refused(f"{header}.{payload}.{flipped}", "signature")
    await refused(token[: len(token) // 2], "malformed")


@pytest.mark.parametrize("garbage", ["", "abc", "a.b.c", "....", "x" * 20_000, "é.é.é"])
async def test_garbage_is_refused(garbage):
    with pytest.raises(TokenInvalid):
        await verifier().verify(garbage)


async def test_an_opaque_refresh_token_is_not_an_access_token():
    await refused("mkr_01HXYZ.c2VjcmV0LXBhcnQtb2YtdGhlLXRva2Vu", "malformed")


async def test_a_denylisted_token_is_refused(meshkit_redis):
    token = sign(jti="revoked-1")
    check = verifier(redis=meshkit_redis)
    assert await check.verify(token)
    await deny(meshkit_redis, "revoked-1", datetime.now(UTC) + timedelta(minutes=5))
    with pytest.raises(TokenInvalid, match="revoked"):
        await check.verify(token)
    assert 0 < await meshkit_redis.ttl("meshkit:auth:denylist:revoked-1") <= 301


async def test_rotation_new_kids_are_fetched_and_removed_keys_stop_working():
    source = CountingJwks(RSA)
    check = verifier(source=source, refetch_interval=0)
    assert await check.verify(sign(RSA))
    source.keys.append(OTHER)
    assert await check.verify(sign(OTHER)), "a key added after caching verifies after a refetch"
    assert source.fetches == 2
    source.keys = [OTHER]
    with pytest.raises(TokenInvalid, match="unknown signing key"):
        await check.verify(sign(rsa("never-seen")))
    assert source.fetches == 3
    with pytest.raises(TokenInvalid, match="unknown signing key"):
        await check.verify(sign(RSA)), "a key gone from the JWKS no longer verifies"
    assert await check.verify(sign(OTHER))


async def test_a_failing_jwks_is_503_without_keys_and_ignored_with_them():
    source = CountingJwks(RSA)
    source.fail = True
    with pytest.raises(KeysUnavailable) as caught:
        await verifier(source=source).verify(sign())
    assert caught.value.status == 503
    source.fail = False
    check = verifier(source=source, refetch_interval=0)
    assert await check.verify(sign())
    source.fail = True
    assert await check.verify(sign()), "cached keys keep working"
    with pytest.raises(TokenInvalid, match="unknown signing key"):
        await check.verify(sign(OTHER))


async def test_callable_sources_are_awaited():
    async def keys():
        return {"keys": [RSA.as_dict(private=False)]}

    assert await verifier(source=CallableJwks(keys)).verify(sign())


def test_bearer_header_parsing():
    assert bearer_token("Bearer abc.def.ghi") == "abc.def.ghi"
    assert bearer_token("bearer  abc.def.ghi ") == "abc.def.ghi"
    with pytest.raises(TokenMissing):
        bearer_token(None)
    with pytest.raises(TokenMissing):
        bearer_token("Basic dXNlcjpwYXNz")
    with pytest.raises(TokenInvalid):
        bearer_token("Bearer a b")


def test_require_permission_is_a_403_problem():
    principal = Principal(
        "u", frozenset(), frozenset({"messaging:*"}), "j", None, datetime.now(UTC)
    )
    require_permission(principal, "messaging:channel.delete")
    with pytest.raises(Forbidden) as caught:
        require_permission(principal, "servers:deploy")
    assert caught.value.status == 403
    assert caught.value.extensions["required_permission"] == "servers:deploy"
    admin = Principal("a", frozenset(), frozenset({"*"}), "j", None, datetime.now(UTC))
    require_permission(admin, "anything:at.all")


def test_pyjwt_agrees_with_the_fixture():
    """An independent implementation accepts what the tests sign and refuses alg none."""
    token = sign()
    decoded = pyjwt.decode(
        token, RSA.as_pem(private=False), algorithms=["RS256"], audience="meshkit"
    )
    assert decoded["sub"] == "user-1"
    with pytest.raises(pyjwt.InvalidTokenError):
        pyjwt.decode(
            forge({"alg": "none", "typ": "at+jwt"}, claims()),
            RSA.as_pem(private=False),
            algorithms=["RS256"],
            audience="meshkit",
        )
