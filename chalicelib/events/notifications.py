"""Mails queued by ingestion (« un nouveau paiement est disponible »), delivered off its path."""

from __future__ import annotations

from aws_lambda_powertools.metrics import MetricUnit
from chalice.app import SQSEvent

from chalicelib.adapters.notification_queue import from_message
from chalicelib.container import get_container
from chalicelib.observability import logger, metrics


def handle_notification_messages(event: SQSEvent) -> None:
    """A failure raises: SQS delivers the batch again; a mail already sent is never resent."""
    notifier = get_container().new_payment_notifier
    sent = 0
    for record in event:
        notification = from_message(record.body)
        if notification is None:
            logger.warning("Unknown notification ignored")
            continue
        sent += notifier.deliver(notification)
    metrics.add_metric(name="NewPaymentMailsSent", unit=MetricUnit.Count, value=sent)
