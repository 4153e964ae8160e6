"""Mails queued by ingestion (« un nouveau paiement est disponible ») and by « Mot de passe
oublié » (the code or a temporary password), delivered off their request path. Each kind has its
queue, so that a payment day's mails never hold back a code someone waits for; a message says
its kind, so one handler serves both."""

from __future__ import annotations

from aws_lambda_powertools.metrics import MetricUnit
from chalice.app import SQSEvent

from chalicelib.adapters.notification_queue import from_message
from chalicelib.container import get_container
from chalicelib.observability import logger, metrics
from chalicelib.services.mails import MailThrottled
from chalicelib.services.recovery import RecoveryRequest


def handle_notification_messages(event: SQSEvent) -> None:
    """A failure raises: SQS delivers the batch again; a mail already sent is never resent.

    SES throttling (its sending rate or daily quota) raises too, at the first mail refused: the
    rest of the batch is not tried against a service that refuses, and the whole batch comes
    back after the queue's visibility timeout, when the rate allows again. Each deliver undoes
    its claim when its mail fails, so nothing is lost and nothing goes twice."""
    container = get_container()
    sent = recovery_sent = 0
    try:
        for record in event:
            notification = from_message(record.body)
            if notification is None:
                logger.warning("Unknown notification ignored")
            elif isinstance(notification, RecoveryRequest):
                recovery_sent += container.recovery.deliver(notification)
            else:
                sent += container.new_payment_notifier.deliver(notification)
    except MailThrottled:
        logger.warning("SES throttled: the batch goes back to its queue", extra={"sent": sent})
        metrics.add_metric(name="MailThrottled", unit=MetricUnit.Count, value=1)
        raise
    finally:
        metrics.add_metric(name="NewPaymentMailsSent", unit=MetricUnit.Count, value=sent)
        metrics.add_metric(name="RecoveryMailsSent", unit=MetricUnit.Count, value=recovery_sent)


def handle_security_mail_messages(event: SQSEvent) -> None:
    """The security mails' queue: the same handling, under its own Lambda name."""
    handle_notification_messages(event)
