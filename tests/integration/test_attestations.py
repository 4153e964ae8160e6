"""« Mes attestations » and `/verifier` through the real routing on moto: the page, the PDF, the
code, ownership (404), throttling, withdrawal, expiry on a controlled clock, counts; and the API."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from urllib.parse import urlencode

import pytest

from chalicelib.container import get_container
from chalicelib.services.security.throttling import RATE_LIMITS
from chalicelib.services.trainings.attestations import CODE_ALPHABET
from local.demo import READY
from tests.integration.test_accounts_web import complete_first_login, log_in, sign_up
from tests.integration.test_api_trainings import lucas
from tests.integration.test_trainings_web import fetch_pdf, pdf_text
from tests.support.api import Api
from tests.support.fakes import FakeClock
from tests.support.web import WebClient

NBSP = "\u00a0"
NNBSP = "\u202f"
YEAR_2018 = {"periode": "annee-2018", "formation": "region-idf~IDF-2017-000123"}
CODE = re.compile(r"[A-Z2-9]{4}(?:-[A-Z2-9]{4}){3}")


@pytest.fixture
def camille(demo_data: WebClient) -> WebClient:
    assert log_in(demo_data, READY.email, READY.password).location == "/formations"
    return demo_data


@pytest.fixture
def clock() -> FakeClock:
    """The attestations' clock, under the test's control."""
    fake = FakeClock(datetime(2026, 12, 6, 10, 0, tzinfo=UTC))
    get_container().attestations.clock = fake
    return fake


def issue(client: WebClient, **choice: str) -> tuple[str, str]:
    """Issues an attestation from the page: (the PDF's text, its code)."""
    page = client.get("/formations/attestations?" + urlencode(choice))
    assert page.status == 200, page.text
    answer = client.post("/formations/attestations", {"csrf": page.hidden("csrf"), **choice})
    assert answer.status == 303, answer.body
    text = pdf_text(fetch_pdf(answer.location)[0])
    found = CODE.search(text)
    assert found, text
    return text, found.group(0)


def test_the_year_2018_grouped_by_month_with_its_totals(
    camille: WebClient, clock: FakeClock
) -> None:
    page = camille.get("/formations/attestations?" + urlencode(YEAR_2018))
    text = page.text
    assert "Paiements : Année 2018" in text
    assert "Total janvier 2018 310,39 €" in text
    assert "Total mars 2018 144,85 €" in text
    assert "Total de la période : 455,24 €" in text
    assert "15/12/2017" not in text  # paid in 2017, for November 2017

    pdf, code = issue(camille, **YEAR_2018)
    assert "Attestation de paiement" in pdf and "Camille Louise MARTIN" in pdf
    assert "IDF-P-2018-0002" in pdf and "IDF-P-2018-0003" in pdf
    assert "Total janvier 2018" in pdf and "455,24" in pdf
    listed = camille.get("/formations/attestations").text
    assert (
        code in listed
        and "Pas encore vérifiée" in listed
        and "Valable jusqu’au 06/06/2027" in listed
    )


def test_a_year_without_payments_is_an_attestation_not_an_error(
    camille: WebClient, clock: FakeClock
) -> None:
    page = camille.get("/formations/attestations?periode=annee-2020")
    assert page.status == 200
    assert "Aucun paiement sur cette période" in page.text
    pdf, _ = issue(camille, periode="annee-2020")
    assert "Aucun paiement n’a été mis en paiement sur cette période" in pdf


def test_wrong_choices_get_french_messages(camille: WebClient) -> None:
    page = camille.get("/formations/attestations?periode=dates&du=31/02/2018&au=01/03/2018")
    assert page.status == 400
    assert "Saisissez une date au format JJ/MM/AAAA" in (page.field_error("du") or "")
    reversed_dates = camille.get(
        "/formations/attestations?periode=dates&du=02/03/2018&au=01/03/2018"
    )
    assert reversed_dates.field_error("au") and not reversed_dates.field_error("du")
    other = camille.get("/formations/attestations?formation=region-idf~IDF-2026-000789")
    assert "Choisissez une de vos formations dans la liste." in (
        other.field_error("formation") or ""
    )
    form = camille.get("/formations/attestations")
    expired = camille.post("/formations/attestations", {"csrf": "faux", **YEAR_2018})
    assert "Le formulaire a expiré" in expired.text
    assert CODE.search(form.text) is None  # nothing was issued


def test_verification_is_counted_and_shown_to_the_trainee(
    camille: WebClient, clock: FakeClock
) -> None:
    _, code = issue(camille, **YEAR_2018)
    visitor = WebClient(camille.client)
    for _ in range(2):
        clock.advance(days=37)
        page = visitor.get("/verifier?" + urlencode({"code": code.lower().replace("-", " ")}))
        assert page.status == 200
        assert "Attestation authentique et valable" in page.text
        assert "Camille Louise MARTIN" in page.text and "Région Île-de-France" in page.text
        assert "455,24 €" in page.text and "Année 2018" in page.text
        # Nothing more than the PDF shows, and not even all of it: no references, no birth date.
        assert "IDF-P-2018" not in page.text and "14/05/1990" not in page.text
    assert "Vérifiée 2 fois, le 18/02/2027" in camille.get("/formations/attestations").text


def test_a_withdrawn_attestation_says_so_and_its_pdf_is_gone(
    camille: WebClient, clock: FakeClock
) -> None:
    _, code = issue(camille, **YEAR_2018)
    account = get_container().accounts.find_by_email(READY.email)
    assert account is not None
    (attestation,) = get_container().attestations.list(account.account_id)
    page = camille.get("/formations/attestations")
    withdrawn = camille.post(
        "/formations/attestations/retirer",
        {"csrf": page.hidden("csrf"), "attestation": attestation.attestation_id},
    )
    assert withdrawn.status == 303
    assert "Retirée le 06/12/2026" in camille.follow(withdrawn).text
    verified = WebClient(camille.client).get(f"/verifier?code={code}")
    assert "Attestation retirée" in verified.text and "authentique et valable" not in verified.text
    pdf = camille.get(f"/formations/attestations/pdf?attestation={attestation.attestation_id}")
    assert pdf.status == 404


def test_an_attestation_expires_after_six_months(camille: WebClient, clock: FakeClock) -> None:
    _, code = issue(camille, **YEAR_2018)
    clock.set(datetime(2027, 6, 6, 9, 59, tzinfo=UTC))
    assert "authentique et valable" in WebClient(camille.client).get(f"/verifier?code={code}").text
    clock.advance(minutes=1)
    page = WebClient(camille.client).get(f"/verifier?code={code}")
    assert "Attestation expirée" in page.text and "authentique et valable" not in page.text
    assert "Expirée depuis le 06/06/2027" in camille.get("/formations/attestations").text


def test_another_trainee_can_neither_withdraw_nor_download_it(
    camille: WebClient, clock: FakeClock
) -> None:
    _, code = issue(camille, **YEAR_2018)
    account = get_container().accounts.find_by_email(READY.email)
    assert account is not None
    (attestation,) = get_container().attestations.list(account.account_id)
    camille.cookies.clear()
    sign_up(camille)
    complete_first_login(camille)  # now signed in as Lucas PETIT
    page = camille.get("/formations/attestations")
    assert code not in page.text
    withdraw = camille.post(
        "/formations/attestations/retirer",
        {"csrf": page.hidden("csrf"), "attestation": attestation.attestation_id},
    )
    assert withdraw.status == 404
    pdf = camille.get(f"/formations/attestations/pdf?attestation={attestation.attestation_id}")
    assert pdf.status == 404
    assert "authentique et valable" in WebClient(camille.client).get(f"/verifier?code={code}").text


def test_verification_is_throttled_per_client_address(camille: WebClient, clock: FakeClock) -> None:
    _, code = issue(camille, **YEAR_2018)
    visitor = WebClient(camille.client)
    allowed = RATE_LIMITS["verification"].requests
    for attempt in range(allowed):
        guess = visitor.get("/verifier?code=AAAA-BBBB-CCCC-" + CODE_ALPHABET[attempt % 32] * 4)
        assert guess.status == 404, guess.text
    page = visitor.get(f"/verifier?code={code}")
    assert page.status == 429
    assert "Trop de vérifications" in page.text and "authentique" not in page.text
    # The API shares the limit: a second face is no way around it.
    answer = Api(camille.client).call("POST", "/api/v1/verifications", {"code": code})
    assert answer.status == 429
    account = get_container().accounts.find_by_email(READY.email)
    assert account is not None
    (attestation,) = get_container().attestations.list(account.account_id)
    assert attestation.verification_count == 0  # a refused try reads nothing


def test_the_footer_leads_to_the_verification_page(portal: WebClient) -> None:
    page = portal.get("/")
    assert 'href="/verifier"' in page.body
    form = portal.get("/verifier")
    assert form.status == 200 and "Code de vérification" in form.text


# API --------------------------------------------------------------------------------------------


def test_the_api_lists_creates_withdraws_and_verifies(
    demo_data: WebClient, clock: FakeClock
) -> None:
    api = Api(demo_data.client)
    token = api.log_in(READY.email, READY.password).json["token"]
    query = urlencode({"period": "year", "year": "2018", "training": "region-idf~IDF-2017-000123"})
    payments = api.call("GET", f"/api/v1/attestations/payments?{query}", token=token)
    assert payments.status == 200, payments.body
    body = payments.json
    assert [m["month"] for m in body["months"]] == ["2018-01", "2018-03"]
    assert body["months"][0]["total"]["value"] == "310.39"
    assert body["total"] == {"value": "455.24", "formatted": f"455,24{NBSP}€"}
    bad = api.call("GET", "/api/v1/attestations/payments?period=month&month=2018-3", token=token)
    assert bad.status == 400 and "month" in bad.error["fields"]
    # The service's refusals under the API's names (« to », « training »), not the page's.
    reversed_dates = "period=dates&from=2018-03-02&to=2018-03-01&training=nulle-part"
    bad = api.call("GET", f"/api/v1/attestations/payments?{reversed_dates}", token=token)
    assert (bad.status, bad.error["code"], sorted(bad.error["fields"])) == (
        400,
        "validation_failed",
        ["to", "training"],
    )

    created = api.call(
        "POST",
        "/api/v1/attestations",
        {"period": "year", "year": "2018", "training": "region-idf~IDF-2017-000123"},
        token,
    )
    assert created.status == 201, created.body
    code = created.json["attestation"]["code"]
    assert created.json["verification_url"].endswith(f"/verifier?code={code}")
    assert created.json["pdf"]["expires_in"] == 300
    assert code in pdf_text(fetch_pdf(created.json["pdf"]["url"])[0])
    attestation_id = created.json["attestation"]["id"]

    verified = Api(demo_data.client).call("POST", "/api/v1/verifications", {"code": code})
    assert verified.status == 200
    assert verified.json["status"] == "valid"
    assert verified.json["total"]["value"] == "455.24"
    assert set(verified.json) == {
        "status",
        "funders",
        "trainee_name",
        "period",
        "total",
        "issued_on",
        "expires_on",
        "withdrawn_on",
    }
    (listed,) = api.call("GET", "/api/v1/attestations", token=token).json["attestations"]
    assert listed["verification_count"] == 1

    other = lucas(api)
    path = f"/api/v1/attestations/{attestation_id}/withdrawal"
    assert api.call("POST", path, token=other).status == 404
    assert api.call("GET", "/api/v1/attestations", token=other).json == {"attestations": []}
    assert api.call("POST", path, token=token).status == 204
    withdrawn = Api(demo_data.client).call("POST", "/api/v1/verifications", {"code": code})
    assert withdrawn.json["status"] == "withdrawn"
    unknown = Api(demo_data.client).call(
        "POST", "/api/v1/verifications", {"code": "AAAA-AAAA-AAAA-AAAA"}
    )
    assert unknown.status == 404
