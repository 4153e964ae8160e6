"""The local stack's SES mailbox simulator (local/ses_events.py): a mail to bounce@ or complaint@
simulator.amazonses.com, read by the outbox, becomes SES's event on the template's topic, which
the emulator's subscription carries to the mail-events queue and the real handler reads."""

from __future__ import annotations

import re
from pathlib import Path

import boto3
import pytest

from local.outbox import OutboxWriter
from local.resources import load_template
from local.ses_events import LocalSesEvents, simulated_mailbox
from tests.integration.conftest import mails_to
from tests.support.api import NEW_PASSWORD, Api, complete_first_login
from tests.support.aws import run_queue
from tests.support.web import WebClient

BOUNCE = "bounce+lucas@simulator.amazonses.com"


@pytest.mark.parametrize(
    ("address", "mailbox"),
    [
        ("bounce@simulator.amazonses.com", "bounce"),
        ("Bounce+Lucas@Simulator.AmazonSES.com", "bounce"),
        ("complaint@simulator.amazonses.com", "complaint"),
        ("suppressionlist@simulator.amazonses.com", "suppressionlist"),
        ("success@simulator.amazonses.com", None),
        ("bounce@example.fr", None),
    ],
)
def test_the_simulator_addresses_are_recognised(address: str, mailbox: str | None) -> None:
    assert simulated_mailbox(address) == mailbox


def change_address(api: Api, token: str, new_email: str) -> str:
    """Changes the account's address; the token of the new session (a confirmed address ends
    the account's other sessions)."""
    change = {"new_email": new_email, "email_confirmation": new_email, "password": NEW_PASSWORD}
    assert api.call("POST", "/api/v1/me/email-change", change, token).status == 202
    link = re.search(r"jeton=(\S+)", mails_to(new_email)[-1][1])
    assert link
    answer = api.call("POST", "/api/v1/email-change/confirmation", {"token": link.group(1)})
    assert answer.status == 200
    assert api.call("GET", "/api/v1/me/account", token=token).status == 401
    return api.log_in(new_email, NEW_PASSWORD).json["token"]


def test_a_mail_to_the_bounce_simulator_flags_the_account_through_topic_queue_and_handler(
    aws: dict[str, str], portal: WebClient, tmp_path: Path
) -> None:
    api = Api(portal.client)
    token = complete_first_login(api)
    events = LocalSesEvents.from_template(boto3.client("sns"), load_template(), aws)
    outbox = OutboxWriter(tmp_path, "eu-west-3", "123456789012", lambda _: None, events.publish_for)
    outbox.flush()
    assert events.published == []  # nothing went to the simulator yet

    # Confirmation link, then « adresse modifiée »: both to the simulator, both bounce.
    token = change_address(api, token, BOUNCE)
    outbox.flush()
    assert [event["eventType"] for event in events.published] == ["Bounce", "Bounce"]
    assert events.published[0]["mail"]["tags"] == {
        "ses:configuration-set": [aws["MailConfigurationSetName"]]
    }
    assert run_queue(queue="mail-events") == 2

    delivery = api.call("GET", "/api/v1/me/account", token=token).json["email_delivery"]
    assert delivery["status"] == "undeliverable"


def test_a_mail_to_the_complaint_simulator_stops_the_notices(
    aws: dict[str, str], portal: WebClient, tmp_path: Path
) -> None:
    api = Api(portal.client)
    token = complete_first_login(api)
    events = LocalSesEvents.from_template(boto3.client("sns"), load_template(), aws)
    outbox = OutboxWriter(tmp_path, "eu-west-3", "123456789012", lambda _: None, events.publish_for)

    token = change_address(api, token, "complaint@simulator.amazonses.com")
    outbox.flush()
    run_queue(queue="mail-events")

    delivery = api.call("GET", "/api/v1/me/account", token=token).json["email_delivery"]
    assert delivery["status"] == "notifications_stopped"


def test_a_payment_mail_bouncing_locally_reaches_the_funders_dashboard_and_look_up(
    aws: dict[str, str], portal: WebClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The local stack keeps a mail's SES tags (moto drops them) and publishes them in the
    bounce event, as SES does: a payment mail's bounce finds its payment."""
    from moto.ses.responses import EmailResponse

    from chalicelib.container import get_container
    from local.ses_events import keep_message_tags
    from tests.integration.test_mail_events import pay

    monkeypatch.setattr(EmailResponse, "send_raw_email", EmailResponse.send_raw_email)
    keep_message_tags()
    api = Api(portal.client)
    token = complete_first_login(api)
    events = LocalSesEvents.from_template(boto3.client("sns"), load_template(), aws)
    outbox = OutboxWriter(tmp_path, "eu-west-3", "123456789012", lambda _: None, events.publish_for)
    outbox.flush()
    change_address(api, token, BOUNCE)
    pay("IDF-P-LOCAL-BOUNCE")  # sent before SES's first bounce of that address is known
    before = get_container().funder_dashboard.read("region-idf").payment_mails_bounced

    outbox.flush()
    (payment_event,) = [e for e in events.published if "payment" in e["mail"]["tags"]]
    assert payment_event["mail"]["tags"]["funder"] == ["region-idf"]
    assert not payment_event["mail"]["messageId"].startswith("local-")  # moto's SES id
    run_queue(queue="mail-events")
    assert get_container().funder_dashboard.read("region-idf").payment_mails_bounced == before + 1
