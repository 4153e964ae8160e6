"""Sign-up addresses through the real routing (issue 13, Low 3): what is not one mailbox is
refused under the field, on the web and in the API, and creates nothing; an existing address
typed with a display name or a trailing separator no longer makes a second account."""

from __future__ import annotations

from unittest import mock

import pytest

from chalicelib.adapters.mail import SesMailer
from chalicelib.container import get_container
from chalicelib.services.mail.mails import MailNotSent
from tests.integration.conftest import mails_to
from tests.integration.test_accounts_web import LUCAS, sign_up
from tests.support.api import Api
from tests.support.web import WebClient

INVALID = "Saisissez une adresse mail valide, par exemple nom@exemple.fr."
HOSTILE = [
    f"attacker<{LUCAS['email']}>",
    f"{LUCAS['email']},",
    f"{LUCAS['email']};x",
    f"{LUCAS['email']}\x00",
]


def nobody_signed_up() -> bool:
    return get_container().accounts.find_by_email(LUCAS["email"]) is None


@pytest.mark.parametrize("typed", HOSTILE)
def test_the_web_form_refuses_what_is_not_one_mailbox(portal: WebClient, typed: str) -> None:
    status, body = sign_up(portal, email=typed, email_confirmation=typed)
    assert status == 200, body  # the form again, with the error under the field
    assert f'<p id="email-erreur" class="fr-error-text">{INVALID}</p>' in body
    assert nobody_signed_up() and mails_to(LUCAS["email"]) == []


@pytest.mark.parametrize("typed", HOSTILE)
def test_the_api_refuses_what_is_not_one_mailbox(portal: WebClient, typed: str) -> None:
    answer = Api(portal.client).sign_up(email=typed, email_confirmation=typed)
    assert answer.status == 400 and answer.error["fields"] == {"email": INVALID}
    assert nobody_signed_up() and mails_to(LUCAS["email"]) == []


def test_an_address_is_stored_as_typed_once_normalised(portal: WebClient) -> None:
    typed = "  Lucas.Petit@EXAMPLE.fr "
    assert Api(portal.client).sign_up(email=typed, email_confirmation=typed).status == 202
    assert not nobody_signed_up()


def test_a_mail_that_cannot_leave_is_told_and_the_account_is_recoverable(
    portal: WebClient,
) -> None:
    with mock.patch.object(SesMailer, "send", side_effect=MailNotSent("SES refused the mail")):
        status, body = sign_up(portal)
    assert status == 200 and "Le courriel n’a pas pu être envoyé" in body
    account = get_container().accounts.find_by_email(LUCAS["email"])
    assert account is not None  # kept, and reachable again through « Mot de passe oublié »:
    assert account.secret_answer_hash is None  # a never-used account gets a temporary password
