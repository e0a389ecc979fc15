"""Password policy (NIST SP 800-63B), bcrypt with a keyed pre-hash, and the lockout."""

import asyncio
import time

import pytest

from meshkit.errors import TooManyRequests
from meshkit.services.auth.lockout import LoginThrottle
from meshkit.services.auth.passwords import (
    PREFIX,
    PasswordPolicy,
    WeakPassword,
    burn_verify_time,
    common_passwords,
    hash_password,
    needs_rehash,
    verify_password,
)
from meshkit.services.auth.settings import AuthSettings

POLICY = PasswordPolicy()


@pytest.mark.parametrize(
    ("password", "why"),
    [
        ("short", "at least 8"),
        ("password1", "most common"),
        ("qwerty123", "most common"),
        ("ILoveYou", "most common"),
        ("aaaaaaaaaa", "repeated"),
        ("98765432", "sequential"),
        ("abcdefghij", "sequential"),
        ("x" * 300, "at most"),
    ],
)
def test_weak_passwords(password, why):
    problems = POLICY.problems(password)
    assert any(why in p for p in problems), problems
    assert all(password not in p for p in problems)


def test_context_and_good_passphrases():
    assert POLICY.problems("graceful-hopper-99", context=("grace.h", "graceful"))
    assert not POLICY.problems("correct horse battery staple")
    assert not POLICY.problems("a" + "-long passphrase" * 4)
    assert not POLICY.problems("日本語のパスワードです")
    full_width = "".join(chr(0xFF00 + ord(c) - 0x20) for c in "password")
    assert POLICY.problems(full_width), "NFKC makes full-width 'password' common"
    with pytest.raises(WeakPassword) as caught:
        POLICY.check("password")
    assert caught.value.status == 422
    assert caught.value.extensions["errors"][0]["loc"] == ["body", "password"]


def test_the_common_list_is_bundled_and_large():
    words = common_passwords()
    assert 5_000 <= len(words) <= 20_000
    assert all(len(w) >= 8 for w in words)


async def test_hashing_round_trip_and_format():
    stored = await hash_password("correct horse battery staple", 4)
    assert stored.startswith(PREFIX + "$2b$04$")
    assert await verify_password("correct horse battery staple", stored)
    assert not await verify_password("correct horse battery stapler", stored)
    assert needs_rehash(stored, 5)
    assert not needs_rehash(stored, 4)
    for broken in ("", "$2b$04$nope", PREFIX + "garbage", "plaintext"):
        assert not await verify_password("x", broken)
        assert needs_rehash(broken, 4)


async def test_long_passwords_are_not_truncated_at_72_bytes():
    base = "é" * 40  # 80 bytes in UTF-8
    stored = await hash_password(base + "one", 4)
    assert await verify_password(base + "one", stored)
    assert not await verify_password(base + "two", stored)
    assert not await verify_password(base, stored)


async def test_hashing_runs_off_the_event_loop():
    gaps = []

    async def ticker():
        last = time.perf_counter()
        while True:
            await asyncio.sleep(0.01)
            now = time.perf_counter()
            gaps.append(now - last)
            last = now

    ticking = asyncio.create_task(ticker())
    await asyncio.gather(*(hash_password(f"password number {i}", 12) for i in range(6)))
    ticking.cancel()
    gaps.sort()
    assert len(gaps) > 10
    assert gaps[int(len(gaps) * 0.95)] < 0.1


async def test_unknown_accounts_cost_as_much_as_known_ones():
    stored = await hash_password("correct horse battery staple", 10)
    await burn_verify_time(10)
    started = time.perf_counter()
    await verify_password("wrong", stored)
    real = time.perf_counter() - started
    started = time.perf_counter()
    await burn_verify_time(10)
    burned = time.perf_counter() - started
    assert 0.5 < burned / real < 2.0


@pytest.fixture
def throttle(meshkit_redis):
    settings = AuthSettings(
        lockout_threshold=3, lockout_ip_threshold=5, lockout_base=0.2, lockout_max=0.8
    )
    return LoginThrottle(meshkit_redis, settings)


async def test_an_account_locks_after_the_threshold_and_doubles(throttle, meshkit_redis):
    for _ in range(2):
        await throttle.failure("ada", None)
    await throttle.check("ada", None)
    await throttle.failure("ada", None)
    with pytest.raises(TooManyRequests) as caught:
        await throttle.check("ada", None)
    assert caught.value.headers["Retry-After"] == "1"
    first = await meshkit_redis.pttl(next(k for k in await meshkit_redis.keys("*:lock")))
    for _ in range(4):
        await throttle.failure("ada", None)
    capped = await meshkit_redis.pttl(next(k for k in await meshkit_redis.keys("*:lock")))
    assert first <= 200 < capped <= 800, "doubling, capped at lockout_max"
    keys = b" ".join(await meshkit_redis.keys("*"))
    assert b"ada" not in keys, "identifiers are hashed"


async def test_success_resets_the_account_and_locks_expire(throttle):
    for _ in range(3):
        await throttle.failure("ada", None)
    with pytest.raises(TooManyRequests):
        await throttle.check("ada", None)
    await throttle.success("ada")
    await throttle.check("ada", None)
    for _ in range(3):
        await throttle.failure("bob", None)
    for _ in range(50):
        try:
            await throttle.check("bob", None)
            break
        except TooManyRequests:
            await asyncio.sleep(0.05)
    else:
        pytest.fail("the lock never expired")


async def test_an_address_locks_across_accounts_and_answers_alike(throttle):
    for number in range(5):
        await throttle.failure(f"user-{number}", "10.0.0.9")
    with pytest.raises(TooManyRequests) as by_address:
        await throttle.check("someone-new", "10.0.0.9")
    await throttle.check("someone-new", "10.0.0.10")
    for _ in range(3):
        await throttle.failure("ghost", None)
    with pytest.raises(TooManyRequests) as ghost:
        await throttle.check("ghost", None)
    assert by_address.value.detail == ghost.value.detail
