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
from chalicelib.services.recovery import RecoveryRequest


def handle_notification_messages(event: SQSEvent) -> None:
    """A failure raises: SQS delivers the batch again; a mail already sent is never resent."""
    container = get_container()
    sent = recovery_sent = 0
    for record in event:
        notification = from_message(record.body)
        if notification is None:
            logger.warning("Unknown notification ignored")
        elif isinstance(notification, RecoveryRequest):
            recovery_sent += container.recovery.deliver(notification)
        else:
            sent += container.new_payment_notifier.deliver(notification)
    metrics.add_metric(name="NewPaymentMailsSent", unit=MetricUnit.Count, value=sent)
    metrics.add_metric(name="RecoveryMailsSent", unit=MetricUnit.Count, value=recovery_sent)


def handle_security_mail_messages(event: SQSEvent) -> None:
    """The security mails' queue: the same handling, under its own Lambda name."""
    handle_notification_messages(event)
