"""« Mes formations » through the real routing on moto: payments, detail, PDFs, ownership."""

from __future__ import annotations

import io
import json
from urllib.parse import parse_qs, urlencode, urlparse

import boto3
import pytest
from pypdf import PdfReader

from local.demo import DEMO_DIR, READY, TERMS_VERSION
from tests.conftest import TEST_ENVIRONMENT
from tests.integration.conftest import mails_to
from tests.integration.test_accounts_web import LUCAS, complete_first_login, log_in, sign_up
from tests.support.aws import count_dynamodb_requests, drop, run_queue
from tests.support.web import WebClient

NNBSP = "\u202f"
NBSP = "\u00a0"


@pytest.fixture
def camille(demo_data: WebClient) -> WebClient:
    """Every demo file loaded, and the ready demo account signed in."""
    assert log_in(demo_data, READY.email, READY.password).location == "/formations"
    return demo_data


def idf_training() -> str:
    return "/formations?" + urlencode({"formation": "region-idf~IDF-2017-000123"})


def detail_query(reference: str = "IDF-P-2018-0003", funder: str = "region-idf") -> str:
    return urlencode({"financeur": funder, "reference": reference})


def test_the_newest_training_comes_first_with_its_payments_newest_first(camille: WebClient) -> None:
    page = camille.get("/formations")
    assert page.status == 200
    assert "Comptable assistant — Région Hauts-de-France" in page.text
    assert "Développeur web et web mobile — Région Île-de-France" in page.text
    history = page.text[page.text.index("Historique des paiements") :]
    assert history.index("09/11/2026") < history.index("09/10/2026")
    assert f"697,02{NBSP}€" in page.body and f"652,02{NBSP}€" in page.body
    assert "Edition de fin de stage : disponible une fois la formation terminée." in page.text


def test_a_training_and_a_period_can_be_chosen(camille: WebClient) -> None:
    page = camille.get(idf_training())
    history = page.text[page.text.index("Historique des paiements") :]
    dates = ["20/03/2018", "15/01/2018", "15/12/2017"]
    assert [history.index(d) for d in dates] == sorted(history.index(d) for d in dates)
    assert f"289,70{NBSP}€" in page.body and f"144,85{NBSP}€" in page.body
    november = camille.get(idf_training() + "&du=01/11/2017&au=30/11/2017")
    assert "15/12/2017" in november.text and "20/03/2018" not in november.text
    empty = camille.get(idf_training() + "&du=01/01/2020&au=31/12/2020")
    assert "Aucun paiement pour cette formation sur cette période" in empty.text
    wrong = camille.get(idf_training() + "&du=2017-11-01")
    assert "Saisissez une date au format JJ/MM/AAAA" in wrong.text
    assert 'value="2017-11-01"' in wrong.body
    # The service's refusal, under the form's « Au »; the training's payments stay readable.
    backwards = camille.get(idf_training() + "&du=30/11/2017&au=01/11/2017")
    assert "La fin de la période doit être après son début." in backwards.text
    assert 'id="au-erreur"' in backwards.body
    assert all(d in backwards.text for d in dates)


def test_the_detail_of_a_payment_is_the_guides(camille: WebClient) -> None:
    page = camille.get("/formations/paiement?" + detail_query())
    assert page.status == 200
    text = page.text
    assert "Du 16/10/2017 au 31/10/2017" in text
    assert "Rémunération : 310,39 x 14 / 30" in text
    assert "TOTAUX 0,00 144,85" in text
    absence = camille.get("/formations/paiement?" + detail_query("IDF-P-2017-0001")).text
    assert "Absence non justifiée : 310,39 x 2 / 30 20,69" in absence
    assert "TOTAUX 20,69 310,39" in absence
    assert "289,70" in absence


def fetch_pdf(location: str) -> tuple[bytes, dict[str, list[str]]]:
    """Follows a presigned link the way a browser would, straight to the (emulated) bucket."""
    url = urlparse(location)
    query = parse_qs(url.query)
    bucket = TEST_ENVIRONMENT["DOCUMENTS_BUCKET"]
    path = url.path.lstrip("/")
    key = path if url.netloc.startswith(bucket) else path.split("/", 1)[1]
    body = boto3.client("s3").get_object(Bucket=bucket, Key=key)
    return body["Body"].read(), query


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_the_payment_pdf_is_made_once_kept_and_linked_for_five_minutes(camille: WebClient) -> None:
    page = camille.get("/formations/paiement/pdf?" + detail_query())
    assert page.status == 303
    data, query = fetch_pdf(page.location)
    assert query["X-Amz-Expires"] == ["300"]
    assert "attachment" in query["response-content-disposition"][0]
    text = pdf_text(data)
    for expected in (
        "IDF-2017-000123",
        "Camille Louise MARTIN",
        "Région Île-de-France",
        "Institut de formation numérique",
        "Du 16/10/2017 au 31/10/2017",
        "Rémunération : 310,39 x 14 / 30",
        "144,85",
        "TOTAUX",
    ):
        assert expected in text, expected
    documents = boto3.client("s3").list_objects_v2(Bucket=TEST_ENVIRONMENT["DOCUMENTS_BUCKET"])
    camille.get("/formations/paiement/pdf?" + detail_query())
    again = boto3.client("s3").list_objects_v2(Bucket=TEST_ENVIRONMENT["DOCUMENTS_BUCKET"])
    assert documents["KeyCount"] == again["KeyCount"] == 1


def test_the_decision_and_the_end_of_training_statement(camille: WebClient) -> None:
    dossier = urlencode({"financeur": "region-idf", "dossier": "IDF-2017-000123"})
    decision = camille.get(f"/formations/document?{dossier}&type=decision")
    text = pdf_text(fetch_pdf(decision.location)[0])
    assert "Décision de prise en charge" in text
    assert "http://localhost:8000/region-idf/" in text
    assert "310,39" in text and "02/10/2017" in text
    end = camille.get(f"/formations/document?{dossier}&type=fin-de-stage")
    text = pdf_text(fetch_pdf(end.location)[0])
    assert "fin de stage" in text.lower() and "744,94" in text
    ongoing = urlencode({"financeur": "region-hdf", "dossier": "HDF-2026-000042"})
    assert camille.get(f"/formations/document?{ongoing}&type=fin-de-stage").status == 404


def test_another_trainees_items_answer_404_through_every_route(camille: WebClient) -> None:
    camille.cookies.clear()
    sign_up(camille)
    complete_first_login(camille)  # now signed in as Lucas PETIT
    idf = urlencode({"financeur": "region-idf", "dossier": "IDF-2017-000123"})
    for path in (
        "/formations/paiement?" + detail_query(),
        "/formations/paiement/pdf?" + detail_query(),
        f"/formations/document?{idf}&type=decision",
        f"/formations/document?{idf}&type=fin-de-stage",
        "/formations/paiement?" + detail_query("N-EXISTE-PAS"),
        "/formations/paiement?financeur=region-idf",
    ):
        page = camille.get(path)
        assert page.status == 404, path
        assert "n’existe pas ou n’est pas rattaché à votre compte" in page.text
    assert "Développeur web" not in camille.get(idf_training()).text


def test_a_trainee_adds_another_dossier_the_funder_gave_their_address_for(
    camille: WebClient,
) -> None:
    camille.cookies.clear()
    sign_up(camille)
    complete_first_login(camille)
    header = (DEMO_DIR / "dossiers_region-hdf.csv").read_text().splitlines()[0]
    drop(
        "region-hdf",
        "dossiers_lucas.csv",
        (
            header + "\nHDF-2026-000099;PETIT;Lucas;03/02/1998;lucas.petit@example.fr;MECA;"
            "Mécanicien;01/10/2026;30/06/2027;54802041817978;Lycée des métiers Jean-Prouvé;;"
            "652,02;18/09/2026;en_cours\n"
        ).encode(),
    )
    run_queue()
    form = camille.get("/formations")
    # Camille's dossier: the same answer as any number that is not his (test_dossier_takeover.py).
    refused = camille.post(
        "/formations/ajouter-un-dossier",
        {
            "csrf": form.hidden("csrf"),
            "financeur": "region-hdf",
            "numero_dossier": "HDF-2026-000042",
        },
    )
    assert refused.status == 200 and "Confirmez que ce dossier est le vôtre" in refused.text
    added = camille.post(
        "/formations/ajouter-un-dossier",
        {
            "csrf": form.hidden("csrf"),
            "financeur": "region-hdf",
            "numero_dossier": "HDF-2026-000099",
        },
    )
    assert added.status == 303
    assert "Mécanicien" in camille.follow(added).text


def test_my_data_holds_everything_but_secrets(camille: WebClient) -> None:
    page = camille.get("/mes-donnees/telechargement")
    assert page.headers["Content-Disposition"].startswith("attachment")
    data = json.loads(page.body)
    assert data["compte"]["email"] == READY.email
    assert {d["dossier_number"] for d in data["dossiers"]} == {"IDF-2017-000123", "HDF-2026-000042"}
    assert len(data["paiements"]) == 5  # three in Île-de-France, two in Hauts-de-France
    assert [c["version"] for c in data["consentements"]] == [TERMS_VERSION]
    assert "data-export" in {event["evenement"] for event in data["journal_de_securite"]}
    assert "$argon2" not in page.body and "hash" not in page.body


def test_pages_of_mes_formations_cost_at_most_three_dynamodb_requests(camille: WebClient) -> None:
    for path in ("/formations", idf_training(), "/formations/paiement?" + detail_query()):
        camille.get(path)
        with count_dynamodb_requests() as requests:
            assert camille.get(path).status == 200
        assert sum(requests.values()) <= 3, (path, requests)


def test_the_first_mes_formations_of_a_new_lambda_costs_four_dynamodb_requests(
    camille: WebClient,
) -> None:
    """A cold Lambda knows neither the CGU version nor the funders: the session and the CGU
    pointer come in one BatchGetItem, then the dossiers, the funders and the payments (three
    Query). Before: six requests (GetItem of the session, GetItem of the CGU pointer...)."""
    from chalicelib.container import reset_container

    reset_container()  # a new Lambda: nothing in memory but the session cookie
    with count_dynamodb_requests() as requests:
        page = camille.get("/formations")
    assert page.status == 200
    assert "Comptable assistant — Région Hauts-de-France" in page.text  # the funders' names
    assert requests == {"BatchGetItem": 1, "Query": 3}, requests


def test_a_new_payment_sends_one_mail_without_its_amount(camille: WebClient) -> None:
    camille.cookies.clear()
    sign_up(camille)  # Lucas: his dossier IDF-2026-000789 is now linked
    payment = (
        b"numero_dossier;reference_paiement;date_mise_en_paiement;periode_debut;periode_fin;"
        b"element;libelle;taux;jours;diviseur;montant\n"
        b"IDF-2026-000789;IDF-P-LUCAS-1;09/10/2026;07/09/2026;30/09/2026;REMUNERATION;;685,00;24;30;"
        b"548,00\n"
    )
    for _ in range(2):  # the same file twice: still one mail
        drop("region-idf", "paiements_lucas.csv", payment)
        run_queue()
        run_queue(queue="notifications")
    mails = [text for subject, text in mails_to(LUCAS["email"]) if "paiement" in subject.lower()]
    assert len(mails) == 1
    assert "548" not in mails[0] and "€" not in mails[0]
