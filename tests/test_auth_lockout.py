"""Login lockout against a real redis-server: thresholds, doubling, expiry, no enumeration."""

import asyncio
import math
import time

import pytest

from meshkit.errors import TooManyRequests
from meshkit.services.auth.accounts import Accounts, InvalidCredentials
from meshkit.services.auth.lockout import PREFIX, LoginThrottle, address_key, identifier_key
from meshkit.services.auth.models import RoleAssignment, User
from meshkit.services.auth.passwords import PasswordPolicy
from meshkit.services.auth.settings import AuthSettings
from meshkit.store import open_store
from meshkit.testing import make_settings

IP = "203.0.113.7"


def settings(**values):
    defaults = {
        "lockout_threshold": 3,
        "lockout_ip_threshold": 5,
        "lockout_base": 10.0,
        "lockout_max": 35.0,
        "lockout_window": 60,
    }
    return AuthSettings(**{**defaults, **values})


@pytest.fixture
def make_throttle(meshkit_redis):
    def make(**values):
        return LoginThrottle(meshkit_redis, settings(**values))

    return make


@pytest.fixture
def throttle(make_throttle):
    return make_throttle()


async def refused(throttle, account, ip=None):
    with pytest.raises(TooManyRequests) as caught:
        await throttle.check(account, ip)
    return caught.value


async def fail(throttle, account, ip=None, times=1):
    for _ in range(times):
        await throttle.failure(account, ip)


async def lock_ttl(redis, account):
    return await redis.pttl(identifier_key(account) + ":lock")


async def test_an_account_locks_at_the_threshold_with_retry_after(throttle, meshkit_redis):
    await fail(throttle, "ada@example.test", times=2)
    await throttle.check("ada@example.test", None)
    await throttle.failure("ada@example.test", None)
    problem = await refused(throttle, "ada@example.test")
    assert problem.status == 429
    assert problem.type_uri() == "urn:meshkit:problem:too-many-requests"
    ttl = await lock_ttl(meshkit_redis, "ada@example.test")
    assert 9_000 < ttl <= 10_000
    assert problem.headers["Retry-After"] == str(math.ceil(ttl / 1000)) == "10"
    assert problem.extensions["retry_after"] == 10
    assert problem.to_dict()["retry_after"] == 10
    await throttle.check("grace@example.test", None)  # other accounts are not affected


async def test_locks_double_with_each_failure_up_to_the_cap(throttle, meshkit_redis):
    seen = []
    for _ in range(6):
        await throttle.failure("ada", None)
        seen.append(await lock_ttl(meshkit_redis, "ada"))
    # threshold 3, base 10 s, cap 35 s: none, none, 10, 20, 35 (not 40), 35
    assert seen[:2] == [-2, -2]
    for ttl, expected in zip(seen[2:], [10_000, 20_000, 35_000, 35_000], strict=True):
        assert expected - 1_000 < ttl <= expected
    assert (await refused(throttle, "ada")).headers["Retry-After"] == "35"


async def test_a_success_resets_the_account(throttle):
    await fail(throttle, "ada", times=2)
    await throttle.success("ada")
    await fail(throttle, "ada", times=2)
    await throttle.check("ada", None)  # the count started over
    await throttle.failure("ada", None)
    await refused(throttle, "ada")
    await throttle.success("ada")
    await throttle.check("ada", None)  # the lock is lifted too


async def test_a_success_does_not_reset_the_address(throttle):
    for number in range(4):
        await throttle.failure(f"user-{number}", IP)
    await throttle.success("user-0")
    await throttle.failure("user-4", IP)
    problem = await refused(throttle, "user-0", IP)
    assert problem.headers["Retry-After"] == "10"


async def test_one_address_failing_across_many_accounts_is_locked(throttle):
    for number in range(4):  # ip threshold 5; each account stays below its own 3
        await throttle.failure(f"user-{number}@example.test", IP)
    await throttle.check("someone-new@example.test", IP)
    await throttle.failure(f"user-{4}@example.test", IP)
    await refused(throttle, "someone-new@example.test", IP)
    await refused(throttle, None, IP)
    await throttle.check("someone-new@example.test", "203.0.113.8")  # another address
    await throttle.check("user-1@example.test", None)  # the accounts are not locked


async def test_the_account_threshold_does_not_lock_the_address(throttle):
    await fail(throttle, "ada", IP, times=3)
    await refused(throttle, "ada", IP)
    await throttle.check("grace", IP)  # 3 failures are below the address's 5


async def test_addresses_are_normalised_and_ipv6_counts_per_64(make_throttle):
    throttle = make_throttle(lockout_ip_threshold=2)
    await throttle.failure(None, "2001:db8:1:2::10")
    await throttle.failure(None, "2001:db8:1:2:ffff:ffff:ffff:ffff")
    await refused(throttle, None, "2001:db8:1:2::abcd")
    await throttle.check(None, "2001:db8:1:3::10")
    await throttle.failure(None, "::ffff:198.51.100.1")
    await throttle.failure(None, " 198.51.100.1 ")
    await refused(throttle, None, "198.51.100.1")
    assert address_key("2001:DB8:1:2::1") == address_key("2001:db8:1:2:abcd::")
    assert address_key("not an address") == address_key("NOT AN ADDRESS")


async def test_identifiers_are_normalised(throttle):
    await fail(throttle, "Ada@Example.TEST", times=2)
    await throttle.failure(" ada@example.test", None)
    await refused(throttle, "ADA@EXAMPLE.TEST")
    assert identifier_key("Straße") == identifier_key("STRASSE")


async def test_locks_expire(make_throttle):
    throttle = make_throttle(lockout_base=0.2, lockout_max=0.8)
    await fail(throttle, "ada", times=3)
    problem = await refused(throttle, "ada")
    assert problem.headers["Retry-After"] == "1", "rounded up to a whole second"
    started = time.monotonic()
    while True:
        try:
            await throttle.check("ada", None)
            break
        except TooManyRequests:
            assert time.monotonic() - started < 2, "the lock never expired"
            await asyncio.sleep(0.02)
    assert time.monotonic() - started > 0.1
    await throttle.failure("ada", None)  # the 4th failure locks for twice as long
    await refused(throttle, "ada")


async def test_failures_are_forgotten_after_the_window(make_throttle, meshkit_redis):
    throttle = make_throttle(lockout_window=1)
    await fail(throttle, "ada", times=2)
    assert 0 < await meshkit_redis.ttl(identifier_key("ada") + ":failures") <= 1
    started = time.monotonic()
    while await meshkit_redis.exists(identifier_key("ada") + ":failures"):
        assert time.monotonic() - started < 3
        await asyncio.sleep(0.05)
    await throttle.failure("ada", None)
    await throttle.check("ada", None)  # one failure, not three


async def test_a_tiny_base_still_sets_a_lock(make_throttle):
    throttle = make_throttle(lockout_base=0.0001, lockout_threshold=1)
    await throttle.failure("ada", None)  # PX must be at least 1 ms, or Redis refuses it


async def test_a_parallel_burst_of_guesses_cannot_outrun_the_count(throttle):
    """Checks reserve attempts: of 20 guesses at once 3 (the threshold) are tried, not 20."""

    async def guess():
        try:
            await throttle.check("ada", IP)
        except TooManyRequests:
            return False
        await asyncio.sleep(0.05)  # bcrypt would run here
        await throttle.failure("ada", IP)
        return True

    started = time.monotonic()
    outcomes = await asyncio.gather(*(guess() for _ in range(20)))
    assert outcomes.count(True) == 3
    assert time.monotonic() - started < 1, "the queued guesses met the lock at once"
    problem = await refused(throttle, "ada", IP)
    assert problem.headers["Retry-After"] == "10", "locked by the 3 failures"


async def test_a_parallel_burst_of_correct_logins_only_queues(throttle):
    async def login():
        await throttle.check("ada", IP)
        await asyncio.sleep(0.02)
        await throttle.success("ada")

    await asyncio.gather(*(login() for _ in range(12)))  # 3 in flight at a time
    await throttle.check("ada", IP)


async def test_past_the_threshold_one_attempt_at_a_time(meshkit_redis):
    config = settings(lockout_base=0.05, lockout_max=0.1)
    throttle = LoginThrottle(meshkit_redis, config, queue_timeout=0.05)
    await fail(throttle, "ada", times=3)
    await asyncio.sleep(0.15)  # the lock is over; the count is not
    await throttle.check("ada", None)
    busy = await refused(throttle, "ada")
    assert busy.headers["Retry-After"] == "1"
    assert busy.extensions == {"retry_after": 1}
    patient = LoginThrottle(meshkit_redis, config, queue_timeout=5)
    waiting = asyncio.create_task(patient.check("ada", None))
    await asyncio.sleep(0.05)
    assert not waiting.done()
    await throttle.failure("ada", None)  # the attempt in flight failed: locked again
    with pytest.raises(TooManyRequests):
        await waiting
    await asyncio.sleep(0.15)
    await throttle.check("ada", None)
    waiting = asyncio.create_task(patient.check("ada", None))
    await asyncio.sleep(0.05)
    await throttle.success("ada")  # the attempt in flight was right: the next one may go
    await waiting


async def test_an_unreported_attempt_lapses(meshkit_redis):
    config = settings(lockout_threshold=1)
    throttle = LoginThrottle(meshkit_redis, config, pending_ttl=0.1, queue_timeout=2)
    await throttle.check("ada", None)  # and the request dies without failure or success
    started = time.monotonic()
    await throttle.check("ada", None)
    assert 0.05 < time.monotonic() - started < 1


async def test_the_answer_is_the_same_for_any_cause_and_identifier(throttle):
    await fail(throttle, "ada@example.test", times=3)
    await fail(throttle, "nobody-here@example.test", times=3)
    for number in range(5):
        await throttle.failure(f"spray-{number}", "198.51.100.9")
    answers = [
        await refused(throttle, "ada@example.test"),
        await refused(throttle, "nobody-here@example.test"),
        await refused(throttle, "someone@example.test", "198.51.100.9"),
    ]
    assert len({a.detail for a in answers}) == 1
    assert all(a.to_dict() == answers[0].to_dict() for a in answers)
    assert all(a.headers == answers[0].headers for a in answers)
    assert "ada" not in answers[0].detail


async def test_existing_and_unknown_accounts_lock_alike_through_accounts(tmp_path, meshkit_redis):
    """The real login path: a registered account and a typo'd one answer identically."""
    store = await open_store(make_settings(tmp_path), service="auth")
    await store.ensure_indexes([User, RoleAssignment])
    config = settings()
    accounts = Accounts(
        store, PasswordPolicy.from_settings(config), LoginThrottle(meshkit_redis, config), cost=4
    )
    try:
        await accounts.register(
            email="ada@example.test",
            username="ada",
            password="correct horse battery staple",
            display_name=None,
        )
        answers = []
        for login in ("ada@example.test", "adaa@example.test"):
            for _ in range(3):
                with pytest.raises(InvalidCredentials):
                    await accounts.authenticate(login, "wrong password!", ip=None)
            with pytest.raises(TooManyRequests) as caught:
                await accounts.authenticate(login, "correct horse battery staple", ip=None)
            answers.append(caught.value)
        first, second = answers
        assert first.to_dict() == second.to_dict()
        assert first.headers == second.headers
    finally:
        await store.close()


async def test_no_identifier_or_address_appears_in_redis_keys(throttle, meshkit_redis):
    secrets = ["ada.lovelace@example.test", "grace", "203.0.113.77", "2001:db8::77"]
    await fail(throttle, "ada.lovelace@example.test", "203.0.113.77", times=3)
    await fail(throttle, "grace", "2001:db8::77", times=2)
    await throttle.check("grace", "2001:db8::77")
    await throttle.success("grace")
    keys = [key async for key in meshkit_redis.scan_iter(match="*")]
    assert keys
    assert all(key.startswith(PREFIX.encode()) for key in keys)
    text = b"\n".join(keys).decode()
    for secret in [*secrets, "ada", "lovelace", "example", "@", "203.0.113", "2001:db8"]:
        assert secret not in text


async def test_a_custom_prefix_is_used(meshkit_redis):
    throttle = LoginThrottle(meshkit_redis, settings(), prefix="tenant-a:lockout:")
    await throttle.failure("ada", IP)
    keys = [key async for key in meshkit_redis.scan_iter(match="*")]
    assert keys
    assert all(key.startswith(b"tenant-a:lockout:") for key in keys)


async def test_nothing_to_count_is_a_no_op(throttle, meshkit_redis):
    await throttle.check(None, None)
    await throttle.failure(None, None)
    assert await meshkit_redis.dbsize() == 0
