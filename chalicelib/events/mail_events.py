"""SES's bounce and complaint events: configuration set → SNS topic → SQS queue → this handler.

The SQS body is SNS's JSON envelope (`Type: Notification`, the SES event as a string in
`Message`), since the topic subscribes the queue without raw delivery; a raw body (the SES event
itself) is read too. The SES event is the event-publishing format (`eventType`), or the identity
notifications' older one (`notificationType`), which only differs by that name:
https://docs.aws.amazon.com/ses/latest/dg/event-publishing-retrieving-sns-contents.html
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from email.utils import parseaddr
from typing import Any

from chalice.app import SQSEvent

from chalicelib.container import get_container
from chalicelib.observability import logger, metrics
from chalicelib.services.accounts.identity import normalise_email
from chalicelib.services.mail.delivery import FeedbackKind, MailFeedback


class MalformedMailEvent(ValueError):
    """The body is not an SES bounce or complaint event; the reason names no address."""


def parse_mail_event(body: str) -> MailFeedback | None:
    """The feedback an SQS body carries; None for an event type the portal does not act on.
    Raises MalformedMailEvent for a body that is no SES event at all."""
    event = _ses_event(_json_object(body, "body"))
    kind = event.get("eventType") or event.get("notificationType")
    if kind == "Bounce":
        bounce = _object(event, "bounce")
        bounce_type = str(bounce.get("bounceType", ""))
        return MailFeedback(
            kind=FeedbackKind.BOUNCE,
            addresses=_addresses(bounce, "bouncedRecipients"),
            at=_timestamp(bounce, event),
            permanent=bounce_type == "Permanent",
            detail=f"{bounce_type}/{bounce.get('bounceSubType', '')}",
            tags=_tags(event),
        )
    if kind == "Complaint":
        complaint = _object(event, "complaint")
        return MailFeedback(
            kind=FeedbackKind.COMPLAINT,
            addresses=_addresses(complaint, "complainedRecipients"),
            at=_timestamp(complaint, event),
            detail=str(complaint.get("complaintFeedbackType") or ""),
            tags=_tags(event),
        )
    if isinstance(kind, str):
        return None
    raise MalformedMailEvent("no eventType nor notificationType")


def handle_mail_event_messages(event: SQSEvent) -> None:
    """A body that cannot be read is reported (log and metric) and dropped: retrying it would
    not make it readable. A failure of the store raises, so SQS delivers the message again."""
    from aws_lambda_powertools.metrics import MetricUnit  # not at import: cold start

    delivery = get_container().mail_delivery
    marked = malformed = 0
    for record in event:
        try:
            feedback = parse_mail_event(record.body)
        except MalformedMailEvent as error:
            malformed += 1
            # The body holds mail addresses: only the reason and the message id are logged.
            logger.warning(
                "Unreadable mail event dropped",
                extra={"reason": str(error), "message_id": record.to_dict().get("messageId")},
            )
            continue
        if feedback is None:
            continue
        marked += delivery.record(feedback)
        # A payment mail that bounced: the funder's dashboard and look-up show it.
        get_container().payment_mail_bounces.record(feedback)
        logger.info(
            "Mail feedback recorded",
            extra={"kind": feedback.kind.value, "detail": feedback.detail},
        )
    metrics.add_metric(name="MailAddressesMarked", unit=MetricUnit.Count, value=marked)
    if malformed:
        metrics.add_metric(name="MailEventsMalformed", unit=MetricUnit.Count, value=malformed)


def _json_object(text: Any, what: str) -> dict[str, Any]:
    if not isinstance(text, str):
        raise MalformedMailEvent(f"{what} is not text")
    try:
        value = json.loads(text)
    except ValueError:
        raise MalformedMailEvent(f"{what} is not JSON") from None
    if not isinstance(value, dict):
        raise MalformedMailEvent(f"{what} is not a JSON object")
    return value


def _ses_event(payload: dict[str, Any]) -> dict[str, Any]:
    """Unwraps SNS's envelope when there is one."""
    if payload.get("Type") == "Notification" and "Message" in payload:
        return _json_object(payload["Message"], "SNS Message")
    if "Type" in payload and "eventType" not in payload and "notificationType" not in payload:
        # SubscriptionConfirmation and the like: SNS confirms SQS subscriptions by itself.
        raise MalformedMailEvent(f"SNS message of type {str(payload['Type'])[:40]}")
    return payload


def _object(event: dict[str, Any], name: str) -> dict[str, Any]:
    value = event.get(name)
    if not isinstance(value, dict):
        raise MalformedMailEvent(f"no {name} object")
    return value


def _addresses(section: dict[str, Any], name: str) -> tuple[str, ...]:
    recipients = section.get(name)
    if not isinstance(recipients, list):
        raise MalformedMailEvent(f"no {name} list")
    addresses: list[str] = []
    for recipient in recipients:
        raw = recipient.get("emailAddress") if isinstance(recipient, dict) else None
        if not isinstance(raw, str):
            raise MalformedMailEvent(f"a recipient of {name} has no emailAddress")
        # SES writes the bare address; a "Name <address>" form is read too.
        address = normalise_email(parseaddr(raw)[1] or raw)
        if "@" not in address:
            raise MalformedMailEvent(f"a recipient of {name} is not a mail address")
        addresses.append(address)
    return tuple(addresses)


def _tags(event: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    """The mail's message tags, `mail.tags` as `{"name": ["value", …]}` (event publishing; the
    identity notifications carry none), as (name, value) pairs; anything else is ignored."""
    mail = event.get("mail")
    tags = mail.get("tags") if isinstance(mail, dict) else None
    if not isinstance(tags, dict):
        return ()
    return tuple(
        (name, value)
        for name, values in tags.items()
        if isinstance(name, str) and isinstance(values, list)
        for value in values
        if isinstance(value, str)
    )


def _timestamp(section: dict[str, Any], event: dict[str, Any]) -> datetime:
    """When the bounce or complaint happened; else when the mail left; else now."""
    mail = event.get("mail")
    mail_time = mail.get("timestamp") if isinstance(mail, dict) else None
    for value in (section.get("timestamp"), mail_time):
        if isinstance(value, str):
            try:
                parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                continue
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return datetime.now(UTC)
