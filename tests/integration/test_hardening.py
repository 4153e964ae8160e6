"""Every route, fed malformed input, answers a clear 4xx — never a 5xx or a stack trace — and
carries the headers of security.md. Routes are read from the app, so new ones are covered."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from chalice.test import Client

from tests.integration.test_accounts_web import complete_first_login, sign_up
from tests.support.web import WebClient

PATH_VALUES = {
    "funder_code": "region-idf",
    "challenge_id": "0" * 64,
    "a": "dsfr",
    "b": "x",
    "c": "y",
    "d": "z",
}
BAD_BODIES: dict[str, tuple[str, bytes]] = {
    "vide": ("application/x-www-form-urlencoded", b""),
    "énorme": ("application/x-www-form-urlencoded", b"a=" + b"x" * 200_000),
    "mauvais encodage": ("application/x-www-form-urlencoded", b"nom=\xff\xfe\xfa&csrf=\xc3"),
    "types faux": ("application/json", b'{"username": ["liste"], "password": {"objet": 1}}'),
    "json cassé": ("application/json", b'{"username": '),
    "sans csrf": ("application/x-www-form-urlencoded", b"username=a%40b.fr&password=x"),
    "champs en nombre": ("application/x-www-form-urlencoded", b"&".join([b"a=1"] * 2000)),
}
TRACE = re.compile(r"Traceback|File \"/|Exception:|stackTrace", re.IGNORECASE)


def routes() -> Iterator[tuple[str, str]]:
    import app as portal

    for path, methods in sorted(portal.app.routes.items()):
        for method in sorted(methods):
            concrete = re.sub(r"\{(\w+)\}", lambda match: PATH_VALUES.get(match[1], "x"), path)
            yield method, concrete


def assert_clean(
    status: int, body: bytes, where: str, content_type: str | None = None, path: str = "/api/"
) -> None:
    assert status < 500, f"{where}: {status}"
    text = body.decode("utf-8", "replace")
    assert not TRACE.search(text), f"{where}: trace in body"
    if status >= 400 and not path.startswith("/api/"):  # a person reads it: the French page
        assert (content_type or "").startswith("text/html"), f"{where}: {content_type} {text[:80]}"
        assert '<html lang="fr"' in text, where


def test_every_route_refuses_malformed_input_without_a_server_error(portal: WebClient) -> None:
    client: Client = portal.client
    for method, path in routes():
        if method == "GET":
            for query in ("", "?financeur=%00&reference=" + "x" * 5000, "?du=99/99/9999&au=x"):
                response = client.http.get(path + query)
                where = f"GET {path}{query[:30]}"
                assert_clean(response.status_code, response.body, where)
            # A content type no browser sends with a GET: Chalice refuses it before the view.
            response = client.http.get(path, headers={"Content-Type": "text/plain"})
            assert_clean(
                response.status_code,
                response.body,
                f"GET {path} (text/plain)",
                response.headers.get("Content-Type"),
                path,
            )
            continue
        for name, (content_type, body) in BAD_BODIES.items():
            response = client.http.request(
                method, path, headers={"Content-Type": content_type}, body=body
            )
            assert_clean(
                response.status_code,
                response.body,
                f"{method} {path} ({name})",
                response.headers.get("Content-Type"),
                path,
            )


def test_every_route_refuses_an_expired_or_forged_session(portal: WebClient) -> None:
    for cookie in ("__Host-session=forged", "__Host-session=" + "a" * 5000, "__Host-session"):
        for method, path in routes():
            response = portal.client.http.request(
                method,
                path,
                headers={
                    "Cookie": cookie,
                    "Authorization": "Bearer forged",
                    "Content-Type": "application/x-www-form-urlencoded",
                },
                body=b"csrf=forged",
            )
            assert_clean(response.status_code, response.body, f"{method} {path} ({cookie[:20]})")


@pytest.fixture
def signed_in(portal: WebClient) -> WebClient:
    sign_up(portal)
    complete_first_login(portal)
    return portal


def test_every_page_carries_the_security_headers(signed_in: WebClient) -> None:
    for method, path in routes():
        if method != "GET":
            continue
        page = signed_in.get(path)
        headers = page.headers
        where = f"GET {path}"
        assert "default-src 'self'" in headers["Content-Security-Policy"], where
        assert "frame-ancestors 'none'" in headers["Content-Security-Policy"], where
        assert "object-src 'none'" in headers["Content-Security-Policy"], where
        assert headers["X-Content-Type-Options"] == "nosniff", where
        assert headers["Referrer-Policy"] == "same-origin", where
        assert headers["Strict-Transport-Security"].startswith("max-age="), where
        assert headers["Cache-Control"] == "no-store", where
