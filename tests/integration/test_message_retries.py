"""A message saved while its notification mail fails (issue 13, Low 4): the trainee gets the
conversation, not a 500, and a retried submission (the same form, the same Idempotency-Key)
writes no second conversation, message nor mail."""

from __future__ import annotations

from unittest import mock

import pytest

from chalicelib.adapters.mail import SesMailer
from chalicelib.container import get_container
from chalicelib.services.mail.mails import MailNotSent
from local.demo import READY
from tests.integration.conftest import mails_to
from tests.support.api import Api
from tests.support.messages import IDF_TRAINING, ORGANISATION_MAIL, thread_id_of
from tests.support.web import WebClient


@pytest.fixture
def camille(messages_on: WebClient) -> WebClient:
    return messages_on


def threads_of_camille() -> list[str]:
    account = get_container().accounts.find_by_email(READY.email)
    assert account is not None
    page = get_container().messages.repository.threads_of_account(account.account_id, 50, None)
    return [thread.thread_id for thread in page.threads]


def test_a_message_whose_mail_fails_is_kept_and_its_retry_writes_nothing_more(
    camille: WebClient,
) -> None:
    form = camille.get("/messages/nouveau")
    fields = {
        "csrf": form.hidden("csrf"),
        "envoi": form.hidden("envoi"),
        "training": IDF_TRAINING,
        "subject": "Attestation",
        "text": "Bonjour",
    }
    with mock.patch.object(SesMailer, "send", side_effect=MailNotSent("SES refused the mail")):
        first = camille.post("/messages/nouveau", fields)
        retried = camille.post("/messages/nouveau", fields)  # the browser sends it again
    assert first.status == 303, first.text  # was a 500: logging refused extra={"thread": …}
    assert retried.status == 303 and thread_id_of(retried.location) == thread_id_of(first.location)
    assert threads_of_camille() == [thread_id_of(first.location)]

    thread_id = thread_id_of(first.location)
    page = camille.get(f"/messages/fil?id={thread_id}")
    reply = {"csrf": page.hidden("csrf"), "envoi": page.hidden("envoi"), "id": thread_id}
    for _ in range(2):
        assert camille.post("/messages/fil", {**reply, "text": "Une précision"}).status == 303
    _thread, messages = get_container().messages.repository.thread_with_messages(thread_id) or (
        None,
        [],
    )
    assert [message.text for message in messages] == ["Bonjour", "Une précision"]
    assert len(mails_to(ORGANISATION_MAIL)) == 1  # the reply's; the retry sent none


def test_each_new_form_is_a_new_submission(camille: WebClient) -> None:
    for _ in range(2):
        form = camille.get("/messages/nouveau")
        camille.post(
            "/messages/nouveau",
            {
                "csrf": form.hidden("csrf"),
                "envoi": form.hidden("envoi"),
                "training": IDF_TRAINING,
                "subject": "Même objet",
                "text": "Même texte",
            },
        )
    assert len(threads_of_camille()) == 2


def test_the_api_honours_an_idempotency_key(camille: WebClient) -> None:
    api = Api(camille.client)
    token = api.log_in(READY.email, READY.password).json["token"]
    body = {"training": IDF_TRAINING, "subject": "Attestation", "text": "Bonjour"}
    key = {"Idempotency-Key": "b1c0e7a2-5d4f-4a8e-9f0b-0123456789ab"}
    first = api.call("POST", "/api/v1/messages/threads", body, token, headers=key)
    again = api.call("POST", "/api/v1/messages/threads", body, token, headers=key)
    assert first.status == again.status == 201, again.body
    assert first.json["thread"]["id"] == again.json["thread"]["id"]
    thread_id = first.json["thread"]["id"]
    assert threads_of_camille() == [thread_id]
    assert len(mails_to(ORGANISATION_MAIL)) == 1

    path = f"/api/v1/messages/threads/{thread_id}/messages"
    reply_key = {"Idempotency-Key": "reponse-0000000000000001"}
    for _ in range(2):
        answered = api.call("POST", path, {"text": "Merci"}, token, headers=reply_key)
        assert answered.status == 201
    assert [m["text"] for m in answered.json["thread"]["messages"]] == ["Bonjour", "Merci"]

    bad = api.call("POST", path, {"text": "Merci"}, token, headers={"Idempotency-Key": "x;y"})
    assert bad.status == 400 and "Idempotency-Key" in bad.error["fields"]
