"""« Un nouveau paiement est disponible »: queued by ingestion, delivered one mail per payment.

The funder's dashboard counts the payment mails issued (« payment_mails_sent ») and, among
them, those that did not reach the trainee (« payment_mails_bounced »): kept back because the
address already bounced, or bounced for good afterwards. A payment mail carries SES message tags
naming its funder and payment; SES gives them back in its bounce event (`mail.tags`), and
`PaymentMailBounces` marks that payment, once, with the count in the same transaction.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Protocol

from chalicelib.services.accounts.model import AccountRepository, PortalUrls
from chalicelib.services.formatting import paris_month
from chalicelib.services.funders.files import DashboardCounters
from chalicelib.services.mail.delivery import (
    DeliveryStatusStore,
    FeedbackKind,
    MailFeedback,
)
from chalicelib.services.mail.mails import Mailer, new_payment_mail

# SES message tags: names and values of ASCII letters, digits, "_" and "-", 256 characters at
# most (https://docs.aws.amazon.com/ses/latest/APIReference/API_MessageTag.html). A payment
# reference is the funder's own text, so it travels as unpadded URL-safe base64 (that alphabet).
FUNDER_TAG = "funder"
PAYMENT_TAG = "payment"
SES_TAG_VALUE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")


def payment_mail_tags(funder_code: str, reference: str) -> tuple[tuple[str, str], ...]:
    encoded = base64.urlsafe_b64encode(reference.encode()).decode().rstrip("=")
    tags = ((FUNDER_TAG, funder_code), (PAYMENT_TAG, encoded))
    # A value SES would refuse would lose the mail: then it leaves without tags.
    return tags if all(SES_TAG_VALUE.fullmatch(value) for _, value in tags) else ()


def payment_of_tags(tags: tuple[tuple[str, str], ...]) -> NewPayment | None:
    """The payment a mail's tags name, or None (another kind of mail, or tags not ours)."""
    values = dict(tags)
    funder_code, encoded = values.get(FUNDER_TAG), values.get(PAYMENT_TAG)
    if not funder_code or not encoded or not SES_TAG_VALUE.fullmatch(encoded):
        return None
    try:
        reference = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    return NewPayment(funder_code, reference) if reference else None


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

    def mark_notice_bounced(self, funder_code: str, reference: str, at: datetime) -> bool:
        """Marks a notified payment's mail as not delivered and counts it on the funder's
        dashboard, in one transaction; False (nothing counted) if marked already, or unknown."""
        ...


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
        mail = replace(
            mail, tags=payment_mail_tags(notification.funder_code, notification.reference)
        )
        # The mailer (DeliveryGuard) keeps back a mail to an address that bounced: the funder's
        # dashboard counts it as not delivered.
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
                notification.funder_code, paris_month(self._clock()), {"payment_mails_sent": 1}
            )
        if bounced:
            self._payments.mark_notice_bounced(
                notification.funder_code, notification.reference, self._clock()
            )
        return True


class PaymentMailBounces:
    """SES's bounce events of payment mails (events/mail_events.py)."""

    def __init__(self, payments: PaymentNotices) -> None:
        self._payments = payments

    def record(self, feedback: MailFeedback) -> bool:
        """A permanent bounce of a payment mail marks its payment (once). A transient bounce is
        SES still trying, and a complaint is a mail that arrived: neither counts."""
        if feedback.kind is not FeedbackKind.BOUNCE or not feedback.permanent:
            return False
        payment = payment_of_tags(feedback.tags)
        if payment is None:
            return False
        return self._payments.mark_notice_bounced(
            payment.funder_code, payment.reference, feedback.at
        )
