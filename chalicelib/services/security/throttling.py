"""Anti-automation: growing delays per login identifier, rate limits per client address."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from chalicelib.services.accounts.model import Clock
from chalicelib.services.errors import RateLimited

FREE_FAILURES = 4  # the 5th consecutive failure starts the delays
MAX_DELAY = timedelta(hours=1)
FAILURE_MEMORY = timedelta(days=1)


class CounterRepository(Protocol):
    def increment(self, key: str, expires_at: datetime) -> int: ...

    def read_tries(self, key: str) -> TryCount: ...

    def write_tries(
        self, key: str, seen: int, count: int, locked_until: datetime | None, expires_at: datetime
    ) -> bool: ...

    def delete(self, key: str) -> None: ...


@dataclass(frozen=True)
class TryCount:
    """A try counter as stored: `count` is what a conditional write compares, even when the item
    has outlived its TTL (DynamoDB deletes expired items late, so the service ignores them)."""

    count: int = 0
    locked_until: datetime | None = None
    expires_at: datetime | None = None


@dataclass(frozen=True)
class Attempt:
    """One try, counted before the secret is checked. Refused: nothing may be checked before
    `refused_until`. Allowed: `lock_if_wrong` is the delay this try has already put in place
    should it be wrong (None for a free try); a right one clears it with `reset`."""

    refused_until: datetime | None = None
    lock_if_wrong: datetime | None = None

    @property
    def allowed(self) -> bool:
        return self.refused_until is None


# Under a burst of concurrent tries each round lets one writer through; a request that loses
# this many rounds in a row is refused, never let through unchecked.
MAX_WRITE_ROUNDS = 25
CONTENDED_WAIT = timedelta(minutes=1)


def delay_after(failures: int) -> timedelta | None:
    """1 min after the 5th consecutive failure, then 2, 4, 8… capped at one hour."""
    if failures <= FREE_FAILURES:
        return None
    # The exponent is capped first: 2 ** 46 minutes would not fit in a timedelta.
    exponent = min(failures - FREE_FAILURES - 1, 6)
    return min(timedelta(minutes=2**exponent), MAX_DELAY)


class LoginThrottle:
    """Keyed by the identifier typed, whether or not an account has it: a delay never tells
    that an account exists.

    Each try is counted *before* its password (or answer, or code) is checked, by a conditional
    write on the count just read (optimistic locking): of many concurrent tries, exactly one
    write wins per count, so no more tries are checked than the rule allows. A try that brings
    the count to the 5th or more places the delay at once, as if it were wrong; a right one
    clears it (`reset`)."""

    def __init__(self, counters: CounterRepository, clock: Clock) -> None:
        self._counters = counters
        self._clock = clock

    @staticmethod
    def _key(identifier: str) -> str:
        digest = hashlib.sha256(identifier.strip().lower().encode()).hexdigest()
        return f"login-failures#{digest}"

    def wait_until(self, identifier: str) -> datetime | None:
        """The end of the delay in force, if any (to tell the person; never to let a try in)."""
        stored = self._counters.read_tries(self._key(identifier))
        now = self._clock()
        if stored.expires_at is not None and stored.expires_at <= now:
            return None
        until = stored.locked_until
        return until if until is not None and until > now else None

    def begin(self, identifier: str) -> Attempt:
        key = self._key(identifier)
        for _ in range(MAX_WRITE_ROUNDS):
            now = self._clock()
            stored = self._counters.read_tries(key)
            live = stored.expires_at is None or stored.expires_at > now
            count = stored.count if live else 0
            locked_until = stored.locked_until if live else None
            if locked_until is not None and locked_until > now:
                return Attempt(refused_until=locked_until)
            delay = delay_after(count + 1)
            lock = now + delay if delay is not None else None
            if self._counters.write_tries(
                key, stored.count, count + 1, lock, expires_at=now + FAILURE_MEMORY
            ):
                return Attempt(lock_if_wrong=lock)
        return Attempt(refused_until=self._clock() + CONTENDED_WAIT)

    def reset(self, identifier: str) -> None:
        self._counters.delete(self._key(identifier))

    def record_failure(self, identifier: str) -> datetime | None:
        """Counts a wrong try that needed no check here; the delay now in force, if any."""
        attempt = self.begin(identifier)
        return attempt.refused_until or attempt.lock_if_wrong


@dataclass(frozen=True)
class Limit:
    requests: int
    window: timedelta


RATE_LIMITS: dict[str, Limit] = {
    "login": Limit(30, timedelta(minutes=15)),
    "signup": Limit(10, timedelta(hours=1)),
    "recovery": Limit(10, timedelta(hours=1)),
    "captcha": Limit(60, timedelta(minutes=10)),
    # « Écouter le code »: each listen renders a sound and writes it to S3.
    "captcha_audio": Limit(30, timedelta(minutes=10)),
    # /verifier: a landlord checks one code or two; guessing 80-bit codes needs far more.
    "verification": Limit(20, timedelta(minutes=10)),
    # A funder's help desk (services/funders/lookup.py), per staff member or API key: calls come
    # one at a time; a name search needs an exact birth date, and this keeps guessing one slow.
    "funder-name-search": Limit(60, timedelta(hours=1)),
    "funder-lookup": Limit(600, timedelta(hours=1)),
}


# Requests without a known address share one counter rather than escaping the limit.
UNKNOWN_ADDRESS = "inconnue"

# What a refused request is told, by window (both faces show these words):
# identification (login, second factor, FranceConnect) counts over minutes...
TOO_MANY_ATTEMPTS = "Trop de tentatives depuis votre connexion. Réessayez dans quelques minutes."
# ...sign-up and password recovery over an hour. (The captchas say theirs: security/captcha.py.)
TOO_MANY_REQUESTS = "Trop de demandes depuis votre connexion. Réessayez dans une heure."


class RateLimiter:
    """Fixed windows per client address and action; counters expire with their window."""

    def __init__(self, counters: CounterRepository, clock: Clock, multiplier: int = 1) -> None:
        self._counters = counters
        self._clock = clock
        self._multiplier = multiplier

    def check(self, action: str, client_ip: str | None, message: str) -> None:
        """Counts this request; raises `RateLimited` with `message` past the action's limit."""
        if not self.allow(action, client_ip or UNKNOWN_ADDRESS):
            raise RateLimited(message)

    def allow(self, action: str, client_ip: str) -> bool:
        limit = RATE_LIMITS[action]
        now = self._clock()
        seconds = int(limit.window.total_seconds())
        window_start = int(now.timestamp()) // seconds * seconds
        key = f"rate#{action}#{client_ip}#{window_start}"
        count = self._counters.increment(key, expires_at=now + limit.window)
        return count <= limit.requests * self._multiplier
