"""A mobile app for handler tests: JSON in and out with a bearer token, on the real Chalice routing;
and the demo trainee's way through sign-up and first login (test_api_*.py)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from chalice.test import Client

from tests.integration.conftest import CAPTCHA, mails_to

LUCAS = {
    "family_name": "Petit",
    "given_names": "Lucas",
    "birth_date": "03/02/1998",
    "no_dossier": False,
    "dossier_number": "IDF-2026-000789",
    "email": "lucas.petit@example.fr",
    "email_confirmation": "lucas.petit@example.fr",
    "captcha_answer": CAPTCHA,
    "terms_accepted": True,
}
INES = {
    "family_name": "Bernard",
    "given_names": "Inès",
    "birth_date": "11/11/2001",
    "dossier_number": "IDF-2026-000790",
}
NEW_PASSWORD = "Formation-Cuisine-2026"
SIGNUP = "/api/v1/funders/region-idf/signup"


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def error(self) -> dict[str, Any]:
        return self.json["error"]


@dataclass
class Api:
    """A mobile app's view of the portal: JSON in and out, a bearer token, every answer kept."""

    client: Client
    answers: list[Answer] = field(default_factory=list)

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        token: str | None = None,
        raw: bytes | str | None = None,
        content_type: str = "application/json",
        headers: dict[str, str] | None = None,
    ) -> Answer:
        headers = {"Content-Type": content_type, **(headers or {})}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        payload = raw if raw is not None else (b"" if body is None else json.dumps(body))
        response = self.client.http.request(method, path, headers=headers, body=payload)
        answer = Answer(response.status_code, dict(response.headers), response.body)
        self.answers.append(answer)
        return answer

    def captcha(self) -> str:
        answer = self.call("POST", "/api/v1/captcha")
        assert answer.status == 201, answer.body
        return answer.json["captcha_id"]

    def sign_up(self, captcha_id: str | None = None, **changes: Any) -> Answer:
        body = {**LUCAS, "captcha_id": captcha_id or self.captcha(), **changes}
        return self.call("POST", SIGNUP, body)

    def log_in(self, username: str, password: str) -> Answer:
        return self.call("POST", "/api/v1/sessions", {"username": username, "password": password})


def temporary_password(address: str) -> str:
    _subject, text = mails_to(address)[-1]
    match = re.search(r"Mot de passe provisoire : (\S+)", text)
    assert match, text
    return match.group(1)


def first_login(api: Api) -> tuple[str, str]:
    """Signs Lucas up and logs him in with the temporary password: (token, temporary password)."""
    assert api.sign_up().status == 202
    password = temporary_password(LUCAS["email"])
    answer = api.log_in(LUCAS["email"], password)
    assert answer.status == 201, answer.body
    return answer.json["token"], password


def complete_first_login(api: Api) -> str:
    token, password = first_login(api)
    step = {"old_password": password, "new_password": NEW_PASSWORD, "confirmation": NEW_PASSWORD}
    assert api.call("POST", "/api/v1/me/first-login/password", step, token).status == 200
    secret = {"question": "Ville de naissance ?", "answer": "Lille"}
    assert api.call("POST", "/api/v1/me/first-login/secret-question", secret, token).status == 200
    answer = api.call("POST", "/api/v1/me/terms-acceptance", {"version": "1"}, token)
    assert answer.status == 200
    return answer.json["token"]
