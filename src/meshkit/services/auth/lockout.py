"""Brute-force protection for logins: failure counters and exponential lockouts in Redis.

Online guessing is slowed down, not just counted (NIST SP 800-63B §5.2.2, OWASP ASVS v4
2.2.1): past ``lockout_threshold`` failures an account is locked, and every further
failure doubles the lock (``lockout_base`` seconds, then twice that, … up to
``lockout_max``). Doubling instead of one long lock keeps a user who mistyped a few times
out for seconds while making a guessing campaign hopeless; the cap keeps a lock that an
attacker provokes on purpose from growing without end. A count is forgotten
``lockout_window`` seconds after the last failure.

*What is counted.* Per account, under the identifier the client typed (normalised),
whether or not an account has it: locking only real accounts would make the 429 itself
reveal which ones exist, so the answer is the same for both. Per client address too,
because one address trying a common password against many accounts (password spraying)
never trips a per-account threshold. IPv6 addresses count per /64, the block one
subscriber usually gets, or changing address would reset the count for free. A success
clears the account's count, not the address's, so a legitimate login cannot launder an
address's spraying.

Per user id as well, when the identifier names an account: an account reachable by its
email and its username would otherwise get twice the attempts. The same per-user count
guards the password asked again of a logged-in user (password change, account
deletion), so a stolen access token cannot be used to guess the password either.

*Concurrent guesses.* Checking first and counting after the password was verified
would let a burst of parallel requests all pass the check before the first failure is
counted: a thousand guesses at once instead of ``lockout_threshold``. So a check that
lets an attempt through also reserves it: an account has at most as many attempts in
flight as it has failures left before its lock (at least one). Further checks wait
(briefly, polling) until an attempt ends with :meth:`LoginThrottle.failure` or
:meth:`LoginThrottle.success` or its reservation lapses: a burst of correct logins only
queues, while a burst of guesses meets the lock its first failures set. A check that
waited ``queue_timeout`` in vain gets the same 429 as a lock.

Every decision is one Lua script, so concurrent requests from several processes see one
consistent state. Identifiers and addresses appear in key names only as SHA-256 digests,
so no email address ends up in Redis keys, its dumps or ``MONITOR`` output (a digest of
a guessable value is a pseudonym, not a secret).
"""

from __future__ import annotations

import asyncio
import hashlib
import ipaddress
import math
import unicodedata

from redis.asyncio import Redis

from meshkit.errors import TooManyRequests
from meshkit.services.auth.settings import AuthSettings

__all__ = ["LOCKED", "PREFIX", "LoginThrottle", "address_key", "identifier_key", "user_key"]

PREFIX = "meshkit:auth:lockout:"
LOCKED = "too many failed login attempts; try again later"
PENDING_TTL = 30.0
QUEUE_TIMEOUT = 10.0
POLL_FIRST, POLL_MAX = 0.01, 0.1

# KEYS: the lock keys to look at, then (failures, pending) of each subject that reserves
# an attempt (the typed account, the user id). ARGV: number of lock keys, pending ttl in
# ms, then one threshold per reserving subject.
# Returns the milliseconds to wait: 0 = go ahead (an attempt of each reserving subject is
# reserved), -1 = one of them has as many attempts in flight as it may have.
CHECK = """
local locks = tonumber(ARGV[1])
local wait = 0
for i = 1, locks do
  local ttl = redis.call('PTTL', KEYS[i])
  if ttl > wait then wait = ttl end
end
if wait > 0 then return wait end
local subjects = (#KEYS - locks) / 2
for s = 1, subjects do
  local failures = tonumber(redis.call('GET', KEYS[locks + 2 * s - 1]) or '0')
  local pending = tonumber(redis.call('GET', KEYS[locks + 2 * s]) or '0')
  if pending >= math.max(1, tonumber(ARGV[2 + s]) - failures) then return -1 end
end
for s = 1, subjects do
  redis.call('INCR', KEYS[locks + 2 * s])
  redis.call('PEXPIRE', KEYS[locks + 2 * s], ARGV[2])
end
return 0
"""

# KEYS: (failures, lock) of each subject, then the pending keys of the reserving ones.
# ARGV: base ms, cap ms, window s, number of pending keys, then one threshold per
# subject. A failure past the threshold locks for base * 2^(n - threshold).
FAIL = """
local base, cap, window = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local count = #KEYS - tonumber(ARGV[4])
for s = 1, count / 2 do
  local n = redis.call('INCR', KEYS[2 * s - 1])
  redis.call('EXPIRE', KEYS[2 * s - 1], window)
  local threshold = tonumber(ARGV[4 + s])
  if n >= threshold then
    local ms = math.max(1, math.floor(math.min(cap, base * 2 ^ (n - threshold))))
    redis.call('SET', KEYS[2 * s], n, 'PX', string.format('%d', ms))
  end
end
for i = count + 1, #KEYS do
  if tonumber(redis.call('GET', KEYS[i]) or '0') > 0 then redis.call('DECR', KEYS[i]) end
end
return 0
"""

# KEYS: (failures, lock, pending) of each reserving subject.
SUCCESS = """
for i = 1, #KEYS, 3 do
  redis.call('DEL', KEYS[i], KEYS[i + 1])
  if tonumber(redis.call('GET', KEYS[i + 2]) or '0') > 0 then redis.call('DECR', KEYS[i + 2]) end
end
return 0
"""


def _digest(kind: str, value: str) -> str:
    return hashlib.sha256(f"{kind}\0{value}".encode("utf-8", "surrogatepass")).hexdigest()


def identifier_key(identifier: str, prefix: str = PREFIX) -> str:
    """Base of the keys of a typed login (NFKC, trimmed, case-folded, then hashed)."""
    normalised = unicodedata.normalize("NFKC", identifier).strip().casefold()
    return f"{prefix}account:{_digest('account', normalised)}"


def user_key(user_id: str, prefix: str = PREFIX) -> str:
    """Base of the keys of an account by its id: however it was named when logging in,
    and when its password is asked again (a password change or deletion)."""
    return f"{prefix}user:{_digest('user', user_id)}"


def address_key(ip: str, prefix: str = PREFIX) -> str:
    """Base of the keys of a client address (IPv4, IPv4-mapped IPv6, or an IPv6 /64)."""
    text = ip.strip()
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        subject = text.casefold()  # not an address (a proxy's label): count it as given
    else:
        if isinstance(address, ipaddress.IPv6Address):
            mapped = address.ipv4_mapped
            if mapped is not None:
                subject = str(mapped)
            else:
                subject = str(ipaddress.IPv6Network((int(address) >> 64 << 64, 64)))
        else:
            subject = str(address)
    return f"{prefix}ip:{_digest('ip', subject)}"


class LoginThrottle:
    """Locks out accounts and client addresses after repeated failed logins.

    A login calls :meth:`check` first, then exactly one of :meth:`failure` (wrong
    password or unknown account) or :meth:`success` (right password).
    """

    def __init__(
        self,
        redis: Redis,
        settings: AuthSettings,
        *,
        prefix: str = PREFIX,
        pending_ttl: float = PENDING_TTL,
        queue_timeout: float = QUEUE_TIMEOUT,
    ) -> None:
        """``pending_ttl``: seconds after which a checked attempt that was never
        reported (the request died) stops counting as in flight. ``queue_timeout``:
        longest wait of a check for an attempt in flight to end."""
        self.redis = redis
        self.settings = settings
        self.prefix = prefix
        self.pending_ttl = pending_ttl
        self.queue_timeout = queue_timeout
        self._check = redis.register_script(CHECK)
        self._fail = redis.register_script(FAIL)
        self._success = redis.register_script(SUCCESS)

    def _reserving(self, account: str | None, user: str | None) -> list[str]:
        """Key bases of the subjects that reserve attempts: the typed account, the user."""
        bases = []
        if account:
            bases.append(identifier_key(account, self.prefix))
        if user:
            bases.append(user_key(user, self.prefix))
        return bases

    async def check(self, account: str | None, ip: str | None, *, user: str | None = None) -> None:
        """Raise :class:`~meshkit.errors.TooManyRequests` while the account, the user or
        the address is locked, else reserve one attempt of the account and of the user
        (waiting for a free one).

        ``account`` is the identifier typed at login (whether or not an account has it),
        ``user`` the id of the account when one is known (at login when the identifier
        names one; always when a logged-in user's password is asked again).

        The 429 carries ``Retry-After`` (whole seconds, at least 1) and the same in the
        ``retry_after`` member; its detail is the same whatever the cause, and whether
        or not an account is called ``account``.
        """
        reserving = self._reserving(account, user)
        keys = [base + ":lock" for base in reserving]
        if ip:
            keys.append(address_key(ip, self.prefix) + ":lock")
        if not keys:
            return
        locks = len(keys)
        for base in reserving:
            keys += [base + ":failures", base + ":pending"]
        threshold = self.settings.lockout_threshold
        args = [locks, _ms(self.pending_ttl), *[threshold] * len(reserving)]
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.queue_timeout
        delay = POLL_FIRST
        while True:
            wait = int(await self._check(keys=keys, args=args))
            if wait == 0:
                return
            if wait > 0 or loop.time() + delay > deadline:
                seconds = max(1, math.ceil(wait / 1000))
                raise TooManyRequests(
                    LOCKED,
                    extensions={"retry_after": seconds},
                    headers={"Retry-After": str(seconds)},
                )
            await asyncio.sleep(delay)  # attempts of this account are in flight
            delay = min(2 * delay, POLL_MAX)

    async def failure(
        self, account: str | None, ip: str | None, *, user: str | None = None
    ) -> None:
        """Count a failed attempt against the account, the user and the address (one
        atomic step), and end the reservations :meth:`check` made."""
        config = self.settings
        reserving = self._reserving(account, user)
        keys: list[str] = []
        thresholds: list[int] = []
        for base in reserving:
            keys += [base + ":failures", base + ":lock"]
            thresholds.append(config.lockout_threshold)
        if ip:
            base_ip = address_key(ip, self.prefix)
            keys += [base_ip + ":failures", base_ip + ":lock"]
            thresholds.append(config.lockout_ip_threshold)
        if not keys:
            return
        keys += [base + ":pending" for base in reserving]
        await self._fail(
            keys=keys,
            args=[
                _ms(config.lockout_base),
                _ms(config.lockout_max),
                config.lockout_window,
                len(reserving),
                *thresholds,
            ],
        )

    async def success(self, account: str | None, *, user: str | None = None) -> None:
        """A correct password: clear the failures and lock of the account and the user
        (not the address's), and end their reservations."""
        keys = []
        for base in self._reserving(account, user):
            keys += [base + ":failures", base + ":lock", base + ":pending"]
        if keys:
            await self._success(keys=keys)


def _ms(seconds: float) -> int:
    return max(1, round(seconds * 1000))
