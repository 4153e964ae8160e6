"""The accounts journeys through the JSON API for mobile apps, on the real Chalice routing and moto:
the same services, rules and French messages as the browser (test_accounts_web.py)."""

from __future__ import annotations

import base64

import pytest

from chalicelib.api.accounts import SIGNUP_DONE
from chalicelib.container import get_container
from tests.integration.conftest import mails_to
from tests.support.api import (
    INES,
    LUCAS,
    NEW_PASSWORD,
    Api,
    complete_first_login,
    temporary_password,
)
from tests.support.web import WebClient


@pytest.fixture
def api(portal: WebClient) -> Api:
    return Api(portal.client)


def test_the_whole_journey_from_signup_to_logout(api: Api) -> None:
    captcha = api.call("POST", "/api/v1/captcha")
    assert captcha.status == 201
    captcha_id = captcha.json["captcha_id"]
    assert set(captcha.json) == {"captcha_id", "image_url", "audio_url", "expires_in"}
    assert captcha.json["expires_in"] == 600
    # Nothing binary goes through API Gateway (D9): the image inline, the sound behind a page of
    # the portal that redirects to a presigned link (tests/integration/test_captcha_audio.py).
    image = captcha.json["image_url"].removeprefix("data:image/png;base64,")
    assert base64.b64decode(image, validate=True).startswith(b"\x89PNG")
    base_url = get_container().settings.public_base_url
    assert captcha.json["audio_url"].startswith(f"{base_url}/code-de-securite/{captcha_id}/")

    signup = api.sign_up(captcha_id)
    assert (signup.status, signup.json) == (202, {"message": SIGNUP_DONE})
    password = temporary_password(LUCAS["email"])
    login = api.log_in(LUCAS["email"], password)
    assert login.status == 201
    token = login.json["token"]
    assert login.json == {
        "token": token,
        "token_type": "Bearer",
        "expires_in": 1800,
        "pending_step": "password",
    }
    me = api.call("GET", "/api/v1/me", token=token)
    assert (me.status, me.json["pending_step"]) == (200, "password")

    # Out of order: refused, and told which step comes first.
    early = api.call("POST", "/api/v1/me/terms-acceptance", {"version": "1"}, token)
    assert (early.status, early.error["code"], early.error["step"]) == (
        403,
        "step_required",
        "password",
    )
    assert "mot de passe personnel" in early.error["message"]
    early = api.call("POST", "/api/v1/me/first-login/secret-question", {}, token)
    assert (early.status, early.error["step"]) == (403, "password")

    weak = {
        "old_password": password,
        "new_password": "azerty123456",
        "confirmation": "azerty123456",
    }
    answer = api.call("POST", "/api/v1/me/first-login/password", weak, token)
    assert (answer.status, answer.error["code"]) == (400, "validation_failed")
    assert set(answer.error["fields"]) == {"new_password"}
    step = {"old_password": password, "new_password": NEW_PASSWORD, "confirmation": NEW_PASSWORD}
    answer = api.call("POST", "/api/v1/me/first-login/password", step, token)
    assert (answer.status, answer.json) == (200, {"pending_step": "secret-question"})
    again = api.call("POST", "/api/v1/me/first-login/password", step, token)
    assert (again.status, again.error["step"]) == (403, "secret-question")

    secret = {"question": "Ville de naissance ?", "answer": "Lille"}
    answer = api.call("POST", "/api/v1/me/first-login/secret-question", secret, token)
    assert (answer.status, answer.json) == (200, {"pending_step": "terms"})

    terms = api.call("GET", "/api/v1/terms/current")  # public: no token
    assert terms.status == 200 and terms.json["version"] == "1" and terms.json["text"]
    answer = api.call("POST", "/api/v1/me/terms-acceptance", {"version": "1"}, token)
    assert answer.status == 200 and answer.json["pending_step"] is None
    new_token = answer.json["token"]
    assert new_token != token  # the end of the first login is a privilege change
    assert api.call("GET", "/api/v1/me", token=token).status == 401

    me = api.call("GET", "/api/v1/me", token=new_token)
    assert (me.status, me.json) == (
        200,
        {
            "email": LUCAS["email"],
            "family_name": "Petit",
            "given_names": "Lucas",
            "birth_date": "03/02/1998",
            "pending_step": None,
        },
    )
    done = api.call("POST", "/api/v1/me/first-login/password", step, new_token)
    assert (done.status, done.error["code"]) == (409, "step_not_pending")
    account = get_container().accounts.find_by_email(LUCAS["email"])
    acceptances = get_container().terms.repository.acceptances(account.account_id)
    assert [acceptance.version for acceptance in acceptances] == ["1"]

    logout = api.call("DELETE", "/api/v1/sessions/current", token=new_token)
    assert (logout.status, logout.body) == (204, b"")
    refused = api.call("GET", "/api/v1/me", token=new_token)
    assert (refused.status, refused.error["code"]) == (401, "not_authenticated")
    assert 'error="invalid_token"' in refused.headers["WWW-Authenticate"]
    assert api.call("DELETE", "/api/v1/sessions/current", token=new_token).status == 401
    # The temporary password served once; the personal one opens the account.
    assert api.log_in(LUCAS["email"], password).status == 401
    assert api.log_in(LUCAS["email"], NEW_PASSWORD).json["pending_step"] is None


def test_no_answer_tells_whether_an_address_has_an_account(api: Api) -> None:
    first = api.sign_up()
    known = api.sign_up(**INES)  # Lucas's address, another person's dossier
    unknown = api.sign_up(**INES, email="ines@example.fr", email_confirmation="ines@example.fr")
    assert (
        (first.status, first.body) == (known.status, known.body) == (unknown.status, unknown.body)
    )
    assert len(mails_to(LUCAS["email"])) == 2
    assert "Mot de passe provisoire" not in mails_to(LUCAS["email"])[1][1]

    wrong_password = api.log_in(LUCAS["email"], "mauvais mot de passe")
    unknown_address = api.log_in("personne@example.fr", "mauvais mot de passe")
    assert wrong_password.status == unknown_address.status == 401
    assert wrong_password.body == unknown_address.body
    assert wrong_password.json == {
        "error": {
            "code": "invalid_credentials",
            "message": "Adresse mail ou mot de passe incorrect.",
        }
    }


def test_field_errors_are_french_and_keyed_by_field(api: Api) -> None:
    answer = api.sign_up(
        birth_date="3 février 1998", email_confirmation="autre@example.fr", terms_accepted=False
    )
    assert answer.status == 400
    assert answer.error["code"] == "validation_failed"
    assert answer.error["message"].startswith("Certaines informations sont à corriger")
    assert answer.error["fields"] == {
        "birth_date": (
            "Saisissez votre date de naissance au format JJ/MM/AAAA, par exemple 14/05/1990."
        ),
        "email_confirmation": "La confirmation doit être identique à l'adresse mail.",
        "terms_accepted": (
            "Vous devez accepter les conditions d'utilisation pour créer votre compte."
        ),
    }
    wrong_identity = api.sign_up(given_names="Louis")
    assert (
        "Nous ne trouvons pas ce numéro de dossier"
        in wrong_identity.error["fields"]["dossier_number"]
    )
    assert get_container().accounts.find_by_email(LUCAS["email"]) is None
    assert mails_to(LUCAS["email"]) == []
    unknown_funder = api.call("POST", "/api/v1/funders/inconnu/signup", {**LUCAS})
    assert (unknown_funder.status, unknown_funder.error["code"]) == (404, "funder_not_found")


def test_a_captcha_serves_once(api: Api) -> None:
    captcha_id = api.captcha()
    assert api.sign_up(captcha_id).status == 202
    reused = api.sign_up(
        captcha_id, **INES, email="ines@example.fr", email_confirmation="ines@example.fr"
    )
    assert reused.status == 400
    assert set(reused.error["fields"]) == {"captcha_answer"}
    assert "Le code recopié ne correspond pas" in reused.error["fields"]["captcha_answer"]
    made_up = api.sign_up(
        "0" * 64, **INES, email="ines@example.fr", email_confirmation="ines@example.fr"
    )
    assert set(made_up.error["fields"]) == {"captcha_answer"}
    assert mails_to("ines@example.fr") == []


def test_five_failures_then_growing_delays(api: Api) -> None:
    api.sign_up()
    password = temporary_password(LUCAS["email"])
    for address in (LUCAS["email"], "personne@example.fr"):
        for _ in range(5):
            assert api.log_in(address, "mauvais mot de passe").status == 401
        blocked = api.log_in(address, password)
        assert (blocked.status, blocked.error["code"]) == (429, "too_many_attempts")
        assert "Trop de tentatives de connexion avec cette adresse" in blocked.error["message"]
        assert 0 < int(blocked.headers["Retry-After"]) <= 60


def test_signup_is_rate_limited_per_client_address(api: Api) -> None:
    answers = [api.sign_up("inconnu", given_names="Louis") for _ in range(11)]
    assert [answer.status for answer in answers] == [400] * 10 + [429]
    assert answers[-1].error == {
        "code": "rate_limited",
        "message": "Trop de demandes depuis votre connexion. Réessayez dans une heure.",
    }


def test_a_new_cgu_version_must_be_accepted_through_the_api(api: Api) -> None:
    token = complete_first_login(api)
    get_container().terms.publish("2", "# Nouveautés\n\nLa version 2.")
    get_container().terms._cached = None
    assert api.call("GET", "/api/v1/me", token=token).json["pending_step"] == "terms"
    stale = api.call("POST", "/api/v1/me/terms-acceptance", {"version": "1"}, token)
    assert (stale.status, set(stale.error["fields"])) == (400, {"version"})
    answer = api.call("POST", "/api/v1/me/terms-acceptance", {"version": "2"}, token)
    assert (answer.status, answer.json) == (200, {"pending_step": None})
