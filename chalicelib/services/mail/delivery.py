"""Mail that bounces is known: SES's bounce and complaint events mark the address, and the portal
stops writing to it until the account's address changes.

- A permanent bounce (the mailbox or the domain does not exist, or SES's suppression list holds
  the address) marks the address « ne reçoit pas nos courriels »: no mail goes to it any more,
  security mails included, since none could arrive and each one hurts the sending reputation.
- A transient bounce (mailbox full, server down, automatic answer) changes nothing: SES retried
  already, and the next mail may well arrive.
- A complaint (« indésirable ») stops the notifications (new payment, new message, dossier
  linked); security mails (codes, temporary passwords, credential changes) still go, since the
  person needs them to keep control of the account.

The mark lives with the address's claim in the accounts table (chalicelib/store/accounts.py), so
that confirming a new address, which replaces the claim, clears it in the same transaction.
`DeliveryGuard` is the one place that applies it: every service sends through it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from chalicelib.services.accounts.model import AuditLog
from chalicelib.services.formatting import paris_time
from chalicelib.services.mail.mails import MailCategory, Mailer, OutgoingMail

UNDELIVERABLE_TITLE = "Votre adresse mail ne reçoit pas nos courriels"
UNDELIVERABLE_TEXT = (
    "Depuis le {since}, les courriels que le portail envoie à cette adresse lui reviennent : elle "
    "n’existe pas ou plus. Le portail ne vous y écrit plus, ni avis de paiement, ni message, ni "
    "code « Mot de passe oublié ». Indiquez une adresse mail qui fonctionne pour les recevoir à "
    "nouveau."
)
COMPLAINED_TITLE = "Vous ne recevez plus nos avis par courriel"
COMPLAINED_TEXT = (
    "Le {since}, un courriel du portail a été signalé comme indésirable depuis votre messagerie. "
    "Le portail ne vous envoie donc plus d’avis (nouveau paiement, nouveau message) ; les "
    "courriels liés à la sécurité de votre compte continuent. Pour recevoir à nouveau les avis, "
    "indiquez une autre adresse mail."
)


class FeedbackKind(StrEnum):
    BOUNCE = "bounce"
    COMPLAINT = "complaint"


@dataclass(frozen=True)
class MailFeedback:
    """One SES bounce or complaint event, reduced to what the portal acts on."""

    kind: FeedbackKind
    addresses: tuple[str, ...]
    at: datetime
    permanent: bool = False  # bounces only: SES's bounceType "Permanent"
    detail: str = ""  # SES's bounce type and subtype, or complaint feedback type: no address
    tags: tuple[tuple[str, str], ...] = ()  # the mail's SES message tags (OutgoingMail.tags)


@dataclass(frozen=True)
class DeliveryStatus:
    bounced_at: datetime | None = None
    complained_at: datetime | None = None

    @property
    def undeliverable(self) -> bool:
        return self.bounced_at is not None

    def refuses(self, category: MailCategory) -> bool:
        if self.bounced_at is not None:
            return True
        return self.complained_at is not None and category is MailCategory.NOTIFICATION


class NoticeKind(StrEnum):
    UNDELIVERABLE = "undeliverable"
    NOTIFICATIONS_STOPPED = "notifications_stopped"


@dataclass(frozen=True)
class DeliveryNotice:
    """What « Mon compte » (page and API) tells the person, in French."""

    kind: NoticeKind
    since: datetime
    title: str
    text: str


def delivery_notice(status: DeliveryStatus) -> DeliveryNotice | None:
    if status.bounced_at is not None:
        kind, since, title, text = (
            NoticeKind.UNDELIVERABLE,
            status.bounced_at,
            UNDELIVERABLE_TITLE,
            UNDELIVERABLE_TEXT,
        )
    elif status.complained_at is not None:
        kind, since, title, text = (
            NoticeKind.NOTIFICATIONS_STOPPED,
            status.complained_at,
            COMPLAINED_TITLE,
            COMPLAINED_TEXT,
        )
    else:
        return None
    day = f"{paris_time(since):%d/%m/%Y}"
    return DeliveryNotice(kind, since, title, text.format(since=day))


class DeliveryStatusStore(Protocol):
    def delivery_status(self, email: str) -> DeliveryStatus | None:
        """The marks on an account's address; None when no account has this address."""
        ...

    def mark_bounced(self, email: str, at: datetime) -> str | None:
        """Marks the address if an account has it and it was not marked yet; returns that
        account's id when this call marked it (so that a redelivered event is recorded once)."""
        ...

    def mark_complained(self, email: str, at: datetime) -> str | None: ...


class MailDelivery:
    """Records SES's feedback on the accounts and tells « Mon compte » what it knows."""

    def __init__(self, store: DeliveryStatusStore, audit: AuditLog) -> None:
        self._store = store
        self._audit = audit

    def record(self, feedback: MailFeedback) -> int:
        """Marks the addresses the event names; returns how many accounts it newly marked."""
        if feedback.kind is FeedbackKind.BOUNCE and not feedback.permanent:
            return 0
        mark = (
            self._store.mark_bounced
            if feedback.kind is FeedbackKind.BOUNCE
            else self._store.mark_complained
        )
        event = "mail-bounced" if feedback.kind is FeedbackKind.BOUNCE else "mail-complaint"
        marked = 0
        for address in dict.fromkeys(feedback.addresses):
            account_id = mark(address, feedback.at)
            if account_id is None:
                continue
            marked += 1
            # The trail names the account, never the address (docs/specs/security.md, « Logs »).
            details = {"detail": feedback.detail} if feedback.detail else None
            self._audit.record(account_id, event, None, details)
        return marked

    def status_of(self, email: str) -> DeliveryStatus:
        return self._store.delivery_status(email) or DeliveryStatus()

    def notice_for(self, email: str) -> DeliveryNotice | None:
        return delivery_notice(self.status_of(email))

    def export(self, email: str) -> list[dict[str, str | None]]:
        """For « Mes données »: what the portal holds about the address's delivery."""
        status = self.status_of(email)
        if status == DeliveryStatus():
            return []
        return [
            {
                "retour_permanent_le": _iso(status.bounced_at),
                "signale_indesirable_le": _iso(status.complained_at),
            }
        ]


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


class DeliveryGuard:
    """A Mailer in front of the real one: a mail the address's marks refuse is dropped here,
    whichever service wrote it. `on_suppressed` counts it (a metric, no address)."""

    def __init__(
        self,
        mailer: Mailer,
        store: DeliveryStatusStore,
        on_suppressed: Callable[[MailCategory], None] = lambda category: None,
    ) -> None:
        self._mailer = mailer
        self._store = store
        self._on_suppressed = on_suppressed

    def send(self, mail: OutgoingMail) -> None:
        status = self._store.delivery_status(mail.to)
        if status is not None and status.refuses(mail.category):
            self._on_suppressed(mail.category)
            return
        self._mailer.send(mail)
