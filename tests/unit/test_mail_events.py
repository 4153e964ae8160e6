"""Reading SES's bounce and complaint events as the mail-events queue receives them: inside SNS's
envelope, or raw. The samples follow AWS's « Examples of event data that Amazon SES publishes to
Amazon SNS » (event publishing) and « Amazon SNS notification examples » (identity notifications).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from chalicelib.events.mail_events import MalformedMailEvent, parse_mail_event
from chalicelib.services.mail.delivery import FeedbackKind

MAIL = {
    "timestamp": "2017-08-05T00:40:02.012Z",
    "source": "Portail stagiaire <ne-pas-repondre@portail-stagiaire.example.gouv.fr>",
    "sourceArn": "arn:aws:ses:eu-west-3:123456789012:identity/portail-stagiaire.example.gouv.fr",
    "sendingAccountId": "123456789012",
    "messageId": "EXAMPLE7c191be45-e9aedb9a-02f9-4d12-a87d-dd0099a07f8a-000000",
    "destination": ["Camille.Martin@Example.fr"],
    "tags": {"ses:configuration-set": ["portail-stagiaire-prod"]},
}


def bounce_event(bounce_type: str = "Permanent", sub_type: str = "General") -> dict[str, Any]:
    return {
        "eventType": "Bounce",
        "bounce": {
            "bounceType": bounce_type,
            "bounceSubType": sub_type,
            "bouncedRecipients": [
                {
                    "emailAddress": "Camille.Martin@Example.fr",
                    "action": "failed",
                    "status": "5.1.1",
                    "diagnosticCode": "smtp; 550 5.1.1 user unknown",
                }
            ],
            "timestamp": "2017-08-05T00:41:02.669Z",
            "feedbackId": "01000157c44f053b-61b59c11-9236-11e6-8f96-7be8aexample-000000",
            "reportingMTA": "dsn; mta.example.com",
        },
        "mail": MAIL,
    }


def complaint_event() -> dict[str, Any]:
    return {
        "eventType": "Complaint",
        "complaint": {
            "complainedRecipients": [{"emailAddress": "camille.martin@example.fr"}],
            "timestamp": "2017-08-05T00:41:02.669Z",
            "feedbackId": "01000157c44f053b-61b59c11-9236-11e6-8f96-7be8aexample-000000",
            "userAgent": "Mozilla/5.0",
            "complaintFeedbackType": "abuse",
            "arrivalDate": "2017-08-05T00:41:02.669Z",
        },
        "mail": MAIL,
    }


def in_sns_envelope(event: dict[str, Any]) -> str:
    """What SQS holds when SNS delivers to it without raw delivery."""
    return json.dumps(
        {
            "Type": "Notification",
            "MessageId": "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324",
            "TopicArn": "arn:aws:sns:eu-west-3:123456789012:portail-stagiaire-prod-mail-events",
            "Message": json.dumps(event),
            "Timestamp": "2017-08-05T00:41:03.000Z",
            "SignatureVersion": "1",
        }
    )


def test_a_permanent_bounce_names_its_address_normalised_and_its_time():
    feedback = parse_mail_event(in_sns_envelope(bounce_event()))

    assert feedback is not None
    assert feedback.kind is FeedbackKind.BOUNCE
    assert feedback.permanent is True
    assert feedback.addresses == ("camille.martin@example.fr",)
    assert feedback.at == datetime(2017, 8, 5, 0, 41, 2, 669000, tzinfo=UTC)
    assert feedback.detail == "Permanent/General"


def test_a_transient_bounce_is_read_as_not_permanent():
    feedback = parse_mail_event(in_sns_envelope(bounce_event("Transient", "MailboxFull")))

    assert feedback is not None
    assert feedback.permanent is False
    assert feedback.detail == "Transient/MailboxFull"


def test_a_bounce_from_ses_suppression_list_is_permanent():
    feedback = parse_mail_event(
        in_sns_envelope(bounce_event("Permanent", "OnAccountSuppressionList"))
    )

    assert feedback is not None and feedback.permanent


def test_a_complaint_names_its_address():
    feedback = parse_mail_event(in_sns_envelope(complaint_event()))

    assert feedback is not None
    assert feedback.kind is FeedbackKind.COMPLAINT
    assert feedback.addresses == ("camille.martin@example.fr",)
    assert feedback.detail == "abuse"


def test_a_raw_body_and_the_identity_notification_format_are_read_too():
    event = bounce_event()
    event["notificationType"] = event.pop("eventType")

    feedback = parse_mail_event(json.dumps(event))

    assert feedback is not None and feedback.kind is FeedbackKind.BOUNCE


def test_an_event_the_portal_does_not_act_on_is_ignored():
    event = {"eventType": "Delivery", "delivery": {}, "mail": MAIL}

    assert parse_mail_event(in_sns_envelope(event)) is None


def test_a_missing_timestamp_falls_back_to_the_mail_time():
    event = complaint_event()
    del event["complaint"]["timestamp"]

    feedback = parse_mail_event(json.dumps(event))

    assert feedback is not None
    assert feedback.at == datetime(2017, 8, 5, 0, 40, 2, 12000, tzinfo=UTC)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("pas du JSON", "body is not JSON"),
        ("[1, 2]", "body is not a JSON object"),
        (json.dumps({"Type": "Notification", "Message": "{"}), "SNS Message is not JSON"),
        (json.dumps({"Type": "SubscriptionConfirmation"}), "SNS message of type"),
        (json.dumps({"mail": MAIL}), "no eventType"),
        (json.dumps({"eventType": "Bounce", "mail": MAIL}), "no bounce object"),
        (
            json.dumps({"eventType": "Bounce", "bounce": {"bounceType": "Permanent"}}),
            "no bouncedRecipients list",
        ),
        (
            json.dumps({"eventType": "Complaint", "complaint": {"complainedRecipients": [{}]}}),
            "has no emailAddress",
        ),
        (
            json.dumps(
                {
                    "eventType": "Complaint",
                    "complaint": {"complainedRecipients": [{"emailAddress": "personne"}]},
                }
            ),
            "is not a mail address",
        ),
    ],
)
def test_a_malformed_body_raises_a_reason_without_any_address(body, reason):
    with pytest.raises(MalformedMailEvent, match=reason) as raised:
        parse_mail_event(body)
    assert "@" not in str(raised.value)
