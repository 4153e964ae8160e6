"""SES's bounce and complaint events, locally: moto's SES neither simulates its mailbox simulator
for configuration sets nor publishes to their event destinations (its CloudFormation skips
`AWS::SES::ConfigurationSetEventDestination`). The outbox hands every mail it reads to
`LocalSesEvents.publish_for`, which plays SES's part for the mailbox simulator's addresses:

- `bounce@simulator.amazonses.com`: a permanent bounce (SMTP 550 5.1.1, « user unknown »);
- `suppressionlist@simulator.amazonses.com`: the permanent bounce of an address on the
  suppression list;
- `complaint@simulator.amazonses.com`: a complaint;

each also with a label (`bounce+camille@simulator.amazonses.com`), as SES accepts. The event
carries the mail's SES id and its message tags, as SES's does (moto drops SendRawEmail's `Tags`:
`keep_message_tags` keeps them on the stored mail; a payment mail's bounce finds its payment by
them, services/mail/notifications.py). The event goes
to the SNS topic that the template's event destination names, for the event types it matches, in
SES's event-publishing format; from there the emulator's subscription carries it to the queue and
the poller to the handler, as in AWS. Every local mail counts as sent through the configuration
set: in AWS the domain identity names it as its default (`MailIdentity` in the template).
https://docs.aws.amazon.com/ses/latest/dg/send-an-email-from-console.html (mailbox simulator)
https://docs.aws.amazon.com/ses/latest/dg/event-publishing-retrieving-sns-examples.html
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import getaddresses
from typing import Any

SIMULATOR_DOMAIN = "simulator.amazonses.com"
# Simulator mailbox -> (event type as the destination names it, SES's eventType, bounce details).
SIMULATED = {
    "bounce": ("bounce", "Bounce", ("Permanent", "General")),
    "suppressionlist": ("bounce", "Bounce", ("Permanent", "OnAccountSuppressionList")),
    "complaint": ("complaint", "Complaint", None),
}


def keep_message_tags() -> None:
    """moto's SES stores a SendRawEmail's raw mail and drops its `Tags`; SES publishes them in
    the mail's events (`mail.tags`). Keeps them on moto's stored message (`tags`), where
    local/outbox.py reads them. The emulator answers one request at a time (local/emulator.py),
    so the last stored message is this request's."""
    from moto.ses.responses import EmailResponse

    original = EmailResponse.send_raw_email
    if getattr(original, "keeps_tags", False):
        return

    def send_raw_email(self: Any) -> Any:
        answer = original(self)
        tags: dict[str, list[str]] = {}
        for tag in self._get_param("Tags") or []:
            tags.setdefault(str(tag.get("Name")), []).append(str(tag.get("Value")))
        self.backend.sent_messages[-1].tags = tags
        return answer

    send_raw_email.keeps_tags = True  # type: ignore[attr-defined]
    EmailResponse.send_raw_email = send_raw_email  # type: ignore[method-assign]


def simulated_mailbox(address: str) -> str | None:
    """ "bounce" for bounce@ or bounce+label@ the simulator's domain; None for any other address."""
    local, _, domain = address.strip().lower().rpartition("@")
    if domain != SIMULATOR_DOMAIN:
        return None
    mailbox = local.split("+", 1)[0]
    return mailbox if mailbox in SIMULATED else None


def ses_event(
    address: str, message: EmailMessage, configuration_set: str, now: datetime
) -> dict[str, Any] | None:
    """The event SES would publish for a mail to this simulator address, or None."""
    mailbox = simulated_mailbox(address)
    if mailbox is None:
        return None
    _, event_type, bounce = SIMULATED[mailbox]
    timestamp = now.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    mail = {
        "timestamp": timestamp,
        "source": str(message["From"] or ""),
        "sendingAccountId": "123456789012",
        "messageId": getattr(message, "ses_message_id", None) or f"local-{uuid.uuid4()}",
        "destination": [a for _, a in getaddresses([str(message["To"] or "")])],
        "tags": {
            **getattr(message, "ses_tags", {}),
            "ses:configuration-set": [configuration_set],
        },
    }
    feedback_id = f"local-feedback-{uuid.uuid4()}"
    if bounce is not None:
        bounce_type, sub_type = bounce
        detail = {
            "bounceType": bounce_type,
            "bounceSubType": sub_type,
            "bouncedRecipients": [
                {
                    "emailAddress": address,
                    "action": "failed",
                    "status": "5.1.1",
                    "diagnosticCode": "smtp; 550 5.1.1 user unknown",
                }
            ],
            "timestamp": timestamp,
            "feedbackId": feedback_id,
            "reportingMTA": "dsn; local.simulator.amazonses.com",
        }
        return {"eventType": event_type, "bounce": detail, "mail": mail}
    detail = {
        "complainedRecipients": [{"emailAddress": address}],
        "timestamp": timestamp,
        "feedbackId": feedback_id,
        "complaintFeedbackType": "abuse",
        "arrivalDate": timestamp,
    }
    return {"eventType": event_type, "complaint": detail, "mail": mail}


@dataclass(frozen=True)
class Destination:
    topic_arn: str
    event_types: frozenset[str]


class LocalSesEvents:
    def __init__(
        self, sns_client: Any, destinations: list[Destination], configuration_set: str
    ) -> None:
        self._sns = sns_client
        self._destinations = destinations
        self._configuration_set = configuration_set
        self.published: list[dict[str, Any]] = []

    @classmethod
    def from_template(
        cls, sns_client: Any, template: Mapping[str, Any], outputs: Mapping[str, str]
    ) -> LocalSesEvents:
        """The template's SNS event destinations, their topics found through the stack outputs
        that name them (`Value: !Ref <topic>`)."""
        topic_outputs = {
            output["Value"]["Ref"]: outputs[key]
            for key, output in template.get("Outputs", {}).items()
            if isinstance(output.get("Value"), dict) and "Ref" in output["Value"] and key in outputs
        }
        destinations = []
        for resource in template["Resources"].values():
            if resource["Type"] != "AWS::SES::ConfigurationSetEventDestination":
                continue
            destination = resource["Properties"]["EventDestination"]
            topic = destination.get("SnsDestination", {}).get("TopicARN", {})
            if destination.get("Enabled") and isinstance(topic, dict) and "Ref" in topic:
                destinations.append(
                    Destination(
                        topic_outputs[topic["Ref"]],
                        frozenset(t.lower() for t in destination["MatchingEventTypes"]),
                    )
                )
        return cls(sns_client, destinations, outputs.get("MailConfigurationSetName", ""))

    def publish_for(self, message: EmailMessage) -> int:
        """Publishes what SES would for each simulator recipient; returns how many events."""
        count = 0
        for _, address in getaddresses([str(message["To"] or "")]):
            mailbox = simulated_mailbox(address)
            event = ses_event(address, message, self._configuration_set, datetime.now(UTC))
            if mailbox is None or event is None:
                continue
            event_type = SIMULATED[mailbox][0]
            for destination in self._destinations:
                if event_type in destination.event_types:
                    self._sns.publish(TopicArn=destination.topic_arn, Message=json.dumps(event))
                    self.published.append(event)
                    count += 1
        return count
