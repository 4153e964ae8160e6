"""« Mot de passe oublié » through the real Chalice routing, on moto: the same screen and the same
AWS work for every address, the code, the secret answer, sessions ended, mails, audit."""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, datetime

import pytest

from chalicelib.container import get_container
from chalicelib.services.accounts.recovery import RecoveryRequest
from chalicelib.store.models import ChallengeItem
from tests.integration.conftest import mails_to
from tests.integration.test_accounts_web import (
    LUCAS,
    NEW_PASSWORD,
    complete_first_login,
    log_in,
    sign_up,
    temporary_password,
)
from tests.support.aws import count_dynamodb_requests, run_queue
from tests.support.web import Page, WebClient

START = "/region-idf/mot-de-passe-oublie"
RESET_PASSWORD = "Recuperation-Cuisine-2027"
OPERATION = re.compile(r"Combien font (\d+) (plus|moins) (\d+) \?")


def solve(page: Page) -> str:
    """The result of the page's operation, computed like a person would."""
    first, word, second = OPERATION.search(page.text).groups()  # type: ignore[union-attr]
    return str(int(first) + int(second) if word == "plus" else int(first) - int(second))


def ask_for_a_code(web: WebClient, email: str) -> Page:
    form = web.get(START)
    return web.post(
        START,
        {
            "csrf": form.hidden("csrf"),
            "arithmetic_id": form.hidden("arithmetic_id"),
            "email": email,
            "arithmetic_answer": solve(form),
        },
    )


def mailed_code(address: str) -> str:
    _subject, text = mails_to(address)[-1]
    match = re.search(r"Votre code : (\d{8})", text)
    assert match, text
    return match.group(1)


def enter_code(web: WebClient, code: str) -> Page:
    form = web.get(f"{START}/code")
    return web.post(f"{START}/code", {"csrf": form.hidden("csrf"), "code": code})


def choose_password(web: WebClient, answer: str, password: str = RESET_PASSWORD) -> Page:
    form = web.get(f"{START}/nouveau-mot-de-passe")
    return web.post(
        f"{START}/nouveau-mot-de-passe",
        {
            "csrf": form.hidden("csrf"),
            "answer": answer,
            "new_password": password,
            "confirmation": password,
        },
    )


@pytest.fixture
def lucas(portal: WebClient) -> WebClient:
    """Lucas, signed up and through his first login; his own browser, signed in."""
    sign_up(portal)
    complete_first_login(portal)
    return portal


def a_browser(portal: WebClient) -> WebClient:
    return WebClient(portal.client)


def test_a_trainee_chooses_a_new_password_and_every_session_ends(lucas: WebClient) -> None:
    phone = a_browser(lucas)
    assert log_in(phone, LUCAS["email"], NEW_PASSWORD).location == "/formations"
    home = lucas.get("/region-idf/")
    assert f'href="{START}"' in home.body

    web = a_browser(lucas)
    asked = ask_for_a_code(web, LUCAS["email"].upper())
    assert (asked.status, asked.location) == (303, f"{START}/code")
    assert "un code à 8 chiffres, valable 30 minutes" in web.get(asked.location).text
    assert run_queue(queue="security-mails") == 1
    subject, text = mails_to(LUCAS["email"])[-1]
    assert subject == "Votre code pour choisir un nouveau mot de passe"
    entered = enter_code(web, mailed_code(LUCAS["email"]))
    assert entered.location == f"{START}/nouveau-mot-de-passe"
    reset = web.get(entered.location)
    assert "Votre question : Ville de naissance ?" in reset.text
    done = choose_password(web, "lille")
    assert done.location == f"{START}/termine"
    assert "Votre mot de passe est modifié" in web.get(done.location).text

    for browser in (lucas, phone):  # every session of the account has ended
        assert browser.get("/formations").location == "/?message=connexion-requise"
    subject, text = mails_to(LUCAS["email"])[-1]
    assert subject == "Votre mot de passe a été modifié"
    assert RESET_PASSWORD not in text and f"{START}" in text
    assert log_in(a_browser(lucas), LUCAS["email"], NEW_PASSWORD).status == 401
    assert log_in(a_browser(lucas), LUCAS["email"], RESET_PASSWORD).location == "/formations"
    account = get_container().accounts.find_by_email(LUCAS["email"])
    events = [item.event for item in get_container().audit.events(account.account_id)]
    assert {"recovery-code-sent", "password-reset"} <= set(events)


def test_known_and_unknown_addresses_get_the_same_screen(lucas: WebClient) -> None:
    answers = []
    for email in (LUCAS["email"], "personne@example.fr"):
        web = a_browser(lucas)
        asked = ask_for_a_code(web, email)
        cookies = sorted(value.split("=", 1)[0] for value in asked.headers["Set-Cookie"])
        answers.append(
            (asked.status, asked.location, asked.body, cookies, web.get(asked.location).text)
        )
    assert answers[0] == answers[1]


def test_known_and_unknown_addresses_cost_the_same_aws_calls(
    lucas: WebClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    container = get_container()
    mailed: list[str] = []
    queued: list[str] = []
    sent_mail = container.mailer.send
    queue_write = container.security_mail_queue.enqueue
    monkeypatch.setattr(container.mailer, "send", lambda mail: mailed.append(mail.to))
    monkeypatch.setattr(
        container.security_mail_queue,
        "enqueue",
        lambda items: (queued.extend(type(item).__name__ for item in items), queue_write(items)),
    )
    ask_for_a_code(a_browser(lucas), "echauffement@example.fr")  # first use: queue address cached
    costs: list[tuple[Counter[str], list[str], list[str]]] = []
    for email in (LUCAS["email"], "personne@example.fr"):
        web = a_browser(lucas)
        form = web.get(START)
        data = {
            "csrf": form.hidden("csrf"),
            "arithmetic_id": form.hidden("arithmetic_id"),
            "email": email,
            "arithmetic_answer": solve(form),
        }
        mailed.clear()
        queued.clear()
        with count_dynamodb_requests() as requests:
            assert web.post(START, data).status == 303
        costs.append((requests, list(mailed), list(queued)))
    assert costs[0] == costs[1]
    assert costs[0][1] == [] and costs[0][2] == ["RecoveryRequest"]
    # Off the request path, the worker mails the known address only.
    monkeypatch.setattr(container.mailer, "send", sent_mail)
    run_queue(queue="security-mails")
    assert [subject for subject, _ in mails_to("personne@example.fr")] == []
    assert mails_to(LUCAS["email"])[-1][0] == "Votre code pour choisir un nouveau mot de passe"


def test_the_code_serves_once_for_30_minutes_and_5_tries(lucas: WebClient) -> None:
    web = a_browser(lucas)
    ask_for_a_code(web, LUCAS["email"])
    run_queue(queue="security-mails")
    code = mailed_code(LUCAS["email"])
    wrong = "00000000" if code != "00000000" else "11111111"
    for _ in range(5):
        page = enter_code(web, wrong)
        assert page.status == 200 and "Ce code est incorrect ou n'est plus valable" in page.text
    assert enter_code(web, code).status == 200  # the ticket is gone after 5 tries

    web = a_browser(lucas)
    ask_for_a_code(web, LUCAS["email"])
    run_queue(queue="security-mails")
    for item in ChallengeItem.scan():  # test inspection only: 30 minutes later
        if item.purpose == "recovery-code":
            item.update(actions=[ChallengeItem.expires_at.set(datetime.now(UTC))])
    assert enter_code(web, mailed_code(LUCAS["email"])).status == 200

    web = a_browser(lucas)
    ask_for_a_code(web, LUCAS["email"])
    run_queue(queue="security-mails")
    code = mailed_code(LUCAS["email"])
    ticket_cookie = {name: value for name, value in web.cookies.items() if "recovery-code" in name}
    assert enter_code(web, code).location == f"{START}/nouveau-mot-de-passe"
    web.cookies.update(ticket_cookie)  # the same code, once more
    assert "Ce code est incorrect ou n'est plus valable" in enter_code(web, code).text
    assert choose_password(web, "Lille").location == f"{START}/termine"
    again = web.get(f"{START}/nouveau-mot-de-passe")  # the reset step served once
    assert "Recommencer" in again.text and "Changement du mot de passe" not in again.text


def test_wrong_answers_count_like_login_failures(lucas: WebClient) -> None:
    web = a_browser(lucas)
    ask_for_a_code(web, LUCAS["email"])
    run_queue(queue="security-mails")
    enter_code(web, mailed_code(LUCAS["email"]))
    for _ in range(4):
        page = choose_password(web, "Paris")
        assert "La réponse à la question secrète est incorrecte." in page.text
    log_in(a_browser(lucas), LUCAS["email"], "mauvais mot de passe")  # the 5th failure
    blocked = choose_password(web, "Lille")
    assert "Trop de tentatives de connexion avec cette adresse" in blocked.text
    late = log_in(a_browser(lucas), LUCAS["email"], NEW_PASSWORD)
    assert "Trop de tentatives de connexion avec cette adresse" in late.text
    account = get_container().accounts.find_by_email(LUCAS["email"])
    events = Counter(item.event for item in get_container().audit.events(account.account_id))
    assert events["recovery-answer-failure"] == 4 and events["lockout"] == 1


def test_an_account_that_never_finished_its_first_login_gets_a_temporary_password(
    portal: WebClient,
) -> None:
    sign_up(portal)
    first = temporary_password(LUCAS["email"])
    web = a_browser(portal)
    asked = ask_for_a_code(web, LUCAS["email"])
    assert asked.location == f"{START}/code"  # the same screen as for everyone
    run_queue(queue="security-mails")
    subject, _text = mails_to(LUCAS["email"])[-1]
    assert subject == "Votre nouveau mot de passe provisoire"
    fresh = temporary_password(LUCAS["email"])
    assert fresh != first
    assert log_in(a_browser(portal), LUCAS["email"], first).status == 401
    page = log_in(a_browser(portal), LUCAS["email"], fresh)
    assert page.location == "/premiere-connexion/mot-de-passe"


def test_a_message_delivered_twice_sends_one_mail(lucas: WebClient) -> None:
    ask_for_a_code(a_browser(lucas), LUCAS["email"])
    container = get_container()
    ticket = next(item for item in ChallengeItem.scan() if item.purpose == "recovery-code")
    request = RecoveryRequest(ticket.challenge_id, "region-idf", "192.0.2.10")
    before = len(mails_to(LUCAS["email"]))
    assert container.recovery.deliver(request) is True
    assert container.recovery.deliver(request) is False
    assert len(mails_to(LUCAS["email"])) == before + 1


def test_the_recovery_form_checks_the_operation_and_is_rate_limited(portal: WebClient) -> None:
    form = portal.get(START)
    assert "Utilisateur" in form.text and "Continuer" in form.text
    page = portal.post(
        START,
        {
            "csrf": form.hidden("csrf"),
            "arithmetic_id": form.hidden("arithmetic_id"),
            "email": LUCAS["email"],
            "arithmetic_answer": "-1",
        },
    )
    assert page.status == 200 and "Le résultat de l'opération est incorrect" in page.text
    assert f'value="{LUCAS["email"]}"' in page.body
    forged = portal.post(START, {"csrf": "faux", "email": LUCAS["email"]})
    assert forged.status == 403
    statuses = [ask_for_a_code(portal, "x@example.fr").status for _ in range(10)]
    assert statuses[-1] == 429 and "Trop de demandes" in ask_for_a_code(portal, "y@example.fr").text
