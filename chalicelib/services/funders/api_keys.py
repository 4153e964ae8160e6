"""API keys: the machine credential of a funder's own systems on `/api/v1/funder/…`.

A key reads `pfk_<key id>_<secret>`. The key id (public, 12 hex characters) finds the stored
record in one read; the whole key is checked against its SHA-256, compared in constant time. The
key is shown once to the operator who creates it: the portal keeps only its hash (a 256-bit
random secret needs no slow hash: nothing can be guessed from its SHA-256).

Failed tries are counted per client address (fixed windows in the counters table) and refused
beyond `MAX_FAILURES`, before any look-up; every accepted use is written to the audit trail under
the key (`funder-api-key#<key id>`): which funder, which route, from where.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from chalicelib.services.accounts.model import AuditLog, Clock
from chalicelib.services.funders.lookup import CallerKind, FunderCaller
from chalicelib.services.funders.model import FunderRepository
from chalicelib.services.security.throttling import CounterRepository

KEY_PREFIX = "pfk"
KEY_PATTERN = re.compile(r"^pfk_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$")
MAX_FAILURES = 20
FAILURE_WINDOW = timedelta(minutes=15)
# Hashed when the key id is unknown, so that an unknown id costs the same work as a wrong secret.
_UNKNOWN_KEY_HASH = hashlib.sha256(b"no such key").hexdigest()


@dataclass(frozen=True)
class ApiKeyRecord:
    key_id: str
    funder_code: str
    secret_hash: str
    created_at: datetime
    revoked_at: datetime | None = None


@dataclass(frozen=True)
class IssuedApiKey:
    """What the operator sees once: `key` is never stored nor shown again."""

    key_id: str
    funder_code: str
    key: str


@dataclass(frozen=True)
class FunderClient:
    """The funder's system that presented a valid key: every service call of its routes takes
    `funder_code` from here, never from the request."""

    funder_code: str
    key_id: str

    def caller(self, client_ip: str | None) -> FunderCaller:
        """This system as « Rechercher un dossier »'s caller (a machine credential has no second
        step)."""
        return FunderCaller(
            funder_code=self.funder_code,
            kind=CallerKind.API,
            actor_id=self.key_id,
            role="api",
            second_factor_done=True,
            client_ip=client_ip,
        )


class ApiKeyRepository(Protocol):
    def create(self, record: ApiKeyRecord) -> bool:
        """Stores a new key; False if the key id is taken (never overwrites)."""
        ...

    def get(self, key_id: str) -> ApiKeyRecord | None: ...

    def of_funder(self, funder_code: str) -> list[ApiKeyRecord]: ...

    def revoke(self, key_id: str, funder_code: str, when: datetime) -> bool:
        """Marks the key revoked if it belongs to `funder_code` and is not revoked yet."""
        ...


class UnknownFunder(ValueError):
    pass


class TooManyFailures(Exception):
    """Too many wrong keys from this client address: try later (HTTP 429)."""

    def __init__(self, retry_after: timedelta) -> None:
        super().__init__("too many failures")
        self.retry_after = retry_after


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class FunderApiKeys:
    def __init__(
        self,
        keys: ApiKeyRepository,
        funders: FunderRepository,
        counters: CounterRepository,
        audit: AuditLog,
        clock: Clock,
    ) -> None:
        self._keys = keys
        self._funders = funders
        self._counters = counters
        self._audit = audit
        self._clock = clock

    def issue(self, funder_code: str) -> IssuedApiKey:
        if self._funders.get(funder_code) is None:
            raise UnknownFunder(f"Financeur inconnu : {funder_code}")
        while True:  # a 48-bit id collides with another key's once in a blue moon: draw again
            key_id = secrets.token_hex(6)
            key = f"{KEY_PREFIX}_{key_id}_{secrets.token_urlsafe(32)}"
            record = ApiKeyRecord(key_id, funder_code, hash_key(key), self._clock())
            if self._keys.create(record):
                break
        self._audit.record(
            f"funder-api-key#{key_id}", "funder-api-key-created", None, {"funder": funder_code}
        )
        return IssuedApiKey(key_id, funder_code, key)

    def revoke(self, funder_code: str, key_id: str) -> bool:
        revoked = self._keys.revoke(key_id, funder_code, self._clock())
        if revoked:
            self._audit.record(
                f"funder-api-key#{key_id}", "funder-api-key-revoked", None, {"funder": funder_code}
            )
        return revoked

    def list(self, funder_code: str) -> list[ApiKeyRecord]:
        return sorted(self._keys.of_funder(funder_code), key=lambda record: record.created_at)

    def _failure_key(self, client_ip: str | None) -> tuple[str, datetime]:
        now = self._clock()
        seconds = int(FAILURE_WINDOW.total_seconds())
        window_start = int(now.timestamp()) // seconds * seconds
        return (
            f"funder-api-key-failures#{client_ip or 'inconnue'}#{window_start}",
            now + FAILURE_WINDOW,
        )

    def authenticate(
        self, presented: str | None, client_ip: str | None, route: str
    ) -> FunderClient | None:
        """The funder of a valid, unrevoked key; None otherwise. Raises `TooManyFailures` when this
        address has failed too often in the current window (checked before the key)."""
        counter_key, expires_at = self._failure_key(client_ip)
        if self._counters.read_tries(counter_key).count >= MAX_FAILURES:
            raise TooManyFailures(FAILURE_WINDOW)
        match = KEY_PATTERN.fullmatch(presented or "")
        record = self._keys.get(match.group(1)) if match else None
        expected = record.secret_hash if record else _UNKNOWN_KEY_HASH
        same = secrets.compare_digest(hash_key(presented or ""), expected)
        if record is None or not same or record.revoked_at is not None:
            self._counters.increment(counter_key, expires_at)
            self._audit.record_unattributed(
                "funder-api-key-refused", match.group(1) if match else None, client_ip
            )
            return None
        self._audit.record(
            f"funder-api-key#{record.key_id}",
            "funder-api-key-used",
            client_ip,
            {"funder": record.funder_code, "route": route},
        )
        return FunderClient(record.funder_code, record.key_id)
