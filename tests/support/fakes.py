"""Fakes of the adapters for unit tests: same methods as the real ones, no network, no waiting."""

from __future__ import annotations

import hashlib
import secrets
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta

from chalicelib.services.accounts.model import Account, CreateOutcome
from chalicelib.services.accounts.sessions import Session
from chalicelib.services.accounts.terms import Acceptance, TermsVersion
from chalicelib.services.accounts.totp import SecondFactor
from chalicelib.services.funders.lookup import Consultation
from chalicelib.services.funders.model import Funder
from chalicelib.services.mail.delivery import DeliveryStatus
from chalicelib.services.mail.mails import MailNotSent, OutgoingMail
from chalicelib.services.messages.threads import (
    MAX_MESSAGES_PER_THREAD,
    DossierLeft,
    Message,
    MessageMetadata,
    OwnerState,
    Side,
    Thread,
    ThreadPage,
)
from chalicelib.services.messages.unread import UnreadSnapshot
from chalicelib.services.security.challenges import Challenge
from chalicelib.services.security.throttling import TryCount
from chalicelib.services.trainings.attestations import Attestation
from chalicelib.services.trainings.dossiers import Dossier
from chalicelib.services.trainings.payments import Payment


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

    def get(
        self, funder_code: str, dossier_number: str, consistent: bool = False
    ) -> Dossier | None:
        self.calls["get"] += 1
        return self.items.get((funder_code, dossier_number))

    def link(self, funder_code: str, dossier_number: str, account_id: str) -> None:
        key = (funder_code, dossier_number)
        self.items[key] = self.items[key].with_account(account_id)

    def list_for_account(self, account_id: str) -> list[Dossier]:
        return [dossier for dossier in self.items.values() if dossier.account_id == account_id]


class MemoryAccounts:
    """Accounts with the mail-address claim of DynamoAccountRepository: `create` stores the
    account, claims its address and links its dossier all at once, or nothing. A taken address
    wins over a taken dossier, as the first condition of the real transaction does."""

    def __init__(self, dossiers: MemoryDossierLookup | None = None) -> None:
        self.items: dict[str, Account] = {}
        self.claims: dict[str, str] = {}  # mail address -> account id
        self.marks: dict[str, DeliveryStatus] = {}  # mail address -> SES's feedback on it
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

    def record_login(self, account_id: str, inactivity_due: date) -> None:
        account = self.items.get(account_id)
        if account is not None:
            self.items[account_id] = account.updated(
                inactivity_due=inactivity_due, inactivity_warned=False
            )

    def due_on(self, day: date) -> list[str]:
        return [a.account_id for a in self.items.values() if a.inactivity_due == day]

    def mark_warned(self, account_id: str, due: date, closing_on: date) -> bool:
        account = self.items.get(account_id)
        if account is None or account.inactivity_due != due or account.inactivity_warned:
            return False
        self.items[account_id] = account.updated(inactivity_due=closing_on, inactivity_warned=True)
        return True

    def find_awaiting_by_emails(self, emails: list[str]) -> dict[str, Account]:
        self.calls["find_awaiting_by_emails"] += 1
        found = (self.items.get(self.claims.get(email, "")) for email in emails)
        return {account.email: account for account in found if account and account.awaiting_dossier}

    # SES's feedback, kept with the claim as DynamoAccountRepository keeps it: a change of
    # address drops the old claim and its marks.
    def delivery_status(self, email: str) -> DeliveryStatus | None:
        self.calls["delivery_status"] += 1
        if email not in self.claims:
            return None
        return self.marks.get(email, DeliveryStatus())

    def mark_bounced(self, email: str, at: datetime) -> str | None:
        self.calls["mark_bounced"] += 1
        return self._mark(email, "bounced_at", at)

    def mark_complained(self, email: str, at: datetime) -> str | None:
        self.calls["mark_complained"] += 1
        return self._mark(email, "complained_at", at)

    def _mark(self, email: str, field: str, at: datetime) -> str | None:
        owner = self.claims.get(email)
        current = self.marks.get(email, DeliveryStatus())
        if owner is None or getattr(current, field) is not None:
            return None
        self.marks[email] = replace(current, **{field: at})
        return owner


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

    def claim_try(self, challenge_id: str, max_tries: int) -> int | None:
        self.calls["claim_try"] += 1
        challenge = self.items.get(challenge_id)
        if challenge is None or challenge.tries >= max_tries:
            return None
        self.items[challenge_id] = replace(challenge, tries=challenge.tries + 1)
        return challenge.tries + 1

    def consume(self, challenge_id: str) -> bool:
        self.calls["consume"] += 1
        return self.items.pop(challenge_id, None) is not None

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

    def read_tries(self, key: str) -> TryCount:
        self.calls["read_tries"] += 1
        item = self.items.get(key)  # like DynamoDB, an expired item may still be read
        return TryCount(item.count, item.locked_until, item.expires_at) if item else TryCount()

    def write_tries(
        self, key: str, seen: int, count: int, locked_until: datetime | None, expires_at: datetime
    ) -> bool:
        self.calls["write_tries"] += 1
        item = self.items.get(key)
        if (item.count if item else 0) != seen:
            return False
        self.items[key] = CounterItem(count, expires_at, locked_until)
        return True

    def take_turn(
        self, key: str, seen: datetime | None, until: datetime, expires_at: datetime
    ) -> bool:
        """The compare-and-set of DynamoCounterRepository.take_turn."""
        self.calls["take_turn"] += 1
        item = self._live(key) or self.items.setdefault(key, CounterItem())
        if item.locked_until != seen:
            return False
        item.locked_until = until
        item.expires_at = expires_at
        return True

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
        self.unattributed: list[str] = []

    def record(
        self,
        account_id: str,
        event: str,
        client_ip: str | None,
        details: dict[str, str] | None = None,
    ) -> None:
        self.events.append(AuditEvent(account_id, event, client_ip, details))

    def record_unattributed(
        self, event: str, subject: str | None = None, client_ip: str | None = None
    ) -> None:
        self.unattributed.append(event)

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


# « Mot de passe oublié » and « Mon compte » ---------------------------------------------------


class MemoryRecoveryChallenges(MemoryChallenges):
    """MemoryChallenges with the arming of DynamoChallengeRepository: once per challenge."""

    def arm(self, challenge_id: str, answer_hash: str, subject: str) -> bool:
        self.calls["arm"] += 1
        challenge = self.items.get(challenge_id)
        if challenge is None or challenge.subject:
            return False
        self.items[challenge_id] = replace(challenge, answer_hash=answer_hash, subject=subject)
        return True

    def disarm(self, challenge_id: str) -> None:
        self.calls["disarm"] += 1
        challenge = self.items.get(challenge_id)
        if challenge is not None:
            self.items[challenge_id] = replace(challenge, answer_hash="", subject=None)


class MemorySettingsAccounts(MemoryAccounts):
    """MemoryAccounts with the address change of DynamoAccountRepository (one transaction)."""

    def change_email(self, account: Account, new_email: str) -> bool:
        self.calls["change_email"] += 1
        stored = self.items.get(account.account_id)
        if new_email in self.claims or stored is None or stored.email != account.email:
            return False
        del self.claims[account.email]
        self.marks.pop(account.email, None)
        self.claims[new_email] = account.account_id
        self.items[account.account_id] = replace(stored, email=new_email)
        return True


class MemoryDossiersOfAccount:
    """The dossiers linked to each account, for the funder named in « Mon compte » mails."""

    def __init__(self, *dossiers: Dossier) -> None:
        self.dossiers = list(dossiers)

    def list_for_account(self, account_id: str) -> list[Dossier]:
        return [dossier for dossier in self.dossiers if dossier.account_id == account_id]


class RecordingQueue:
    """Stands for SqsNotificationQueue: keeps what is queued (one entry per `enqueue` call)."""

    def __init__(self) -> None:
        self.batches: list[list[object]] = []

    def enqueue(self, notifications: Sequence[object]) -> None:
        self.batches.append(list(notifications))

    def take(self) -> list[object]:
        """Everything queued so far, oldest first, and empties the queue."""
        queued = [item for batch in self.batches for item in batch]
        self.batches.clear()
        return queued


# « Mes formations » ---------------------------------------------------------------------------


class MemoryTrainingDossiers(MemoryDossierLookup):
    """MemoryDossierLookup with the account's dossiers and the conditional link of
    DynamoDossierRepository: a dossier held by another account is never taken over."""

    def list_for_account(self, account_id: str) -> list[Dossier]:
        self.calls["list_for_account"] += 1
        return [dossier for dossier in self.items.values() if dossier.account_id == account_id]

    def link_account(self, funder_code: str, dossier_number: str, account_id: str) -> bool:
        self.calls["link_account"] += 1
        key = (funder_code, dossier_number)
        dossier = self.items.get(key)
        if dossier is None or dossier.account_id not in (None, account_id):
            return False
        self.items[key] = dossier.with_account(account_id)
        return True


class MemoryPayments:
    """Payments by (funder, reference). `list_for_dossier` answers in the order they were added,
    so that a test shows the service does not rely on the store's order."""

    def __init__(self, *payments: Payment) -> None:
        self.items: dict[tuple[str, str], Payment] = {}
        self.calls: Counter[str] = Counter()
        for payment in payments:
            self.add(payment)

    def add(self, payment: Payment) -> None:
        self.items[(payment.funder_code, payment.reference)] = payment

    def get(self, funder_code: str, reference: str) -> Payment | None:
        self.calls["get"] += 1
        return self.items.get((funder_code, reference))

    def list_for_dossier(self, funder_code: str, dossier_number: str) -> list[Payment]:
        self.calls["list_for_dossier"] += 1
        return [
            payment
            for payment in self.items.values()
            if (payment.funder_code, payment.dossier_number) == (funder_code, dossier_number)
        ]


class MemorySecondFactors:
    """The conditional writes of DynamoSecondFactorRepository, under a lock: each check and its
    write happen as one, as DynamoDB's condition expressions do."""

    def __init__(self) -> None:
        import threading

        self.items: dict[str, dict[str, object]] = {}
        self._lock = threading.Lock()

    def get(self, account_id: str) -> SecondFactor | None:
        item = self.items.get(account_id)
        if item is None:
            return None
        return SecondFactor(
            pending_secret=item.get("pending_secret"),  # type: ignore[arg-type]
            secret=item.get("secret"),  # type: ignore[arg-type]
            last_step=item.get("last_step"),  # type: ignore[arg-type]
            recovery_codes_left=len(item.get("codes", set())),  # type: ignore[arg-type]
        )

    def set_pending(self, account_id: str, secret: str) -> bool:
        with self._lock:
            item = self.items.setdefault(account_id, {})
            if item.get("secret"):
                return False
            item["pending_secret"] = secret
            return True

    def confirm(
        self, account_id: str, pending_secret: str, step: int, code_hashes: list[str], at: datetime
    ) -> bool:
        with self._lock:
            item = self.items.get(account_id, {})
            if item.get("pending_secret") != pending_secret or item.get("secret"):
                return False
            item.update(secret=pending_secret, pending_secret=None, last_step=step)
            item["codes"] = set(code_hashes)
            return True

    def use_step(self, account_id: str, step: int) -> bool:
        with self._lock:
            item = self.items.get(account_id, {})
            last = item.get("last_step")
            if not item.get("secret") or (last is not None and last >= step):  # type: ignore[operator]
                return False
            item["last_step"] = step
            return True

    def delete(self, account_id: str) -> None:
        with self._lock:
            self.items.pop(account_id, None)

    def use_recovery_code(self, account_id: str, code_hash: str) -> bool:
        with self._lock:
            codes = self.items.get(account_id, {}).get("codes", set())
            if code_hash not in codes:  # type: ignore[operator]
                return False
            codes.discard(code_hash)  # type: ignore[union-attr]
            return True


class MemoryFunders:
    def __init__(self, *funders: Funder) -> None:
        self.items: dict[str, Funder] = {funder.code: funder for funder in funders}
        self.calls: Counter[str] = Counter()

    def get(self, code: str) -> Funder | None:
        self.calls["get"] += 1
        return self.items.get(code)

    def list(self) -> list[Funder]:
        self.calls["list"] += 1
        return list(self.items.values())

    def save(self, funder: Funder) -> None:
        self.calls["save"] += 1
        self.items[funder.code] = funder

    def update_space_settings(
        self,
        code: str,
        *,
        messages_enabled: bool | None = None,
        franceconnect_enabled: bool | None = None,
        home_text: str | None = None,
        expected_version: int | None = None,
    ) -> bool:
        """The conditions of DynamoFunderRepository.update_space_settings."""
        self.calls["update_space_settings"] += 1
        funder = self.items.get(code)
        if funder is None or (franceconnect_enabled and not funder.may_use_franceconnect):
            return False
        if expected_version is not None and funder.settings_version != expected_version:
            return False
        changes: dict[str, object] = {"settings_version": funder.settings_version + 1}
        if messages_enabled is not None:
            changes["messages_enabled"] = messages_enabled
        if franceconnect_enabled is not None:
            changes["franceconnect_enabled"] = franceconnect_enabled
        if home_text is not None:
            changes["home_text"] = home_text
        self.items[code] = replace(funder, **changes)  # type: ignore[arg-type]
        return True


# « Mes messages » -------------------------------------------------------------------------------


class MemoryUnreadSessions(MemorySessions):
    """MemorySessions with the unread snapshot writes of DynamoSessionRepository: a snapshot
    reaches every session of the account that holds an older one of the same owner."""

    def publish_unread(self, account_id: str, snapshot: UnreadSnapshot) -> int:
        self.calls["publish_unread"] += 1
        taken = 0
        for token_hash, session in list(self.items.items()):
            held = session.unread
            same_owner = session.account_id == account_id and held.owner == snapshot.owner
            if same_owner and held.version < snapshot.version:
                self.items[token_hash] = replace(session, unread=snapshot)
                taken += 1
        return taken


class MemoryMessageDossiers:
    """Dossiers by key and by account, as the messages service reads them."""

    def __init__(self, *dossiers: Dossier) -> None:
        self.items = {(d.funder_code, d.dossier_number): d for d in dossiers}

    def get(self, funder_code: str, dossier_number: str) -> Dossier | None:
        return self.items.get((funder_code, dossier_number))

    def list_for_account(self, account_id: str) -> list[Dossier]:
        return [d for d in self.items.values() if d.account_id == account_id]


class MemoryMessages:
    """DynamoMessageRepository in memory: each write is all or nothing, with the same conditions
    (a full thread refuses a message; a thread read meanwhile is not read twice)."""

    def __init__(self, sessions: MemoryUnreadSessions | None = None) -> None:
        self.threads: dict[str, Thread] = {}
        self.messages: dict[str, list[Message]] = {}
        self.counters: dict[tuple[str, str], list[int]] = {}  # (owner, funder) -> [count, version]
        self.staff: dict[str, list[tuple[str, str, datetime]]] = {}
        self.sessions = sessions
        self.submissions: dict[str, str] = {}  # submission key -> thread id
        self.calls: Counter[str] = Counter()
        # (funder, dossier) no longer their sender's when the thread is written: the store's
        # check of the dossier in the same transaction refuses it.
        self.dossiers_left: set[tuple[str, str]] = set()

    def _bump(self, owner: str, funder_code: str, change: int) -> None:
        counter = self.counters.setdefault((owner, funder_code), [0, 0])
        counter[0] += change
        counter[1] += 1

    def create_thread(
        self,
        thread: Thread,
        message: Message,
        recipient_owner: str,
        submission: str | None = None,
    ) -> bool:
        self.calls["create_thread"] += 1
        assert thread.thread_id not in self.threads
        if (thread.funder_code, thread.dossier_number) in self.dossiers_left:
            raise DossierLeft(thread.dossier_number)
        if submission is not None:
            if submission in self.submissions:
                return False
            self.submissions[submission] = thread.thread_id
        self.threads[thread.thread_id] = thread
        self.messages[thread.thread_id] = [message]
        self._bump(recipient_owner, thread.funder_code, 1)
        return True

    def submitted(self, submission: str) -> str | None:
        return self.submissions.get(submission)

    def add_message(
        self,
        thread: Thread,
        message: Message,
        recipient_owner: str,
        submission: str | None = None,
    ) -> bool:
        self.calls["add_message"] += 1
        stored = self.threads.get(thread.thread_id)
        if stored is None or stored.message_count >= MAX_MESSAGES_PER_THREAD:
            return False
        if submission is not None:
            if submission in self.submissions:
                return False
            self.submissions[submission] = thread.thread_id
        unread = {
            "unread_for_trainee": stored.unread_for_trainee + (message.side is Side.ORGANISATION),
            "unread_for_organisation": stored.unread_for_organisation
            + (message.side is Side.TRAINEE),
        }
        self.threads[thread.thread_id] = replace(
            stored,
            updated_at=message.sent_at,
            message_count=stored.message_count + 1,
            last_side=message.side,
            **unread,
        )
        self.messages[thread.thread_id].append(message)
        self._bump(recipient_owner, thread.funder_code, 1)
        return True

    def mark_read(
        self, thread: Thread, side: Side, owner: str, token_hash: str, snapshot: UnreadSnapshot
    ) -> bool:
        self.calls["mark_read"] += 1
        stored = self.threads[thread.thread_id]
        read = thread.unread_for(side)
        if stored.unread_for(side) != read:
            return False
        field_name = "unread_for_trainee" if side is Side.TRAINEE else "unread_for_organisation"
        self.threads[thread.thread_id] = replace(stored, **{field_name: 0})
        self._bump(owner, thread.funder_code, -read)
        if self.sessions is not None and token_hash in self.sessions.items:
            session = self.sessions.items[token_hash]
            self.sessions.items[token_hash] = replace(session, unread=snapshot)
        return True

    def thread_with_messages(self, thread_id: str) -> tuple[Thread, list[Message]] | None:
        self.calls["thread_with_messages"] += 1
        thread = self.threads.get(thread_id)
        return (thread, list(self.messages[thread_id])) if thread else None

    def _page(self, threads: list[Thread], limit: int, cursor: str | None) -> ThreadPage:
        ordered = sorted(threads, key=lambda t: (t.updated_at, t.thread_id), reverse=True)
        start = int(cursor) if cursor and cursor.isdigit() else 0
        end = start + limit
        return ThreadPage(ordered[start:end], str(end) if end < len(ordered) else None)

    def threads_of_account(self, account_id: str, limit: int, cursor: str | None) -> ThreadPage:
        self.calls["threads_of_account"] += 1
        mine = [t for t in self.threads.values() if t.account_id == account_id]
        return self._page(mine, limit, cursor)

    def threads_of_organisation(self, siret: str, limit: int, cursor: str | None) -> ThreadPage:
        self.calls["threads_of_organisation"] += 1
        theirs = [t for t in self.threads.values() if t.organisation_siret == siret]
        return self._page(theirs, limit, cursor)

    def owner_state(self, owner: str) -> OwnerState:
        self.calls["owner_state"] += 1
        counts = {f: max(0, c[0]) for (o, f), c in self.counters.items() if o == owner}
        version = sum(c[1] for (o, _f), c in self.counters.items() if o == owner)
        siret = owner.removeprefix("organisation#") if owner.startswith("organisation#") else ""
        staff = [account_id for account_id, _e, _a in self.staff.get(siret, [])]
        return OwnerState(UnreadSnapshot(owner, counts, version), staff)

    def add_staff_member(self, siret: str, account_id: str, email: str, at: datetime) -> None:
        self.staff.setdefault(siret, []).append((account_id, email, at))

    def message_metadata(self, thread_id: str) -> list[MessageMetadata]:
        return [MessageMetadata(m.side, m.sent_at) for m in self.messages.get(thread_id, [])]


# « Mes attestations » ---------------------------------------------------------------------------


class MemoryAttestations:
    """DynamoAttestationRepository in memory: records keyed by owner, a look-up by code hash."""

    def __init__(self) -> None:
        self.items: dict[tuple[str, str], Attestation] = {}
        self.by_hash: dict[str, tuple[str, str]] = {}

    def create(self, attestation: Attestation, code_hash: str) -> None:
        key = (attestation.account_id, attestation.attestation_id)
        if key in self.items or code_hash in self.by_hash:
            raise ValueError("attestation exists")
        self.items[key] = attestation
        self.by_hash[code_hash] = key

    def list_for_account(self, account_id: str, limit: int) -> list[Attestation]:
        owned = [a for (owner, _), a in self.items.items() if owner == account_id]
        return sorted(owned, key=lambda a: a.attestation_id, reverse=True)[:limit]

    def get(self, account_id: str, attestation_id: str) -> Attestation | None:
        return self.items.get((account_id, attestation_id))

    def withdraw(self, account_id: str, attestation_id: str, at: datetime) -> bool:
        attestation = self.items.get((account_id, attestation_id))
        if attestation is None:
            return False
        if attestation.withdrawn_at is None:
            self.items[(account_id, attestation_id)] = replace(attestation, withdrawn_at=at)
        return True

    def count_verification(self, code_hash: str, at: datetime) -> Attestation | None:
        key = self.by_hash.get(code_hash)
        if key is None:
            return None
        attestation = self.items[key]
        counted = replace(
            attestation,
            verification_count=attestation.verification_count + 1,
            last_verified_at=at,
        )
        self.items[key] = counted
        return counted


# Retention -------------------------------------------------------------------------------------


@dataclass
class MemoryErasure:
    """The storage side, over the fakes: what a closure or a withdrawal deleted."""

    accounts: MemoryAccounts
    dossiers: list[Dossier]
    detached: list[str] = field(default_factory=list)
    acceptances_deleted: list[str] = field(default_factory=list)
    deleted_dossiers: list[str] = field(default_factory=list)
    months_read: list[str] = field(default_factory=list)

    def unlink_dossiers(self, account_id: str) -> list[Dossier]:
        mine = [d for d in self.dossiers if d.account_id == account_id]
        self.dossiers = [d.with_account(None) if d in mine else d for d in self.dossiers]
        return mine

    def detach_messages(self, account_id: str) -> int:
        self.detached.append(account_id)
        return 1

    def delete_terms_acceptances(self, account_id: str) -> None:
        self.acceptances_deleted.append(account_id)

    def delete_account(self, account: Account, inactivity_due: date | None = None) -> bool:
        stored = self.accounts.items.get(account.account_id)
        if stored is None:
            return False
        if inactivity_due is not None and (
            stored.inactivity_due != inactivity_due or not stored.inactivity_warned
        ):
            return False
        del self.accounts.items[account.account_id]
        self.accounts.claims.pop(stored.email, None)
        return True

    def delete_dossier(self, dossier: Dossier) -> str | None:
        self.deleted_dossiers.append(dossier.dossier_number)
        stored = [d for d in self.dossiers if d.dossier_number == dossier.dossier_number]
        self.dossiers = [d for d in self.dossiers if d.dossier_number != dossier.dossier_number]
        return stored[0].account_id if stored else None

    def dossiers_ended_in(self, funder_code: str, month: str) -> list[Dossier]:
        self.months_read.append(month)
        return [
            d
            for d in self.dossiers
            if d.funder_code == funder_code and d.end_date.strftime("%Y-%m") == month
        ]


@dataclass
class MemoryDocuments:
    owners: set[str] = field(default_factory=set)

    def delete_for_account(self, account_id: str) -> int:
        had = account_id in self.owners
        self.owners.discard(account_id)
        return int(had)


# « Rechercher un dossier » of the funders' space -------------------------------------------------


class MemoryConsultationJournal:
    """DynamoConsultationJournal in memory: who consulted which dossier."""

    def __init__(self) -> None:
        self.entries: list[Consultation] = []

    def record(self, consultation: Consultation) -> None:
        self.entries.append(consultation)

    def consultations(self, funder_code: str, dossier_number: str) -> list[Consultation]:
        return [
            c
            for c in self.entries
            if (c.funder_code, c.dossier_number) == (funder_code, dossier_number)
        ]
