"""Retention under moto, through the real routes, queues and schedule, with a controlled clock:
an account closed by its owner (web and API), an inactive account warned then closed and one
that logs in between and is kept, a dossier withdrawn by a funder file, an expired PDF. After
each, every table and bucket is searched for the person: only what the « Données personnelles »
page says is kept may still name them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import boto3
import pytest

import chalicelib.container as container_module
from chalicelib.container import get_container, reset_container
from chalicelib.services.accounts.retention import (
    INACTIVITY_NOTICE,
    INACTIVITY_PERIOD,
)
from chalicelib.store.models import AccountItem, DossierItem
from local.demo import READY
from local.resources import load_template
from tests.conftest import TEST_ENVIRONMENT
from tests.integration.conftest import mails_to
from tests.integration.test_accounts_web import LUCAS, complete_first_login, log_in, sign_up
from tests.integration.test_funder_dashboard import recount, shown
from tests.support.api import Api
from tests.support.aws import drop, run_queue
from tests.support.fakes import FakeClock
from tests.support.messages import answer, claire, start_thread
from tests.support.residue import DOCUMENTS_MARK, personal_residue
from tests.support.web import WebClient

PREFIX = "portail-stagiaire-test-"
EXCHANGE = TEST_ENVIRONMENT["EXCHANGE_BUCKET"]
DOCUMENTS = TEST_ENVIRONMENT["DOCUMENTS_BUCKET"]
CAMILLE_IDF, CAMILLE_HDF = "IDF-2017-000123", "HDF-2026-000042"
CAMILLE = (READY.email, "Camille", "MARTIN", CAMILLE_IDF, CAMILLE_HDF)
PDF_PAGE = "/formations/paiement/pdf?financeur=region-idf&reference=IDF-P-2017-0001"
# What the page says outlives an account: the funder's dossiers, their recorded changes, their
# payments and messages (with the dossier), the funder's own files and reports (exchange bucket).
KEPT_WITH_THE_FUNDER = {
    f"{PREFIX}dossiers",
    f"{PREFIX}dossier-changes",
    f"{PREFIX}payments",
    f"{PREFIX}messages",
    EXCHANGE,
}
DOSSIER_HEADER = (
    "numero_dossier;nom;prenoms;date_naissance;courriel;code_formation;intitule_formation;"
    "date_debut;date_fin;siret_organisme;nom_organisme;courriel_organisme;taux_mensuel;"
    "date_decision;statut\n"
)


def account_id_of(email: str) -> str:
    account = get_container().accounts.find_by_email(email)
    assert account is not None
    return account.account_id


def assert_only_the_kept_data_names(account_id: str, *needles: str) -> None:
    residue = personal_residue(*needles, account_id)
    elsewhere = {
        place: found for place, found in residue.items() if place not in KEPT_WITH_THE_FUNDER
    }
    # The audit trail keeps its year of events under the account's random id, and nothing else.
    assert elsewhere == {f"{PREFIX}audit": {account_id}}
    kept = set().union(*(residue.get(place, set()) for place in KEPT_WITH_THE_FUNDER))
    assert account_id not in kept


def make_pdf(web: WebClient) -> None:
    assert web.get(PDF_PAGE).status == 303
    assert boto3.client("s3").list_objects_v2(Bucket=DOCUMENTS)["KeyCount"] == 1


# « Fermer mon compte » ---------------------------------------------------------------------


def test_the_owner_closes_the_account_and_only_the_funders_data_remains(
    messages_on: WebClient,
) -> None:
    camille = messages_on
    account_id = account_id_of(READY.email)
    thread = start_thread(camille)
    staff = claire(camille)
    answer(staff, "/organisme/messages/fil", thread, "Voici votre attestation.")
    make_pdf(camille)
    before = personal_residue(*CAMILLE, account_id)
    # The search sees the account where it lives: what must go is there before the closure.
    for place in ("accounts", "sessions", "terms", "messages"):
        assert account_id in before[f"{PREFIX}{place}"], place
    assert READY.email in before[f"{PREFIX}accounts"] and DOCUMENTS_MARK in before[DOCUMENTS]

    form = camille.get("/compte/fermeture")
    assert "Mes données" in form.text and "Ce qui restera" in form.text
    unconfirmed = camille.post(
        "/compte/fermeture", {"csrf": form.hidden("csrf"), "password": READY.password}
    )
    assert "Cochez la case pour confirmer" in unconfirmed.text
    refused = camille.post(
        "/compte/fermeture",
        {"csrf": form.hidden("csrf"), "password": "pas-le-bon", "closing": "oui"},
    )
    assert "Le mot de passe est incorrect." in refused.text
    page = camille.post(
        "/compte/fermeture",
        {"csrf": form.hidden("csrf"), "password": READY.password, "closing": "oui"},
    )
    assert page.location == "/?message=compte-ferme"
    assert "Votre compte est fermé" in camille.follow(page).text
    assert camille.get("/formations").status != 200
    assert mails_to(READY.email)[-1][0] == "Votre compte du Portail stagiaire est fermé"

    assert_only_the_kept_data_names(account_id, *CAMILLE)
    assert DOCUMENTS_MARK not in personal_residue(DOCUMENTS_MARK).get(DOCUMENTS, set())

    # The organisation still reads the thread, under the dossier, and cannot answer any more.
    seen = staff.get(f"/organisme/messages/fil?id={thread}").text
    assert "Bonjour" in seen and "Ce stagiaire a fermé son compte du portail" in seen
    refused_reply = answer(staff, "/organisme/messages/fil", thread, "Vous êtes là ?")
    # A form kept open from before the closure is refused, and the page says why.
    assert refused_reply.status == 400 and "Ce stagiaire a fermé son compte" in refused_reply.text
    assert get_container().messages.repository.thread_with_messages(thread)[1][-1].text == (
        "Voici votre attestation."
    )

    # The same person signs up again: the dossier is free to be claimed.
    status, _ = sign_up(
        WebClient(camille.client, source_ip="192.0.2.40"),
        family_name="Martin",
        given_names="Camille",
        birth_date="14/05/1990",
        dossier_number=CAMILLE_IDF,
        email=READY.email,
        email_confirmation=READY.email,
    )
    assert status == 303
    new_owner = DossierItem.get("region-idf", CAMILLE_IDF).account_id
    assert new_owner and new_owner != account_id


def test_the_api_closes_the_account_with_the_password(demo_data: WebClient) -> None:
    api = Api(demo_data.client)
    opened = api.log_in(READY.email, READY.password)
    assert opened.status == 201, opened.body
    token = opened.json["token"]
    account_id = account_id_of(READY.email)
    wrong = api.call("POST", "/api/v1/me/close", {"password": "faux"}, token=token)
    assert wrong.status == 400 and wrong.error["fields"] == {
        "password": "Le mot de passe est incorrect."
    }
    done = api.call("POST", "/api/v1/me/close", {"password": READY.password}, token=token)
    assert done.status == 200, done.body
    assert api.call("GET", "/api/v1/me", token=token).status == 401
    assert_only_the_kept_data_names(account_id, *CAMILLE)


# Inactive accounts -------------------------------------------------------------------------


@pytest.fixture
def clock(portal: WebClient) -> Iterator[FakeClock]:
    """Every service's clock (container.now), settable; the container is rebuilt around it."""
    fake = FakeClock(datetime.now(UTC))
    original = container_module.now
    container_module.now = fake
    reset_container()
    yield fake
    container_module.now = original
    reset_container()


def run_schedule(web: WebClient) -> None:
    client = web.client
    event = client.events.generate_cw_event(
        source="aws.events", detail_type="Scheduled Event", detail={}, resources=[]
    )
    client.lambda_.invoke("retention", event)


def lucas_signed_up(portal: WebClient) -> WebClient:
    lucas = WebClient(portal.client, source_ip="192.0.2.30")
    assert sign_up(lucas)[0] == 303
    complete_first_login(lucas)
    make_pdf_for_lucas = lucas.get("/formations")
    assert make_pdf_for_lucas.status == 200
    return lucas


def test_an_inactive_account_is_warned_then_closed(portal: WebClient, clock: FakeClock) -> None:
    lucas = lucas_signed_up(portal)
    account_id = account_id_of(LUCAS["email"])
    start = clock.now
    clock.set(start + INACTIVITY_PERIOD - timedelta(days=1))
    run_schedule(lucas)
    assert not any("va être fermé" in subject for subject, _ in mails_to(LUCAS["email"]))

    clock.set(start + INACTIVITY_PERIOD)
    run_schedule(lucas)
    subject, text = mails_to(LUCAS["email"])[-1]
    assert subject == "Votre compte du Portail stagiaire va être fermé"
    closing_on = (start + INACTIVITY_PERIOD + INACTIVITY_NOTICE).strftime("%d/%m/%Y")
    assert f"sera fermé le {closing_on}" in text
    assert AccountItem.get(account_id).inactivity_warned

    clock.advance(days=30)
    run_schedule(lucas)
    assert mails_to(LUCAS["email"])[-1][0] == "Votre compte du Portail stagiaire est fermé"
    assert_only_the_kept_data_names(
        account_id, LUCAS["email"], "Lucas", "PETIT", LUCAS["dossier_number"]
    )


def test_an_account_that_logs_in_after_the_warning_is_kept(
    portal: WebClient, clock: FakeClock
) -> None:
    lucas = lucas_signed_up(portal)
    account_id = account_id_of(LUCAS["email"])
    start = clock.now
    clock.set(start + INACTIVITY_PERIOD)
    run_schedule(lucas)
    assert AccountItem.get(account_id).inactivity_warned

    clock.advance(days=12)
    assert log_in(lucas, LUCAS["email"], "Formation-Cuisine-2026").location == "/formations"
    item = AccountItem.get(account_id)
    assert not item.inactivity_warned
    assert item.inactivity_due == (clock.now + INACTIVITY_PERIOD).date().isoformat()

    clock.advance(days=18)
    run_schedule(lucas)
    assert AccountItem.get(account_id).email == LUCAS["email"]
    assert mails_to(LUCAS["email"])[-1][0] != "Votre compte du Portail stagiaire est fermé"


def test_the_job_reads_the_days_index_and_never_scans(portal: WebClient) -> None:
    from tests.support.aws import count_dynamodb_requests

    with count_dynamodb_requests() as first:
        run_schedule(portal)
    # The first run of a funder reads every month of training ends since 2000 (its backlog)…
    assert first["Scan"] == 0
    with count_dynamodb_requests() as counts:
        run_schedule(portal)
    # …the next ones the inactivity days (today and the 7 days before) and the funders' list;
    # no new month of training ends.
    assert counts["Scan"] == 0 and counts["Query"] == 8 + 1


# A funder withdraws a dossier -------------------------------------------------------------


def test_a_funder_file_withdraws_a_dossier_and_the_account_keeps_its_other_training(
    messages_on: WebClient,
) -> None:
    camille = messages_on
    account_id = account_id_of(READY.email)
    start_thread(camille)
    make_pdf(camille)
    line = f"{CAMILLE_IDF};;;;;;;;;;;;;;supprime\n"
    board = shown("region-idf")
    drop("region-idf", "dossiers_retrait.csv", (DOSSIER_HEADER + line).encode())
    run_queue()
    # The funder's dashboard loses the dossier, its link and its activation, once.
    assert_dashboard_state_matches_a_recount("region-idf", board, -1)

    report = get_container().exchange.read("reports/region-idf/dossiers_retrait.csv.report.csv")
    assert "Dossiers retirés du portail;;;1" in report.decode("utf-8-sig")
    subject, text = mails_to(READY.email)[-1]
    assert subject == "Un dossier a été retiré de votre compte"
    assert "Développeur web et web mobile" in text
    trainings = camille.get("/formations")
    assert trainings.status == 200 and "Comptable assistant" in trainings.text
    assert "Développeur web" not in trainings.text

    residue = personal_residue(CAMILLE_IDF, DOCUMENTS_MARK)
    # Only the funder's own files (its exchange prefix, 180 days) still name the dossier.
    assert residue == {EXCHANGE: {CAMILLE_IDF}}

    # Sent again (a retry, or a mistake): nothing left to withdraw, said in the report.
    drop("region-idf", "dossiers_retrait-2.csv", (DOSSIER_HEADER + line).encode())
    run_queue()
    again = get_container().exchange.read("reports/region-idf/dossiers_retrait-2.csv.report.csv")
    assert "déjà retiré" in again.decode("utf-8-sig")
    assert_dashboard_state_matches_a_recount("region-idf", board, -1)
    assert get_container().accounts.get(account_id) is not None


def assert_dashboard_state_matches_a_recount(
    funder_code: str, before: dict[str, int], change: int
) -> None:
    """The dashboard's dossiers, links and activations moved by `change` and match a recount.
    (Payment mails sent and bounced are the funder's history: a purge does not take them back.)"""
    now, counted = shown(funder_code), recount(funder_code)
    for key in ("dossiers", "linked_accounts", "activated_accounts"):
        assert now[key] == before[key] + change == counted[key], key


# Generated PDFs expire -----------------------------------------------------------------------


def test_the_documents_bucket_expires_generated_pdfs_and_captcha_sounds() -> None:
    from chalicelib.services.security.captcha import AUDIO_PREFIX

    bucket = load_template()["Resources"]["DocumentsBucket"]["Properties"]
    rules = {rule["Id"]: rule for rule in bucket["LifecycleConfiguration"]["Rules"]}
    assert rules["expire-generated-pdfs"] == {
        "Id": "expire-generated-pdfs",
        "Status": "Enabled",
        "Prefix": "pdf/",
        "ExpirationInDays": 30,
    }
    # The spoken captcha codes (services/security/captcha.py): a day, the shortest a rule says.
    assert rules["expire-captcha-sounds"] == {
        "Id": "expire-captcha-sounds",
        "Status": "Enabled",
        "Prefix": AUDIO_PREFIX,
        "ExpirationInDays": 1,
    }


def test_an_expired_pdf_is_made_again_on_the_next_request(demo_data: WebClient) -> None:
    camille = demo_data
    assert log_in(camille, READY.email, READY.password).location == "/formations"
    make_pdf(camille)
    s3 = boto3.client("s3")
    [kept] = s3.list_objects_v2(Bucket=DOCUMENTS)["Contents"]
    # What the lifecycle rule does after 30 days (moto does not run lifecycle rules).
    s3.delete_object(Bucket=DOCUMENTS, Key=kept["Key"])
    assert personal_residue(DOCUMENTS_MARK) == {}

    assert camille.get(PDF_PAGE).status == 303
    [made_again] = s3.list_objects_v2(Bucket=DOCUMENTS)["Contents"]
    assert made_again["Key"] == kept["Key"]


# Dossiers past their funder's retention period ---------------------------------------------


def test_the_daily_run_purges_the_dossiers_past_their_funders_period(demo_data: WebClient) -> None:
    from chalicelib import admin

    camille = demo_data
    account_id = account_id_of(READY.email)
    assert log_in(camille, READY.email, READY.password).location == "/formations"
    make_pdf(camille)
    # Camille's training of the guide ended in June 2018: kept while the period covers it…
    assert (
        admin.main(["--stage", "test", "funder", "set", "region-idf", "--retention-years", "9"])
        == 0
    )
    run_schedule(camille)
    assert DossierItem.count("region-idf", DossierItem.dossier_number == CAMILLE_IDF) == 1

    # …and gone once a shorter period no longer does, with its payments, PDFs and messages.
    assert (
        admin.main(["--stage", "test", "funder", "set", "region-idf", "--retention-years", "8"])
        == 0
    )
    board = shown("region-idf")
    run_schedule(camille)
    assert_dashboard_state_matches_a_recount("region-idf", board, -1)
    assert personal_residue(CAMILLE_IDF, DOCUMENTS_MARK) == {
        EXCHANGE: {CAMILLE_IDF}  # the funder's own files, kept 180 days by the bucket's rules
    }
    trainings = camille.get("/formations")
    assert "Comptable assistant" in trainings.text and "Développeur web" not in trainings.text
    assert get_container().accounts.get(account_id) is not None


def test_the_personal_data_page_states_each_period_and_each_funders(portal: WebClient) -> None:
    from chalicelib import admin

    assert (
        admin.main(["--stage", "test", "funder", "set", "region-idf", "--retention-years", "7"])
        == 0
    )
    get_container().trainings._funder_cache = None
    text = portal.get("/donnees-personnelles").text
    for stated in (
        "après 3 ans sans connexion",
        "dans les 30 jours qui suivent",
        "Jusqu’à 5 ans après la fin de la formation",
        "Région Île-de-France : 7 ans",
        "30 jours après leur préparation",
        "1 an",
        "180 jours pour les fichiers",
        "Fermer mon compte",
    ):
        assert stated in text, stated


def test_a_login_wins_over_a_job_that_read_the_account_before_it(portal: WebClient) -> None:
    """The store's conditions, under moto: the warning and the closure apply only to the due day
    the job read; a login in between moves it, and both give up."""
    from datetime import date

    from chalicelib.store.erasure import DynamoErasureStore

    lucas = lucas_signed_up(portal)
    accounts = get_container().accounts
    account = accounts.find_by_email(LUCAS["email"])
    assert account is not None and account.inactivity_due is not None
    due = account.inactivity_due
    closing_on = due + INACTIVITY_NOTICE

    accounts.record_login(account.account_id, due + timedelta(days=1))  # a login, meanwhile
    assert not accounts.mark_warned(account.account_id, due, closing_on)

    accounts.record_login(account.account_id, due)
    assert accounts.mark_warned(account.account_id, due, closing_on)
    assert not accounts.mark_warned(account.account_id, due, closing_on)  # once only
    warned = accounts.get(account.account_id)
    assert warned is not None and warned.inactivity_warned
    assert accounts.due_on(closing_on) == [account.account_id]
    assert accounts.due_on(due) == []

    accounts.record_login(account.account_id, date(2099, 1, 1))  # the person logs in again
    assert not DynamoErasureStore().delete_account(warned, inactivity_due=closing_on)
    assert accounts.get(account.account_id) is not None
    assert log_in(lucas, LUCAS["email"], "Formation-Cuisine-2026").location == "/formations"
