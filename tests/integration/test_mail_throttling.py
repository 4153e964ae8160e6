"""SES throttling, under moto: the refusal is injected at the SES client's boundary through
botocore's `before-call` event (the request never leaves), as SES answers once botocore's own
retries are spent. A throttled mail goes back to its queue and is sent later, exactly once."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse

from chalicelib.container import get_container
from chalicelib.services.mail.mails import MailNotSent, MailThrottled, OutgoingMail
from tests.integration.conftest import mails_to
from tests.integration.test_accounts_web import LUCAS
from tests.integration.test_recovery_web import a_browser, ask_for_a_code, mailed_code
from tests.support.web import WebClient

CODE_SUBJECT = "Votre code pour choisir un nouveau mot de passe"


@contextlib.contextmanager
def ses_refusing(code: str, calls: set[int]) -> Iterator[list[int]]:
    """SendRawEmail answers `code` on the given call numbers (1 = the first call made inside)."""
    ses = get_container().client("ses")
    made: list[int] = []

    def answer(**_: Any) -> tuple[AWSResponse, dict[str, Any]] | None:
        made.append(len(made) + 1)
        if made[-1] not in calls:
            return None  # the call goes on to moto
        message = "Maximum sending rate exceeded." if "Throttling" in code else "Refused."
        return AWSResponse("https://email.eu-west-3.amazonaws.com/", 400, {}, None), {
            "Error": {"Code": code, "Message": message, "Type": "Sender"},
            "ResponseMetadata": {"HTTPStatusCode": 400},
        }

    event = "before-call.ses.SendRawEmail"
    ses.meta.events.register(event, answer, unique_id="test-ses-refusal")
    try:
        yield made
    finally:
        ses.meta.events.unregister(event, unique_id="test-ses-refusal")


def _mail() -> OutgoingMail:
    return OutgoingMail(to="lucas@example.fr", subject="Objet", text="Texte")


@pytest.mark.parametrize("code", ["Throttling", "ThrottlingException"])
def test_the_mailer_tells_a_throttling_from_a_refusal(portal: WebClient, code: str) -> None:
    mailer = get_container().mailer
    with ses_refusing(code, {1}), pytest.raises(MailThrottled, match=code):
        mailer.send(_mail())
    with ses_refusing("MessageRejected", {1}), pytest.raises(MailNotSent) as refused:
        mailer.send(_mail())
    assert not isinstance(refused.value, MailThrottled)
    mailer.send(_mail())  # and SES takes it once it allows again


def _lambda_event(queue: str, wanted: int) -> dict[str, Any]:
    """The SQS event Lambda would hand the function: `wanted` messages of the queue, in one
    batch (they stay in flight, as under the event source, until the visibility timeout)."""
    sqs = boto3.client("sqs")
    url = sqs.get_queue_url(QueueName=get_container().settings.security_mails_queue)["QueueUrl"]
    messages: list[dict[str, Any]] = []
    while len(messages) < wanted:
        answer = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)
        messages += answer.get("Messages", [])
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]
    return {
        "Records": [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": {},
                "messageAttributes": {},
                "md5OfBody": m["MD5OfBody"],
                "eventSource": "aws:sqs",
                "eventSourceARN": arn["QueueArn"],
                "awsRegion": "eu-west-3",
            }
            for m in messages
        ]
    }


class _Context:
    function_name = "portail-stagiaire-test-security_mails"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:eu-west-3:123456789012:function:x"
    aws_request_id = "test"

    def get_remaining_time_in_millis(self) -> int:
        return 60_000


def _code_mails() -> list[str]:
    return [text for subject, text in mails_to(LUCAS["email"]) if subject == CODE_SUBJECT]


def test_a_throttled_batch_goes_back_to_its_queue_and_each_mail_goes_once(
    portal: WebClient,
) -> None:
    import app as portal_app
    from tests.integration.test_accounts_web import complete_first_login, sign_up

    sign_up(portal)
    complete_first_login(portal)
    # Two « Mot de passe oublié » requests, handled in one batch of the security mails' queue.
    ask_for_a_code(a_browser(portal), LUCAS["email"])
    ask_for_a_code(WebClient(portal.client, source_ip="192.0.2.77"), LUCAS["email"])
    event = _lambda_event("security-mails", wanted=2)
    assert len(event["Records"]) == 2

    with ses_refusing("Throttling", {2}) as made, pytest.raises(MailThrottled):
        portal_app.handle_security_mail_messages(event, _Context())
    assert made == [1, 2]  # the first mail went, the second was refused
    assert len(_code_mails()) == 1

    # Lambda delivers the same batch again once the visibility timeout is over.
    portal_app.handle_security_mail_messages(event, _Context())
    codes = _code_mails()
    assert len(codes) == 2  # the second request's mail, and the first one not twice
    assert mailed_code(LUCAS["email"]) in codes[-1]
