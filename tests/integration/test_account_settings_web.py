"""« Mon compte » through the real Chalice routing, on moto: identity read-only, phone, password
by the secret answer, secret question by the password, mail address confirmed by a link."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from chalicelib import admin
from chalicelib.container import get_container
from chalicelib.store.models import ChallengeItem, EmailClaimItem
from tests.integration.conftest import mails_to
from tests.integration.test_accounts_web import (
    LUCAS,
    NEW_PASSWORD,
    complete_first_login,
    log_in,
    sign_up,
)
from tests.support.aws import count_dynamodb_requests
from tests.support.web import Page, WebClient

NEW_EMAIL = "lucas.nouveau@example.fr"
CHANGED_PASSWORD = "Compte-Cuisine-2027"


@pytest.fixture
def lucas(portal: WebClient) -> WebClient:
    sign_up(portal)
    complete_first_login(portal)
    return portal


def submit(web: WebClient, path: str, **fields: str) -> Page:
    form = web.get(path)
    assert form.status == 200, form.location
    return web.post(path, {"csrf": form.hidden("csrf"), **fields})


def confirmation_link(address: str) -> str:
    _subject, text = mails_to(address)[-1]
    match = re.search(r"http://localhost:8000(/compte/adresse-mail/confirmation\?jeton=\S+)", text)
    assert match, text
    return match.group(1)


def confirm(web: WebClient, link: str) -> Page:
    page = web.get(link)
    return web.post(
        "/compte/adresse-mail/confirmation",
        {"csrf": page.hidden("csrf"), "token": page.hidden("token")},
    )


def test_mon_compte_asks_to_log_in_then_shows_the_account(portal: WebClient) -> None:
    assert portal.get("/compte").location == "/?message=connexion-requise"
    sign_up(portal)
    complete_first_login(portal)
    trainings = portal.get("/formations")
    assert '<a class="fr-btn fr-icon-account-circle-line" href="/compte">Mon compte</a>' in (
        trainings.body
    )
    page = portal.get("/compte")
    assert page.status == 200 and page.headers["Cache-Control"] == "no-store"
    for shown in ("Nom Petit", "Prénom Lucas", "Date de naissance 03/02/1998", LUCAS["email"]):
        assert shown in page.text
    assert 'name="family_name"' not in page.body  # read-only: no field for the identity
    assert "Ville de naissance ?" in page.text
    with count_dynamodb_requests() as requests:
        assert portal.get("/compte").status == 200
    assert sum(requests.values()) <= 3, requests


def test_no_mon_compte_before_the_first_login_steps_are_done(portal: WebClient) -> None:
    sign_up(portal)
    from tests.integration.test_accounts_web import temporary_password

    log_in(portal, LUCAS["email"], temporary_password(LUCAS["email"]))
    step = portal.get("/premiere-connexion/mot-de-passe")
    assert 'href="/compte"' not in step.body
    assert portal.get("/compte").location == "/premiere-connexion/mot-de-passe"


def test_the_phone_number_takes_french_formats(lucas: WebClient) -> None:
    wrong = submit(lucas, "/compte/telephone", phone="12 34")
    assert wrong.status == 200 and "Saisissez un numéro de téléphone français" in wrong.text
    assert 'value="12 34"' in wrong.body
    done = submit(lucas, "/compte/telephone", phone="+33 6 12 34 56 78")
    assert done.location == "/compte?message=telephone"
    assert get_container().accounts.find_by_email(LUCAS["email"]).phone == "+33612345678"
    page = lucas.follow(done)
    assert "Votre numéro de téléphone est enregistré." in page.text
    assert "06 12 34 56 78" in page.text


def test_the_password_changes_with_the_current_password_and_the_secret_answer(
    lucas: WebClient,
) -> None:
    other = WebClient(lucas.client)
    log_in(other, LUCAS["email"], NEW_PASSWORD)
    form = lucas.get("/compte/mot-de-passe")
    assert form.label_of("password") == "Mot de passe actuel"
    missing = submit(
        lucas,
        "/compte/mot-de-passe",
        answer="LILLE",
        new_password=CHANGED_PASSWORD,
        confirmation=CHANGED_PASSWORD,
    )
    assert missing.field_error("password") == "Saisissez votre mot de passe actuel."
    wrong_password = submit(
        lucas,
        "/compte/mot-de-passe",
        password="Devine-Le-2026",
        answer="LILLE",
        new_password=CHANGED_PASSWORD,
        confirmation=CHANGED_PASSWORD,
    )
    assert wrong_password.field_error("password") == "Le mot de passe est incorrect."
    assert wrong_password.field_error("answer") is None  # not even checked
    # No secret comes back into the form.
    assert "Devine-Le-2026" not in wrong_password.body and CHANGED_PASSWORD not in (
        wrong_password.body
    )
    wrong = submit(
        lucas,
        "/compte/mot-de-passe",
        password=NEW_PASSWORD,
        answer="Paris",
        new_password=CHANGED_PASSWORD,
        confirmation=CHANGED_PASSWORD,
    )
    assert wrong.field_error("answer") == "La réponse à la question secrète est incorrecte."
    done = submit(
        lucas,
        "/compte/mot-de-passe",
        password=NEW_PASSWORD,
        answer="LILLE",
        new_password=CHANGED_PASSWORD,
        confirmation=CHANGED_PASSWORD,
    )
    assert done.location == "/compte?message=mot-de-passe"
    assert lucas.get("/compte").status == 200  # this session stays
    assert other.get("/formations").location == "/?message=connexion-requise"
    subject, text = mails_to(LUCAS["email"])[-1]
    assert subject == "Votre mot de passe a été modifié" and CHANGED_PASSWORD not in text
    assert log_in(WebClient(lucas.client), LUCAS["email"], CHANGED_PASSWORD).status == 303


def test_wrong_current_passwords_in_mon_compte_count_like_login_failures(
    lucas: WebClient,
) -> None:
    for _ in range(5):
        submit(
            lucas,
            "/compte/mot-de-passe",
            password="Devine-Le-2026",
            answer="Lille",
            new_password=CHANGED_PASSWORD,
            confirmation=CHANGED_PASSWORD,
        )
    blocked = log_in(WebClient(lucas.client), LUCAS["email"], NEW_PASSWORD)
    assert "Trop de tentatives de connexion avec cette adresse" in blocked.text


def test_the_secret_question_changes_with_the_password(lucas: WebClient) -> None:
    wrong = submit(
        lucas, "/compte/question-secrete", password="faux", question="Mon chien ?", new_answer="Rex"
    )
    assert "Le mot de passe est incorrect." in wrong.text
    assert 'value="Mon chien ?"' in wrong.body and 'value="Rex"' not in wrong.body
    # The service names the new answer « new_secret_answer »: the page puts it under its field.
    empty = submit(lucas, "/compte/question-secrete", password=NEW_PASSWORD, question="Mon chien ?")
    assert 'id="new_answer-erreur"' in empty.body and 'id="password-erreur"' not in empty.body
    done = submit(
        lucas,
        "/compte/question-secrete",
        password=NEW_PASSWORD,
        question="Mon chien ?",
        new_answer="Rex",
    )
    assert done.location == "/compte?message=question-secrete"
    assert "Mon chien ?" in lucas.get("/compte").text
    subject, text = mails_to(LUCAS["email"])[-1]
    assert subject == "Votre question secrète a été modifiée" and "Rex" not in text


def test_a_new_mail_address_applies_once_confirmed_and_the_old_one_is_told(
    lucas: WebClient,
) -> None:
    done = submit(
        lucas,
        "/compte/adresse-mail",
        new_email=NEW_EMAIL,
        email_confirmation=NEW_EMAIL,
        password=NEW_PASSWORD,
    )
    assert done.location == "/compte?message=adresse-mail"
    assert "valable 24 heures" in lucas.follow(done).text
    ((subject, text),) = mails_to(NEW_EMAIL)
    assert subject == "Confirmez votre nouvelle adresse mail" and "24 heures" in text
    subject, text = mails_to(LUCAS["email"])[-1]
    assert subject == "Changement de votre adresse mail demandé"
    assert "l***u@example.fr" in text and NEW_EMAIL not in text
    assert get_container().accounts.find_by_email(LUCAS["email"]) is not None  # not yet

    link = confirmation_link(NEW_EMAIL)
    stranger = WebClient(lucas.client)  # the link works in any browser, signed in or not
    page = stranger.get(link)
    assert "Confirmer ma nouvelle adresse mail" in page.text  # a GET changes nothing
    assert get_container().accounts.find_by_email(NEW_EMAIL) is None
    other = WebClient(lucas.client)
    log_in(other, LUCAS["email"], NEW_PASSWORD)
    confirmed = confirm(stranger, link)
    assert "Votre adresse mail est modifiée" in confirmed.text
    # Like a password change, the new address ends the account's other sessions.
    assert other.get("/formations").location == "/?message=connexion-requise"
    assert get_container().accounts.find_by_email(LUCAS["email"]) is None
    assert get_container().accounts.find_by_email(NEW_EMAIL) is not None
    assert mails_to(LUCAS["email"])[-1][0] == "Votre adresse mail a été modifiée"
    assert mails_to(NEW_EMAIL)[-1][0] == "Votre adresse mail a été modifiée"
    assert log_in(WebClient(lucas.client), NEW_EMAIL, NEW_PASSWORD).location == "/formations"
    assert log_in(WebClient(lucas.client), LUCAS["email"], NEW_PASSWORD).status == 401
    again = confirm(WebClient(lucas.client), link)
    assert "Ce lien de confirmation n'est plus valable" in again.text


def test_the_confirmation_link_expires_after_24_hours(lucas: WebClient) -> None:
    submit(
        lucas,
        "/compte/adresse-mail",
        new_email=NEW_EMAIL,
        email_confirmation=NEW_EMAIL,
        password=NEW_PASSWORD,
    )
    (item,) = [item for item in ChallengeItem.scan() if item.purpose == "email-change"]
    remaining = item.expires_at - datetime.now(UTC)
    assert 23.9 * 3600 < remaining.total_seconds() <= 24 * 3600
    item.update(actions=[ChallengeItem.expires_at.set(datetime.now(UTC))])
    expired = confirm(WebClient(lucas.client), confirmation_link(NEW_EMAIL))
    assert "Ce lien de confirmation n'est plus valable" in expired.text
    assert get_container().accounts.find_by_email(LUCAS["email"]) is not None


def test_an_address_taken_meanwhile_is_refused_and_nothing_moves(lucas: WebClient) -> None:
    submit(
        lucas,
        "/compte/adresse-mail",
        new_email=NEW_EMAIL,
        email_confirmation=NEW_EMAIL,
        password=NEW_PASSWORD,
    )
    EmailClaimItem(account_id=f"email#{NEW_EMAIL}", owner_id="someone-else").save()
    refused = confirm(WebClient(lucas.client), confirmation_link(NEW_EMAIL))
    assert "déjà celle d'un autre compte" in refused.text
    account = get_container().accounts.find_by_email(LUCAS["email"])
    assert account is not None and account.email == LUCAS["email"]
    assert EmailClaimItem.get(f"email#{NEW_EMAIL}").owner_id == "someone-else"


def test_operators_read_the_audit_trail_of_one_account(
    lucas: WebClient, capsys: pytest.CaptureFixture[str]
) -> None:
    submit(lucas, "/compte/telephone", phone="0612345678")
    account = get_container().accounts.find_by_email(LUCAS["email"])
    capsys.readouterr()
    assert admin.main(["--stage", "test", "audit", "show", LUCAS["email"].upper()]) == 0
    output = capsys.readouterr().out
    assert f"Compte {account.account_id} (l***t@example.fr)" in output
    lines = [line for line in output.splitlines() if " UTC  " in line]
    assert [line.split("  ")[1] for line in lines] == [
        "phone-changed",
        "terms-accepted",
        "secret-question-set",
        "password-changed",
        "login-success",
        "signup",
    ]
    assert "127.0.0.1" in lines[0] and "version=1" in lines[1]  # the test client's address
    assert admin.main(["--stage", "test", "audit", "show", account.account_id]) == 0
    assert "phone-changed" in capsys.readouterr().out
    assert admin.main(["--stage", "test", "audit", "show", "personne@example.fr"]) == 1
    assert "Aucun compte ni événement." in capsys.readouterr().out
