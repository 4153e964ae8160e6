"""FranceConnect through the real Chalice routing, on moto, with the fake provider over HTTP:
sign-up as Angela DUBOIS, the link of an existing account, errors, logout, unlink."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest

from chalicelib.container import get_container
from chalicelib.services.accounts.model import Account
from chalicelib.services.funders.model import Funder, save_funder
from chalicelib.store.accounts import DynamoAccountRepository
from chalicelib.store.models import DossierItem
from chalicelib.web.rendering import render
from local.fake_franceconnect import (
    LOCAL_CLIENT_ID,
    LOCAL_CLIENT_SECRET,
    FakeFranceConnect,
    Fault,
    portal_client,
)
from tests.conftest import TEST_ENVIRONMENT
from tests.integration.conftest import mails_to
from tests.integration.test_accounts_web import (
    NEW_PASSWORD,
    finish_first_login_steps,
    log_in,
    sign_up,
    temporary_password,
)
from tests.integration.test_removal_link_race import withdrawal
from tests.support.franceconnect import choose_identity, fetch, path_of
from tests.support.web import Page, WebClient

PORTAL = TEST_ENVIRONMENT["PUBLIC_BASE_URL"]
ANGELA_MAIL = "angela.dubois@example.fr"
ANGELA_DOSSIER = ("region-idf", "IDF-2026-000456")


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeFranceConnect]:
    with FakeFranceConnect([portal_client(PORTAL)]) as running:
        yield running


@pytest.fixture
def franceconnect_settings(
    fake: FakeFranceConnect, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    monkeypatch.setenv("FRANCECONNECT_BASE_URL", fake.url)
    monkeypatch.setenv("FRANCECONNECT_CLIENT_ID", LOCAL_CLIENT_ID)
    monkeypatch.setenv("FRANCECONNECT_CLIENT_SECRET", LOCAL_CLIENT_SECRET)
    yield
    fake.clear_faults()


@pytest.fixture
def web(franceconnect_settings: None, portal: WebClient) -> WebClient:
    """The portal of Région Île-de-France, which enables FranceConnect."""
    save_funder(
        get_container().funders,
        Funder("region-idf", "Région Île-de-France", franceconnect_enabled=True),
    )
    return portal


def franceconnect(web: WebClient, identity: str | None = "angela") -> Page:
    """Click the button, pick `identity` at the provider (None: « Annuler »), come back."""
    start = web.get("/region-idf/franceconnect")
    assert start.status == 303, start.body
    return web.get(path_of(choose_identity(start.location, identity)))


def complete_franceconnect_signup(web: WebClient) -> None:
    page = franceconnect(web)
    assert page.location == "/premiere-connexion/question-secrete"
    step = web.get(page.location)
    page = web.post(
        page.location,
        {"csrf": step.hidden("csrf"), "question": "Ville de naissance ?", "answer": "Paris"},
    )
    assert page.location == "/cgu"
    step = web.get("/cgu")
    page = web.post("/cgu", {"csrf": step.hidden("csrf"), "version": step.hidden("version")})
    assert page.location == "/formations"


def log_out(web: WebClient) -> Page:
    trainings = web.get("/formations")
    return web.post("/deconnexion", {"csrf": trainings.hidden("csrf")})


def angela():
    account = get_container().accounts.find_by_email(ANGELA_MAIL)
    assert account is not None
    return account


def test_the_button_comes_first_then_ou_then_the_form(web):
    for path, form in (("/region-idf/", "connexion"), ("/region-idf/inscription", "inscription")):
        html = web.get(path).body
        button = html.index('<button class="fr-connect" type="submit">')
        assert button < html.index("Qu’est-ce que FranceConnect") < html.index("fr-hr-or")
        assert html.index("fr-hr-or") < html.index(f'action="/region-idf/{form}"')


def test_angela_signs_up_with_franceconnect_and_logs_out_through_it(web, fake):
    complete_franceconnect_signup(web)
    account = angela()
    assert account.franceconnect_sub and account.password_hash is None
    assert account.temporary_password_hash is None and mails_to(ANGELA_MAIL) == []
    assert (account.family_name, account.given_names) == ("DUBOIS", "Angela Claire Louise")
    assert DossierItem.get(*ANGELA_DOSSIER).account_id == account.account_id
    assert "Aide-soignant" in web.get("/formations").text

    ending = log_out(web)
    assert ending.status == 303
    assert ending.location.startswith(f"{fake.url}/api/v2/session/end?")
    query = {k: v[0] for k, v in parse_qs(urlsplit(ending.location).query).items()}
    assert set(query) == {"id_token_hint", "state", "post_logout_redirect_uri"}
    assert query["post_logout_redirect_uri"] == f"{PORTAL}/franceconnect/deconnecte"
    assert web.get("/formations").location == "/?message=connexion-requise"  # ended here already
    status, headers, _ = fetch(ending.location)
    assert status == 302 and fake.provider.ended_sessions[-1] == account.franceconnect_sub
    back = web.get(path_of(headers["Location"]))
    assert back.location == "/?message=deconnecte"

    again = franceconnect(web)  # the next time: the same account, straight to the portal
    assert again.location == "/formations"
    assert angela().account_id == account.account_id


def test_a_logout_return_with_another_state_is_not_confirmed(web):
    complete_franceconnect_signup(web)
    ending = log_out(web)
    query = parse_qs(urlsplit(ending.location).query)
    page = web.get(f"/franceconnect/deconnecte?state={'0' * 64}")
    assert page.status == 400
    assert "FranceConnect n’a pas confirmé la fin de votre session" in page.text
    assert query["state"][0] != "0" * 64


def test_a_replayed_callback_is_refused(web):
    start = web.get("/region-idf/franceconnect")
    callback = path_of(choose_identity(start.location, "angela"))
    assert web.get(callback).status == 303
    replayed = web.get(callback)
    assert replayed.status == 400
    assert "Demande de connexion expirée" in replayed.text


def test_a_callback_in_another_browser_is_refused(web):
    start = web.get("/region-idf/franceconnect")
    callback = path_of(choose_identity(start.location, "angela"))
    other = WebClient(web.client)
    page = other.get(callback)
    assert page.status == 400 and "commencée dans un autre navigateur" in page.text
    assert get_container().accounts.find_by_email(ANGELA_MAIL) is None


def test_the_captcha_test_answer_is_no_browser_secret(web):
    # Issue 13, Low 5: with CAPTCHA_TEST_ANSWER set, a flow cookie holding it let a callback URL
    # replayed in another browser sign in as Angela.
    from chalicelib.web.franceconnect import flow_cookie_name
    from tests.integration.conftest import CAPTCHA

    start = web.get("/region-idf/franceconnect")
    callback = path_of(choose_identity(start.location, "angela"))
    attacker = WebClient(web.client)
    attacker.cookies[flow_cookie_name()] = CAPTCHA
    page = attacker.get(callback)
    assert page.status == 400 and "commencée dans un autre navigateur" in page.text
    assert get_container().accounts.find_by_email(ANGELA_MAIL) is None


def test_cancel_at_franceconnect_offers_the_password_login(web):
    page = franceconnect(web, identity=None)
    assert page.status == 200
    assert "Connexion avec FranceConnect annulée" in page.text
    assert 'href="/region-idf/"' in page.body and "S’identifier avec un mot de passe" in page.text


def test_another_error_from_franceconnect_is_explained(web):
    start = web.get("/region-idf/franceconnect")
    state = parse_qs(urlsplit(start.location).query)["state"][0]
    page = web.get(f"/franceconnect/retour?error=server_error&state={state}")
    assert page.status == 502 and "La connexion avec FranceConnect n’a pas abouti" in page.text


def test_a_token_that_does_not_verify_logs_in_nobody(web, fake):
    fake.inject(Fault.BAD_SIGNATURE)
    page = franceconnect(web)
    assert page.status == 502
    assert "le portail n’a pas accepté la réponse de FranceConnect" in page.text
    assert get_container().accounts.find_by_email(ANGELA_MAIL) is None


def test_no_dossier_for_this_identity_says_so(web):
    page = franceconnect(web, "corse")
    assert page.status == 200
    assert "ce portail n’a pas encore de dossier à votre nom" in page.text
    assert 'href="/region-idf/inscription"' in page.body


def test_a_dossier_withdrawn_as_franceconnect_creates_the_account_says_there_is_none(web):
    """Angela's only dossier is withdrawn by the funder after her sign-up found it, before the
    account that links it is written: nothing is created, and she reads what anyone without a
    dossier here reads (was « La connexion n’a pas abouti »). Her next try answers the same."""
    original = DynamoAccountRepository.create
    withdrawn: list[bool] = []

    def create(self: DynamoAccountRepository, *arguments: Any, **options: Any) -> Any:
        if not withdrawn:
            withdrawn.append(True)
            withdrawal(ANGELA_DOSSIER[1])
        return original(self, *arguments, **options)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(DynamoAccountRepository, "create", create)
        page = franceconnect(web)
    assert withdrawn, "the interleaving was not forced"
    assert page.status == 200 and "ce portail n’a pas encore de dossier à votre nom" in page.text
    assert get_container().accounts.find_by_email(ANGELA_MAIL) is None
    again = franceconnect(web)
    assert again.status == 200 and "pas encore de dossier à votre nom" in again.text


def test_a_funder_without_franceconnect_has_no_route(franceconnect_settings, portal):
    assert portal.get("/region-idf/franceconnect").status == 404  # the fixture's default: off


def link_page(web: WebClient) -> Page:
    page = franceconnect(web)
    assert page.location == "/region-idf/franceconnect/associer"
    form = web.get(page.location)
    assert form.status == 200
    assert "Un compte du portail détient déjà votre dossier" in form.text
    return form


def angela_signs_up_with_a_password(web: WebClient) -> None:
    status, _ = sign_up(
        web,
        family_name="Dubois",
        given_names="Angela",
        birth_date="24/08/1962",
        dossier_number="IDF-2026-000456",
        email=ANGELA_MAIL,
        email_confirmation=ANGELA_MAIL,
    )
    assert status == 303
    password = temporary_password(ANGELA_MAIL)
    assert log_in(web, ANGELA_MAIL, password).location == "/premiere-connexion/mot-de-passe"
    finish_first_login_steps(web, password)
    log_out(web)


def test_an_existing_account_is_linked_after_one_password_login(web):
    angela_signs_up_with_a_password(web)
    form = link_page(web)
    assert angela().franceconnect_sub is None
    wrong = web.post(
        "/region-idf/franceconnect/associer",
        {"csrf": form.hidden("csrf"), "username": ANGELA_MAIL, "password": "pas le bon"},
    )
    assert wrong.status == 401 and "Adresse mail ou mot de passe incorrect." in wrong.text
    assert angela().franceconnect_sub is None

    linked = web.post(
        "/region-idf/franceconnect/associer",
        {"csrf": form.hidden("csrf"), "username": ANGELA_MAIL, "password": NEW_PASSWORD},
    )
    assert linked.location == "/formations"
    assert angela().franceconnect_sub
    assert mails_to(ANGELA_MAIL)[-1][0] == "FranceConnect est relié à votre compte"
    assert log_out(web).location.startswith("http://127.0.0.1:")  # a FranceConnect session
    assert franceconnect(web).location == "/formations"


def test_another_accounts_password_does_not_link(web):
    angela_signs_up_with_a_password(web)
    complete_lucas = sign_up(web)  # Lucas PETIT, who holds another dossier
    assert complete_lucas[0] == 303
    lucas_password = temporary_password("lucas.petit@example.fr")
    form = link_page(web)
    page = web.post(
        "/region-idf/franceconnect/associer",
        {
            "csrf": form.hidden("csrf"),
            "username": "lucas.petit@example.fr",
            "password": lucas_password,
        },
    )
    assert page.status == 401
    assert "Ce compte ne correspond pas à l’identité transmise par FranceConnect" in page.text
    assert angela().franceconnect_sub is None


def test_unlink_from_my_account(web):
    angela_signs_up_with_a_password(web)
    form = link_page(web)
    web.post(
        "/region-idf/franceconnect/associer",
        {"csrf": form.hidden("csrf"), "username": ANGELA_MAIL, "password": NEW_PASSWORD},
    )
    csrf = web.get("/formations").hidden("csrf")
    refused = web.post("/compte/franceconnect/dissocier", {"csrf": "pas-le-bon"})
    assert refused.location == "/compte" and angela().franceconnect_sub
    done = web.post("/compte/franceconnect/dissocier", {"csrf": csrf})
    assert done.location == "/compte?message=franceconnect-dissocie"
    assert angela().franceconnect_sub is None
    assert mails_to(ANGELA_MAIL)[-1][0] == "FranceConnect n'est plus relié à votre compte"
    log_out(web)
    assert franceconnect(web).location == "/region-idf/franceconnect/associer"  # asks again


def test_an_account_without_password_keeps_franceconnect(web):
    complete_franceconnect_signup(web)
    csrf = web.get("/formations").hidden("csrf")
    page = web.post("/compte/franceconnect/dissocier", {"csrf": csrf})
    assert page.status == 409
    assert "définissez d’abord un mot de passe" in page.text
    assert angela().franceconnect_sub


def test_outside_local_and_test_the_secret_comes_from_secrets_manager(aws, monkeypatch):
    # infra/template.yaml creates the secret (the emulator skips it: made here), the operators
    # put the real value in it.
    name = aws["FranceConnectSecretName"]
    boto3.client("secretsmanager").create_secret(Name=name, SecretString="du-coffre")
    monkeypatch.delenv("FRANCECONNECT_CLIENT_SECRET", raising=False)
    monkeypatch.setenv("FRANCECONNECT_SECRET_NAME", name)
    assert get_container().franceconnect_client_secret() == "du-coffre"


def test_the_my_account_fragment_shows_the_link_and_its_removal():
    base = Account("acc-1", ANGELA_MAIL, "DUBOIS", "Angela", None, datetime.now(UTC))
    unlinked = render("_franceconnect_link.html", account=base, csrf="jeton")
    assert "n’est pas relié à FranceConnect" in unlinked and "<form" not in unlinked
    linked = base.updated(franceconnect_sub="sub", password_hash="hash")
    html = render("_franceconnect_link.html", account=linked, csrf="jeton")
    assert 'action="/compte/franceconnect/dissocier"' in html
    assert 'name="csrf" value="jeton"' in html and "ne peuvent pas être modifiés" in html
    without_password = render(
        "_franceconnect_link.html", account=base.updated(franceconnect_sub="sub"), csrf="jeton"
    )
    assert (
        "<form" not in without_password and "définissez d’abord un mot de passe" in without_password
    )
