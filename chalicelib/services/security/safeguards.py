"""The safeguards that travel together wherever a person proves who they are.

The login, « Mot de passe oublié » and FranceConnect's fallback all check a secret with the
same hasher, count failures on the same throttle, issue one-time challenges, record the audit
trail, read the same clock and count the requests of each client address on the same rate
limiter: one value instead of six constructor arguments each.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from chalicelib.services.accounts.model import AuditLog, Clock, Hasher
    from chalicelib.services.security.challenges import Challenges
    from chalicelib.services.security.throttling import LoginThrottle, RateLimiter


@dataclass(frozen=True)
class Safeguards:
    hasher: Hasher
    # One set of counters: a wrong password and a wrong secret answer delay alike.
    throttle: LoginThrottle
    challenges: Challenges
    audit: AuditLog
    clock: Clock
    # Per client address and action (`RATE_LIMITS`): each use case counts its own requests.
    limiter: RateLimiter
