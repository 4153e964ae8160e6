"""« Mot de passe oublié » and « Mon compte » for mobile apps: JSON over the real routing, moto."""

from __future__ import annotations

import re

import pytest

from chalicelib.container import get_container
from tests.integration.conftest import CAPTCHA, mails_to
from tests.support.api import LUCAS, NEW_PASSWORD, Api, complete_first_login
from tests.support.aws import run_queue
from tests.support.web import WebClient

RECOVERY = "/api/v1/funders/region-idf/recovery"
RESET_PASSWORD = "Application-Cuisine-2027"
NEW_EMAIL = "lucas.mobile@example.fr"


@pytest.fixture
def api(portal: WebClient) -> Api:
    return Api(portal.client)


def ask(api: Api, email: str) -> dict:
    challenge = api.call("POST", "/api/v1/recovery/challenge")
    assert challenge.status == 201 and challenge.json["question"].startswith("Combien font")
    body = {"email": email, "challenge_id": challenge.json["challenge_id"], "answer": CAPTCHA}
    answer = api.call("POST", RECOVERY, body)
    assert answer.status == 202, answer.body
    return answer.json


def mailed(address: str, pattern: str) -> str:
    match = re.search(pattern, mails_to(address)[-1][1])
    assert match, mails_to(address)[-1]
    return match.group(1)


def test_a_mobile_app_recovers_a_password(api: Api) -> None:
    token = complete_first_login(api)
    known = ask(api, LUCAS["email"])
    unknown = ask(api, "personne@example.fr")
    assert known["message"] == unknown["message"] and known["expires_in"] == 1800
    assert known.keys() == unknown.keys() and known["recovery_id"] != unknown["recovery_id"]
    run_queue(queue="security-mails")
    code = mailed(LUCAS["email"], r"Votre code : (\d{8})")

    wrong = api.call(
        "POST", "/api/v1/recovery/code", {"recovery_id": known["recovery_id"], "code": "x"}
    )
    assert (wrong.status, wrong.error["code"]) == (400, "validation_failed")
    assert "code" in wrong.error["fields"]
    accepted = api.call(
        "POST", "/api/v1/recovery/code", {"recovery_id": known["recovery_id"], "code": code}
    )
    assert accepted.status == 200
    assert accepted.json["secret_question"] == "Ville de naissance ?"
    reset = {
        "reset_id": accepted.json["reset_id"],
        "secret_answer": "Paris",
        "new_password": RESET_PASSWORD,
        "confirmation": RESET_PASSWORD,
    }
    refused = api.call("POST", "/api/v1/recovery/password", reset)
    assert refused.error["fields"] == {
        "secret_answer": "La réponse à la question secrète est incorrecte."
    }
    done = api.call("POST", "/api/v1/recovery/password", {**reset, "secret_answer": "lille"})
    assert done.status == 200, done.body
    assert api.call("GET", "/api/v1/me", token=token).status == 401  # every session ended
    assert api.log_in(LUCAS["email"], RESET_PASSWORD).status == 201
    again = api.call("POST", "/api/v1/recovery/password", {**reset, "secret_answer": "lille"})
    assert (again.status, again.error["code"]) == (410, "recovery_expired")


def test_the_captcha_test_answer_is_no_recovery_code(api: Api) -> None:
    # Issue 13, Low 5: CAPTCHA_TEST_ANSWER opened every challenge, the mailed code included.
    complete_first_login(api)
    started = ask(api, LUCAS["email"])
    run_queue(queue="security-mails")
    body = {"recovery_id": started["recovery_id"], "code": CAPTCHA}
    refused = api.call("POST", "/api/v1/recovery/code", body)
    assert refused.status == 400 and "code" in refused.error["fields"]
    code = mailed(LUCAS["email"], r"Votre code : (\d{8})")
    right = api.call("POST", "/api/v1/recovery/code", {**body, "code": code})
    assert right.status == 200, right.body


def test_answers_are_throttled_like_logins(api: Api) -> None:
    complete_first_login(api)
    started = ask(api, LUCAS["email"])
    run_queue(queue="security-mails")
    code = mailed(LUCAS["email"], r"Votre code : (\d{8})")
    reset_id = api.call(
        "POST", "/api/v1/recovery/code", {"recovery_id": started["recovery_id"], "code": code}
    ).json["reset_id"]
    for _ in range(5):
        api.log_in(LUCAS["email"], "mauvais mot de passe")
    body = {
        "reset_id": reset_id,
        "secret_answer": "Lille",
        "new_password": RESET_PASSWORD,
        "confirmation": RESET_PASSWORD,
    }
    blocked = api.call("POST", "/api/v1/recovery/password", body)
    assert (blocked.status, blocked.error["code"]) == (429, "too_many_attempts")
    assert int(blocked.headers["Retry-After"]) > 0


def test_a_mobile_app_reads_and_changes_the_account(api: Api) -> None:
    token = complete_first_login(api)
    assert api.call("GET", "/api/v1/me/account").status == 401
    account = api.call("GET", "/api/v1/me/account", token=token).json
    assert account == {
        "email": LUCAS["email"],
        "family_name": "Petit",
        "given_names": "Lucas",
        "birth_date": "03/02/1998",
        "phone": None,
        "secret_question": "Ville de naissance ?",
        "has_password": True,
        "email_delivery": {"status": "ok", "since": None, "title": None, "message": None},
    }
    bad = api.call("PUT", "/api/v1/me/phone", {"phone": "12"}, token)
    assert (bad.status, list(bad.error["fields"])) == (400, ["phone"])
    phone = api.call("PUT", "/api/v1/me/phone", {"phone": "06 12 34 56 78"}, token)
    assert phone.json == {"phone": "+33612345678"}

    question = {"password": NEW_PASSWORD, "question": "Mon chien ?", "answer": ""}
    # The service names the new answer « new_secret_answer »: the API's field is « answer ».
    empty = api.call("POST", "/api/v1/me/secret-question", question, token)
    assert (empty.status, list(empty.error["fields"])) == (400, ["answer"])
    question["answer"] = "Rex"
    assert api.call("POST", "/api/v1/me/secret-question", question, token).status == 200
    assert mails_to(LUCAS["email"])[-1][0] == "Votre question secrète a été modifiée"

    change = {
        "secret_answer": "rex",
        "new_password": RESET_PASSWORD,
        "confirmation": RESET_PASSWORD,
    }
    # ASVS 2.1.6: the secret answer alone no longer changes the password.
    without = api.call("POST", "/api/v1/me/password", change, token)
    assert without.error["fields"] == {"password": "Saisissez votre mot de passe actuel."}
    wrong = api.call("POST", "/api/v1/me/password", {**change, "password": "faux"}, token)
    assert wrong.error["fields"] == {"password": "Le mot de passe est incorrect."}
    changed = api.call("POST", "/api/v1/me/password", {**change, "password": NEW_PASSWORD}, token)
    assert changed.status == 200, changed.body
    assert mails_to(LUCAS["email"])[-1][0] == "Votre mot de passe a été modifié"

    email = {"new_email": NEW_EMAIL, "email_confirmation": NEW_EMAIL, "password": "faux"}
    wrong = api.call("POST", "/api/v1/me/email-change", email, token)
    assert wrong.error["fields"] == {"password": "Le mot de passe est incorrect."}
    email["password"] = RESET_PASSWORD
    assert api.call("POST", "/api/v1/me/email-change", email, token).status == 202
    link_token = mailed(NEW_EMAIL, r"jeton=(\S+)")
    confirmed = api.call("POST", "/api/v1/email-change/confirmation", {"token": link_token}, token)
    assert confirmed.status == 200
    assert api.call("GET", "/api/v1/me/account", token=token).json["email"] == NEW_EMAIL
    reused = api.call("POST", "/api/v1/email-change/confirmation", {"token": link_token})
    assert (reused.status, reused.error["code"]) == (400, "email_change_refused")
    assert get_container().accounts.find_by_email(LUCAS["email"]) is None
