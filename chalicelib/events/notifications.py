"""Mails queued by ingestion (« un nouveau paiement est disponible »), by « Mot de passe
oublié » (the code or a temporary password) and by an operator's reset of a second factor,
delivered off their request path. Each kind has its
queue, so that a payment day's mails never hold back a code someone waits for; a message says
its kind, so one handler serves both."""

from __future__ import annotations

from chalice.app import SQSEvent

from chalicelib.adapters.notification_queue import from_message
from chalicelib.container import get_container
from chalicelib.observability import logger, metrics
from chalicelib.services.accounts.recovery import RecoveryRequest
from chalicelib.services.accounts.totp import SecondFactorResetNotice
from chalicelib.services.mail.mails import MailThrottled
from chalicelib.services.mail.pacing import MAIL_INTERVAL_SECONDS, Pacer
from chalicelib.settings import AUTOMATION_STAGES

_pacers: dict[str, Pacer] = {}


def _pacer(stage: str) -> Pacer:
    """One per execution environment, kept between invocations. The emulator's SES (local and
    test stages) has no sending rate: no wait there."""
    if stage not in _pacers:
        _pacers[stage] = Pacer(0.0 if stage in AUTOMATION_STAGES else MAIL_INTERVAL_SECONDS)
    return _pacers[stage]


def handle_notification_messages(event: SQSEvent) -> None:
    """A failure raises: SQS delivers the batch again; a mail already sent is never resent.

    SES throttling (its sending rate or daily quota) raises too, at the first mail refused: the
    rest of the batch is not tried against a service that refuses, and the whole batch comes
    back after the queue's visibility timeout, when the rate allows again. Each deliver undoes
    its claim when its mail fails, so nothing is lost and nothing goes twice."""
    from aws_lambda_powertools.metrics import MetricUnit  # not at import: cold start

    container = get_container()
    pacer = _pacer(container.settings.stage)
    sent = recovery_sent = reset_sent = 0
    try:
        for record in event:
            notification = from_message(record.body)
            if notification is None:
                logger.warning("Unknown notification ignored")
            elif isinstance(notification, RecoveryRequest):
                pacer.wait()
                recovery_sent += container.recovery.deliver(notification)
            elif isinstance(notification, SecondFactorResetNotice):
                pacer.wait()
                reset_sent += container.totp.deliver_reset_notice(notification)
            else:
                pacer.wait()
                sent += container.new_payment_notifier.deliver(notification)
    except MailThrottled:
        logger.warning("SES throttled: the batch goes back to its queue", extra={"sent": sent})
        metrics.add_metric(name="MailThrottled", unit=MetricUnit.Count, value=1)
        raise
    finally:
        metrics.add_metric(name="NewPaymentMailsSent", unit=MetricUnit.Count, value=sent)
        metrics.add_metric(name="RecoveryMailsSent", unit=MetricUnit.Count, value=recovery_sent)
        metrics.add_metric(
            name="SecondFactorResetMailsSent", unit=MetricUnit.Count, value=reset_sent
        )


def handle_security_mail_messages(event: SQSEvent) -> None:
    """The security mails' queue: the same handling, under its own Lambda name."""
    handle_notification_messages(event)
