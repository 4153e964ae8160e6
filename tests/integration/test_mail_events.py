"""Mail that bounces is known, under moto with the real routing and the real SQS handler.

SES publishes its bounce and complaint events to the configuration set's SNS topic; moto's SES
does not (its CloudFormation skips event destinations), so these tests publish to the same topic
what SES would, and the topic's subscription puts it in the mail-events queue in SNS's envelope,
as in AWS. The queue is then read by the handler Lambda would call (tests/support/aws.py).
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

import boto3
import pytest

from chalicelib.container import get_container
from tests.integration.conftest import CAPTCHA, mails_to
from tests.support.api import LUCAS, NEW_PASSWORD, Api, complete_first_login
from tests.support.aws import drop, run_queue
from tests.support.web import WebClient

NEW_EMAIL = "lucas.corrige@example.fr"
PAYMENT_HEADER = (
    "numero_dossier;reference_paiement;date_mise_en_paiement;periode_debut;periode_fin;"
    "element;libelle;taux;jours;diviseur;montant"
)
NOTICE = "Votre adresse mail ne reçoit pas nos courriels"


def ses_event(kind: str, address: str, bounce_type: str = "Permanent") -> dict[str, Any]:
    """An SES event-publishing record, shaped as AWS's examples for SNS destinations."""
    mail = {
        "timestamp": "2026-11-10T08:00:00.000Z",
        "source": "ne-pas-repondre@portail-stagiaire.example.gouv.fr",
        "messageId": "0102018c-test-bounce-000000",
        "destination": [address],
        "tags": {"ses:configuration-set": ["portail-stagiaire-test"]},
    }
    if kind == "Bounce":
        detail = {
            "bounceType": bounce_type,
            "bounceSubType": "General",
            "bouncedRecipients": [{"emailAddress": address, "action": "failed", "status": "5.1.1"}],
            "timestamp": "2026-11-10T08:00:01.000Z",
            "feedbackId": "0102018c-feedback-000000",
        }
        return {"eventType": "Bounce", "bounce": detail, "mail": mail}
    detail = {
        "complainedRecipients": [{"emailAddress": address}],
        "timestamp": "2026-11-10T08:00:01.000Z",
        "feedbackId": "0102018c-feedback-000001",
        "complaintFeedbackType": "abuse",
    }
    return {"eventType": "Complaint", "complaint": detail, "mail": mail}


def ses_publishes(aws: dict[str, str], event: dict[str, Any]) -> None:
    boto3.client("sns").publish(TopicArn=aws["MailEventsTopicArn"], Message=json.dumps(event))


def pay(reference: str) -> None:
    """A payment for Lucas's dossier: ingestion queues its « nouveau paiement » mail."""
    period = "01/10/2026;31/10/2026"
    line = f"IDF-2026-000789;{reference};10/11/2026;{period};REMUNERATION;;685,00;30;30;685,00"
    drop("region-idf", f"paiements_{reference}.csv", f"{PAYMENT_HEADER}\n{line}\n".encode())
    run_queue()
    run_queue(queue="notifications")


def forgot_password(api: Api, address: str) -> None:
    challenge = api.call("POST", "/api/v1/recovery/challenge").json
    body = {"email": address, "challenge_id": challenge["challenge_id"], "answer": CAPTCHA}
    assert api.call("POST", "/api/v1/funders/region-idf/recovery", body).status == 202
    run_queue(queue="security-mails")


def web_log_in(portal: WebClient, address: str) -> None:
    home = portal.get("/region-idf/")
    page = portal.post(
        "/region-idf/connexion",
        {"csrf": home.hidden("csrf"), "username": address, "password": NEW_PASSWORD},
    )
    assert page.location == "/formations", page.text


def subjects(address: str) -> list[str]:
    return [subject for subject, _text in mails_to(address)]


@pytest.fixture
def api(portal: WebClient) -> Api:
    return Api(portal.client)


def test_bounce_flags_the_account_until_its_address_changes(
    aws: dict[str, str], portal: WebClient, api: Api
) -> None:
    token = complete_first_login(api)
    account_id = get_container().accounts.find_by_email(LUCAS["email"]).account_id  # type: ignore[union-attr]
    pay("IDF-P-2026-0901")
    assert subjects(LUCAS["email"])[-1] == "Un nouveau paiement est disponible"
    before = len(mails_to(LUCAS["email"]))

    # The bounce: SES → topic → queue → the real handler.
    ses_publishes(aws, ses_event("Bounce", LUCAS["email"]))
    assert run_queue(queue="mail-events") == 1

    # « Mon compte » says so, with the way to change it: the page and the API.
    web_log_in(portal, LUCAS["email"])
    page = portal.get("/compte")
    assert f"{NOTICE} Depuis le 10/11/2026" in page.text
    assert re.search(r'fr-alert--warning[^>]*>\s*<h3 class="fr-alert__title">', page.body)
    export = json.loads(portal.get("/mes-donnees/telechargement").body)
    assert export["distribution_des_courriels"] == [
        {"retour_permanent_le": "2026-11-10T08:00:01+00:00", "signale_indesirable_le": None}
    ]
    assert '<a class="fr-link" href="/compte/adresse-mail">Changer d’adresse mail</a>' in page.body
    delivery = api.call("GET", "/api/v1/me/account", token=token).json["email_delivery"]
    assert delivery["status"] == "undeliverable"
    assert (delivery["title"], delivery["since"]) == (NOTICE, "10/11/2026 à 09:00")

    # The trail has the bounce, without the address.
    [bounced] = [e for e in get_container().audit.events(account_id) if e.event == "mail-bounced"]
    assert LUCAS["email"] not in json.dumps(bounced.details.as_dict() if bounced.details else {})

    # Every mail to it stops: a payment notice, a recovery code, a credential-change notice.
    pay("IDF-P-2026-0902")
    forgot_password(api, LUCAS["email"])
    question = {"password": NEW_PASSWORD, "question": "Mon chien ?", "answer": "Rex"}
    assert api.call("POST", "/api/v1/me/secret-question", question, token).status == 200
    change = {"new_email": NEW_EMAIL, "email_confirmation": NEW_EMAIL, "password": NEW_PASSWORD}
    assert api.call("POST", "/api/v1/me/email-change", change, token).status == 202
    assert len(mails_to(LUCAS["email"])) == before  # not even « changement demandé »

    # The new address gets its link; once confirmed, the notice is gone and mails resume.
    link = re.search(r"jeton=(\S+)", mails_to(NEW_EMAIL)[-1][1])
    assert link, mails_to(NEW_EMAIL)
    confirmed = api.call("POST", "/api/v1/email-change/confirmation", {"token": link.group(1)})
    assert confirmed.status == 200
    # A confirmed address ends the account's other sessions: the app logs in again.
    token = api.log_in(NEW_EMAIL, NEW_PASSWORD).json["token"]
    account = api.call("GET", "/api/v1/me/account", token=token).json
    assert account["email"] == NEW_EMAIL
    assert account["email_delivery"] == {
        "status": "ok",
        "since": None,
        "title": None,
        "message": None,
    }
    assert NOTICE not in portal.get("/compte").text
    pay("IDF-P-2026-0903")
    forgot_password(api, NEW_EMAIL)
    assert subjects(NEW_EMAIL)[-2:] == [
        "Un nouveau paiement est disponible",
        "Votre code pour choisir un nouveau mot de passe",
    ]


def test_a_complaint_stops_notices_but_not_security_mails(
    aws: dict[str, str], portal: WebClient, api: Api
) -> None:
    token = complete_first_login(api)
    ses_publishes(aws, ses_event("Complaint", LUCAS["email"]))
    run_queue(queue="mail-events")
    before = subjects(LUCAS["email"])

    pay("IDF-P-2026-0911")
    forgot_password(api, LUCAS["email"])

    assert subjects(LUCAS["email"]) == [*before, "Votre code pour choisir un nouveau mot de passe"]
    delivery = api.call("GET", "/api/v1/me/account", token=token).json["email_delivery"]
    assert delivery["status"] == "notifications_stopped"
    assert delivery["title"] == "Vous ne recevez plus nos avis par courriel"


def test_a_transient_bounce_and_an_unreadable_event_change_nothing_and_fail_nothing(
    aws: dict[str, str], portal: WebClient, api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    token = complete_first_login(api)
    ses_publishes(aws, ses_event("Bounce", LUCAS["email"], bounce_type="Transient"))
    ses_publishes(aws, {"eventType": "Bounce", "mail": {}})  # no bounce object
    sqs = boto3.client("sqs")
    queue_url = sqs.get_queue_url(QueueName=aws["MailEventsQueueName"])["QueueUrl"]
    sqs.send_message(QueueUrl=queue_url, MessageBody="pas du JSON")

    with caplog.at_level(logging.WARNING):
        assert run_queue(queue="mail-events") == 3  # none raised: each was deleted

    assert caplog.text.count("Unreadable mail event dropped") == 2
    assert LUCAS["email"] not in caplog.text
    delivery = api.call("GET", "/api/v1/me/account", token=token).json["email_delivery"]
    assert delivery["status"] == "ok"
    attributes = sqs.get_queue_attributes(
        QueueUrl=queue_url, AttributeNames=["ApproximateNumberOfMessages"]
    )
    assert attributes["Attributes"]["ApproximateNumberOfMessages"] == "0"
