"""Bounces and complaints with in-memory fakes: what marks an address, what the guard then lets
through, and a change of address that clears the marks."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from chalicelib.services.accounts.model import Account
from chalicelib.services.mail.delivery import (
    DeliveryGuard,
    DeliveryStatus,
    FeedbackKind,
    MailDelivery,
    MailFeedback,
)
from chalicelib.services.mail.mails import (
    MailCategory,
    OutgoingMail,
    email_changed_mail,
    new_message_for_trainee_mail,
    new_payment_mail,
    password_changed_mail,
    recovery_code_mail,
)
from tests.support.fakes import MemoryAudit, MemorySettingsAccounts, RecordingMailer

EMAIL = "camille.martin@example.fr"
NEW_EMAIL = "camille.nouvelle@example.fr"
PORTAL = "https://portail.example.gouv.fr"
WHEN = datetime(2026, 3, 20, 8, 15, tzinfo=UTC)


@pytest.fixture
def accounts() -> MemorySettingsAccounts:
    accounts = MemorySettingsAccounts()
    accounts.add(
        Account(
            account_id="acc-1",
            email=EMAIL,
            family_name="Martin",
            given_names="Camille",
            birth_date=date(1990, 5, 14),
            created_at=WHEN - timedelta(days=30),
        )
    )
    return accounts


def bounce(*addresses: str, permanent: bool = True) -> MailFeedback:
    detail = "Permanent/General" if permanent else "Transient/MailboxFull"
    return MailFeedback(FeedbackKind.BOUNCE, addresses, WHEN, permanent, detail)


def complaint(*addresses: str) -> MailFeedback:
    return MailFeedback(FeedbackKind.COMPLAINT, addresses, WHEN, detail="abuse")


def payment_mail(to: str = EMAIL) -> OutgoingMail:
    return new_payment_mail(to, "Camille", f"{PORTAL}/region-idf/", portal_url=PORTAL)


def security_mail(to: str = EMAIL) -> OutgoingMail:
    return recovery_code_mail(to, "12345678", 30, portal_url=PORTAL)


def test_every_mail_template_says_whether_it_is_a_security_mail():
    assert payment_mail().category is MailCategory.NOTIFICATION
    assert new_message_for_trainee_mail(EMAIL, "C", PORTAL, portal_url=PORTAL).category is (
        MailCategory.NOTIFICATION
    )
    assert security_mail().category is MailCategory.SECURITY
    assert password_changed_mail(EMAIL, "C", None, portal_url=PORTAL).category is (
        MailCategory.SECURITY
    )


def test_a_permanent_bounce_marks_the_account_once_and_audits_it_without_the_address(accounts):
    audit = MemoryAudit()
    delivery = MailDelivery(accounts, audit)

    assert delivery.record(bounce(EMAIL)) == 1
    assert delivery.record(bounce(EMAIL)) == 0  # SQS delivered the same event again

    assert delivery.status_of(EMAIL) == DeliveryStatus(bounced_at=WHEN)
    assert delivery.status_of(EMAIL).undeliverable
    [event] = audit.events
    assert (event.account_id, event.event, event.details) == (
        "acc-1",
        "mail-bounced",
        {"detail": "Permanent/General"},
    )
    assert EMAIL not in repr(audit.events)


def test_a_transient_bounce_marks_nothing(accounts):
    audit = MemoryAudit()
    delivery = MailDelivery(accounts, audit)

    assert delivery.record(bounce(EMAIL, permanent=False)) == 0

    assert delivery.status_of(EMAIL) == DeliveryStatus()
    assert audit.events == []
    assert accounts.calls["mark_bounced"] == 0


def test_an_address_without_account_is_left_alone(accounts):
    delivery = MailDelivery(accounts, MemoryAudit())

    assert delivery.record(bounce("inconnu@example.fr")) == 0
    assert delivery.status_of("inconnu@example.fr") == DeliveryStatus()


def test_a_complaint_is_marked_and_audited(accounts):
    audit = MemoryAudit()
    delivery = MailDelivery(accounts, audit)

    assert delivery.record(complaint(EMAIL)) == 1

    status = delivery.status_of(EMAIL)
    assert status.complained_at == WHEN and not status.undeliverable
    assert audit.names("acc-1") == ["mail-complaint"]


def test_the_guard_stops_every_mail_to_an_address_that_bounced(accounts):
    sent = RecordingMailer()
    suppressed: list[MailCategory] = []
    guard = DeliveryGuard(sent, accounts, on_suppressed=suppressed.append)
    MailDelivery(accounts, MemoryAudit()).record(bounce(EMAIL))

    guard.send(payment_mail())
    guard.send(security_mail())

    assert sent.sent == []
    assert suppressed == [MailCategory.NOTIFICATION, MailCategory.SECURITY]


def test_the_guard_keeps_only_security_mails_for_an_address_that_complained(accounts):
    sent = RecordingMailer()
    guard = DeliveryGuard(sent, accounts)
    MailDelivery(accounts, MemoryAudit()).record(complaint(EMAIL))

    guard.send(payment_mail())
    guard.send(security_mail())

    assert [mail.category for mail in sent.sent] == [MailCategory.SECURITY]


def test_the_guard_lets_through_mails_to_clean_and_unknown_addresses(accounts):
    sent = RecordingMailer()
    guard = DeliveryGuard(sent, accounts)

    guard.send(payment_mail())
    guard.send(email_changed_mail("nouvelle@example.fr", "Camille", portal_url=PORTAL))

    assert [mail.to for mail in sent.sent] == [EMAIL, "nouvelle@example.fr"]


def test_a_new_address_clears_the_marks_and_mails_resume(accounts):
    sent = RecordingMailer()
    guard = DeliveryGuard(sent, accounts)
    delivery = MailDelivery(accounts, MemoryAudit())
    delivery.record(bounce(EMAIL))
    delivery.record(complaint(EMAIL))
    guard.send(payment_mail())
    assert sent.sent == []

    account = accounts.get("acc-1")
    assert account is not None and accounts.change_email(account, NEW_EMAIL)
    guard.send(payment_mail(NEW_EMAIL))

    assert delivery.status_of(NEW_EMAIL) == DeliveryStatus()
    assert [mail.to for mail in sent.sent] == [NEW_EMAIL]


def test_a_mail_refused_by_ses_still_raises_through_the_guard(accounts):
    from chalicelib.services.mail.mails import MailNotSent

    guard = DeliveryGuard(RecordingMailer(failing=True), accounts)

    with pytest.raises(MailNotSent):
        guard.send(payment_mail())


def test_mes_donnees_holds_the_marks_of_the_address_and_nothing_for_a_clean_one(accounts):
    delivery = MailDelivery(accounts, MemoryAudit())
    assert delivery.export(EMAIL) == []

    delivery.record(complaint(EMAIL))

    assert delivery.export(EMAIL) == [
        {"retour_permanent_le": None, "signale_indesirable_le": "2026-03-20T08:15:00+00:00"}
    ]


def test_the_notice_dates_the_mark_in_paris_time(accounts):
    delivery = MailDelivery(accounts, MemoryAudit())
    late = MailFeedback(
        FeedbackKind.BOUNCE, (EMAIL,), datetime(2026, 3, 20, 23, 30, tzinfo=UTC), True
    )
    delivery.record(late)

    notice = delivery.notice_for(EMAIL)

    assert notice is not None
    assert notice.title == "Votre adresse mail ne reçoit pas nos courriels"
    assert notice.text.startswith("Depuis le 21/03/2026, les courriels")
    assert delivery.notice_for(NEW_EMAIL) is None
