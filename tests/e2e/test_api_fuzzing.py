"""Schemathesis against the running local stack: every operation of /api/v1, generated from the
OpenAPI document the app serves, anonymously, as a trainee at a first-login step and as a trainee
with a real bearer token. Every answer must be a non-5xx whose status code, content type, headers
and body the document describes.

The fuzzer changes the state of whoever it is signed in as (phone, failed proofs that lock the
login, closed sessions), so it gets trainees of its own, never a demo identity that other journeys
use: one with a dossier of its own (dropped as a funder file), one left at the first-login
password step, and one whose sessions only serve to be closed by DELETE /api/v1/sessions/current.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from schemathesis import Case, CheckFunction, Config
from schemathesis.checks import not_a_server_error
from schemathesis.filters import HasAPIOperation
from schemathesis.schemas import BaseSchema
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from local.background import child_environment
from tests.e2e.conftest import CAPTCHA_ANSWER, PROJECT_DIR, RunningStack

pytestmark = pytest.mark.e2e

CHECKS: list[CheckFunction] = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
# A fixed seed and Hypothesis' derandomized mode: what a run finds, the next run finds again, in
# about the same time. Per operation and run: 30 generated cases, plus the examples and the
# coverage phase's boundary and negative cases.
SEED = 20261127
MAX_EXAMPLES = 30
# Methods a route does not declare, which the coverage phase sends to check the refusal: those
# API Gateway accepts. TRACE and QUERY never reach the app in AWS; locally, Chalice's development
# server answers them 501 itself, without asking the app.
UNEXPECTED_METHODS = ("GET", "PUT", "POST", "DELETE", "OPTIONS", "PATCH")
CLOSE_SESSION = ("DELETE", "/api/v1/sessions/current")

FUNDER = "region-idf"
PASSWORD = "Fuzz-Portail-Stagiaire-2026"
SECRET_QUESTION = "Couleur du premier vélo ?"
SECRET_ANSWER = "Vert pomme"


@dataclass(frozen=True)
class Person:
    family_name: str
    given_names: str
    birth_date: str
    email: str


# Identities that no demo file holds and no other journey uses.
READY = Person("RENAUD", "Chloé", "08/03/1996", "chloe.renaud@example.fr")
AT_A_STEP = Person("GAUTHIER", "Inaya", "23/04/2000", "inaya.gauthier@example.fr")
CLOSING = Person("FONTAINE", "Maël", "19/09/1999", "mael.fontaine@example.fr")

DOSSIER = "IDF-2025-000901"
REFERENCE = "IDF-P-2025-0901"
# A finished training (so both PDFs exist) at an organisation without staff accounts, so that the
# threads written here never show in the messages journey's organisation space.
DOSSIERS_FILE = (
    "numero_dossier;nom;prenoms;date_naissance;courriel;code_formation;intitule_formation;"
    "date_debut;date_fin;siret_organisme;nom_organisme;courriel_organisme;taux_mensuel;"
    "date_decision;statut\n"
    f"{DOSSIER};{READY.family_name};{READY.given_names};{READY.birth_date};{READY.email};"
    "AIDE-SOIN;Aide-soignant;01/09/2025;27/02/2026;13476182522257;"
    "Centre de formation sanitaire et social;accueil@cfss.example.fr;685,00;20/08/2025;terminee\n"
)
PAYMENTS_FILE = (
    "numero_dossier;reference_paiement;date_mise_en_paiement;periode_debut;periode_fin;element;"
    "libelle;taux;jours;diviseur;montant\n"
    f"{DOSSIER};{REFERENCE};15/10/2025;01/09/2025;30/09/2025;REMUNERATION;;685,00;30;30;685,00\n"
    f"{DOSSIER};{REFERENCE};15/10/2025;10/09/2025;11/09/2025;RETENUE_ABSENCE;"
    "Absence non justifiée;685,00;2;30;-45,67\n"
)


# Talking to the stack as a mobile app would ----------------------------------------------------


def _call(
    stack: RunningStack, method: str, path: str, body: Any = None, token: str | None = None
) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return requests.request(method, stack.url + path, json=body, headers=headers, timeout=30)


def _expect(answer: requests.Response, status: int) -> Any:
    assert answer.status_code == status, (answer.request.method, answer.url, answer.text)
    return answer.json() if answer.content else None


def log_in(stack: RunningStack, person: Person, password: str = PASSWORD) -> str:
    body = {"username": person.email, "password": password}
    return _expect(_call(stack, "POST", "/api/v1/sessions", body), 201)["token"]


def sign_up(stack: RunningStack, person: Person) -> str:
    """Sign-up "without a dossier yet" through the API; the temporary password of the mail."""
    captcha_id = _expect(_call(stack, "POST", "/api/v1/captcha"), 201)["captcha_id"]
    form = {
        "family_name": person.family_name,
        "given_names": person.given_names,
        "birth_date": person.birth_date,
        "no_dossier": True,
        "email": person.email,
        "email_confirmation": person.email,
        "captcha_id": captcha_id,
        "captcha_answer": CAPTCHA_ANSWER,
        "terms_accepted": True,
    }
    _expect(_call(stack, "POST", f"/api/v1/funders/{FUNDER}/signup", form), 202)
    (mail,) = stack.wait_for_mail(person.email)
    match = re.search(r"Mot de passe provisoire : (\S+)", mail)
    assert match, mail
    return match.group(1)


def sign_up_and_finish_first_login(stack: RunningStack, person: Person) -> str:
    """The token of a session past the three first-login steps, which reaches every route."""
    temporary = sign_up(stack, person)
    token = log_in(stack, person, temporary)
    step = {"old_password": temporary, "new_password": PASSWORD, "confirmation": PASSWORD}
    _expect(_call(stack, "POST", "/api/v1/me/first-login/password", step, token), 200)
    secret = {"question": SECRET_QUESTION, "answer": SECRET_ANSWER}
    _expect(_call(stack, "POST", "/api/v1/me/first-login/secret-question", secret, token), 200)
    version = _expect(_call(stack, "GET", "/api/v1/terms/current"), 200)["version"]
    accepted = _call(stack, "POST", "/api/v1/me/terms-acceptance", {"version": version}, token)
    # Accepting the terms is a privilege change: the session gets a new token.
    return _expect(accepted, 200)["token"]


def drop_funder_file(stack: RunningStack, directory: Path, name: str, content: str) -> None:
    """`python -m chalicelib.admin drop` against the stack, as an operator would."""
    path = directory / name
    path.write_text(content, encoding="utf-8")
    subprocess.run(
        [
            *(sys.executable, "-m", "chalicelib.admin", "--stage", "local"),
            *("--endpoint-url", stack.aws_url, "drop", str(path), "--funder", FUNDER),
        ],
        cwd=PROJECT_DIR,
        env=child_environment(),
        check=True,
        capture_output=True,
    )


def wait_until(what: str, ready: Callable[[], bool], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ready():
            return
        time.sleep(0.5)
    raise AssertionError(f"{what} : toujours absent après {timeout:.0f} s")


@dataclass(frozen=True)
class Trainees:
    stack: RunningStack
    ready: str  # the one session of a trainee with a dossier, open for the whole module
    at_a_step: str  # the one session of a trainee still to choose a password

    def closable(self) -> str:
        """A new session of a third trainee, for a case that closes the session it carries: the
        two sessions above must stay open, and their logins may be locked by wrong proofs."""
        return log_in(self.stack, CLOSING)


@pytest.fixture(scope="module")
def trainees(stack: RunningStack, tmp_path_factory: pytest.TempPathFactory) -> Trainees:
    ready = sign_up_and_finish_first_login(stack, READY)
    sign_up_and_finish_first_login(stack, CLOSING)
    at_a_step = log_in(stack, AT_A_STEP, sign_up(stack, AT_A_STEP))
    files = tmp_path_factory.mktemp("funder-files")
    # The dossier first (it is linked to the account by identity and address), then its payment:
    # a payment of a dossier the portal does not know yet would be rejected.
    drop_funder_file(stack, files, "dossiers_fuzzing.csv", DOSSIERS_FILE)
    wait_until(
        "le dossier du stagiaire",
        lambda: bool(_expect(_call(stack, "GET", "/api/v1/trainings", token=ready), 200)),
    )
    drop_funder_file(stack, files, "paiements_fuzzing.csv", PAYMENTS_FILE)
    history = f"/api/v1/payments?funder={FUNDER}&dossier={DOSSIER}"
    wait_until(
        "le paiement du stagiaire",
        lambda: bool(_expect(_call(stack, "GET", history, token=ready), 200)["payments"]),
    )
    return Trainees(stack, ready, at_a_step)


# The document, as the running app serves it -----------------------------------------------------


@pytest.fixture(scope="module")
def api_schema(stack: RunningStack) -> BaseSchema:
    config = Config.from_dict(
        {
            "seed": SEED,
            "base-url": stack.url,
            "generation": {"max-examples": MAX_EXAMPLES, "deterministic": True, "database": "none"},
            "phases": {"coverage": {"unexpected-methods": list(UNEXPECTED_METHODS)}},
        }
    )
    return schemathesis.openapi.from_url(f"{stack.url}/api/v1/openapi.json", config=config)


def needs_a_session(context: HasAPIOperation) -> bool:
    # Operations with `"security": []` are public; the others inherit the document's bearerAuth.
    return context.operation.definition.raw.get("security") != []


def closes_the_session(context: HasAPIOperation) -> bool:
    operation = context.operation
    return (operation.method.upper(), operation.path) == CLOSE_SESSION


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


anonymous = schemathesis.pytest.from_fixture("api_schema")
signed_in = anonymous.include(needs_a_session)
# Closing the session answers the same at every step, and the signed-in run covers it; here it
# would end the only session of a trainee whose login wrong passwords may have locked.
at_a_step = signed_in.exclude(closes_the_session)


@anonymous.parametrize()
def test_anonymous_requests_get_answers_the_document_describes(case: Case) -> None:
    case.call_and_validate(checks=CHECKS)


@at_a_step.parametrize()
def test_requests_at_a_first_login_step_get_answers_the_document_describes(
    case: Case, trainees: Trainees
) -> None:
    case.call_and_validate(headers=bearer(trainees.at_a_step), checks=CHECKS)


@signed_in.parametrize()
def test_a_trainees_requests_get_answers_the_document_describes(
    case: Case, trainees: Trainees
) -> None:
    token = trainees.closable() if closes_the_session(case) else trainees.ready
    case.call_and_validate(headers=bearer(token), checks=CHECKS)


# Real data: what random identifiers never reach -------------------------------------------------


def test_a_trainees_own_data_gets_answers_the_document_describes(
    api_schema: BaseSchema, trainees: Trainees
) -> None:
    """The 200 and 201 answers the fuzzer cannot reach with random identifiers: the trainee's own
    dossier, payment, documents and a conversation, each checked against the document."""
    dossier = {"funder": FUNDER, "dossier": DOSSIER}
    payment = {"funder": FUNDER, "reference": REFERENCE}

    def answer(method: str, path: str, status: int, **data: Any) -> Any:
        case = api_schema[path][method].Case(**data)
        response = case.call_and_validate(headers=bearer(trainees.ready), checks=CHECKS)
        assert response.status_code == status, (method, path, response.text)
        return response.json()

    assert answer("GET", "/api/v1/trainings", 200)["trainings"]
    answer("GET", "/api/v1/payments", 200, query=dossier)
    answer(
        "GET", "/api/v1/payments", 200, query={**dossier, "from": "2025-09-01", "to": "2025-09-30"}
    )
    answer("GET", "/api/v1/payment", 200, query=payment)
    answer("GET", "/api/v1/payment/pdf", 200, query=payment)
    for document in ("decision", "end-of-training"):
        answer("GET", "/api/v1/documents", 200, query={**dossier, "type": document})
    answer("GET", "/api/v1/me/data", 200)
    answer("PUT", "/api/v1/me/phone", 200, body={"phone": "06 12 34 56 78"})
    answer("GET", "/api/v1/me/account", 200)
    (training,) = answer("GET", "/api/v1/messages/threads", 200)["trainings"]
    message = {"training": training["key"], "subject": "Attestation", "text": "Bonjour."}
    started = answer("POST", "/api/v1/messages/threads", 201, body=message)
    thread = {"thread_id": started["thread"]["id"]}
    replies = "/api/v1/messages/threads/{thread_id}/messages"
    answer("POST", replies, 201, path_parameters=thread, body={"text": "Merci."})
    answer("GET", "/api/v1/messages/threads/{thread_id}", 200, path_parameters=thread)
    answer("GET", "/api/v1/messages/threads", 200)
    answer("GET", "/api/v1/messages/unread-count", 200)
