"""The funder's dashboard comes from counters kept at write time: after the demo data, and after
a journey that touches every counter (a trainee signs up and activates the account, a payments
file with a rejected line, its payment mail sent then bounced, an account closed), a recount of
the stored items gives the same figures; reading the dashboard costs two DynamoDB requests
whatever the funder's size."""

from __future__ import annotations

from datetime import UTC, datetime

from chalicelib.container import get_container
from chalicelib.services.accounts.proofs import Proof
from chalicelib.services.formatting import paris_month
from chalicelib.services.funders.activations import is_activated
from chalicelib.store.models import DossierItem, PaymentItem
from local.demo import DEMO_DIR, READY
from tests.integration.test_accounts_web import (
    LUCAS,
    complete_first_login,
    finish_first_login_steps,
    log_in,
    sign_up,
    temporary_password,
)
from tests.integration.test_mail_events import ses_publishes
from tests.integration.test_payment_mail_bounces import bounced_event
from tests.support.aws import count_dynamodb_requests, drop, run_queue, ses_send_requests
from tests.support.web import WebClient

FUNDERS = ("region-idf", "region-hdf")


def recount(funder_code: str) -> dict[str, int]:
    """What the counters should say, from the stored items (a test may Query a whole funder;
    the portal never does)."""
    container = get_container()
    dossiers = list(DossierItem.query(funder_code))
    payments = list(PaymentItem.query(funder_code))
    month = paris_month(datetime.now(UTC))
    files = [
        record
        for record in container.file_records.latest(funder_code, 1000)
        if paris_month(record.received_at) == month and record.finished
    ]
    accounts = {
        item.account_id: container.accounts.get(item.account_id)
        for item in dossiers
        if item.account_id
    }
    return {
        "files_this_month": len(files),
        "lines_rejected_this_month": sum(r.counts.get("lines_rejected", 0) for r in files),
        "dossiers": len(dossiers),
        "linked_accounts": len([item for item in dossiers if item.account_id]),
        "activated_accounts": sum(
            1
            for item in dossiers
            if item.account_id
            and accounts[item.account_id] is not None
            and is_activated(accounts[item.account_id])  # type: ignore[arg-type]
        ),
        "payment_mails": sum(1 for item in payments if item.notified),
        "payment_mails_bounced": sum(1 for item in payments if item.notice_bounced_at),
    }


def shown(funder_code: str) -> dict[str, int]:
    board = get_container().funder_dashboard.read(funder_code)
    return {
        "files_this_month": board.files_this_month,
        "lines_rejected_this_month": board.lines_rejected_this_month,
        "dossiers": board.dossiers,
        "linked_accounts": board.linked_accounts,
        "activated_accounts": board.activated_accounts,
        "payment_mails": board.payment_mails_sent,
        "payment_mails_bounced": board.payment_mails_bounced,
    }


def assert_counters_match() -> None:
    for funder_code in FUNDERS:
        assert shown(funder_code) == recount(funder_code), funder_code


def test_the_counters_match_a_recount_after_the_demo_data(demo_data: WebClient) -> None:
    run_queue(queue="notifications")
    assert_counters_match()
    # The demo's ready account is activated and its dossiers linked, at both funders.
    for funder_code in FUNDERS:
        expected = recount(funder_code)
        assert expected["dossiers"] > 0 and expected["files_this_month"] >= 1
        assert expected["activated_accounts"] >= 1, funder_code


PAYMENTS = (
    "numero_dossier;reference_paiement;date_mise_en_paiement;periode_debut;periode_fin;element;"
    "libelle;taux;jours;diviseur;montant\n"
    "IDF-2026-000789;IDF-P-DASH-1;04/12/2026;01/11/2026;30/11/2026;REMUNERATION;;685,00;30;30;"
    "685,00\n"
    "IDF-2026-000789;IDF-P-DASH-2;04/12/2026;01/11/2026;30/11/2026;REMUNERATION;;685,00;30;30;"
    "999,99\n"
)


def test_the_counters_match_a_recount_after_the_journey(
    aws: dict[str, str], demo_data: WebClient
) -> None:
    run_queue(queue="notifications")
    before = shown("region-idf")

    # A trainee signs up with a dossier (linked), then finishes the first login (activated).
    sign_up(demo_data)
    assert shown("region-idf")["linked_accounts"] == before["linked_accounts"] + 1
    assert shown("region-idf")["activated_accounts"] == before["activated_accounts"]
    complete_first_login(demo_data)
    assert shown("region-idf")["activated_accounts"] == before["activated_accounts"] + 1
    assert_counters_match()

    # The funder sends a payments file with a rejected line; the payment mail goes out, and
    # bounces (SES's event, with the mail's tags, through the mail-events handler).
    with ses_send_requests() as sent:
        drop("region-idf", "paiements_dash.csv", PAYMENTS.encode())
        run_queue()
        run_queue(queue="notifications")
    (request,) = sent
    ses_publishes(aws, bounced_event(request))
    run_queue(queue="mail-events")
    after_file = shown("region-idf")
    assert after_file["lines_rejected_this_month"] == before["lines_rejected_this_month"] + 1
    assert after_file["payment_mails"] == before["payment_mails"] + 1
    assert after_file["payment_mails_bounced"] == before["payment_mails_bounced"] + 1
    assert_counters_match()

    # The same activation told again (a retried request) counts nothing more.
    container = get_container()
    lucas = container.accounts.find_by_email(LUCAS["email"])
    assert lucas is not None
    assert container.account_activations.account_activated(lucas) == 0
    assert_counters_match()

    # Camille closes her account: her two dossiers leave it, at both funders.
    camille = container.accounts.find_by_email(READY.email)
    assert camille is not None
    hdf_before = shown("region-hdf")
    container.account_closure.close_by_owner(
        camille.account_id, Proof(password=READY.password), None
    )
    assert container.accounts.get(camille.account_id) is None
    assert shown("region-hdf")["linked_accounts"] == hdf_before["linked_accounts"] - 1
    assert shown("region-hdf")["activated_accounts"] == hdf_before["activated_accounts"] - 1
    assert_counters_match()


def test_reading_the_dashboard_costs_two_requests(demo_data: WebClient) -> None:
    with count_dynamodb_requests() as requests:
        get_container().funder_dashboard.read("region-idf")
    assert sum(requests.values()) <= 2 and requests["Scan"] == requests["Query"] == 0


def test_a_file_linking_an_activated_account_counts_it_once(demo_data: WebClient) -> None:
    """Sami signed up « sans dossier » and finished his first login; then the funder's file
    brings his dossier: the ingestion links it and counts it activated (a ConditionCheck in the
    funder files' transaction); the same file delivered again counts nothing more."""
    sami = {
        "family_name": "Nouveau",
        "given_names": "Sami",
        "birth_date": "01/01/2000",
        "dossier_number": "",
        "no_dossier": "oui",
        "email": "sami@example.fr",
        "email_confirmation": "sami@example.fr",
    }
    assert sign_up(demo_data, **sami)[0] == 303
    password = temporary_password("sami@example.fr")
    assert log_in(demo_data, "sami@example.fr", password).location == (
        "/premiere-connexion/mot-de-passe"
    )
    finish_first_login_steps(demo_data, password)
    before = shown("region-idf")
    header = (DEMO_DIR / "dossiers_region-idf.csv").read_text().splitlines()[0]
    content = (
        header + "\nIDF-2026-000999;NOUVEAU;Sami;01/01/2000;sami@example.fr;CUISINE;Cuisinier;"
        "07/09/2026;03/07/2027;54756834567143;Institut de formation numérique;;685,00;"
        "25/08/2026;en_cours\n"
    ).encode()
    drop("region-idf", "dossiers_sami.csv", content)
    run_queue()
    after = shown("region-idf")
    assert after["linked_accounts"] == before["linked_accounts"] + 1
    assert after["activated_accounts"] == before["activated_accounts"] + 1
    drop("region-idf", "dossiers_sami.csv", content)  # the same file again
    run_queue()
    assert shown("region-idf")["activated_accounts"] == after["activated_accounts"]
    assert_counters_match()
