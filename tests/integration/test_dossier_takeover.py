"""The takeover of issue 13, replayed on the real Chalice routing and moto: a stranger signs up
« sans dossier » under the victim's name and birth date with their own address, finishes the first
login, then types dossier numbers in a row into « Ajouter un dossier » (API and page). None of it
may link the victim's dossier; the answers must not tell an unknown number from the victim's; the
throttle must stop the run; the owner of a linked dossier hears of the attempt."""

from __future__ import annotations

import re
from typing import Any

import pytest

from chalicelib.container import get_container
from chalicelib.store.models import AuditItem, DossierItem
from local.demo import DEMO_DIR
from tests.integration.conftest import CAPTCHA, mails_to
from tests.integration.test_accounts_web import finish_first_login_steps, log_in
from tests.support.api import LUCAS, NEW_PASSWORD, Api, temporary_password
from tests.support.aws import drop, run_queue
from tests.support.web import WebClient

ATTACKER = "mallory@example.org"
VICTIM_NUMBER = "IDF-2026-000789"  # Lucas PETIT's, courriel lucas.petit@example.fr
# Unknown numbers around it, and Inès BERNARD's (another identity), as an enumeration types them.
RUN = ["IDF-2026-000787", "IDF-2026-000788", VICTIM_NUMBER, "IDF-2026-000790"]
ADD = "/api/v1/trainings"
CONFIRM = "/api/v1/trainings/confirmation"
CLAIM_ID = re.compile(r"[0-9a-f]{64}")


def attacker_token(api: Api, email: str = ATTACKER) -> str:
    """A « Je ne possède pas encore de dossier » account under Lucas's identity, ready to use."""
    answer = api.sign_up(no_dossier=True, dossier_number="", email=email, email_confirmation=email)
    assert answer.status == 202, answer.body
    password = temporary_password(email)
    token = api.log_in(email, password).json["token"]
    steps = [
        ("password", {"old_password": password, "new_password": NEW_PASSWORD}),
        ("secret-question", {"question": "Ville de naissance ?", "answer": "Lille"}),
    ]
    for step, body in steps:
        body = {**body, "confirmation": NEW_PASSWORD} if step == "password" else body
        assert api.call("POST", f"/api/v1/me/first-login/{step}", body, token).status == 200
    version = api.call("GET", "/api/v1/terms/current").json["version"]
    answer = api.call("POST", "/api/v1/me/terms-acceptance", {"version": version}, token)
    assert answer.status == 200, answer.body
    return answer.json["token"]


def without_claim_id(body: dict[str, Any]) -> str:
    """The answer but its one-time claim id: all that may differ between attempts."""
    assert CLAIM_ID.fullmatch(body["claim_id"]) and body["expires_in"] == 1800
    return repr({k: v for k, v in body.items() if k != "claim_id"})


@pytest.fixture
def api(portal: WebClient) -> Api:
    return Api(portal.client)


def test_a_stranger_with_the_victim_s_identity_cannot_link_the_dossier_by_enumeration(
    api: Api,
) -> None:
    token = attacker_token(api)
    answers = [
        api.call("POST", ADD, {"funder": "region-idf", "dossier_number": n}, token) for n in RUN
    ]
    assert [answer.status for answer in answers] == [202] * len(RUN), answers[2].body
    # Unknown, the victim's (a courriel that is not the account's) and another identity's: one
    # answer, byte for byte but the claim id.
    assert len({without_claim_id(answer.json) for answer in answers}) == 1
    assert DossierItem.get("region-idf", VICTIM_NUMBER).account_id is None

    # The code went to the victim's mailbox, never to the attacker's.
    (_subject, text), *_ = mails_to(LUCAS["email"])
    assert re.search(r"\b\d{8}\b", text) and "mallory" not in text.lower()
    assert not any(re.search(r"\b\d{8}\b", t) for _s, t in mails_to(ATTACKER)[1:])

    # Guessing the code: wrong answers, then the throttle.
    claim = answers[2].json["claim_id"]
    wrong = api.call("POST", CONFIRM, {"claim_id": claim, "code": "00000000"}, token)
    assert (wrong.status, wrong.error["code"]) == (400, "validation_failed")
    statuses = [
        api.call("POST", ADD, {"funder": "region-idf", "dossier_number": n}, token).status
        for n in ("IDF-2026-000791", "IDF-2026-000792", "IDF-2026-000793")
    ]
    assert statuses[-1] == 429, statuses
    throttled = api.call(
        "POST", ADD, {"funder": "region-idf", "dossier_number": VICTIM_NUMBER}, token
    )
    assert throttled.status == 429 and int(throttled.headers["Retry-After"]) > 0
    assert "Trop de tentatives" in throttled.error["message"]
    assert DossierItem.get("region-idf", VICTIM_NUMBER).account_id is None

    # Each failure is in the attacker's audit trail (and so in the metrics).
    attacker = get_container().accounts.find_by_email(ATTACKER)
    assert attacker is not None
    attacker_id = attacker.account_id
    events = [item.event for item in AuditItem.query(attacker_id)]
    assert events.count("dossier-claim-unproven") == len(RUN)
    assert "dossier-claim-failed" in events and "dossier-claim-throttled" in events

    # The victim signs up later: the dossier is still theirs to take.
    assert api.sign_up().status == 202
    owner = DossierItem.get("region-idf", VICTIM_NUMBER).account_id
    assert owner is not None and owner != attacker_id


def test_a_linked_dossier_is_never_relinked_and_its_owner_is_told(api: Api) -> None:
    assert api.sign_up().status == 202  # Lucas: his own address is the dossier's courriel
    owner = DossierItem.get("region-idf", VICTIM_NUMBER).account_id
    assert owner is not None
    before = len(mails_to(LUCAS["email"]))
    token = attacker_token(api)
    unknown = api.call(
        "POST", ADD, {"funder": "region-idf", "dossier_number": "IDF-2026-000788"}, token
    )
    taken = api.call("POST", ADD, {"funder": "region-idf", "dossier_number": VICTIM_NUMBER}, token)
    assert (unknown.status, taken.status) == (202, 202)
    assert without_claim_id(unknown.json) == without_claim_id(taken.json)
    assert DossierItem.get("region-idf", VICTIM_NUMBER).account_id == owner
    told = mails_to(LUCAS["email"])[before:]
    assert len(told) == 1, told
    subject, text = told[0]
    assert "rattacher" in subject.lower() or "rattacher" in text
    assert VICTIM_NUMBER in text and "mallory" not in text.lower() and "Lucas" in text
    assert "dossier-claim-attempt" in {item.event for item in AuditItem.query(owner)}


def test_the_right_code_from_the_dossier_s_mailbox_links_it(api: Api) -> None:
    """The person who reads the funder's courriel completes the claim from another address."""
    token = attacker_token(api, email="lucas.autre@example.org")  # Lucas, a second address
    pending = api.call(
        "POST", ADD, {"funder": "region-idf", "dossier_number": VICTIM_NUMBER}, token
    )
    assert pending.status == 202
    code = re.search(r"\b(\d{8})\b", mails_to(LUCAS["email"])[-1][1])
    assert code is not None
    linked = api.call(
        "POST", CONFIRM, {"claim_id": pending.json["claim_id"], "code": code.group(1)}, token
    )
    assert linked.status == 201, linked.body
    assert linked.json["dossier_number"] == VICTIM_NUMBER
    assert linked.headers["Location"].endswith(f"dossier={VICTIM_NUMBER}")
    again = api.call(
        "POST", CONFIRM, {"claim_id": pending.json["claim_id"], "code": code.group(1)}, token
    )
    assert (again.status, again.error["code"]) == (400, "claim_expired")  # single use


def test_an_activation_code_links_a_dossier_the_funder_sent_no_courriel_for(api: Api) -> None:
    header = (DEMO_DIR / "dossiers_region-idf.csv").read_text().splitlines()[0]
    drop(
        "region-idf",
        "dossiers_code.csv",
        (
            header + ";code_activation\nIDF-2026-000900;PETIT;Lucas;03/02/1998;;MECA;Mécanicien;"
            "01/10/2026;30/06/2027;54756834567143;Institut de formation numérique;;652,02;"
            "18/09/2026;en_cours;K7M2-P9QX-4TDV\n"
        ).encode(),
    )
    run_queue()
    assert DossierItem.get("region-idf", "IDF-2026-000900").activation_code_hash
    token = attacker_token(api, email="lucas.petit@example.org")
    body = {"funder": "region-idf", "dossier_number": "IDF-2026-000900"}
    pending = api.call("POST", ADD, body, token)
    assert pending.status == 202
    claim = pending.json["claim_id"]
    wrong = api.call("POST", CONFIRM, {"claim_id": claim, "code": "K7M2-P9QX-4TDX"}, token)
    assert wrong.status == 400
    linked = api.call("POST", CONFIRM, {"claim_id": claim, "code": "k7m2 p9qx 4tdv"}, token)
    assert linked.status == 201, linked.body


def test_the_page_gives_the_same_answer_for_every_number_and_throttles(portal: WebClient) -> None:
    web = portal
    page = web.get("/region-idf/inscription")
    web.post(
        "/region-idf/inscription",
        {
            "csrf": page.hidden("csrf"),
            "captcha_id": page.hidden("captcha_id"),
            "action": "submit",
            "family_name": "Petit",
            "given_names": "Lucas",
            "birth_date": "03/02/1998",
            "no_dossier": "oui",
            "email": ATTACKER,
            "email_confirmation": ATTACKER,
            "captcha_answer": CAPTCHA,
            "terms_accepted": "oui",
        },
    )
    password = temporary_password(ATTACKER)
    assert log_in(web, ATTACKER, password).location == "/premiere-connexion/mot-de-passe"
    finish_first_login_steps(web, password)
    texts = []
    for number in RUN:
        form = web.get("/formations")
        answer = web.post(
            "/formations/ajouter-un-dossier",
            {"csrf": form.hidden("csrf"), "financeur": "region-idf", "numero_dossier": number},
        )
        assert answer.status == 200
        assert "Code reçu par courriel ou code d’activation" in answer.text
        texts.append(CLAIM_ID.sub("…", answer.text.replace(number, "N")))
    assert len(set(texts)) == 1
    assert DossierItem.get("region-idf", VICTIM_NUMBER).account_id is None
    form = web.get("/formations")
    for _ in range(3):
        last = web.post(
            "/formations/ajouter-un-dossier",
            {"csrf": form.hidden("csrf"), "financeur": "region-idf", "numero_dossier": "X-1"},
        )
    assert "Trop de tentatives" in last.text
