"""Each face maps the services' refusals (chalicelib/services/errors.py) once: the API to its JSON
errors (`api_view`), the pages to their answers (`web_view`, `page_errors`)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from chalice import Response

from chalicelib.api.responses import api_view
from chalicelib.services.errors import (
    DomainError,
    Expired,
    Forbidden,
    Invalid,
    NotFound,
    RateLimited,
    SignedOut,
    Throttled,
)
from chalicelib.web.guards import page_errors, web_view


def soon() -> datetime:
    return datetime.now(UTC) + timedelta(minutes=2)


def api_answer(error: DomainError) -> tuple[int, dict[str, object], dict[str, str]]:
    def view() -> Response:
        raise error

    response = api_view(view)()
    return response.status_code, json.loads(response.body)["error"], response.headers


def test_the_api_answers_each_refusal_in_its_error_shape() -> None:
    status, body, _ = api_answer(NotFound("Ce dossier n’existe pas."))
    assert (status, body) == (404, {"code": "not_found", "message": "Ce dossier n’existe pas."})
    status, body, _ = api_answer(NotFound("Pas encore.", code="document_not_available"))
    assert (status, body["code"]) == (404, "document_not_available")
    # Field-neutral keys take the API's published names, in one table.
    status, body, _ = api_answer(
        Invalid({"period_end": "Fin avant début.", "funder_code": "Choisissez."})
    )
    assert status == 400 and body["code"] == "validation_failed"
    assert body["fields"] == {"to": "Fin avant début.", "funder": "Choisissez."}
    status, body, _ = api_answer(Expired({"code": "Recommencez."}))
    assert (status, body["code"], body["message"]) == (400, "claim_expired", "Recommencez.")
    status, body, headers = api_answer(Throttled(soon(), "Trop de tentatives.", "dossier_number"))
    assert (status, body["code"], body["fields"]) == (
        429,
        "too_many_attempts",
        {"dossier_number": "Trop de tentatives."},
    )
    assert 110 <= int(headers["Retry-After"]) <= 120
    status, body, _ = api_answer(RateLimited("Trop de vérifications."))
    assert (status, body["code"]) == (429, "rate_limited")
    status, body, _ = api_answer(Forbidden("Terminez votre connexion."))
    assert (status, body) == (403, {"code": "forbidden", "message": "Terminez votre connexion."})
    status, body, headers = api_answer(SignedOut())
    assert (status, body["code"]) == (401, "not_authenticated")
    assert 'error="invalid_token"' in headers["WWW-Authenticate"]


@pytest.mark.parametrize(
    ("error", "status", "location"),
    [
        (NotFound("Ce document n’existe pas."), 404, None),
        (Forbidden("Ce document n’existe pas."), 403, None),
        (SignedOut(), 303, "/?message=connexion-requise"),
    ],
)
def test_the_pages_answer_what_looks_the_same_everywhere(
    error: DomainError, status: int, location: str | None
) -> None:
    def view() -> Response:
        raise error

    response = web_view(view)()
    assert (response.status_code, response.headers.get("Location")) == (status, location)
    if isinstance(error, NotFound | Forbidden):
        assert "Ce document n’existe pas." in response.body


def test_the_pages_show_a_refusal_under_their_own_field_names() -> None:
    invalid = Invalid({"funder_code": "a", "dossier_number": "b", "period_start": "c", "code": "d"})
    assert page_errors(invalid) == {"financeur": "a", "numero_dossier": "b", "du": "c", "code": "d"}
    throttled = Throttled(soon(), "Trop de tentatives.", "dossier_number")
    assert page_errors(throttled) == {"numero_dossier": "Trop de tentatives."}
