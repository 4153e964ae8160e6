"""« Mes formations » through the JSON API, on the real Chalice routing and moto: the same services
and the same data as the pages (test_trainings_web.py), in the API's formats."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import boto3
import pytest

from chalicelib.container import get_container
from local.demo import DEMO_DIR, READY
from tests.conftest import TEST_ENVIRONMENT
from tests.integration.test_trainings_web import fetch_pdf, pdf_text
from tests.support.api import NEW_PASSWORD, Api, first_login
from tests.support.aws import count_dynamodb_requests, drop, run_queue
from tests.support.web import WebClient

NBSP = "\u00a0"
IDF = {"funder": "region-idf", "dossier": "IDF-2017-000123"}
GUIDE_PAYMENT = {"funder": "region-idf", "reference": "IDF-P-2018-0003"}
ABSENCE_PAYMENT = {"funder": "region-idf", "reference": "IDF-P-2017-0001"}


@pytest.fixture
def api(demo_data: WebClient) -> Api:
    return Api(demo_data.client)


@pytest.fixture
def camille(api: Api) -> str:
    """The ready demo account's bearer token."""
    answer = api.log_in(READY.email, READY.password)
    assert (answer.status, answer.json["pending_step"]) == (201, None), answer.body
    return answer.json["token"]


def lucas(api: Api) -> str:
    """Another trainee (Lucas PETIT, dossier IDF-2026-000789), first login done: his token."""
    token, password = first_login(api)
    steps: list[tuple[str, dict[str, str]]] = [
        (
            "password",
            {"old_password": password, "new_password": NEW_PASSWORD, "confirmation": NEW_PASSWORD},
        ),
        ("secret-question", {"question": "Ville de naissance ?", "answer": "Lille"}),
    ]
    for step, body in steps:
        assert api.call("POST", f"/api/v1/me/first-login/{step}", body, token).status == 200
    version = api.call("GET", "/api/v1/terms/current").json["version"]
    answer = api.call("POST", "/api/v1/me/terms-acceptance", {"version": version}, token)
    assert answer.status == 200, answer.body
    return answer.json["token"]


def get(api: Api, token: str, path: str, **query: str) -> Any:
    return api.call("GET", f"{path}?{urlencode(query)}" if query else path, token=token)


def amount(value: str) -> dict[str, str]:
    return {"value": value, "formatted": value.replace(".", ",") + f"{NBSP}€"}


def period(start: str, end: str, text: str) -> dict[str, str]:
    return {"start": start, "end": end, "text": text}


def test_the_trainings_newest_first(api: Api, camille: str) -> None:
    answer = get(api, camille, "/api/v1/trainings")
    assert answer.status == 200
    assert answer.headers["Cache-Control"] == "no-store"
    hdf, idf = answer.json["trainings"]
    assert (hdf["funder"], hdf["dossier_number"]) == (
        {"code": "region-hdf", "name": "Région Hauts-de-France"},
        "HDF-2026-000042",
    )
    assert idf == {
        "funder": {"code": "region-idf", "name": "Région Île-de-France"},
        "dossier_number": "IDF-2017-000123",
        "training_code": "DEV-WEB",
        "training_title": "Développeur web et web mobile",
        "organisation_name": "Institut de formation numérique",
        "start_date": "2017-10-16",
        "end_date": "2018-06-29",
        "status": "terminee",
        "monthly_rate": amount("310.39"),
        "decision_date": "2017-10-02",
    }


def test_the_history_newest_first_over_the_training_or_a_period(api: Api, camille: str) -> None:
    answer = get(api, camille, "/api/v1/payments", **IDF)
    assert answer.status == 200
    history = answer.json
    assert history["training"]["dossier_number"] == "IDF-2017-000123"
    assert history["period"] == period("2017-10-16", "2018-06-29", "Du 16/10/2017 au 29/06/2018")
    assert history["end_of_training_available"] is True
    assert history["payments"] == [
        {
            "reference": "IDF-P-2018-0003",
            "payment_date": "2018-03-20",
            "period": period("2017-10-16", "2017-10-31", "Du 16/10/2017 au 31/10/2017"),
            "net": amount("144.85"),
        },
        {
            "reference": "IDF-P-2018-0002",
            "payment_date": "2018-01-15",
            "period": period("2017-12-01", "2017-12-31", "Du 01/12/2017 au 31/12/2017"),
            "net": amount("310.39"),
        },
        {
            "reference": "IDF-P-2017-0001",
            "payment_date": "2017-12-15",
            "period": period("2017-11-01", "2017-11-30", "Du 01/11/2017 au 30/11/2017"),
            "net": amount("289.70"),
        },
    ]
    november = get(
        api, camille, "/api/v1/payments", **IDF, to="2017-11-30", **{"from": "2017-11-01"}
    )
    assert [p["reference"] for p in november.json["payments"]] == ["IDF-P-2017-0001"]
    assert november.json["period"]["text"] == "Du 01/11/2017 au 30/11/2017"
    empty = get(api, camille, "/api/v1/payments", **IDF, **{"from": "2018-01-01"})
    assert (empty.status, empty.json["payments"]) == (200, [])
    ongoing = get(api, camille, "/api/v1/payments", funder="region-hdf", dossier="HDF-2026-000042")
    assert ongoing.json["end_of_training_available"] is False
    assert [p["net"]["value"] for p in ongoing.json["payments"]] == ["697.02", "652.02"]


def test_a_wrong_period_is_a_400_with_french_field_messages(api: Api, camille: str) -> None:
    for text in (
        "16/10/2017",
        "2017-02-30",
        "20171016",
        "2017-W42-1",
        "２０１７-10-16",
        "0999-01-01",
    ):
        answer = get(api, camille, "/api/v1/payments", **IDF, **{"from": text})
        assert (answer.status, answer.error["code"]) == (400, "invalid_request"), text
        assert answer.error["fields"] == {
            "from": "Saisissez une date au format AAAA-MM-JJ, par exemple 2017-10-01."
        }
    reversed_period = get(
        api, camille, "/api/v1/payments", **IDF, to="2017-11-01", **{"from": "2017-11-30"}
    )
    assert (reversed_period.status, reversed_period.error["code"]) == (400, "validation_failed")
    assert reversed_period.error["fields"] == {
        "to": "La fin de la période doit être après son début."
    }


def test_the_detail_of_a_payment_is_the_guides(api: Api, camille: str) -> None:
    answer = get(api, camille, "/api/v1/payment", **GUIDE_PAYMENT)
    assert answer.status == 200
    assert answer.json == {
        "reference": "IDF-P-2018-0003",
        "payment_date": "2018-03-20",
        "funder": {"code": "region-idf", "name": "Région Île-de-France"},
        "dossier_number": "IDF-2017-000123",
        "training_title": "Développeur web et web mobile",
        "lines": [
            {
                "period": period("2017-10-16", "2017-10-31", "Du 16/10/2017 au 31/10/2017"),
                "element": "REMUNERATION",
                "label": "Rémunération",
                "text": "Rémunération : 310,39 x 14 / 30",
                "rate": "310.39",
                "days": "14",
                "divisor": "30",
                "debited": amount("0.00"),
                "credited": amount("144.85"),
            }
        ],
        "totals": {"debited": amount("0.00"), "credited": amount("144.85")},
        "net": amount("144.85"),
        "net_text": f"Montant net payé : 144,85{NBSP}€",
    }
    absence = get(api, camille, "/api/v1/payment", **ABSENCE_PAYMENT).json
    assert [
        (line["text"], line["debited"]["value"], line["credited"]["value"])
        for line in absence["lines"]
    ] == [
        ("Rémunération : 310,39 x 30 / 30", "0.00", "310.39"),
        ("Absence non justifiée : 310,39 x 2 / 30", "20.69", "0.00"),
    ]
    assert absence["totals"] == {"debited": amount("20.69"), "credited": amount("310.39")}
    assert absence["net"] == amount("289.70")


def test_the_lines_say_what_the_payment_notice_says(api: Api, camille: str) -> None:
    """The API orders and words the lines as the notice (PDF and page) does."""
    account_id = get_container().accounts.find_by_email(READY.email).account_id
    for funder, reference in (
        ("region-idf", "IDF-P-2017-0001"),
        ("region-idf", "IDF-P-2018-0003"),
        ("region-hdf", "HDF-P-2026-0008"),
    ):
        notice = get_container().trainings.payment_notice(account_id, funder, reference)
        table = notice.content.tables[0]
        detail = get(api, camille, "/api/v1/payment", funder=funder, reference=reference).json
        assert [(line["period"]["text"], line["text"]) for line in detail["lines"]] == [
            row[:2] for row in table.rows
        ]
        totals = detail["totals"]
        assert (totals["debited"]["formatted"], totals["credited"]["formatted"]) == (
            f"{table.totals[2]}{NBSP}€",
            f"{table.totals[3]}{NBSP}€",
        )
        assert detail["net_text"] == notice.content.closing[0]


def test_the_payment_pdf_is_a_five_minute_link(api: Api, camille: str) -> None:
    answer = get(api, camille, "/api/v1/payment/pdf", **GUIDE_PAYMENT)
    assert answer.status == 200
    assert answer.json["expires_in"] == 300
    assert answer.json["filename"] == "avis-de-paiement-IDF-P-2018-0003.pdf"
    data, query = fetch_pdf(answer.json["url"])
    assert query["X-Amz-Expires"] == ["300"]
    text = pdf_text(data)
    for expected in (
        "IDF-2017-000123",
        "Camille Louise MARTIN",
        "Du 16/10/2017 au 31/10/2017",
        "Rémunération : 310,39 x 14 / 30",
        "144,85",
        "TOTAUX",
    ):
        assert expected in text, expected
    again = get(api, camille, "/api/v1/payment/pdf", **GUIDE_PAYMENT)
    assert fetch_pdf(again.json["url"])[0] == data
    stored = boto3.client("s3").list_objects_v2(Bucket=TEST_ENVIRONMENT["DOCUMENTS_BUCKET"])
    assert stored["KeyCount"] == 1  # made once, kept


def test_the_decision_and_the_end_of_training_statement(api: Api, camille: str) -> None:
    decision = get(api, camille, "/api/v1/documents", **IDF, type="decision")
    assert decision.status == 200 and decision.json["expires_in"] == 300
    text = pdf_text(fetch_pdf(decision.json["url"])[0])
    assert "Décision de prise en charge" in text and "http://localhost:8000/region-idf/" in text
    end = get(api, camille, "/api/v1/documents", **IDF, type="end-of-training")
    assert end.json["filename"] == "edition-de-fin-de-stage-IDF-2017-000123.pdf"
    assert "744,94" in pdf_text(fetch_pdf(end.json["url"])[0])
    ongoing = get(
        api,
        camille,
        "/api/v1/documents",
        funder="region-hdf",
        dossier="HDF-2026-000042",
        type="end-of-training",
    )
    assert (ongoing.status, ongoing.error["code"]) == (404, "document_not_available")
    assert ongoing.error["message"].startswith("L’édition de fin de stage sera disponible")


def test_a_trainee_adds_a_dossier_the_funder_gave_their_address_for(api: Api) -> None:
    token = lucas(api)
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
    add = "/api/v1/trainings"
    camilles = api.call(
        "POST", add, {"funder": "region-hdf", "dossier_number": "HDF-2026-000042"}, token
    )
    # Camille's dossier: the answer of every number not linked at once (test_dossier_takeover.py).
    assert camilles.status == 202 and set(camilles.json) == {"claim_id", "expires_in", "message"}
    unknown = api.call("POST", add, {"funder": "inconnu", "dossier_number": ""}, token)
    assert set(unknown.error["fields"]) == {"funder", "dossier_number"}
    missing = api.call("POST", add, {"funder": "region-hdf"}, token)
    assert (missing.status, missing.error["code"]) == (400, "invalid_request")
    assert missing.error["fields"] == {"dossier_number": "Ce champ est obligatoire."}
    too_long = api.call("POST", add, {"funder": "region-hdf", "dossier_number": "9" * 5000}, token)
    assert (too_long.status, too_long.error["code"]) == (400, "invalid_request")

    added = api.call(
        "POST", add, {"funder": "region-hdf", "dossier_number": " HDF-2026-000099 "}, token
    )
    assert added.status == 201, added.body
    assert added.json["training_title"] == "Mécanicien"
    assert added.headers["Location"] == "/api/v1/payments?funder=region-hdf&dossier=HDF-2026-000099"
    titles = [t["training_title"] for t in get(api, token, "/api/v1/trainings").json["trainings"]]
    assert titles == ["Mécanicien", "Cuisinier"]
    again = api.call(
        "POST", add, {"funder": "region-hdf", "dossier_number": "HDF-2026-000099"}, token
    )
    assert again.error["fields"] == {
        "dossier_number": "Ce dossier est déjà rattaché à votre compte."
    }
    events = get(api, token, "/api/v1/me/data").json["journal_de_securite"]
    assert "dossier-added" in {event["evenement"] for event in events}


def test_my_data_is_the_export_without_secrets(api: Api, camille: str) -> None:
    answer = get(api, camille, "/api/v1/me/data")
    assert (answer.status, answer.headers["Cache-Control"]) == (200, "no-store")
    data = answer.json
    assert data["compte"]["email"] == READY.email
    assert {d["dossier_number"] for d in data["dossiers"]} == {"IDF-2017-000123", "HDF-2026-000042"}
    assert len(data["paiements"]) == 5
    assert "data-export" in {event["evenement"] for event in data["journal_de_securite"]}
    assert b"$argon2" not in answer.body and b"hash" not in answer.body


def test_another_trainees_items_answer_404_through_every_route(api: Api, camille: str) -> None:
    token = lucas(api)
    camilles_and_missing = [
        ("/api/v1/payments", IDF, {**IDF, "dossier": "IDF-0000-000000"}),
        ("/api/v1/payment", GUIDE_PAYMENT, {**GUIDE_PAYMENT, "reference": "N-EXISTE-PAS"}),
        ("/api/v1/payment/pdf", GUIDE_PAYMENT, {**GUIDE_PAYMENT, "reference": "N-EXISTE-PAS"}),
        (
            "/api/v1/documents",
            {**IDF, "type": "decision"},
            {**IDF, "funder": "inconnu", "type": "decision"},
        ),
        (
            "/api/v1/documents",
            {**IDF, "type": "end-of-training"},
            {**IDF, "dossier": "IDF-0000-000000", "type": "end-of-training"},
        ),
    ]
    for path, camilles, missing in camilles_and_missing:
        hers = get(api, token, path, **camilles)
        nothing = get(api, token, path, **missing)
        assert (hers.status, hers.error["code"]) == (404, "not_found"), path
        assert hers.body == nothing.body, path  # nothing tells "someone else's" from "none"
        assert "n’est pas rattaché à votre compte" in hers.error["message"]
    # Lucas's own dossier, still in progress, through someone else's token: not hers either.
    lucas_dossier = {"funder": "region-idf", "dossier": "IDF-2026-000789"}
    assert get(api, camille, "/api/v1/payments", **lucas_dossier).status == 404
    trainings = get(api, token, "/api/v1/trainings").json["trainings"]
    assert [t["dossier_number"] for t in trainings] == ["IDF-2026-000789"]
    stored = boto3.client("s3").list_objects_v2(Bucket=TEST_ENVIRONMENT["DOCUMENTS_BUCKET"])
    assert stored["KeyCount"] == 0  # no PDF made for a refused request


def test_malformed_or_missing_parameters_are_400_in_the_error_shape(api: Api, camille: str) -> None:
    cases = {
        "/api/v1/payments?funder=region-idf": {"dossier": "Ce champ est obligatoire."},
        "/api/v1/payments": {
            "funder": "Ce champ est obligatoire.",
            "dossier": "Ce champ est obligatoire.",
        },
        "/api/v1/payment?funder=region-idf&reference=": {"reference": "Ce champ est obligatoire."},
        "/api/v1/payment/pdf?funder=a&funder=b&reference=x": {
            "funder": "Ce paramètre ne doit figurer qu’une fois."
        },
        "/api/v1/payment?" + urlencode({"funder": "region-idf", "reference": "x" * 5000}): {
            "reference": "Ce paramètre dépasse 100 caractères."
        },
        "/api/v1/documents?" + urlencode({**IDF, "type": "fin-de-stage"}): {
            "type": "Choisissez « decision » ou « end-of-training »."
        },
        "/api/v1/documents?" + urlencode(IDF): {"type": "Ce champ est obligatoire."},
    }
    for path, fields in cases.items():
        answer = api.call("GET", path, token=camille)
        assert (answer.status, answer.error["code"]) == (400, "invalid_request"), path
        assert answer.error["fields"] == fields, path
        assert answer.headers["Content-Type"] == "application/json; charset=utf-8"
        assert answer.headers["Cache-Control"] == "no-store"


def test_every_route_wants_a_session_past_its_first_login_steps(api: Api) -> None:
    token, _password = first_login(api)  # Lucas, at the password step
    reads = [
        "/api/v1/trainings",
        "/api/v1/payments?" + urlencode(IDF),
        "/api/v1/payment?" + urlencode(GUIDE_PAYMENT),
        "/api/v1/payment/pdf?" + urlencode(GUIDE_PAYMENT),
        "/api/v1/documents?" + urlencode({**IDF, "type": "decision"}),
        "/api/v1/me/data",
    ]
    body = {"funder": "region-idf", "dossier_number": "IDF-2017-000123"}
    for method, path in [*(("GET", path) for path in reads), ("POST", "/api/v1/trainings")]:
        early = api.call(method, path, body if method == "POST" else None, token)
        assert (early.status, early.error["code"], early.error["step"]) == (
            403,
            "step_required",
            "password",
        ), path
        anonymous = api.call(method, path, body if method == "POST" else None)
        assert (anonymous.status, anonymous.error["code"]) == (401, "not_authenticated"), path


def test_each_read_costs_at_most_three_dynamodb_requests(api: Api, camille: str) -> None:
    reads = [
        "/api/v1/trainings",
        "/api/v1/payments?" + urlencode(IDF),
        "/api/v1/payments?" + urlencode({**IDF, "from": "2017-11-01", "to": "2017-11-30"}),
        "/api/v1/payment?" + urlencode(GUIDE_PAYMENT),
        "/api/v1/payment/pdf?" + urlencode(GUIDE_PAYMENT),
        "/api/v1/documents?" + urlencode({**IDF, "type": "decision"}),
        "/api/v1/documents?" + urlencode({**IDF, "type": "end-of-training"}),
    ]
    for path in reads:
        assert api.call("GET", path, token=camille).status == 200, path  # warm-up
        with count_dynamodb_requests() as requests:
            assert api.call("GET", path, token=camille).status == 200, path
        assert sum(requests.values()) <= 3, (path, requests)
        assert "Scan" not in requests, path
