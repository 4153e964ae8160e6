"""The SES mailer under moto: the raw MIME message the local outbox and the tests read back."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from chalicelib.container import get_container, reset_container
from chalicelib.services.mail.mails import MailNotSent, OutgoingMail, password_changed_mail
from local.outbox import body_text, sent_messages
from tests.conftest import TEST_ENVIRONMENT

REGION = TEST_ENVIRONMENT["AWS_REGION"]
SENDER = TEST_ENVIRONMENT["MAIL_SENDER"]
SENDER_DOMAIN = SENDER.rpartition("@")[2]
RECIPIENT = "camille.martin@example.fr"


@pytest.fixture
def ses(aws: dict[str, str]) -> Any:
    # moto's CloudFormation creates no SES identity: verify the domain as the local stack does.
    client = boto3.client("ses", region_name=REGION)
    client.verify_domain_identity(Domain=SENDER_DOMAIN)
    return client


@pytest.fixture
def send_requests(ses: Any) -> Iterator[list[dict[str, Any]]]:
    """The parameters of every SendRawEmail call of the container's SES client."""
    captured: list[dict[str, Any]] = []

    def capture(params: dict[str, Any], **_: Any) -> None:
        captured.append(dict(params))

    events = get_container().client("ses").meta.events
    events.register("provide-client-params.ses.SendRawEmail", capture)
    yield captured
    events.unregister("provide-client-params.ses.SendRawEmail", capture)


def a_mail() -> OutgoingMail:
    return password_changed_mail(
        RECIPIENT,
        "Hélène",
        "http://localhost:8000/region-sud/mot-de-passe-oublie",
        portal_url="http://localhost:8000",
    )


def test_a_mail_is_read_back_with_its_french_intact(send_requests):
    mail = a_mail()
    get_container().mailer.send(mail)

    [message] = sent_messages(REGION)
    assert message["Subject"] == "Votre mot de passe a été modifié"
    [sender] = message["From"].addresses
    assert (sender.display_name, sender.addr_spec) == ("Portail stagiaire", SENDER)
    assert [address.addr_spec for address in message["To"].addresses] == [RECIPIENT]
    text = body_text(message)
    assert text.startswith("Bonjour Hélène,\n\nLe mot de passe de votre compte")
    assert "« Mot de passe oublié »" in text
    assert "L'équipe du Portail stagiaire" in text
    assert "ConfigurationSetName" not in send_requests[0]


def test_the_message_is_an_automatic_well_formed_mime_mail(send_requests):
    get_container().mailer.send(a_mail())

    [message] = sent_messages(REGION)
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["Date"] is not None
    assert message["Message-ID"].strip().endswith(f"@{SENDER_DOMAIN}>")
    assert message.get_content_type() == "multipart/alternative"
    html = message.get_body(preferencelist=("html",))
    assert html is not None
    assert '<html lang="fr">' in html.get_content()
    # 7-bit on the wire: accents travel quoted-printable, headers RFC 2047-encoded.
    raw: bytes = send_requests[0]["RawMessage"]["Data"]
    assert raw.isascii()


def test_a_text_only_mail_is_a_single_plain_part(ses):
    mail = OutgoingMail(to=RECIPIENT, subject="Essai à accents", text="Bonjour Zoé,\n")
    get_container().mailer.send(mail)

    [message] = sent_messages(REGION)
    assert message.get_content_type() == "text/plain"
    assert message.get_content_charset() == "utf-8"
    assert body_text(message) == "Bonjour Zoé,\n"


def test_the_configuration_set_goes_with_every_mail_when_set(ses, monkeypatch):
    # moto neither creates the template's configuration set nor checks the name it is sent.
    ses.create_configuration_set(ConfigurationSet={"Name": "portail-stagiaire-test"})
    monkeypatch.setenv("MAIL_CONFIGURATION_SET", "portail-stagiaire-test")
    reset_container()
    captured: list[dict[str, Any]] = []
    client = get_container().client("ses")
    client.meta.events.register(
        "provide-client-params.ses.SendRawEmail",
        lambda params, **_: captured.append(dict(params)),
    )

    get_container().mailer.send(a_mail())

    assert captured[0]["ConfigurationSetName"] == "portail-stagiaire-test"
    assert len(sent_messages(REGION)) == 1


def test_an_unverified_sender_raises_mail_not_sent(aws):
    with pytest.raises(MailNotSent, match="MessageRejected"):
        get_container().mailer.send(a_mail())
    assert sent_messages(REGION) == []


def test_a_header_injection_is_refused_before_anything_is_sent(ses):
    mail = OutgoingMail(to=f"{RECIPIENT}\r\nBcc: autre@example.fr", subject="Essai", text="x\n")
    with pytest.raises(ValueError):
        get_container().mailer.send(mail)
    assert sent_messages(REGION) == []
