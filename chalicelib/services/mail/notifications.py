"""« Un nouveau paiement est disponible »: queued by ingestion, delivered one mail per payment."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from chalicelib.services.accounts.model import AccountRepository, PortalUrls
from chalicelib.services.funders.files import DashboardCounters
from chalicelib.services.mail.delivery import DeliveryStatusStore
from chalicelib.services.mail.mails import Mailer, new_payment_mail


@dataclass(frozen=True)
class NewPayment:
    funder_code: str
    reference: str


class NotificationQueue(Protocol):
    def enqueue(self, notifications: list[NewPayment]) -> None: ...


class PaymentNotices(Protocol):
    def claim_notice(self, funder_code: str, reference: str) -> str | None:
        """Marks the payment notified; returns its dossier number, or None if already done."""
        ...

    def release_notice(self, funder_code: str, reference: str) -> None: ...


class DossierOwners(Protocol):
    def owner(self, funder_code: str, dossier_number: str) -> str | None: ...


class NewPaymentNotifier:
    def __init__(
        self,
        payments: PaymentNotices,
        dossiers: DossierOwners,
        accounts: AccountRepository,
        mailer: Mailer,
        urls: PortalUrls,
        counters: DashboardCounters | None = None,
        delivery: DeliveryStatusStore | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self._counters = counters
        self._delivery = delivery
        self._clock = clock or (lambda: datetime.now(UTC))
        self._payments = payments
        self._dossiers = dossiers
        self._accounts = accounts
        self._mailer = mailer
        self._urls = urls

    def deliver(self, notification: NewPayment) -> bool:
        """At most one mail per payment: the payment is claimed first, and released if the mail
        could not be handed over, so that the queue's retry sends it."""
        dossier_number = self._payments.claim_notice(
            notification.funder_code, notification.reference
        )
        if dossier_number is None:
            return False
        account_id = self._dossiers.owner(notification.funder_code, dossier_number)
        account = self._accounts.get(account_id) if account_id else None
        if account is None:
            self._payments.release_notice(notification.funder_code, notification.reference)
            return False
        mail = new_payment_mail(
            to=account.email,
            given_name=account.first_given_name,
            login_url=self._urls.funder_home(notification.funder_code),
            portal_url=self._urls.base_url,
        )
        # The mailer (DeliveryGuard) keeps back a mail to an address that bounced: the funder's
        # dashboard counts it as bounced rather than sent.
        status = self._delivery.delivery_status(account.email) if self._delivery else None
        bounced = status is not None and status.refuses(mail.category)
        try:
            self._mailer.send(mail)
        except Exception:
            self._payments.release_notice(notification.funder_code, notification.reference)
            raise
        if self._counters is not None:
            # After the claim above, which only one delivery wins: counted once per payment.
            self._counters.add(
                notification.funder_code,
                f"{self._clock():%Y-%m}",
                {"payment_mails_bounced" if bounced else "payment_mails_sent": 1},
            )
        return True
