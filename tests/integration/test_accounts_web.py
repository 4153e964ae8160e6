"""Sign-up, login, first-login steps, CGU and logout through the real Chalice routing, on moto."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.container import get_container
from chalicelib.services.security.captcha import TOO_MANY_CODES
from chalicelib.services.security.throttling import (
    RATE_LIMITS,
    TOO_MANY_ATTEMPTS,
    TOO_MANY_REQUESTS,
    Limit,
)
from chalicelib.store.models import DossierItem, SessionItem, TermsItem
from tests.integration.conftest import CAPTCHA, DEMO, mails_to
from tests.support.aws import count_dynamodb_requests, drop, run_queue
from tests.support.web import WebClient

LUCAS = {
    "family_name": "Petit",
    "given_names": "Lucas",
    "birth_date": "03/02/1998",
    "dossier_number": "IDF-2026-000789",
    "email": "lucas.petit@example.fr",
    "email_confirmation": "lucas.petit@example.fr",
    "captcha_answer": CAPTCHA,
    "terms_accepted": "oui",
}
NEW_PASSWORD = "Formation-Cuisine-2026"


def sign_up(web: WebClient, **changes: str) -> tuple[int, str]:
    form_page = web.get("/region-idf/inscription")
    fields = {**LUCAS, **changes}
    data = {
        "csrf": form_page.hidden("csrf"),
        "captcha_id": form_page.hidden("captcha_id"),
        "action": "submit",
        **{key: value for key, value in fields.items() if value is not None},
    }
    page = web.post("/region-idf/inscription", data)
    return page.status, page.location if page.status == 303 else page.body


def temporary_password(address: str) -> str:
    _subject, text = mails_to(address)[-1]
    match = re.search(r"Mot de passe provisoire : (\S+)", text)
    assert match, text
    return match.group(1)


def log_in(web: WebClient, username: str, password: str):
    home = web.get("/region-idf/")
    return web.post(
        "/region-idf/connexion",
        {"csrf": home.hidden("csrf"), "username": username, "password": password},
    )


def complete_first_login(web: WebClient) -> None:
    password = temporary_password(LUCAS["email"])
    page = log_in(web, LUCAS["email"], password)
    assert page.location == "/premiere-connexion/mot-de-passe"
    finish_first_login_steps(web, password)


def finish_first_login_steps(web: WebClient, password: str) -> None:
    step = web.get("/premiere-connexion/mot-de-passe")
    page = web.post(
        "/premiere-connexion/mot-de-passe",
        {
            "csrf": step.hidden("csrf"),
            "old_password": password,
            "new_password": NEW_PASSWORD,
            "confirmation": NEW_PASSWORD,
        },
    )
    assert page.location == "/premiere-connexion/question-secrete"
    step = web.get(page.location)
    page = web.post(
        page.location,
        {"csrf": step.hidden("csrf"), "question": "Ville de naissance ?", "answer": "Lille"},
    )
    assert page.location == "/cgu"
    step = web.get("/cgu")
    page = web.post("/cgu", {"csrf": step.hidden("csrf"), "version": step.hidden("version")})
    assert page.location == "/formations"


def test_a_trainee_signs_up_with_a_dossier_and_gets_a_temporary_password(portal: WebClient) -> None:
    status, location = sign_up(portal)
    assert (status, location) == (303, "/region-idf/inscription/confirmation")
    done = portal.get(location)
    assert "Votre demande d’inscription est enregistrée" in done.text
    assert "fr-alert--success" in done.body
    ((_subject, text),) = mails_to(LUCAS["email"])
    assert "Mot de passe provisoire" in text
    account = get_container().accounts.find_by_email(LUCAS["email"])
    assert account is not None and account.password_hash is None
    assert DossierItem.get("region-idf", "IDF-2026-000789").account_id == account.account_id


def test_errors_keep_what_was_typed_and_point_at_each_field(portal: WebClient) -> None:
    status, body = sign_up(
        portal,
        birth_date="3 février 1998",
        email_confirmation="autre@example.fr",
        terms_accepted=None,
    )
    assert status == 200
    assert 'value="Petit"' in body and 'value="IDF-2026-000789"' in body
    assert 'id="birth_date" name="birth_date"' in body
    assert "Saisissez votre date de naissance au format JJ/MM/AAAA" in body
    assert 'aria-describedby="birth_date-aide birth_date-erreur"' in body
    assert "La confirmation doit être identique" in body
    assert "Vous devez accepter les conditions d" in body
    assert "3 informations sont à corriger" in body
    assert get_container().accounts.find_by_email(LUCAS["email"]) is None


def test_a_wrong_code_or_identity_is_refused(portal: WebClient) -> None:
    status, body = sign_up(portal, captcha_answer="000000")
    assert status == 200 and "Le code recopié ne correspond pas" in body
    status, body = sign_up(portal, given_names="Louis")
    assert status == 200 and "Nous ne trouvons pas ce numéro de dossier" in body
    assert mails_to(LUCAS["email"]) == []


def test_the_screen_never_tells_that_an_address_has_an_account(portal: WebClient) -> None:
    first = sign_up(portal)
    second = sign_up(
        portal,
        family_name="Bernard",
        given_names="Inès",
        birth_date="11/11/2001",
        dossier_number="IDF-2026-000790",
    )
    assert first == second == (303, "/region-idf/inscription/confirmation")
    subjects = [subject for subject, _ in mails_to(LUCAS["email"])]
    assert len(subjects) == 2 and subjects[0] != subjects[1]
    assert "Mot de passe provisoire" not in mails_to(LUCAS["email"])[1][1]
    assert DossierItem.get("region-idf", "IDF-2026-000790").account_id is None


def test_an_account_without_dossier_is_linked_when_the_funder_sends_it(portal: WebClient) -> None:
    status, _ = sign_up(
        portal,
        family_name="Nouveau",
        given_names="Sami",
        birth_date="01/01/2000",
        dossier_number="",
        no_dossier="oui",
        email="sami@example.fr",
        email_confirmation="sami@example.fr",
    )
    assert status == 303
    account = get_container().accounts.find_by_email("sami@example.fr")
    assert account is not None and account.awaiting_dossier
    line = (DEMO / "dossiers_region-idf.csv").read_text().splitlines()
    drop(
        "region-idf",
        "dossiers_nouveau.csv",
        (
            line[0] + "\nIDF-2026-000999;NOUVEAU;Sami;01/01/2000;sami@example.fr;CUISINE;Cuisinier;"
            "07/09/2026;03/07/2027;54756834567143;Institut de formation numérique;;685,00;"
            "25/08/2026;en_cours\n"
        ).encode(),
    )
    run_queue()
    assert DossierItem.get("region-idf", "IDF-2026-000999").account_id == account.account_id
    assert not get_container().accounts.get(account.account_id).awaiting_dossier
    assert "Cuisinier" in mails_to("sami@example.fr")[-1][1]


def test_first_login_allows_only_its_steps_then_the_portal(portal: WebClient) -> None:
    sign_up(portal)
    password = temporary_password(LUCAS["email"])
    page = log_in(portal, LUCAS["email"], password)
    assert page.location == "/premiere-connexion/mot-de-passe"
    assert portal.get("/formations").location == "/premiere-connexion/mot-de-passe"
    assert portal.get("/cgu").location == "/premiere-connexion/mot-de-passe"
    step = portal.get("/premiere-connexion/mot-de-passe")
    assert "Au moins 12 caractères" in step.text
    weak = portal.post(
        "/premiere-connexion/mot-de-passe",
        {
            "csrf": step.hidden("csrf"),
            "old_password": password,
            "new_password": "azerty123456",
            "confirmation": "azerty123456",
        },
    )
    assert weak.status == 200 and "aria-invalid" in weak.body
    finish_first_login_steps(portal, password)
    trainings = portal.get("/formations")
    assert trainings.status == 200 and "Cuisinier" in trainings.text
    assert trainings.headers["Cache-Control"] == "no-store"
    account = get_container().accounts.find_by_email(LUCAS["email"])
    acceptances = get_container().terms.repository.acceptances(account.account_id)
    assert [acceptance.version for acceptance in acceptances] == ["1"]
    # The temporary password served once: it no longer opens the account.
    portal.cookies.clear()
    assert log_in(portal, LUCAS["email"], password).status == 401


def test_a_wrong_pair_gets_one_message_then_growing_delays(portal: WebClient) -> None:
    sign_up(portal)
    unknown = log_in(portal, "personne@example.fr", "n'importe quoi")
    wrong = log_in(portal, LUCAS["email"], "mauvais mot de passe")
    assert unknown.status == wrong.status == 401
    assert unknown.text.count("Adresse mail ou mot de passe incorrect.") == 1
    assert wrong.text.count("Adresse mail ou mot de passe incorrect.") == 1
    for address in (LUCAS["email"], "personne@example.fr"):
        for _ in range(5):
            log_in(portal, address, "mauvais mot de passe")
        blocked = log_in(portal, address, temporary_password(LUCAS["email"]))
        assert "Trop de tentatives de connexion avec cette adresse" in blocked.text
        assert blocked.status == 401


def test_the_pages_show_the_rate_limits_their_services_count(
    portal: WebClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The services count each address (RateLimited); the pages only say it, 429, in place."""
    home = portal.get("/region-idf/")
    signup_form = portal.get("/region-idf/inscription")
    for action in ("login", "signup", "captcha"):  # spent at the very first request
        monkeypatch.setitem(RATE_LIMITS, action, Limit(0, RATE_LIMITS[action].window))
    login = portal.post(
        "/region-idf/connexion",
        {"csrf": home.hidden("csrf"), "username": LUCAS["email"], "password": "x"},
    )
    assert login.status == 429 and TOO_MANY_ATTEMPTS in login.text
    signup = portal.post(
        "/region-idf/inscription",
        {**LUCAS, "csrf": signup_form.hidden("csrf"), "captcha_id": "x", "action": "submit"},
    )
    assert signup.status == 429 and TOO_MANY_REQUESTS in signup.text
    assert signup.field_error("captcha_answer") == TOO_MANY_CODES  # and no new image
    assert mails_to(LUCAS["email"]) == []


def test_forms_without_their_csrf_token_are_refused(portal: WebClient) -> None:
    portal.get("/region-idf/inscription")
    page = portal.post("/region-idf/inscription", {**LUCAS, "csrf": "forged", "captcha_id": "x"})
    assert page.status == 403 and "Le formulaire a expiré" in page.text
    assert mails_to(LUCAS["email"]) == []
    sign_up(portal)
    complete_first_login(portal)
    page = portal.post("/deconnexion", {"csrf": "forged"})
    assert portal.get("/formations").status == 200  # still signed in


def test_logout_ends_the_session_server_side(portal: WebClient) -> None:
    sign_up(portal)
    complete_first_login(portal)
    stolen = dict(portal.cookies)
    trainings = portal.get("/formations")
    page = portal.post("/deconnexion", {"csrf": trainings.hidden("csrf")})
    assert page.location == "/?message=deconnecte"
    portal.cookies = stolen  # the old cookie, replayed
    assert portal.get("/formations").location == "/?message=connexion-requise"


def test_sessions_expire_after_30_idle_minutes_and_12_hours(portal: WebClient) -> None:
    sign_up(portal)
    complete_first_login(portal)
    (item,) = list(SessionItem.scan())
    item.update(actions=[SessionItem.last_used_at.set(datetime.now(UTC) - timedelta(minutes=31))])
    assert portal.get("/formations").location == "/?message=connexion-requise"
    complete_first_login_again(portal)
    (item,) = list(SessionItem.scan())
    item.update(actions=[SessionItem.created_at.set(datetime.now(UTC) - timedelta(hours=12))])
    assert portal.get("/formations").location == "/?message=connexion-requise"


def complete_first_login_again(web: WebClient) -> None:
    page = log_in(web, LUCAS["email"], NEW_PASSWORD)
    assert page.location == "/formations"


def test_a_new_cgu_version_must_be_accepted_before_going_on(portal: WebClient) -> None:
    sign_up(portal)
    complete_first_login(portal)
    get_container().terms.publish("2", "# Nouveautés\n\nLa version 2.")
    get_container().terms._cached = None
    assert portal.get("/formations").location == "/cgu"
    terms = portal.get("/cgu")
    assert "La version 2." in terms.text and "Accepter" in terms.text
    page = portal.post("/cgu", {"csrf": terms.hidden("csrf"), "version": "2"})
    assert page.location == "/formations"
    assert {item.version for item in TermsItem.scan() if item.pk.startswith("acceptance#")} == {
        "1",
        "2",
    }


def test_a_signed_in_page_costs_at_most_three_dynamodb_requests(portal: WebClient) -> None:
    sign_up(portal)
    complete_first_login(portal)
    portal.get("/formations")
    with count_dynamodb_requests() as requests:
        assert portal.get("/formations").status == 200
    assert sum(requests.values()) <= 3, requests
    assert requests["Scan"] == 0
