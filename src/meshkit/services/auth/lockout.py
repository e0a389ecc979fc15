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

__all__ = ["LOCKED", "PREFIX", "LoginThrottle", "address_key", "identifier_key"]

PREFIX = "meshkit:auth:lockout:"
LOCKED = "too many failed login attempts; try again later"
PENDING_TTL = 30.0
QUEUE_TIMEOUT = 10.0
POLL_FIRST, POLL_MAX = 0.01, 0.1

# KEYS: the lock keys to look at, then (with an account) its failures and pending keys.
# ARGV: number of lock keys, the account's threshold, pending ttl in ms.
# Returns the milliseconds to wait: 0 = go ahead (an attempt of the account is reserved),
# -1 = as many attempts of the account are in flight as it may have.
CHECK = """
local locks = tonumber(ARGV[1])
local wait = 0
for i = 1, locks do
  local ttl = redis.call('PTTL', KEYS[i])
  if ttl > wait then wait = ttl end
end
if wait > 0 then return wait end
if #KEYS > locks then
  local failures = tonumber(redis.call('GET', KEYS[locks + 1]) or '0')
  local pending = tonumber(redis.call('GET', KEYS[locks + 2]) or '0')
  if pending >= math.max(1, tonumber(ARGV[2]) - failures) then return -1 end
  redis.call('INCR', KEYS[locks + 2])
  redis.call('PEXPIRE', KEYS[locks + 2], ARGV[3])
end
return 0
"""

# KEYS: (failures, lock) of each subject, then the account's pending key if it has one.
# ARGV: base ms, cap ms, window s, '1' when the last key is a pending key, then one
# threshold per subject. A failure past the threshold locks for base * 2^(n - threshold).
FAIL = """
local base, cap, window = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local pending = nil
local count = #KEYS
if ARGV[4] == '1' then
  pending = KEYS[count]
  count = count - 1
end
for s = 1, count / 2 do
  local n = redis.call('INCR', KEYS[2 * s - 1])
  redis.call('EXPIRE', KEYS[2 * s - 1], window)
  local threshold = tonumber(ARGV[4 + s])
  if n >= threshold then
    local ms = math.max(1, math.floor(math.min(cap, base * 2 ^ (n - threshold))))
    redis.call('SET', KEYS[2 * s], n, 'PX', string.format('%d', ms))
  end
end
if pending and tonumber(redis.call('GET', pending) or '0') > 0 then
  redis.call('DECR', pending)
end
return 0
"""

# KEYS: the account's failures, lock and pending keys.
SUCCESS = """
redis.call('DEL', KEYS[1], KEYS[2])
if tonumber(redis.call('GET', KEYS[3]) or '0') > 0 then redis.call('DECR', KEYS[3]) end
return 0
"""


def _digest(kind: str, value: str) -> str:
    return hashlib.sha256(f"{kind}\0{value}".encode("utf-8", "surrogatepass")).hexdigest()


def identifier_key(identifier: str, prefix: str = PREFIX) -> str:
    """Base of the keys of a typed login (NFKC, trimmed, case-folded, then hashed)."""
    normalised = unicodedata.normalize("NFKC", identifier).strip().casefold()
    return f"{prefix}account:{_digest('account', normalised)}"


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

    async def check(self, account: str | None, ip: str | None) -> None:
        """Raise :class:`~meshkit.errors.TooManyRequests` while the account or the address
        is locked, else reserve one attempt of the account (waiting for a free one).

        The 429 carries ``Retry-After`` (whole seconds, at least 1) and the same in the
        ``retry_after`` member; its detail is the same whatever the cause, and whether
        or not an account is called ``account``.
        """
        keys: list[str] = []
        if account:
            keys.append(identifier_key(account, self.prefix) + ":lock")
        if ip:
            keys.append(address_key(ip, self.prefix) + ":lock")
        if not keys:
            return
        locks = len(keys)
        if account:
            base = identifier_key(account, self.prefix)
            keys += [base + ":failures", base + ":pending"]
        args = [locks, self.settings.lockout_threshold, _ms(self.pending_ttl)]
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

    async def failure(self, account: str | None, ip: str | None) -> None:
        """Count a failed login against the account and the address (one atomic step)."""
        config = self.settings
        keys: list[str] = []
        thresholds: list[int] = []
        if account:
            base = identifier_key(account, self.prefix)
            keys += [base + ":failures", base + ":lock"]
            thresholds.append(config.lockout_threshold)
        if ip:
            base_ip = address_key(ip, self.prefix)
            keys += [base_ip + ":failures", base_ip + ":lock"]
            thresholds.append(config.lockout_ip_threshold)
        if not keys:
            return
        if account:
            keys.append(identifier_key(account, self.prefix) + ":pending")
        await self._fail(
            keys=keys,
            args=[
                _ms(config.lockout_base),
                _ms(config.lockout_max),
                config.lockout_window,
                "1" if account else "0",
                *thresholds,
            ],
        )

    async def success(self, account: str) -> None:
        """A correct password: clear the account's failures and lock (not the address's)."""
        base = identifier_key(account, self.prefix)
        await self._success(keys=[base + ":failures", base + ":lock", base + ":pending"])


def _ms(seconds: float) -> int:
    return max(1, round(seconds * 1000))
