"""CGU (conditions générales d'utilisation): versioned; every trainee accepts the current one."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from chalicelib.services.accounts.model import Clock

CURRENT_VERSION_CACHE_SECONDS = 60.0


@dataclass(frozen=True)
class TermsVersion:
    version: str
    text: str
    published_at: datetime


@dataclass(frozen=True)
class Acceptance:
    account_id: str
    version: str
    accepted_at: datetime


class TermsRepository(Protocol):
    def current(self) -> TermsVersion | None: ...

    def current_version(self) -> str | None: ...

    def get(self, version: str) -> TermsVersion | None: ...

    def publish(self, terms: TermsVersion) -> None: ...

    def record_acceptance(self, acceptance: Acceptance) -> None: ...

    def acceptances(self, account_id: str) -> list[Acceptance]: ...


class TermsAlreadyPublished(ValueError):
    pass


class Terms:
    def __init__(self, repository: TermsRepository, clock: Clock) -> None:
        self.repository = repository
        self._clock = clock
        self._cached: tuple[float, str | None] | None = None

    def current_version(self) -> str | None:
        """Read on every authenticated page, so kept a minute in the Lambda's memory."""
        if self._cached is None or self.stale():
            self.remember(self.repository.current_version())
        assert self._cached is not None
        return self._cached[1]

    def stale(self) -> bool:
        """Whether the next `current_version` would read the table."""
        return (
            self._cached is None
            or time.monotonic() - self._cached[0] > CURRENT_VERSION_CACHE_SECONDS
        )

    def remember(self, version: str | None) -> None:
        """The current version, read along with something else (the session, in one request)."""
        self._cached = (time.monotonic(), version)

    def publish(self, version: str, text: str) -> TermsVersion:
        version = version.strip()
        if not version or not text.strip():
            raise ValueError("La version et le texte des CGU sont obligatoires.")
        if self.repository.get(version) is not None:
            raise TermsAlreadyPublished(f"La version {version} des CGU est déjà publiée.")
        terms = TermsVersion(version=version, text=text.strip(), published_at=self._clock())
        self.repository.publish(terms)
        self._cached = None
        return terms

    def accept(self, account_id: str, version: str) -> Acceptance:
        acceptance = Acceptance(account_id=account_id, version=version, accepted_at=self._clock())
        self.repository.record_acceptance(acceptance)
        return acceptance
