"""The public pages: the portal's home, each funder's home, the legal pages and the error pages.

`/{funder_code}` sits beside literal first segments (/accessibilite, /organisme...; /static/ is
CloudFront's). API Gateway and Chalice both prefer a literal resource to a path parameter, and
`is_valid_funder_code` refuses the reserved words, so a funder can never hide a page. Both also
drop a trailing slash before matching (except for "/"), so `/<code>/`, the address printed on
funding decisions, reaches `/{funder_code}`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from chalice import Blueprint
from chalice.app import Request, Response

from chalicelib.adapters import unavailability
from chalicelib.container import get_container
from chalicelib.faces.texts import UNKNOWN_FUNDER
from chalicelib.observability import logger
from chalicelib.services.funders.model import Funder, is_valid_funder_code, list_funders
from chalicelib.web.guards import Stop
from chalicelib.web.rendering import (
    HTML,
    error_page,
    html_page,
    not_found_page,
    request_error_page,
)

blueprint = Blueprint(__name__)


@dataclass(frozen=True)
class SiteIdentity:
    """What the legal pages say about who runs the portal; operators complete it before opening."""

    publisher: str
    publisher_address: str
    publication_director: str
    contact_email: str
    dpo_email: str
    accessibility_statement_date: date


SITE = SiteIdentity(
    publisher="Administration éditrice du Portail stagiaire (à compléter)",
    publisher_address="Adresse postale de l’administration éditrice (à compléter)",
    publication_director="Directrice ou directeur de la publication (à compléter)",
    contact_email="contact@portail-stagiaire.example.gouv.fr",
    dpo_email="dpo@portail-stagiaire.example.gouv.fr",
    accessibility_statement_date=date(2026, 11, 27),
)

HOME_NOTICES = {
    "connexion-requise": (
        "Identifiez-vous pour accéder à cette page : choisissez ci-dessous le portail de votre "
        "financeur."
    ),
    "deconnecte": "Vous êtes déconnecté du portail. À bientôt !",
    "compte-ferme": (
        "Votre compte est fermé et un courriel vous le confirme. Vos dossiers et vos paiements "
        "restent chez votre financeur : vous pourrez créer un nouveau compte avec votre numéro de "
        "dossier."
    ),
}


def _redirect(location: str) -> Response:
    return Response(body="", status_code=301, headers={"Location": location})


def funder_of(funder_code: str, subpath: str) -> Funder:
    """The funder of the path; otherwise raises `Stop` with the 404 page (or, for an address
    typed in capitals, the redirect to `/<code>/<subpath>`). For routes under `@web_view`."""
    repository = get_container().funders
    if not is_valid_funder_code(funder_code):
        # Addresses copied from paper sometimes come in capitals: lead them to the real one.
        lowered = funder_code.lower()
        if lowered != funder_code and is_valid_funder_code(lowered) and repository.get(lowered):
            raise Stop(_redirect(f"/{lowered}/{subpath}"))
        raise Stop(not_found_page(UNKNOWN_FUNDER))
    funder = repository.get(funder_code)
    if funder is None:
        raise Stop(not_found_page(UNKNOWN_FUNDER))
    return funder


@blueprint.route("/")
def home() -> Response:
    container = get_container()
    message = (blueprint.current_request.query_params or {}).get("message", "")
    return html_page(
        "home.html",
        notice=HOME_NOTICES.get(message),
        funders=list_funders(container.funders),
        base_url=container.settings.public_base_url,
    )


@blueprint.route("/accessibilite")
def accessibility() -> Response:
    return _legal_page("accessibility.html")


@blueprint.route("/mentions-legales")
def legal_notice() -> Response:
    return _legal_page("legal_notice.html")


@blueprint.route("/donnees-personnelles")
def personal_data() -> Response:
    from chalicelib.services.accounts.retention import INACTIVITY_NOTICE
    from chalicelib.services.funders.model import DEFAULT_RETENTION_YEARS

    # Each funder's period, from the five-minute cache of « Mes formations »: no request of its own.
    funders = sorted(get_container().trainings.funders().values(), key=lambda f: f.name)
    return html_page(
        "personal_data.html",
        site=SITE,
        base_url=get_container().settings.public_base_url,
        funders=funders,
        default_retention_years=DEFAULT_RETENTION_YEARS,
        notice_days=INACTIVITY_NOTICE.days,
    )


@blueprint.route("/gestion-des-cookies")
def cookies() -> Response:
    return _legal_page("cookies.html")


def _legal_page(template: str) -> Response:
    return html_page(template, site=SITE, base_url=get_container().settings.public_base_url)


def html_error_pages(request: Request, get_response: Callable[[Request], Response]) -> Response:
    """HTTP middleware: Chalice's own 4xx and 5xx answers are English JSON; a person gets a French
    page.

    It must be registered after the security headers middleware (inside it), so that the page
    it substitutes still gets those headers. The JSON API under /api/ keeps its JSON errors.
    """
    response = get_response(request)
    if request.path.startswith("/api/") or _is_html(response):
        return response
    if response.status_code == 404:
        return not_found_page()
    if response.status_code >= 500:
        # AWS still throttled or failing after botocore's retries: « indisponible », not a bug.
        status = 503 if unavailability.cause() else response.status_code
        return error_page(status, logger.get_correlation_id())
    if response.status_code >= 400:  # a method or a content type the route does not take
        return request_error_page(response.status_code)
    return response


def _is_html(response: Response) -> bool:
    content_type = next(
        (value for name, value in response.headers.items() if name.lower() == "content-type"), ""
    )
    return isinstance(content_type, str) and content_type.startswith(HTML.split(";")[0])
