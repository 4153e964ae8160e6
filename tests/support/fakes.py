"""Fakes of the adapters for unit tests: same methods as the real ones, no network, no waiting."""

from __future__ import annotations

import hashlib
import secrets
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from chalicelib.services.accounts import Account, CreateOutcome
from chalicelib.services.challenges import Challenge
from chalicelib.services.dossiers import Dossier
from chalicelib.services.mails import MailNotSent, OutgoingMail
from chalicelib.services.sessions import Session
from chalicelib.services.terms import Acceptance, TermsVersion


class PlainTestHasher:
    """Stands for Argon2Hasher at the cost of one SHA-256 (Argon2id takes tens of milliseconds).

    Like the real one, it salts every hash, so code that compares two hashes instead of calling
    `verify` fails here too; `version` plays the part of the Argon2 parameters for `needs_rehash`.
    """

    def __init__(self, version: int = 1) -> None:
        self.version = version

    def hash(self, secret: str) -> str:
        salt = secrets.token_hex(4)
        return f"test$v{self.version}${salt}${self._digest(salt, secret)}"

    def verify(self, hashed: str, secret: str) -> bool:
        parts = hashed.split("$")
        if len(parts) != 4 or parts[0] != "test":
            return False
        _, _, salt, digest = parts
        return secrets.compare_digest(digest, self._digest(salt, secret))

    def needs_rehash(self, hashed: str) -> bool:
        return not hashed.startswith(f"test$v{self.version}$")

    @staticmethod
    def _digest(salt: str, secret: str) -> str:
        return hashlib.sha256(f"{salt}:{secret}".encode()).hexdigest()


class RecordingMailer:
    """Stands for SesMailer: keeps what it is asked to send, or refuses it when `failing`."""

    def __init__(self, failing: bool = False) -> None:
        self.sent: list[OutgoingMail] = []
        self.failing = failing

    def send(self, mail: OutgoingMail) -> None:
        if self.failing:
            raise MailNotSent("SES refused the mail (test)")
        self.sent.append(mail)

    def sent_to(self, address: str) -> list[OutgoingMail]:
        return [mail for mail in self.sent if mail.to == address]


# In-memory repositories ------------------------------------------------------------------------
# Each one keeps its items in plain dicts and counts the calls it receives in `calls`, so a test
# can say "the repository was read once" as well as "the item is there".


class FakeClock:
    """A settable clock: `clock()` is "now"; `clock.advance(minutes=30)` moves it forward."""

    def __init__(self, start: datetime = datetime(2026, 1, 15, 9, 0, tzinfo=UTC)) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **timedelta_kwargs: float) -> datetime:
        self.now += timedelta(**timedelta_kwargs)
        return self.now

    def set(self, when: datetime) -> None:
        self.now = when


class CountingHasher(PlainTestHasher):
    """PlainTestHasher that counts its calls (timing equality is checked by counting them) and
    remembers what it hashed, so a test can find the temporary password it must type."""

    def __init__(self, version: int = 1) -> None:
        super().__init__(version)
        self.hash_calls = 0
        self.verify_calls = 0
        self.hashed_secrets: list[str] = []

    def hash(self, secret: str) -> str:
        self.hash_calls += 1
        self.hashed_secrets.append(secret)
        return super().hash(secret)

    def verify(self, hashed: str, secret: str) -> bool:
        self.verify_calls += 1
        return super().verify(hashed, secret)


class MemoryDossierLookup:
    """Dossiers by (funder, number), with the link to an account that `MemoryAccounts.create`
    sets in the same step as it stores the account."""

    def __init__(self, *dossiers: Dossier) -> None:
        self.items: dict[tuple[str, str], Dossier] = {}
        self.calls: Counter[str] = Counter()
        for dossier in dossiers:
            self.add(dossier)

    def add(self, dossier: Dossier) -> None:
        self.items[(dossier.funder_code, dossier.dossier_number)] = dossier

    def get(self, funder_code: str, dossier_number: str) -> Dossier | None:
        self.calls["get"] += 1
        return self.items.get((funder_code, dossier_number))

    def link(self, funder_code: str, dossier_number: str, account_id: str) -> None:
        key = (funder_code, dossier_number)
        self.items[key] = self.items[key].with_account(account_id)


class MemoryAccounts:
    """Accounts with the mail-address claim of DynamoAccountRepository: `create` stores the
    account, claims its address and links its dossier all at once, or nothing. A taken address
    wins over a taken dossier, as the first condition of the real transaction does."""

    def __init__(self, dossiers: MemoryDossierLookup | None = None) -> None:
        self.items: dict[str, Account] = {}
        self.claims: dict[str, str] = {}  # mail address -> account id
        self.dossiers = dossiers
        self.calls: Counter[str] = Counter()

    def add(self, account: Account) -> Account:
        """Puts an account in place, as if created earlier (no call counted)."""
        self.claims[account.email] = account.account_id
        self.items[account.account_id] = account
        return account

    def get(self, account_id: str) -> Account | None:
        self.calls["get"] += 1
        return self.items.get(account_id)

    def find_by_email(self, email: str) -> Account | None:
        self.calls["find_by_email"] += 1
        owner = self.claims.get(email)
        return self.items.get(owner) if owner else None

    def create(
        self, account: Account, link_dossier: tuple[str, str] | None = None
    ) -> CreateOutcome:
        self.calls["create"] += 1
        if account.email in self.claims:
            return CreateOutcome.EMAIL_TAKEN
        if account.account_id in self.items:
            raise AssertionError(f"account id {account.account_id} reused")
        if link_dossier is not None:
            dossier = self.dossiers.items.get(link_dossier) if self.dossiers else None
            if dossier is None or dossier.account_id is not None:
                return CreateOutcome.DOSSIER_TAKEN
        self.add(account)
        if link_dossier is not None and self.dossiers is not None:
            self.dossiers.link(*link_dossier, account.account_id)
        return CreateOutcome.CREATED

    def save(self, account: Account) -> None:
        self.calls["save"] += 1
        self.items[account.account_id] = account

    def find_awaiting_by_emails(self, emails: list[str]) -> dict[str, Account]:
        self.calls["find_awaiting_by_emails"] += 1
        found = (self.items.get(self.claims.get(email, "")) for email in emails)
        return {account.email: account for account in found if account and account.awaiting_dossier}


class MemorySessions:
    def __init__(self) -> None:
        self.items: dict[str, Session] = {}
        self.calls: Counter[str] = Counter()

    def create(self, session: Session) -> None:
        self.calls["create"] += 1
        self.items[session.token_hash] = session

    def get(self, token_hash: str) -> Session | None:
        self.calls["get"] += 1
        return self.items.get(token_hash)

    def touch(self, session: Session) -> None:
        self.calls["touch"] += 1
        stored = self.items.get(session.token_hash)
        if stored is not None:  # the real update is conditional on the session still existing
            self.items[session.token_hash] = replace(stored, last_used_at=session.last_used_at)

    def save_progress(self, session: Session) -> None:
        self.calls["save_progress"] += 1
        stored = self.items.get(session.token_hash)
        if stored is not None:
            self.items[session.token_hash] = replace(
                stored, pending_step=session.pending_step, terms_version=session.terms_version
            )

    def delete(self, token_hash: str) -> None:
        self.calls["delete"] += 1
        self.items.pop(token_hash, None)

    def delete_for_account(self, account_id: str, keep: str | None = None) -> int:
        self.calls["delete_for_account"] += 1
        ended = [
            token_hash
            for token_hash, session in self.items.items()
            if session.account_id == account_id and token_hash != keep
        ]
        for token_hash in ended:
            del self.items[token_hash]
        return len(ended)

    def for_account(self, account_id: str) -> list[Session]:
        return [session for session in self.items.values() if session.account_id == account_id]


class MemoryChallenges:
    def __init__(self) -> None:
        self.items: dict[str, Challenge] = {}
        self.calls: Counter[str] = Counter()

    def create(self, challenge: Challenge) -> None:
        self.calls["create"] += 1
        self.items[challenge.challenge_id] = challenge

    def get(self, challenge_id: str) -> Challenge | None:
        self.calls["get"] += 1
        return self.items.get(challenge_id)

    def get_media(self, challenge_id: str, kind: str) -> bytes | None:
        self.calls["get_media"] += 1
        challenge = self.items.get(challenge_id)
        return challenge.media.get(kind) if challenge else None

    def record_failed_try(self, challenge_id: str) -> int:
        self.calls["record_failed_try"] += 1
        challenge = self.items.get(challenge_id)
        if challenge is None:
            return 0
        self.items[challenge_id] = replace(challenge, tries=challenge.tries + 1)
        return challenge.tries + 1

    def delete(self, challenge_id: str) -> None:
        self.calls["delete"] += 1
        self.items.pop(challenge_id, None)


@dataclass
class CounterItem:
    count: int = 0
    expires_at: datetime | None = None
    locked_until: datetime | None = None


class MemoryCounters:
    """Counters with DynamoDB's TTL: given a clock, an expired item behaves as deleted."""

    def __init__(self, clock: Callable[[], datetime] | None = None) -> None:
        self.items: dict[str, CounterItem] = {}
        self.calls: Counter[str] = Counter()
        self._clock = clock

    def _live(self, key: str) -> CounterItem | None:
        item = self.items.get(key)
        if item is None:
            return None
        if self._clock and item.expires_at is not None and item.expires_at <= self._clock():
            del self.items[key]
            return None
        return item

    def increment(self, key: str, expires_at: datetime) -> int:
        self.calls["increment"] += 1
        item = self._live(key) or self.items.setdefault(key, CounterItem())
        item.count += 1
        item.expires_at = expires_at
        return item.count

    def locked_until(self, key: str) -> datetime | None:
        self.calls["locked_until"] += 1
        item = self._live(key)
        return item.locked_until if item else None

    def lock(self, key: str, until: datetime, expires_at: datetime) -> None:
        self.calls["lock"] += 1
        item = self._live(key) or self.items.setdefault(key, CounterItem())
        item.locked_until = until
        item.expires_at = expires_at

    def delete(self, key: str) -> None:
        self.calls["delete"] += 1
        self.items.pop(key, None)


@dataclass(frozen=True)
class AuditEvent:
    account_id: str
    event: str
    client_ip: str | None
    details: dict[str, str] | None = None


class MemoryAudit:
    def __init__(self) -> None:
        self.events: list[AuditEvent] = []

    def record(
        self,
        account_id: str,
        event: str,
        client_ip: str | None,
        details: dict[str, str] | None = None,
    ) -> None:
        self.events.append(AuditEvent(account_id, event, client_ip, details))

    def names(self, account_id: str | None = None) -> list[str]:
        """The events' names in order, of one account or of all."""
        return [e.event for e in self.events if account_id is None or e.account_id == account_id]


class MemoryTerms:
    def __init__(self) -> None:
        self.versions: dict[str, TermsVersion] = {}
        self.current_pointer: str | None = None
        self.recorded: list[Acceptance] = []
        self.calls: Counter[str] = Counter()

    def current(self) -> TermsVersion | None:
        self.calls["current"] += 1
        return self.versions.get(self.current_pointer) if self.current_pointer else None

    def current_version(self) -> str | None:
        self.calls["current_version"] += 1
        return self.current_pointer

    def get(self, version: str) -> TermsVersion | None:
        self.calls["get"] += 1
        return self.versions.get(version)

    def publish(self, terms: TermsVersion) -> None:
        self.calls["publish"] += 1
        if terms.version in self.versions:  # the real write is conditional too
            raise ValueError(f"version {terms.version} exists")
        self.versions[terms.version] = terms
        self.current_pointer = terms.version

    def record_acceptance(self, acceptance: Acceptance) -> None:
        self.calls["record_acceptance"] += 1
        self.recorded.append(acceptance)

    def acceptances(self, account_id: str) -> list[Acceptance]:
        self.calls["acceptances"] += 1
        return [a for a in self.recorded if a.account_id == account_id]
