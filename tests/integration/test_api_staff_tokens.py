"""A staff member's bearer token on the trainees' API (issue 13, Info): refused with 403, as the
web pages refuse a staff session, on every route a trainee's session reaches; the routes every
session may use (where it stands, logout, the first-login steps) stay open to staff."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from local.demo import READY, READY_STAFF
from tests.support.api import Api
from tests.support.web import WebClient

OPENAPI = Path(__file__).resolve().parents[2] / "chalicelib" / "api" / "openapi.json"
# Reached by any live session, whatever its kind: not the trainees' portal.
EVERY_SESSION = {
    ("GET", "/api/v1/me"),
    ("DELETE", "/api/v1/sessions/current"),
    ("POST", "/api/v1/me/first-login/password"),
    ("POST", "/api/v1/me/first-login/secret-question"),
    ("POST", "/api/v1/me/terms-acceptance"),
}


def authenticated_routes() -> list[tuple[str, str]]:
    document = json.loads(OPENAPI.read_text(encoding="utf-8"))
    return [
        (method.upper(), path)
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
        if operation.get("security") != []  # [] marks the public routes
        # A funder's systems use an API key, not a session (test_api_funder_files.py)
        and not path.startswith("/api/v1/funder/")
    ]


TRAINEE_ROUTES = sorted(set(authenticated_routes()) - EVERY_SESSION)


def test_the_list_covers_the_trainees_data() -> None:
    for route in [("GET", "/api/v1/me/data"), ("GET", "/api/v1/me/account")]:
        assert route in TRAINEE_ROUTES
    assert ("GET", "/api/v1/trainings") in TRAINEE_ROUTES and len(TRAINEE_ROUTES) >= 15


@pytest.fixture
def tokens(messages_on: WebClient) -> tuple[Api, str, str]:
    api = Api(messages_on.client)
    staff = api.log_in(READY_STAFF.email, READY_STAFF.password)
    trainee = api.log_in(READY.email, READY.password)
    assert staff.status == trainee.status == 201
    return api, staff.json["token"], trainee.json["token"]


def test_every_trainee_route_refuses_a_staff_token(tokens: tuple[Api, str, str]) -> None:
    api, staff, trainee = tokens
    refused = {}
    for method, path in TRAINEE_ROUTES:
        concrete = re.sub(r"\{[^}]+\}", "0" * 32, path)
        body = {} if method in ("POST", "PUT") else None
        answer = api.call(method, concrete, body, staff)
        refused[(method, path)] = (answer.status, answer.error.get("code"))
    assert refused == dict.fromkeys(TRAINEE_ROUTES, (403, "trainees_only"))
    # The same routes still serve a trainee (one of them, for the check's sake).
    assert api.call("GET", "/api/v1/me/data", token=trainee).status == 200
    assert api.call("GET", "/api/v1/me", token=staff).status == 200
