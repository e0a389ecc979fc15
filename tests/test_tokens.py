"""The access-token verifier against the JWT attack list (RFC 8725, RFC 9068).

Real keys, real signatures, real Redis. Tokens are signed here with ``cryptography``
directly (not with joserfc, which the verifier uses), so the tests and the verifier do
not share a JOSE implementation; PyJWT checks that the tokens are what they claim.
"""

import asyncio
import base64
import hashlib
import hmac
import json
import logging
import secrets
import time
from datetime import UTC, datetime, timedelta

import jwt as pyjwt
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa
from joserfc import jws
from joserfc.errors import SecurityWarning
from joserfc.jwk import ECKey, OKPKey, RSAKey
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from meshkit.config import ConfigError
from meshkit.errors import Forbidden, ServiceUnavailable
from meshkit.observability import ThrottledLog
from meshkit.testing import make_settings
from meshkit.tokens import (
    DENYLIST_PREFIX,
    SESSION_DENYLIST_PREFIX,
    CallableJwks,
    HttpJwks,
    KeysUnavailable,
    Principal,
    RevocationUnavailable,
    StaticJwks,
    TokenInvalid,
    TokenMissing,
    TokenVerifier,
    bearer_token,
    deny,
    deny_session,
    jws_registry,
    require_permission,
)
from meshkit.tokens.verifier import VERIFIED_CACHE

ISSUER = "https://auth.meshkit.test"
AUDIENCE = "meshkit"


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class Keypair:
    """A signing key of ours (or an attacker's) and its public JWK."""

    def __init__(self, kid, kind="Ed25519", bits=2048, **jwk):
        self.kid = kid
        if kind == "Ed25519":
            self.alg, self.private = "EdDSA", ed25519.Ed25519PrivateKey.generate()
            public = OKPKey.import_key(self.public_pem)
        else:
            self.alg = "RS256"
            self.private = rsa.generate_private_key(public_exponent=65537, key_size=bits)
            public = RSAKey.import_key(self.public_pem)
        self.jwk = {**public.as_dict(private=False), "kid": kid, "alg": self.alg, "use": "sig"}
        self.jwk.update(jwk)

    @property
    def public_key(self):
        return self.private.public_key()

    @property
    def public_pem(self):
        return self.public_key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def sign(self, data):
        if self.alg == "EdDSA":
            return self.private.sign(data)
        return self.private.sign(data, padding.PKCS1v15(), hashes.SHA256())


ED = Keypair("ed-1")
ED2 = Keypair("ed-2")
ATTACKER = Keypair("ed-1")  # our kid, the attacker's key
RSA = Keypair("rsa-1", kind="RSA")


def jwks(*keys):
    return {"keys": [key.jwk for key in keys]}


def claims(now=None, **changes):
    now = int(time.time() if now is None else now)
    values = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "user-1",
        "iat": now,
        "nbf": now,
        "exp": now + 300,
        "jti": secrets.token_hex(8),
        "sid": "session-1",
        "typ": "access",
        "roles": ["user"],
        "perms": ["messaging:message.send", "voice:*"],
    }
    values.update(changes)
    return {name: value for name, value in values.items() if value is not None}


def assemble(header, payload, signer=None):
    """A compact JWS built by hand, as an attacker (or our test) would."""
    raw_header = header if isinstance(header, bytes) else json.dumps(header).encode()
    signing_input = f"{b64(raw_header)}.{b64(json.dumps(payload).encode())}"
    signature = signer(signing_input.encode()) if signer else b""
    return f"{signing_input}.{b64(signature)}"


def sign(key=ED, header=None, now=None, **changes):
    protected = {"alg": key.alg, "kid": key.kid, "typ": "at+jwt", **(header or {})}
    protected = {name: value for name, value in protected.items() if value is not None}
    return assemble(protected, claims(now, **changes), key.sign)


class CountingJwks:
    """A JWKS source that counts fetches and can fail or be slow."""

    def __init__(self, *keys, delay=0.0):
        self.keys = list(keys)
        self.fetches = 0
        self.fail = False
        self.delay = delay

    async def fetch(self):
        self.fetches += 1
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.fail:
            raise OSError("auth is down: secret-internal-hostname:3001")
        return jwks(*self.keys)


class Clock:
    def __init__(self):
        self.now = time.time()

    def __call__(self):
        return self.now

    def advance(self, seconds):
        self.now += seconds


def verifier(source=None, **options):
    options.setdefault("algorithms", ["EdDSA"])  # the default is RS256, like the settings'
    return TokenVerifier(
        source or StaticJwks(jwks(ED)), issuer=ISSUER, audience=AUDIENCE, **options
    )


async def refused(token, match, check=None):
    """Assert a 401 invalid-token problem whose detail matches and does not echo the token."""
    with pytest.raises(TokenInvalid, match=match) as caught:
        await (check or verifier()).verify(token)
    problem = caught.value
    for part in token.split("."):
        assert len(part) < 8 or part[:16] not in problem.detail, "the token is echoed"
    assert problem.status == 401
    assert problem.headers == {"WWW-Authenticate": 'Bearer error="invalid_token"'}
    assert problem.to_dict()["type"] == "urn:meshkit:problem:invalid-token"
    return problem


# --- the good path -------------------------------------------------------------------


async def test_a_valid_token_gives_its_principal():
    token = sign(jti="jti-1", roles=["user", "moderator"])
    principal = await verifier().verify(token)
    assert principal.subject == "user-1"
    assert principal.roles == {"user", "moderator"}
    assert principal.permissions == {"messaging:message.send", "voice:*"}
    assert principal.token_id == "jti-1"
    assert principal.session_id == "session-1"
    assert principal.expires_at.tzinfo is UTC
    assert principal.claims["iss"] == ISSUER
    with pytest.raises(TypeError):
        principal.claims["sub"] = "admin"
    assert (await verifier().verify(sign(sid=None))).session_id is None


async def test_rs256_verifies_when_allowed_and_not_otherwise():
    both = verifier(StaticJwks(jwks(ED, RSA)), algorithms=["EdDSA", "RS256"])
    assert (await both.verify(sign(RSA))).subject == "user-1"
    assert (await both.verify(sign(ED))).subject == "user-1"
    await refused(sign(RSA), "algorithm not allowed", verifier(StaticJwks(jwks(ED, RSA))))


async def test_the_auth_service_can_sign_with_joserfc_without_warnings():
    """jws_registry() allows EdDSA without joserfc's RFC 9864 warning (an error here)."""
    private = OKPKey.import_key(
        ED.private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    header = {"alg": "EdDSA", "kid": ED.kid, "typ": "at+jwt"}
    token = jws.serialize_compact(
        header, json.dumps(claims()), private, registry=jws_registry(["EdDSA"])
    )
    assert (await verifier().verify(token)).subject == "user-1"


def test_pyjwt_agrees_with_the_fixture():
    """An independent implementation accepts what the tests sign and refuses alg none."""
    for key in (ED, RSA):
        decoded = pyjwt.decode(
            sign(key), key.public_key, algorithms=[key.alg], audience=AUDIENCE, issuer=ISSUER
        )
        assert decoded["sub"] == "user-1"
    unsigned = assemble({"alg": "none", "typ": "at+jwt", "kid": ED.kid}, claims())
    with pytest.raises(pyjwt.InvalidTokenError):
        pyjwt.decode(unsigned, ED.public_key, algorithms=["EdDSA"], audience=AUDIENCE)
    with pytest.raises(pyjwt.InvalidSignatureError):
        pyjwt.decode(sign(ATTACKER), ED.public_key, algorithms=["EdDSA"], audience=AUDIENCE)


def test_for_settings_reads_the_jwt_settings(tmp_path):
    settings = make_settings(
        tmp_path,
        MESHKIT_JWT_ISSUER=ISSUER,
        MESHKIT_JWT_AUDIENCE="gateway",
        MESHKIT_JWT_ALGORITHMS=" eddsa , RS256,",
    )
    check = TokenVerifier.for_settings(settings, StaticJwks(jwks(ED)))
    assert check.algorithms == ("EdDSA", "RS256")
    assert (check.issuer, check.audience, check.redis) == (ISSUER, "gateway", None)
    bad = make_settings(tmp_path, MESHKIT_JWT_ALGORITHMS="EdDSA,HS256")
    with pytest.raises(ConfigError, match="MESHKIT_JWT_ALGORITHMS"):
        TokenVerifier.for_settings(bad, StaticJwks(jwks(ED)))


# --- algorithm attacks ---------------------------------------------------------------


@pytest.mark.parametrize("alg", ["none", "None", "NONE", "nOnE"])
async def test_alg_none_in_any_case_is_refused(alg):
    source = CountingJwks(ED, RSA)
    check = verifier(source, algorithms=["EdDSA", "RS256"])
    token = assemble({"alg": alg, "kid": ED.kid, "typ": "at+jwt"}, claims())
    assert token.endswith(".")
    await refused(token, "signing algorithm not allowed", check)
    assert source.fetches == 0, "refused before any key is looked up"


@pytest.mark.parametrize(
    "algorithms", [["none"], ["None"], ["HS256"], ["hs384"], ["EdDSA", "HS512"], [], [" "], ["XYZ"]]
)
def test_none_hmac_and_unknown_algorithms_cannot_be_configured(algorithms):
    with pytest.raises(ConfigError, match="MESHKIT_JWT_ALGORITHMS"):
        verifier(algorithms=algorithms)


@pytest.mark.parametrize(
    ("key", "secret"),
    [
        (ED, ED.public_pem),
        (ED, ED.jwk["x"].encode()),
        (ED, base64.urlsafe_b64decode(ED.jwk["x"] + "=")),
        (ED, json.dumps(ED.jwk).encode()),
        (RSA, RSA.public_pem),
    ],
    ids=["ed-pem", "ed-jwk-x", "ed-raw", "ed-jwk-json", "rsa-pem"],
)
@pytest.mark.parametrize("alg", ["HS256", "HS384", "HS512"])
async def test_hmac_signed_with_the_public_key_is_refused(key, secret, alg):
    """The classic confusion: the public key used as an HMAC secret."""
    digest = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}[alg]
    source = CountingJwks(ED, RSA)
    token = assemble(
        {"alg": alg, "kid": key.kid, "typ": "at+jwt"},
        claims(),
        lambda data: hmac.new(secret, data, digest).digest(),
    )
    await refused(
        token, "signing algorithm not allowed", verifier(source, algorithms=["EdDSA", "RS256"])
    )
    assert source.fetches == 0


async def test_a_key_of_another_type_than_the_algorithm_is_refused():
    check = verifier(StaticJwks(jwks(ED, RSA)), algorithms=["EdDSA", "RS256"])
    rs256_on_ed_key = assemble({"alg": "RS256", "kid": ED.kid, "typ": "at+jwt"}, claims(), RSA.sign)
    await refused(rs256_on_ed_key, "signing key does not fit", check)
    eddsa_on_rsa_key = assemble(
        {"alg": "EdDSA", "kid": RSA.kid, "typ": "at+jwt"}, claims(), ED.sign
    )
    await refused(eddsa_on_rsa_key, "signing key does not fit", check)


async def test_a_key_declaring_another_alg_is_refused():
    pinned = Keypair("pinned", alg="Ed25519")  # same key type, other declared algorithm
    check = verifier(StaticJwks(jwks(pinned)), algorithms=["EdDSA", "Ed25519"])
    await refused(sign(pinned), "signing key does not fit", check)
    assert await check.verify(sign(pinned, header={"alg": "Ed25519"}))


async def test_an_algorithm_outside_the_allow_list_is_refused():
    ec = ECKey.generate_key("P-256", parameters={"kid": "ec-1"})
    header = {"alg": "ES256", "kid": "ec-1", "typ": "at+jwt"}
    token = jws.serialize_compact(header, json.dumps(claims()), ec, algorithms=["ES256"])
    await refused(token, "signing algorithm not allowed")


# --- keys named by the token ---------------------------------------------------------


async def test_unknown_kid_refetches_at_most_once_per_interval():
    source, clock = CountingJwks(ED), Clock()
    check = verifier(source, refetch_interval=30, clock=clock)
    assert await check.verify(sign(ED, now=clock.now))
    assert source.fetches == 1
    for _ in range(50):
        await refused(
            sign(ATTACKER, header={"kid": secrets.token_hex(8)}), "unknown signing key", check
        )
    assert source.fetches == 1, "fetched moments ago: random kids must not refetch"
    clock.advance(31)
    for _ in range(50):
        await refused(
            sign(ATTACKER, header={"kid": secrets.token_hex(8)}), "unknown signing key", check
        )
    assert source.fetches == 2, "one refetch per interval, however many kids"


async def test_concurrent_verifications_share_one_fetch():
    source = CountingJwks(ED, delay=0.05)
    check = verifier(source)
    tokens = [sign(ED) for _ in range(10)]
    tokens += [sign(ATTACKER, header={"kid": f"random-{n}"}) for n in range(10)]
    results = await asyncio.gather(*(check.verify(t) for t in tokens), return_exceptions=True)
    assert all(isinstance(r, Principal) for r in results[:10])
    assert all(isinstance(r, TokenInvalid) for r in results[10:])
    assert source.fetches == 1


@pytest.mark.parametrize(
    ("kid", "match"),
    [
        ("../../etc/passwd", "unknown signing key"),
        ("' OR 1=1 --", "unknown signing key"),
        ("\x00", "unknown signing key"),
        ("k" * 10_000, "no valid key id"),
        ("", "no valid key id"),
        (None, "no valid key id"),
        (42, "no valid key id"),
        ({"$ne": 1}, "no valid key id"),
        (["ed-1"], "no valid key id"),
    ],
    ids=["traversal", "sql", "nul", "10k", "empty", "null", "int", "object", "list"],
)
async def test_malicious_kids_are_refused(kid, match):
    """A kid is only ever a dictionary key: no file, query or URL is built from it."""
    source = CountingJwks(ED)
    check = verifier(source)
    await check.verify(sign())
    await refused(sign(ATTACKER, header={"kid": kid}), match, check)
    assert source.fetches == 1


async def test_a_token_without_kid_is_refused():
    await refused(sign(header={"kid": None}), "no valid key id")


async def test_an_embedded_jwk_is_never_used():
    with_jwk = sign(ATTACKER, header={"jwk": ATTACKER.jwk})
    await refused(with_jwk, "must not carry or point to a key")
    without_kid = sign(ATTACKER, header={"jwk": ATTACKER.jwk, "kid": None})
    await refused(without_kid, "must not carry or point to a key")
    await refused(sign(ATTACKER), "signature invalid")  # our kid, their key


@pytest.mark.parametrize("name", ["jku", "x5u", "x5c"])
async def test_key_urls_in_the_header_are_never_fetched(name):
    hits = []

    async def serve_attacker_keys(request):
        hits.append(request.path)
        return web.json_response(jwks(ATTACKER))

    app = web.Application()
    app.router.add_get("/{tail:.*}", serve_attacker_keys)
    async with TestServer(app) as server:
        url = str(server.make_url("/keys.json"))
        value = [b64(b"not really a certificate")] if name == "x5c" else url
        source = CountingJwks(ED)
        check = verifier(source)
        for key in (ATTACKER, ED):  # even a token signed by our own key is refused
            await refused(sign(key, header={name: value}), "must not carry or point", check)
        assert hits == []
        assert source.fetches == 0


async def test_critical_and_duplicate_header_members_are_refused():
    await refused(sign(header={"crit": ["exp"], "exp": 1}), "unsupported critical header")
    await refused(sign(header={"b64": False}), "unsupported critical header")
    duplicate = b'{"alg": "none", "alg": "EdDSA", "kid": "ed-1", "typ": "at+jwt"}'
    await refused(assemble(duplicate, claims(), ED.sign), "malformed token header")


# --- claims --------------------------------------------------------------------------


NOW = int(time.time())


@pytest.mark.parametrize(
    ("changes", "match"),
    [
        ({"exp": NOW - 120}, "token expired"),
        ({"exp": None}, "no expiry"),
        ({"exp": "tomorrow"}, "malformed exp claim"),
        ({"exp": True}, "malformed exp claim"),
        ({"exp": float("inf")}, "malformed claims"),
        ({"exp": float("nan")}, "malformed claims"),
        ({"exp": 10**20}, "malformed exp claim"),
        ({"nbf": NOW + 600}, "not valid yet"),
        ({"iat": NOW + 600}, "issued in the future"),
        ({"iat": "now"}, "malformed iat claim"),
        ({"iss": "https://evil.example"}, "wrong issuer"),
        ({"iss": None}, "wrong issuer"),
        ({"aud": "someone-else"}, "wrong audience"),
        ({"aud": ["a", "b"]}, "wrong audience"),
        ({"aud": [["meshkit"]]}, "wrong audience"),
        ({"aud": None}, "wrong audience"),
        ({"typ": "refresh"}, "not an access token"),
        ({"typ": "id"}, "not an access token"),
        ({"typ": None}, "not an access token"),
        ({"sub": None}, "no subject"),
        ({"sub": ""}, "no subject"),
        ({"sub": 7}, "no subject"),
        ({"jti": None}, "no id"),
        ({"sid": 5}, "malformed sid claim"),
        ({"roles": "admin"}, "malformed roles claim"),
        ({"perms": [1]}, "malformed perms claim"),
    ],
)
async def test_claims_are_checked(changes, match):
    await refused(sign(**changes), match)


async def test_leeway_tolerates_small_clock_skew():
    now = int(time.time())
    check = verifier(leeway=30)
    assert await check.verify(sign(exp=now - 10, iat=now - 310, nbf=now + 10))
    await refused(sign(exp=now - 31), "token expired", check)
    await refused(sign(exp=now + 300), "token expired", verifier(clock=lambda: now + 400))


async def test_an_audience_list_containing_ours_is_accepted():
    assert (await verifier().verify(sign(aud=["other", AUDIENCE]))).subject == "user-1"


@pytest.mark.parametrize("typ", ["at+jwt", "AT+JWT", "application/at+jwt", "Application/AT+JWT"])
async def test_header_typ_at_jwt_in_its_allowed_forms(typ):
    assert await verifier().verify(sign(header={"typ": typ}))


@pytest.mark.parametrize("typ", ["JWT", "jwt", "id+jwt", "at+jwt ", "application/jwt", None, 1])
async def test_other_header_typs_are_not_access_tokens(typ):
    await refused(sign(header={"typ": typ}), "not an access token")


async def test_an_id_token_is_not_an_access_token():
    id_token = sign(header={"typ": "JWT"}, typ=None, nonce="n-0S6_WzA2Mj", auth_time=NOW)
    await refused(id_token, "not an access token")


# --- tampering and garbage -----------------------------------------------------------


async def test_a_tampered_payload_breaks_the_signature():
    header, payload, signature = sign().split(".")
    changed = json.loads(base64.urlsafe_b64decode(payload + "=="))
    changed["roles"] = ["admin"]
    changed["perms"] = ["*"]
    await refused(f"{header}.{b64(json.dumps(changed).encode())}.{signature}", "signature invalid")


async def test_a_tampered_header_breaks_the_signature():
    header, payload, signature = sign().split(".")
    respaced = json.dumps(json.loads(base64.urlsafe_b64decode(header + "==")), indent=1)
    await refused(f"{b64(respaced.encode())}.{payload}.{signature}", "signature invalid")


async def test_a_tampered_or_truncated_signature_is_refused():
    token = sign()
    header, payload, signature = token.split(".")
    raw = bytearray(base64.urlsafe_b64decode(signature + "=="))
    raw[10] ^= 0x01
    await refused(f"{header}.{payload}.{b64(bytes(raw))}", "signature invalid")
    await refused(f"{header}.{payload}.{b64(bytes(raw[:-8]))}", "signature invalid")
    await refused(f"{header}.{payload}.", "empty payload or signature")
    await refused(f"{header}.{payload}", "not a JWS compact token")
    await refused(token[: len(token) // 3], "malformed token")


@pytest.mark.parametrize(
    "garbage",
    [
        "",
        "abc",
        "a.b.c",
        "....",
        "x" * 20_000,
        "é.é.é",
        "null.null.null",
        f"{b64(b'[1]')}.e30.c2ln",
        f"{b64(b'not json')}.e30.c2ln",
        "eyJhbGciOiJFZERTQSJ9.e30.c2ln",
        "Bearer " + "a.b.c",
    ],
)
async def test_garbage_is_refused(garbage):
    await refused(garbage, "malformed|too large|not allowed|not an access token")


async def test_an_oversized_token_is_refused_before_parsing():
    await refused(sign(perms=["p" * 20_000]), "token too large")


async def test_an_opaque_refresh_token_is_not_an_access_token():
    refresh = f"mkr_{secrets.token_hex(8)}.{secrets.token_urlsafe(32)}"
    await refused(refresh, "not a JWS compact token")
    await refused("mkr_" + secrets.token_urlsafe(32), "not a JWS compact token")


# --- revocation ----------------------------------------------------------------------


async def test_a_denylisted_token_is_refused(meshkit_redis):
    token = sign(jti="revoked-1")
    check = verifier(redis=meshkit_redis)
    assert await check.verify(token)
    await deny(meshkit_redis, "revoked-1", datetime.now(UTC) + timedelta(minutes=5))
    await refused(token, "token revoked", check)
    assert DENYLIST_PREFIX == "meshkit:auth:denylist:"
    ttl = await meshkit_redis.ttl("meshkit:auth:denylist:revoked-1")
    assert 590 < ttl <= 601, "kept until exp plus the largest leeway"
    assert await check.verify(sign(jti="not-revoked"))


async def test_deny_covers_the_leeway_and_skips_long_expired_tokens(meshkit_redis):
    recently = datetime.now(UTC) - timedelta(seconds=10)  # still accepted within leeway
    await deny(meshkit_redis, "recent", recently)
    assert await meshkit_redis.exists(DENYLIST_PREFIX + "recent")
    await deny(meshkit_redis, "ancient", datetime.now(UTC) - timedelta(hours=1))
    assert not await meshkit_redis.exists(DENYLIST_PREFIX + "ancient")
    naive = datetime.now(UTC).replace(tzinfo=None) + timedelta(minutes=1)  # taken as UTC
    await deny(meshkit_redis, "naive", naive)
    assert 350 < await meshkit_redis.ttl(DENYLIST_PREFIX + "naive") <= 361
    with pytest.raises(ValueError, match="jti"):
        await deny(meshkit_redis, "", recently)


async def test_a_denylisted_session_refuses_every_token_of_it(meshkit_redis):
    first = sign(jti="one", sid="session-9")
    second = sign(jti="two", sid="session-9")
    other = sign(jti="three", sid="session-10")
    check = verifier(redis=meshkit_redis)
    assert await check.verify(first)
    await deny_session(meshkit_redis, "session-9", datetime.now(UTC) + timedelta(minutes=15))
    await refused(first, "token revoked", check)
    await refused(second, "token revoked", check)
    assert await check.verify(other), "other sessions are not affected"
    assert await check.verify(sign(jti="four", sid=None)), "no sid: only the jti is checked"
    assert SESSION_DENYLIST_PREFIX == "meshkit:auth:denylist-sid:"
    assert not SESSION_DENYLIST_PREFIX.startswith(DENYLIST_PREFIX), "a jti cannot collide"
    ttl = await meshkit_redis.ttl(SESSION_DENYLIST_PREFIX + "session-9")
    assert 1190 < ttl <= 1201, "kept until the last token's exp plus the largest leeway"
    await deny_session(meshkit_redis, "gone", datetime.now(UTC) - timedelta(hours=1))
    assert not await meshkit_redis.exists(SESSION_DENYLIST_PREFIX + "gone")
    with pytest.raises(ValueError, match="session"):
        await deny_session(meshkit_redis, "", datetime.now(UTC))


async def test_jti_and_session_are_checked_in_one_round_trip(meshkit_redis):
    calls = []

    class Spy:
        async def exists(self, *keys):
            calls.append(keys)
            return await meshkit_redis.exists(*keys)

    check = verifier(redis=Spy())
    assert await check.verify(sign(jti="j-1", sid="s-1"))
    assert calls == [(DENYLIST_PREFIX + "j-1", SESSION_DENYLIST_PREFIX + "s-1")]


def test_the_default_algorithm_is_the_settings_default(tmp_path):
    default = TokenVerifier(StaticJwks(jwks(RSA)), issuer=ISSUER, audience=AUDIENCE)
    assert default.algorithms == ("RS256",)
    settings = make_settings(tmp_path)
    assert settings.jwt_algorithms == "RS256"
    assert TokenVerifier.for_settings(settings, StaticJwks(jwks(RSA))).algorithms == ("RS256",)


async def test_an_unreachable_denylist_is_a_503_not_a_pass(tmp_path):
    down = Redis(unix_socket_path=str(tmp_path / "no.sock"), retry=Retry(NoBackoff(), 0))
    try:
        with pytest.raises(RevocationUnavailable) as caught:
            await verifier(redis=down).verify(sign())
    finally:
        await down.aclose()
    assert isinstance(caught.value, ServiceUnavailable)
    assert caught.value.status == 503


# --- key rotation and JWKS failures --------------------------------------------------


async def test_rotation_old_and_new_keys_verify_and_removed_keys_stop():
    source, clock = CountingJwks(ED), Clock()
    check = verifier(source, refetch_interval=30, clock=clock)
    old = sign(ED, now=clock.now)
    assert await check.verify(old)
    source.keys.append(ED2)  # the auth service rotates: publishes ED2, signs with it
    clock.advance(31)
    assert await check.verify(sign(ED2, now=clock.now)), "new kid: one refetch"
    assert source.fetches == 2
    assert await check.verify(old), "the old key is still published"
    source.keys = [ED2]  # the old key's last token expired; it leaves the set
    clock.advance(31)
    await refused(sign(ATTACKER, header={"kid": "other"}, now=clock.now), "unknown", check)
    assert source.fetches == 3
    await refused(sign(ED, now=clock.now), "unknown signing key", check)
    assert await check.verify(sign(ED2, now=clock.now))


async def test_keys_older_than_max_age_are_refreshed_in_the_background():
    source, clock = CountingJwks(ED), Clock()
    check = verifier(source, clock=clock, max_age=300)
    assert await check.verify(sign(ED, now=clock.now))
    source.keys = [ED2]  # ED withdrawn (say, compromised) while no unknown kid shows up
    clock.advance(301)
    assert await check.verify(sign(ED, now=clock.now)), "answered from cache meanwhile"
    for _ in range(10):
        await asyncio.sleep(0)
    assert source.fetches == 2
    await refused(sign(ED, now=clock.now), "unknown signing key", check)


async def test_a_failing_jwks_is_a_503_without_keys():
    source, clock = CountingJwks(ED), Clock()
    source.fail = True
    check = verifier(source, clock=clock)
    with pytest.raises(KeysUnavailable) as caught:
        await check.verify(sign(now=clock.now))
    problem = caught.value
    assert isinstance(problem, ServiceUnavailable)
    assert problem.status == 503
    assert problem.to_dict()["type"] == "urn:meshkit:problem:keys-unavailable"
    assert problem.headers["Retry-After"] == "1"
    assert "secret-internal-hostname" not in problem.detail
    with pytest.raises(KeysUnavailable):
        await check.verify(sign(now=clock.now))
    assert source.fetches == 1, "retries are rate-limited too"
    source.fail = False
    clock.advance(1.5)
    assert await check.verify(sign(now=clock.now)), "recovers quickly once keys are back"


async def test_a_failing_jwks_keeps_the_cached_keys():
    source, clock = CountingJwks(ED), Clock()
    check = verifier(source, clock=clock, max_age=60, refetch_interval=30)
    assert await check.verify(sign(now=clock.now))
    source.fail = True
    clock.advance(3600)
    assert await check.verify(sign(now=clock.now)), "stale keys beat no keys"
    await asyncio.sleep(0)
    clock.advance(31)
    await refused(sign(ED2, now=clock.now), "unknown signing key", check)
    assert await check.verify(sign(now=clock.now))
    assert source.fetches == 3


async def test_unusable_jwks_entries_are_skipped_and_never_trusted():
    with pytest.warns(SecurityWarning, match="2048"):  # joserfc only warns; we refuse
        small = Keypair("small", kind="RSA", bits=1024)
    leaked = {**ED2.jwk, "kid": "leaked", "d": b64(ED2.private.private_bytes_raw())}
    x25519 = OKPKey.generate_key("X25519", parameters={"kid": "x"}).as_dict(private=False)
    document = {
        "keys": [
            {"kty": "oct", "kid": "sym", "k": b64(ED.public_pem)},
            leaked,
            small.jwk,
            x25519,
            {**ED2.jwk, "kid": "enc", "use": "enc"},
            {**ED2.jwk, "kid": "ops", "key_ops": ["sign"]},
            {**ED2.jwk, "kid": None},
            "not a key",
            ED.jwk,
        ]
    }
    check = verifier(StaticJwks(document), algorithms=["EdDSA", "RS256"])
    assert await check.verify(sign(ED)), "one bad entry does not poison the set"
    assert check.keys.kids == {ED.kid}
    for key, kid in [(ED2, "leaked"), (small, "small"), (ED2, "x"), (ED2, "enc"), (ED2, "ops")]:
        await refused(sign(key, header={"kid": kid}), "unknown signing key", check)
    mac = assemble({"alg": "HS256", "kid": "sym", "typ": "at+jwt"}, claims(), lambda d: b"x")
    await refused(mac, "algorithm not allowed", check)


@pytest.mark.parametrize("document", [{"keys": "no"}, {}, ["keys"]])
async def test_a_document_that_is_no_jwks_counts_as_a_failure(document):
    with pytest.raises(KeysUnavailable, match="ValueError"):
        await verifier(StaticJwks(document)).verify(sign())


async def test_callable_sources_are_awaited():
    async def keys():
        return jwks(ED)

    assert await verifier(CallableJwks(keys)).verify(sign())


async def test_http_jwks_over_a_real_server():
    answers = {"/jwks.json": lambda: web.json_response(jwks(ED))}

    async def handle(request):
        answer = answers.get(request.path)
        return answer() if answer else web.Response(status=500, text="boom")

    app = web.Application()
    app.router.add_get("/{tail:.*}", handle)
    async with TestServer(app) as server:
        good = HttpJwks(str(server.make_url("/jwks.json")), timeout=2)
        assert (await good.fetch())["keys"][0]["kid"] == ED.kid
        assert await verifier(good).verify(sign())
        with pytest.raises(KeysUnavailable, match="ClientResponseError"):
            await verifier(HttpJwks(str(server.make_url("/down")))).verify(sign())
        answers["/huge"] = lambda: web.json_response({"keys": [], "pad": "x" * 300_000})
        with pytest.raises(ValueError, match="larger than"):
            await HttpJwks(str(server.make_url("/huge"))).fetch()
    with pytest.raises(ConfigError, match="MESHKIT_JWKS_URL"):
        HttpJwks("file:///etc/passwd")


# --- principal, permissions, bearer header -------------------------------------------


def principal(*permissions):
    return Principal("u", frozenset(), frozenset(permissions), "j", None, datetime.now(UTC))


@pytest.mark.parametrize(
    ("granted", "asked", "allowed"),
    [
        (["messaging:channel.create"], "messaging:channel.create", True),
        (["messaging:channel.create"], "messaging:channel.delete", False),
        (["messaging:channel.create"], "Messaging:channel.create", False),
        (["*"], "servers:deploy", True),
        (["messaging:*"], "messaging:channel.create", True),
        (["messaging:*"], "messaging:x", True),
        (["messaging:*"], "messaging", False),
        (["messaging:*"], "messaging:", False),
        (["messaging:*"], "messagingx:channel.create", False),
        (["messaging:*"], "voice:room.join", False),
        (["messaging:channel.*"], "messaging:channel.delete", True),
        (["messaging:channel.*"], "messaging:channels.delete", False),
        (["messaging:channel.*"], "messaging:message.send", False),
        (["messaging:channel.create"], "messaging:*", False),
        (["messaging:*"], "messaging:*", True),
        (["mess*"], "messaging:channel.create", False),
        ([], "messaging:channel.create", False),
        (["*"], "", False),
    ],
)
def test_has_permission(granted, asked, allowed):
    assert principal(*granted).has_permission(asked) is allowed


def test_require_permission_is_a_403_problem():
    require_permission(principal("messaging:*"), "messaging:channel.delete")
    with pytest.raises(Forbidden) as caught:
        require_permission(principal("messaging:*"), "servers:deploy")
    assert caught.value.status == 403
    document = caught.value.to_dict()
    assert document["type"] == "urn:meshkit:problem:forbidden"
    assert document["required_permission"] == "servers:deploy"


@pytest.mark.parametrize(
    ("header", "token"),
    [
        ("Bearer abc.def.ghi", "abc.def.ghi"),
        ("bearer abc.def.ghi", "abc.def.ghi"),
        ("BEARER  abc-_.~+/def== ", "abc-_.~+/def=="),
    ],
)
def test_bearer_token_parses_the_header(header, token):
    assert bearer_token(header) == token


@pytest.mark.parametrize("header", [None, "", "   ", "Basic dXNlcjpwYXNz", "Token abc"])
def test_bearer_token_missing(header):
    with pytest.raises(TokenMissing) as caught:
        bearer_token(header)
    assert caught.value.status == 401
    assert caught.value.headers == {"WWW-Authenticate": "Bearer"}
    assert caught.value.to_dict()["type"] == "urn:meshkit:problem:token-missing"


@pytest.mark.parametrize(
    "header",
    ["Bearer", "Bearer a b", "Bearer a,b", "Bearer é", "Bearer =abc", "Bearer " + "a" * 20_000],
)
def test_bearer_token_malformed(header):
    with pytest.raises(TokenInvalid) as caught:
        bearer_token(header)
    assert caught.value.headers == {"WWW-Authenticate": 'Bearer error="invalid_token"'}


def test_verifier_options_are_validated():
    with pytest.raises(ValueError, match="leeway"):
        verifier(leeway=3600)
    with pytest.raises(ValueError, match="issuer"):
        TokenVerifier(StaticJwks(jwks(ED)), issuer="", audience=AUDIENCE)


# --- the verified-token cache --------------------------------------------------------


async def test_a_remembered_token_still_expires():
    clock = Clock()
    check = verifier(clock=clock)
    token = sign(now=clock.now)
    assert (await check.verify(token)).subject
    assert token in check._verified
    clock.advance(3600)
    await refused(token, "expired", check)
    assert token not in check._verified


async def test_a_remembered_token_is_refused_once_its_key_leaves_the_jwks():
    clock = Clock()
    source = CountingJwks(ED)
    check = verifier(source, clock=clock, refetch_interval=0, max_age=1)
    token = sign(now=clock.now)
    await check.verify(token)
    source.keys = [RSA]  # ed-1 withdrawn (compromised): the next refresh drops it
    clock.advance(2)
    await check.keys.get("rsa-1")  # the refresh that a new kid triggers
    await refused(token, "unknown signing key", check)


async def test_the_cache_is_bounded():
    check = verifier()
    tokens = [sign(jti=f"j{n}") for n in range(VERIFIED_CACHE + 5)]
    for token in tokens:
        await check.verify(token)
    assert len(check._verified) == VERIFIED_CACHE
    assert tokens[0] not in check._verified
    assert tokens[-1] in check._verified


async def test_a_remembered_token_is_still_checked_against_the_denylist(meshkit_redis):
    check = verifier(redis=meshkit_redis)
    token = sign(jti="to-revoke")
    principal = await check.verify(token)
    await deny(meshkit_redis, principal.token_id, principal.expires_at)
    await refused(token, "revoked", check)


async def test_denylist_warnings_are_throttled_while_redis_is_down(caplog, tmp_path):
    """Redis down: every check fails, but the log gets one line per interval, and the
    next line says how many were not logged."""
    dead = Redis(unix_socket_path=str(tmp_path / "no.sock"), retry=Retry(NoBackoff(), 0))
    check = verifier(redis=dead)
    clock = Clock()
    check.denylist_warnings = ThrottledLog(logging.getLogger("meshkit.tokens"), 10, clock=clock)
    token = sign()
    principal = await check.authenticate(token)
    caplog.set_level(logging.WARNING, logger="meshkit.tokens")
    try:
        for _ in range(50):
            with pytest.raises(RevocationUnavailable):
                await check.check_not_revoked(principal)
        with pytest.raises(RevocationUnavailable):
            await check.revoked([principal])
        clock.advance(10)
        with pytest.raises(RevocationUnavailable):
            await check.verify(token)
    finally:
        await dead.aclose()
    lines = [r.getMessage() for r in caplog.records if "token denylist" in r.getMessage()]
    assert len(lines) == 2
    assert "similar not logged" not in lines[0]
    assert lines[1].endswith("(50 similar not logged)")


def test_a_throttled_log_lets_one_record_through_per_interval(caplog):
    clock = Clock()
    throttled = ThrottledLog(logging.getLogger("meshkit.test"), 5, clock=clock)
    caplog.set_level(logging.INFO, logger="meshkit.test")
    assert throttled.warning("down: %s", "a")
    assert not throttled.warning("down: %s", "b")
    assert not throttled.log(logging.INFO, "down: %s", "c")
    clock.advance(5)
    assert throttled.log(logging.INFO, "down: %s", "d")
    assert [(r.levelno, r.getMessage()) for r in caplog.records] == [
        (logging.WARNING, "down: a"),
        (logging.INFO, "down: d (2 similar not logged)"),
    ]
