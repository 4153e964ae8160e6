"""Personal data has a lifetime (RGPD art. 5.1.e): closing an account, inactive accounts, a
funder's withdrawal of a dossier.

What each category keeps and for how long is written once, on the « Données personnelles » page
(chalicelib/web/templates/personal_data.html) and in the README; this module enforces the parts
that need code:

- « Fermer mon compte »: the account, its credentials, its FranceConnect link, its sessions, its
  CGU acceptances, its login counters, its unread counters and its generated PDFs go; its dossiers
  stay with their funder, unlinked, so that a new sign-up of the same person can claim them; its
  messages stay with the dossier, no longer pointing to the account.
- An inactive account (no login for `INACTIVITY_PERIOD`) is warned by mail, then closed as above
  `INACTIVITY_NOTICE` later unless the person logs in meanwhile.
- A funder withdraws a dossier: it goes with its payments, its changes, its messages and the
  linked account's PDFs; the account is told and keeps its other trainings.

The audit trail keeps, for its own year, an event saying that this happened, with the account's
random id and no personal data (the trail is pseudonymous once the account is gone).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Protocol

from chalicelib.services.accounts.model import Account, AccountKind, AuditLog, PortalUrls
from chalicelib.services.accounts.proofs import Proof
from chalicelib.services.funders.model import Funder
from chalicelib.services.mail.mails import (
    Mailer,
    MailNotSent,
    account_closed_mail,
    dossier_withdrawn_mail,
    inactivity_warning_mail,
)
from chalicelib.services.trainings.dossiers import Dossier

Clock = Callable[[], datetime]

# Three years without a login: the CNIL's usual yardstick for an inactive account, and longer than
# any training the portal follows plus the months of payments that come after it.
INACTIVITY_PERIOD = timedelta(days=3 * 365)
INACTIVITY_NOTICE = timedelta(days=30)
# A closed account's threads stay with their dossier, filed under this owner instead of the
# account ("dossier#<funder>#<number>"): nobody logs in as it, and a withdrawal finds them there.
ORPHAN_THREAD_PREFIX = "dossier#"
CLOSED_ACCOUNT_REPLY = (
    "Le compte de ce stagiaire est fermé : il ne peut plus lire de réponse sur le portail."
)

# A day the scheduled job did not run is caught up by the next runs, this many days back.
CATCH_UP_DAYS = 7


def inactivity_due(last_activity: date) -> date:
    """The day an account whose last login (or creation) was `last_activity` gets its warning."""
    return last_activity + INACTIVITY_PERIOD


class ClosedBy(StrEnum):
    OWNER = "owner"
    INACTIVITY = "inactivity"


class CloseOutcome(StrEnum):
    CLOSED = "closed"
    GONE = "gone"  # no such account, or it changed meanwhile (a login saved it from closure)


@dataclass(frozen=True)
class CloseResult:
    outcome: CloseOutcome

    @property
    def ok(self) -> bool:
        return self.outcome is CloseOutcome.CLOSED


class ErasureStore(Protocol):
    """The storage side of every deletion here: each method is idempotent (a retry after a
    failure halfway finds less to do, never an error)."""

    def unlink_dossiers(self, account_id: str) -> list[Dossier]:
        """Removes the account from its dossiers (only where it still holds them)."""
        ...

    def detach_messages(self, account_id: str) -> int:
        """The account's threads stay with their dossier and no longer name the account; its
        unread counters go. Returns how many threads were detached."""
        ...

    def delete_terms_acceptances(self, account_id: str) -> None: ...

    def delete_account(self, account: Account, inactivity_due: date | None = None) -> bool:
        """The account, its address claim and its FranceConnect claim, all at once. With
        `inactivity_due`, only while the account still has that due day (no login since):
        False when it changed or is gone."""
        ...

    def delete_dossier(self, dossier: Dossier) -> str | None:
        """The dossier, its payments, its recorded changes and its message threads. Answers the
        account that held it as it went (None: no account, or gone already), which is not the
        one read before when someone linked it meanwhile."""
        ...

    def dossiers_ended_in(self, funder_code: str, month: str) -> list[Dossier]:
        """The funder's dossiers whose training ended in `month` ("YYYY-MM"), by an index."""
        ...


class SessionEnder(Protocol):
    def delete_for_account(self, account_id: str, keep: str | None = None) -> int: ...


class LoginCounters(Protocol):
    def reset(self, identifier: str) -> None: ...


class DocumentEraser(Protocol):
    def delete_for_account(self, account_id: str) -> int: ...


class CredentialCheck(Protocol):
    def check_credential(self, account: Account, proof: Proof, client_ip: str | None) -> None:
        """Raises `Invalid` or `Throttled` unless `proof` proves the person."""
        ...


class InactivityIndex(Protocol):
    def due_on(self, day: date) -> list[str]:
        """Ids of the accounts whose inactivity due day is `day` (an index query, no scan)."""
        ...

    def mark_warned(self, account_id: str, due: date, closing_on: date) -> bool:
        """Moves a not yet warned account from `due` to `closing_on`, warned; False when its due
        day is no longer `due` (a login meanwhile) or it is gone."""
        ...


class AccountsById(Protocol):
    def get(self, account_id: str) -> Account | None: ...


class AccountClosure:
    def __init__(
        self,
        accounts: AccountsById,
        store: ErasureStore,
        sessions: SessionEnder,
        login_counters: LoginCounters,
        documents: DocumentEraser,
        credentials: CredentialCheck,
        mailer: Mailer,
        audit: AuditLog,
        urls: PortalUrls,
    ) -> None:
        self._accounts = accounts
        self._store = store
        self._sessions = sessions
        self._login_counters = login_counters
        self._documents = documents
        self._credentials = credentials
        self._mailer = mailer
        self._audit = audit
        self._urls = urls

    def close_by_owner(self, account_id: str, proof: Proof, client_ip: str | None) -> CloseResult:
        """`proof`: the password, or the secret answer for an account without one
        (FranceConnect only), as for a change of mail address; a wrong or missing one raises
        `Invalid` (or `Throttled`), as « Mon compte »'s changes do. CLOSED, or GONE when the
        account was gone already (either way, the session is over)."""
        account = self._accounts.get(account_id)
        if account is None or account.kind is not AccountKind.TRAINEE:
            return CloseResult(CloseOutcome.GONE)
        self._credentials.check_credential(account, proof, client_ip)
        return self._erase(account, ClosedBy.OWNER, client_ip, None)

    def close_inactive(self, account: Account) -> CloseResult:
        """Only while the account is still warned and due: a login meanwhile keeps it."""
        if not account.inactivity_warned or account.inactivity_due is None:
            return CloseResult(CloseOutcome.GONE)
        return self._erase(account, ClosedBy.INACTIVITY, None, account.inactivity_due)

    def _erase(
        self, account: Account, by: ClosedBy, client_ip: str | None, due: date | None
    ) -> CloseResult:
        # The account item goes first and conditionally: once it is gone nobody can log in, and
        # a login that came first (inactivity) makes the closure give up before touching anything.
        if not self._store.delete_account(account, inactivity_due=due):
            return CloseResult(CloseOutcome.GONE)
        self._sessions.delete_for_account(account.account_id)
        self._store.unlink_dossiers(account.account_id)
        self._store.detach_messages(account.account_id)
        self._store.delete_terms_acceptances(account.account_id)
        self._login_counters.reset(account.email)
        self._documents.delete_for_account(account.account_id)
        # Kept in the trail for its year: who (a random id, now unattached) and why, nothing else.
        self._audit.record(account.account_id, "account-closed", client_ip, {"by": by.value})
        # The closure stands if the mail cannot go: that is no reason to keep the data.
        with contextlib.suppress(MailNotSent):
            self._mailer.send(
                account_closed_mail(
                    account.email,
                    account.first_given_name,
                    by is ClosedBy.INACTIVITY,
                    portal_url=self._urls.base_url,
                )
            )
        return CloseResult(CloseOutcome.CLOSED)


@dataclass
class InactivityRun:
    warned: int = 0
    closed: int = 0
    kept: int = 0  # due, but a login came first


class InactivityJob:
    """Once a day (EventBridge schedule): warns the accounts due today, closes the accounts whose
    warning is `INACTIVITY_NOTICE` old. Reaches them by their due day, through an index."""

    def __init__(
        self,
        accounts: AccountsById,
        index: InactivityIndex,
        closure: AccountClosure,
        mailer: Mailer,
        audit: AuditLog,
        urls: PortalUrls,
        clock: Clock,
    ) -> None:
        self._accounts = accounts
        self._index = index
        self._closure = closure
        self._mailer = mailer
        self._audit = audit
        self._urls = urls
        self._clock = clock

    def run(self) -> InactivityRun:
        today = self._clock().date()
        result = InactivityRun()
        for days_back in range(CATCH_UP_DAYS, -1, -1):
            day = today - timedelta(days=days_back)
            for account_id in self._index.due_on(day):
                self._handle(account_id, day, today, result)
        return result

    def _handle(self, account_id: str, day: date, today: date, result: InactivityRun) -> None:
        account = self._accounts.get(account_id)
        if (
            account is None
            or account.inactivity_due != day
            or account.kind is not AccountKind.TRAINEE
        ):
            result.kept += 1
            return
        if account.inactivity_warned:
            if self._closure.close_inactive(account).ok:
                result.closed += 1
            else:
                result.kept += 1
            return
        closing_on = today + INACTIVITY_NOTICE
        if not self._index.mark_warned(account_id, day, closing_on):
            result.kept += 1
            return
        self._audit.record(account_id, "inactivity-warning", None)
        # Marked first, mailed second: a failed mail is retried by nobody, but the account is
        # never closed without the 30 days; SES failures show in the metrics and logs.
        with contextlib.suppress(MailNotSent):
            self._mailer.send(
                inactivity_warning_mail(
                    account.email,
                    account.first_given_name,
                    closing_on,
                    self._urls.path("/"),
                    portal_url=self._urls.base_url,
                )
            )
        result.warned += 1


class WithdrawalAccounts(Protocol):
    def get(self, account_id: str) -> Account | None: ...


class DossierWithdrawal:
    """A funder's `statut` `supprime`: the dossier and everything hanging from it go."""

    def __init__(
        self,
        accounts: WithdrawalAccounts,
        store: ErasureStore,
        documents: DocumentEraser,
        mailer: Mailer,
        audit: AuditLog,
        urls: PortalUrls,
    ) -> None:
        self._accounts = accounts
        self._store = store
        self._documents = documents
        self._mailer = mailer
        self._audit = audit
        self._urls = urls

    def withdraw(self, dossier: Dossier) -> None:
        # Whoever held it as it went is told, even one who linked it after the file was read.
        owner = self._store.delete_dossier(dossier)
        account = self._accounts.get(owner) if owner else None
        if account is None:
            return
        # PDFs are named after the account, not the dossier: all of them go, the others are
        # made again on the next request (document_delivery.py).
        self._documents.delete_for_account(account.account_id)
        self._audit.record(
            account.account_id, "dossier-withdrawn", None, {"funder": dossier.funder_code}
        )
        with contextlib.suppress(MailNotSent):
            self._mailer.send(
                dossier_withdrawn_mail(
                    account.email,
                    account.first_given_name,
                    dossier.training_title,
                    self._urls.login(dossier.funder_code),
                    portal_url=self._urls.base_url,
                )
            )


class FunderSettings(Protocol):
    def list(self) -> list[Funder]: ...

    def purged_through(self, code: str) -> str | None: ...

    def mark_purged_through(self, code: str, month: str, previous: str | None) -> bool: ...


# Before the portal's first dossiers: where a funder's first purge starts.
FIRST_MONTH = "2000-01"


def months_back(day: date, months: int) -> str:
    """ "YYYY-MM" of the month `months` before `day`'s."""
    index = day.year * 12 + day.month - 1 - months
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def months_between(first: str, last: str) -> list[str]:
    """Every "YYYY-MM" from `first` to `last`, both included."""
    start = int(first[:4]) * 12 + int(first[5:7]) - 1
    end = int(last[:4]) * 12 + int(last[5:7]) - 1
    return [f"{index // 12:04d}-{index % 12 + 1:02d}" for index in range(start, end + 1)]


def next_month(month: str) -> str:
    index = int(month[:4]) * 12 + int(month[5:7])
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


class RetentionPurge:
    """Once a day: the dossiers whose training ended more than their funder's retention period
    ago go, with their payments, documents and messages. A dossier whose training ended in month
    M goes in the month after M + the period. Each funder keeps the last month purged, so a run
    reads only the months since (one index query each), and a shorter period set later reaches
    the months it newly covers."""

    def __init__(
        self,
        funders: FunderSettings,
        store: ErasureStore,
        documents: DocumentEraser,
        audit: AuditLog,
        clock: Clock,
    ) -> None:
        self._funders = funders
        self._store = store
        self._documents = documents
        self._audit = audit
        self._clock = clock

    def run(self) -> int:
        today = self._clock().date()
        purged = 0
        for funder in self._funders.list():
            last = months_back(today, funder.retention_years * 12 + 1)
            previous = self._funders.purged_through(funder.code)
            first = FIRST_MONTH if previous is None else next_month(previous)
            for month in months_between(first, last):
                for dossier in self._store.dossiers_ended_in(funder.code, month):
                    self._purge(dossier)
                    purged += 1
            if first <= last:
                # Lost to a concurrent run: it did the same months, both deletions are harmless.
                self._funders.mark_purged_through(funder.code, last, previous)
        return purged

    def _purge(self, dossier: Dossier) -> None:
        # The account that held it as it went, even one that linked it after the index was read.
        owner = self._store.delete_dossier(dossier)
        if owner:
            self._documents.delete_for_account(owner)
            self._audit.record(owner, "dossier-expired", None, {"funder": dossier.funder_code})
