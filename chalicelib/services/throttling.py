"""Anti-automation: growing delays per login identifier, rate limits per client address."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from chalicelib.services.accounts import Clock

FREE_FAILURES = 4  # the 5th consecutive failure starts the delays
MAX_DELAY = timedelta(hours=1)
FAILURE_MEMORY = timedelta(days=1)


class CounterRepository(Protocol):
    def increment(self, key: str, expires_at: datetime) -> int: ...

    def locked_until(self, key: str) -> datetime | None: ...

    def lock(self, key: str, until: datetime, expires_at: datetime) -> None: ...

    def delete(self, key: str) -> None: ...


def delay_after(failures: int) -> timedelta | None:
    """1 min after the 5th consecutive failure, then 2, 4, 8… capped at one hour."""
    if failures <= FREE_FAILURES:
        return None
    # The exponent is capped first: 2 ** 46 minutes would not fit in a timedelta.
    exponent = min(failures - FREE_FAILURES - 1, 6)
    return min(timedelta(minutes=2**exponent), MAX_DELAY)


class LoginThrottle:
    """Keyed by the identifier typed, whether or not an account has it: a delay never tells
    that an account exists."""

    def __init__(self, counters: CounterRepository, clock: Clock) -> None:
        self._counters = counters
        self._clock = clock

    @staticmethod
    def _key(identifier: str) -> str:
        digest = hashlib.sha256(identifier.strip().lower().encode()).hexdigest()
        return f"login-failures#{digest}"

    def wait_until(self, identifier: str) -> datetime | None:
        until = self._counters.locked_until(self._key(identifier))
        return until if until is not None and until > self._clock() else None

    def record_failure(self, identifier: str) -> datetime | None:
        now = self._clock()
        key = self._key(identifier)
        failures = self._counters.increment(key, expires_at=now + FAILURE_MEMORY)
        delay = delay_after(failures)
        if delay is None:
            return None
        self._counters.lock(key, until=now + delay, expires_at=now + FAILURE_MEMORY)
        return now + delay

    def reset(self, identifier: str) -> None:
        self._counters.delete(self._key(identifier))


@dataclass(frozen=True)
class Limit:
    requests: int
    window: timedelta


RATE_LIMITS: dict[str, Limit] = {
    "login": Limit(30, timedelta(minutes=15)),
    "signup": Limit(10, timedelta(hours=1)),
    "recovery": Limit(10, timedelta(hours=1)),
    "captcha": Limit(60, timedelta(minutes=10)),
}


class RateLimiter:
    """Fixed windows per client address and action; counters expire with their window."""

    def __init__(self, counters: CounterRepository, clock: Clock, multiplier: int = 1) -> None:
        self._counters = counters
        self._clock = clock
        self._multiplier = multiplier

    def allow(self, action: str, client_ip: str) -> bool:
        limit = RATE_LIMITS[action]
        now = self._clock()
        seconds = int(limit.window.total_seconds())
        window_start = int(now.timestamp()) // seconds * seconds
        key = f"rate#{action}#{client_ip}#{window_start}"
        count = self._counters.increment(key, expires_at=now + limit.window)
        return count <= limit.requests * self._multiplier
