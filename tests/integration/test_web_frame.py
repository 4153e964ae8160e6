"""The web frame: public pages on the DSFR, funder homes, legal pages, error pages, static files."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator

import pytest
from chalice import Chalice, NotFoundError
from chalice.test import Client

from app import app
from chalicelib.container import get_container
from chalicelib.observability_middleware import observe
from chalicelib.services.funders.model import (
    RESERVED_CODES,
    Funder,
    InvalidFunder,
    is_valid_funder_code,
    save_funder,
)
from chalicelib.web.pages import html_error_pages
from chalicelib.web.security_headers import security_headers
from chalicelib.web.static_files import STATIC_DIR

LEGAL_PAGES = {
    "/accessibilite": "Déclaration d’accessibilité",
    "/mentions-legales": "Mentions légales",
    "/donnees-personnelles": "Données personnelles",
    "/gestion-des-cookies": "Gestion des cookies",
}
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
STYLE_ATTRIBUTE_OR_ELEMENT = re.compile(r"\sstyle\s*=|<style", re.IGNORECASE)


@pytest.fixture
def client(aws: dict[str, str]) -> Iterator[Client]:
    # Client patches in the variables of a .chalice/config.json stage: `dev` unless told otherwise.
    with Client(app, stage_name="test") as test_client:
        yield test_client


@pytest.fixture
def funders(aws: dict[str, str]) -> list[Funder]:
    repository = get_container().funders
    return [
        save_funder(repository, Funder(code="region-sud", name="Région Sud")),
        save_funder(
            repository,
            Funder(code="etat-formation", name="État formation", franceconnect_enabled=True),
        ),
    ]


def page(client: Client, path: str, status: int = 200) -> str:
    response = client.http.get(path)
    assert response.status_code == status, (path, response.status_code, response.body[:300])
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    return response.body.decode("utf-8")


def h1(html: str) -> str:
    headings = re.findall(r"<h1[^>]*>(.*?)</h1>", html, re.DOTALL)
    assert len(headings) == 1, headings
    return headings[0].strip()


def test_home_lists_the_funders_and_explains_where_the_address_is(client, funders):
    html = page(client, "/")
    assert "décision de prise en charge" in html
    for funder in funders:
        assert f'<a href="/{funder.code}/">{funder.name}</a>' in html
    assert html.index("État formation") < html.index("Région Sud")  # sorted by name


def test_home_without_funders_says_so(client):
    assert "Aucun financeur" in page(client, "/")


@pytest.mark.parametrize("path", ["/etat-formation", "/etat-formation/"])
def test_funder_home_with_franceconnect(client, funders, path):
    html = page(client, path)
    assert h1(html) == "État formation"
    assert "<title>État formation — Portail stagiaire</title>" in html
    assert 'class="fr-connect"' in html
    assert 'action="/etat-formation/franceconnect"' in html
    assert (
        'href="https://franceconnect.gouv.fr/" target="_blank" rel="noopener" '
        'title="Qu’est-ce que FranceConnect ? - nouvelle fenêtre"'
    ) in html
    assert 'class="fr-hr-or">ou<' in html
    assert 'action="/etat-formation/connexion"' in html
    for entry in ("inscription", "mot-de-passe-oublie"):
        assert f'href="/etat-formation/{entry}"' in html


def test_funder_home_without_franceconnect(client, funders):
    html = page(client, "/region-sud/")
    assert h1(html) == "Région Sud"
    assert "fr-connect" not in html
    assert "FranceConnect" not in html
    assert '<label class="fr-label" for="username">Utilisateur' in html
    assert '<label class="fr-label" for="password">Mot de passe' in html
    assert ">Connexion</button>" in html
    assert "S’inscrire</a>" in html
    assert page(client, "/region-sud/franceconnect", status=404)


def test_franceconnect_without_its_settings_says_it_is_unavailable(client, funders):
    # The FranceConnect journeys themselves are in test_franceconnect_web.py.
    response = client.http.get("/etat-formation/franceconnect")
    html = response.body.decode("utf-8")
    assert response.status_code == 503
    assert h1(html) == "FranceConnect est momentanément indisponible"
    assert 'href="/etat-formation/"' in html  # the password login


@pytest.mark.parametrize(
    "path", ["/inconnu", "/inconnu/", "/inconnu/connexion", "/static", "/a", "/favicon.ico"]
)
def test_unknown_funder_is_a_french_404_page(client, funders, path):
    html = page(client, path, status=404)
    assert h1(html) == "Page non trouvée"
    assert '<a class="fr-btn" href="/">' in html


def test_funder_code_in_capitals_is_redirected(client, funders):
    response = client.http.get("/REGION-SUD/")
    assert response.status_code == 301
    assert response.headers["Location"] == "/region-sud/"
    assert client.http.get("/REGION-SUD/connexion").headers["Location"] == "/region-sud/"


@pytest.mark.parametrize("code", sorted(RESERVED_CODES))
def test_reserved_codes_are_refused(code):
    assert not is_valid_funder_code(code)


def test_a_funder_cannot_take_a_reserved_code(aws):
    with pytest.raises(InvalidFunder):
        save_funder(get_container().funders, Funder(code="accessibilite", name="Piège"))


@pytest.mark.parametrize(("path", "title"), LEGAL_PAGES.items())
def test_legal_pages(client, path, title):
    html = page(client, path)
    assert h1(html) == title
    assert f"<title>{title} — Portail stagiaire</title>" in html


def test_accessibility_statement_has_the_mandatory_sections(client):
    html = page(client, "/accessibilite")
    assert "<strong>non conforme</strong>" in html
    for section in (
        "État de conformité",
        "Contenus non accessibles",
        "Établissement de cette déclaration",
        "Retour d’information et contact",
        "Voies de recours",
        "Défenseur des droits",
    ):
        assert section in html


def test_footer_links_to_the_four_mandatory_pages(client, funders):
    html = page(client, "/region-sud/")
    footer = html[html.index('<footer class="fr-footer"') :]
    assert (
        '<a class="fr-footer__bottom-link" href="/accessibilite">Accessibilité : non conforme'
        in footer
    )
    for path in ("/mentions-legales", "/donnees-personnelles", "/gestion-des-cookies"):
        assert f'href="{path}"' in footer
    for site in ("legifrance.gouv.fr", "info.gouv.fr", "service-public.fr", "data.gouv.fr"):
        assert site in footer


def test_every_page_is_french_and_has_no_inline_script_or_style(client, funders):
    paths = [
        "/",
        "/region-sud/",
        "/etat-formation/",
        "/region-sud/inscription",
        "/inconnu/",
        *LEGAL_PAGES,
    ]
    titles = set()
    for path in paths:
        response = client.http.get(path)
        html = response.body.decode("utf-8")
        assert '<html lang="fr"' in html, path
        assert 'href="#contenu">Accéder au contenu' in html, path
        assert '<main id="contenu" role="main">' in html, path
        assert 'class="fr-logo">République<br>Française' in html, path
        assert not INLINE_SCRIPT.search(html), path
        assert not STYLE_ATTRIBUTE_OR_ELEMENT.search(html), path
        # No DSFR JavaScript (no page uses a component that needs it); the first screen's
        # faces are preloaded, in CORS mode as fonts are always fetched.
        assert "<script" not in html, path
        assert re.search(
            r'<link rel="preload" href="/static/dsfr/fonts/Marianne-Regular.woff2\?v=\w+" '
            r'as="font" type="font/woff2" crossorigin>',
            html,
        ), path
        titles.add(re.search(r"<title>(.*?)</title>", html).group(1))
    assert len(titles) == len(paths)  # page titles are unique


def test_pages_carry_the_security_headers(client, funders):
    for path in ("/", "/region-sud/", "/mentions-legales", "/inconnu"):
        headers = client.http.get(path).headers
        assert "default-src 'self'" in headers["Content-Security-Policy"]
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "same-origin"
        assert headers["Cache-Control"] == "no-store"


def test_pages_link_static_files_by_their_content_hash(client):
    """The files themselves come from CloudFront (S3), never from the API (D9); their URLs carry
    the content hash that the distribution's cache key includes (test_local_front.py serves them).
    """
    assert (STATIC_DIR / "dsfr" / ".built").is_file(), "DSFR not copied: run `make setup`"
    html = client.http.get("/").body.decode("utf-8")
    for relative in ("dsfr/dsfr.min.css", "app.css", "dsfr/favicon/favicon.ico"):
        digest = hashlib.sha256((STATIC_DIR / relative).read_bytes()).hexdigest()[:12]
        assert f"/static/{relative}?v={digest}" in html, relative
    assert client.http.get("/static/app.css").status_code == 403  # no route, as API Gateway


def test_a_preloaded_font_has_the_address_the_stylesheet_asks_for(client, funders):
    """Else the browser fetches it twice: once for the preload, once for the @font-face."""
    html = client.http.get("/region-sud/").body.decode("utf-8")
    preloads = re.findall(r'<link rel="preload" href="/static/dsfr/(fonts/[^"]+)" as="font"', html)
    assert preloads
    css = (STATIC_DIR / "dsfr" / "dsfr.min.css").read_text(encoding="utf-8")
    for address in preloads:
        assert f"url({address})" in css


def test_chalice_errors_become_french_pages_but_not_in_the_api():
    error_app = Chalice(app_name="error-pages")
    error_app.register_middleware(observe, "all")
    error_app.register_middleware(security_headers(hsts=False), "http")
    error_app.register_middleware(html_error_pages, "http")

    @error_app.route("/panne")
    def broken() -> None:
        raise RuntimeError("détail technique")

    @error_app.route("/absent")
    def absent() -> None:
        raise NotFoundError("absent")

    @error_app.route("/api/v1/panne")
    def api_broken() -> None:
        raise RuntimeError("détail technique")

    with Client(error_app, stage_name="test") as error_client:
        response = error_client.http.get("/panne")
        html = response.body.decode("utf-8")
        assert response.status_code == 500
        assert h1(html) == "Une erreur est survenue"
        assert "détail technique" not in html
        # The correlation id of the request's logs (API Gateway's request id once deployed).
        assert re.search(r"Référence de l’erreur, utile au support : [0-9a-f-]{36}<", html)
        assert response.headers["Content-Security-Policy"]
        assert response.headers["Cache-Control"] == "no-store"
        assert h1(error_client.http.get("/absent").body.decode("utf-8")) == "Page non trouvée"
        api_response = error_client.http.get("/api/v1/panne")
        assert api_response.status_code == 500
        assert api_response.body.startswith(b"{")
