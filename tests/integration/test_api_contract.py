"""What every answer of the JSON API promises, whatever the request: a 4xx in the error shape for
anything malformed (never a 5xx), JSON never cached, the security headers, and an OpenAPI document
that describes exactly the routes."""

from __future__ import annotations

import json

import pytest
from openapi_spec_validator import validate

from chalicelib.container import get_container
from tests.support.api import LUCAS, SIGNUP, Api, complete_first_login, first_login
from tests.support.web import WebClient

SECURITY_HEADERS = ("Content-Security-Policy", "X-Content-Type-Options", "Referrer-Policy")


@pytest.fixture
def api(portal: WebClient) -> Api:
    return Api(portal.client)


def test_malformed_requests_get_a_4xx_in_the_error_shape(api: Api) -> None:
    token, _password = first_login(api)  # at the password step, whose body is then read
    bodies = {
        "not json": "{nom: Petit",
        "a list": "[1, 2]",
        "not utf-8": b"\xff\xfe{}",
        "deep": "[" * 20_000 + "]" * 20_000,
        "empty": "",
    }
    for path in (SIGNUP, "/api/v1/sessions", "/api/v1/me/first-login/password"):
        for name, raw in bodies.items():
            answer = api.call("POST", path, raw=raw, token=token)
            assert (answer.status, answer.error["code"]) == (400, "invalid_request"), (path, name)
        too_large = api.call("POST", path, raw=json.dumps({"x": "a" * 100_000}), token=token)
        assert (too_large.status, too_large.error["code"]) == (413, "payload_too_large")
    wrong_types = api.call(
        "POST", SIGNUP, {**LUCAS, "captcha_id": 12, "terms_accepted": "oui", "email": None}
    )
    assert (wrong_types.status, wrong_types.error["code"]) == (400, "invalid_request")
    assert wrong_types.error["fields"] == {
        "captcha_id": "Ce champ doit être une chaîne de caractères.",
        "email": "Ce champ doit être une chaîne de caractères.",
        "terms_accepted": "Ce champ doit valoir true ou false.",
    }
    missing = api.call("POST", "/api/v1/sessions", {"username": LUCAS["email"]})
    assert missing.error["fields"] == {"password": "Ce champ est obligatoire."}
    form = api.call("POST", "/api/v1/sessions", raw="username=x", content_type="text/plain")
    assert (form.status, form.error["code"]) == (415, "unsupported_media_type")
    wrong_method = api.call("PUT", "/api/v1/sessions", {})
    assert (wrong_method.status, wrong_method.error["code"]) == (405, "method_not_allowed")
    for header_token in ("", "pas-un-jeton", "x" * 5000):
        answer = api.call("GET", "/api/v1/me", token=header_token)
        assert (answer.status, answer.error["code"]) == (401, "not_authenticated")
    for answer in api.answers:
        assert answer.status < 500, answer.body
        assert answer.headers["Content-Type"] == "application/json; charset=utf-8"


def test_every_answer_is_json_never_cached_and_carries_the_security_headers(api: Api) -> None:
    token = complete_first_login(api)
    api.call("GET", "/api/v1/me", token=token)
    api.call("GET", "/api/v1/openapi.json")
    api.call("GET", "/api/v1/me")
    api.call("DELETE", "/api/v1/sessions/current", token=token)
    assert {answer.status for answer in api.answers} >= {200, 201, 202, 204, 401}
    for answer in api.answers:
        assert answer.headers["Cache-Control"] == "no-store"
        assert answer.headers["Content-Type"] == "application/json; charset=utf-8"
        for header in SECURITY_HEADERS:
            assert answer.headers[header], header


def test_the_openapi_document_describes_exactly_the_routes(api: Api) -> None:
    import app as portal_app

    answer = api.call("GET", "/api/v1/openapi.json")
    document = answer.json
    validate(document)
    described = {
        (path, method.upper())
        for path, operations in document["paths"].items()
        for method in operations
    }
    routed = {
        (path, method)
        for path, methods in portal_app.app.routes.items()
        if path.startswith("/api/v1/")
        for method in methods
    }
    assert described == routed
    codes = set(
        document["components"]["schemas"]["Error"]["properties"]["error"]["properties"]["code"][
            "enum"
        ]
    )
    assert {"invalid_request", "step_required", "invalid_credentials", "rate_limited"} <= codes


def test_an_unexpected_failure_is_a_french_500_without_detail(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken() -> None:
        raise RuntimeError("détail technique")

    monkeypatch.setattr(get_container().terms.repository, "current", broken)
    answer = api.call("GET", "/api/v1/terms/current")
    assert (answer.status, answer.error["code"]) == (500, "internal_error")
    assert "détail technique" not in answer.body.decode()
    assert answer.error["message"].startswith("Une erreur inattendue est survenue")
    assert answer.headers["Cache-Control"] == "no-store"
