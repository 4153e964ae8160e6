"""The funders' space (`/financeur/`): its login page, home, logout and « Paramètres ». Staff log
in with the same « Identification » as everyone (same password rules, throttling, sessions and
first-login steps), then the TOTP code (web/second_factor.py); every page goes through
`funder_staff` (web/funder_guard.py)."""

from __future__ import annotations

from decimal import Decimal

from chalice import Blueprint, Response

from chalicelib.container import get_container
from chalicelib.faces.requests import client_ip
from chalicelib.services.accounts.model import AccountKind
from chalicelib.services.errors import Invalid
from chalicelib.services.formatting import format_number
from chalicelib.services.funders.settings import (
    MAX_HOME_TEXT,
    SettingsChange,
    SpaceSettings,
)
from chalicelib.web.funder_guard import FunderStaffContext, funder_staff
from chalicelib.web.guards import read_form, web_view
from chalicelib.web.http import (
    FORM_CONTENT_TYPES,
    FUNDER_HOME_PATH,
    anonymous_form_page,
    current_session,
    expired_cookie,
    redirect,
    session_cookie_name,
)
from chalicelib.web.rendering import html_page
from chalicelib.web.staff_login import staff_login

blueprint = Blueprint(__name__)

SETTINGS_PATH = "/financeur/parametres"
NOTICES = {
    "connexion-requise": "Connectez-vous pour accéder à l’espace financeur.",
    "deconnecte": "Vous êtes déconnecté de l’espace financeur.",
}
SETTINGS_LABELS = {
    "messages_enabled": "Messages",
    "franceconnect_enabled": "FranceConnect",
    "home_text": "Texte d’accueil",
    "form": "Formulaire",
}


def _login_page(
    values: dict[str, str], error: str | None = None, status_code: int = 200
) -> Response:
    message = (blueprint.current_request.query_params or {}).get("message", "")
    return anonymous_form_page(
        blueprint.current_request,
        "funder_space_login.html",
        status_code,
        values=values,
        error=error,
        notice=NOTICES.get(message),
    )


@blueprint.route("/financeur", methods=["GET"])
@web_view
def funder_space_home() -> Response:
    request = blueprint.current_request
    current = current_session(request)
    if current is None or current.session.kind is not AccountKind.FUNDER_STAFF:
        return _login_page({})
    context = funder_staff(request)
    return html_page("funder_space_home.html", **context.layout(active=FUNDER_HOME_PATH))


@blueprint.route("/financeur/connexion", methods=["GET"])
def funder_space_login_form() -> Response:
    return redirect(FUNDER_HOME_PATH)


@blueprint.route("/financeur/connexion", methods=["POST"], content_types=FORM_CONTENT_TYPES)
def funder_space_login() -> Response:
    return staff_login(blueprint.current_request, _login_page)


@blueprint.route("/financeur/deconnexion", methods=["POST"], content_types=FORM_CONTENT_TYPES)
def funder_space_logout() -> Response:
    request = blueprint.current_request
    current = current_session(request)
    cookies = [expired_cookie(session_cookie_name())]
    done = f"{FUNDER_HOME_PATH}?message=deconnecte"
    if current is None:
        return redirect(done, cookies=cookies)
    try:
        read_form(request, current)
    except Invalid:
        return redirect(FUNDER_HOME_PATH)
    get_container().login.log_out(current.token, current.session, client_ip(request))
    return redirect(done, cookies=cookies)


# « Paramètres » -----------------------------------------------------------------------------


def _settings_page(
    context: FunderStaffContext,
    settings: SpaceSettings,
    *,
    values: dict[str, object] | None = None,
    errors: dict[str, str] | None = None,
    saved: bool = False,
    status_code: int = 200,
) -> Response:
    shown: dict[str, object] = {
        "messages_enabled": settings.messages_enabled,
        "franceconnect_enabled": settings.franceconnect_enabled,
        "home_text": settings.home_text,
        **(values or {}),
    }
    return html_page(
        "funder_settings.html",
        status_code=status_code,
        settings=settings,
        values=shown,
        errors=errors or {},
        labels=SETTINGS_LABELS,
        saved=saved,
        max_home_text=MAX_HOME_TEXT,
        max_home_text_label=format_number(Decimal(MAX_HOME_TEXT), 0),
        **context.layout(active=SETTINGS_PATH),
    )


@blueprint.route(SETTINGS_PATH, methods=["GET"])
@web_view
def funder_settings() -> Response:
    request = blueprint.current_request
    context = funder_staff(request)
    saved = (request.query_params or {}).get("enregistre") == "oui"
    settings = get_container().funder_settings.read(context.funder_code)
    return _settings_page(context, settings, saved=saved)


def _version(text: str) -> int | None:
    """The form's hidden version. None without one (a page rendered before versions existed):
    no check. A malformed one is checked as -1, never stored: « check and save again »."""
    if not text:
        return None
    return int(text) if text.isdigit() and len(text) < 10 else -1


@blueprint.route(SETTINGS_PATH, methods=["POST"], content_types=FORM_CONTENT_TYPES)
@web_view
def funder_settings_submit() -> Response:
    request = blueprint.current_request
    context = funder_staff(request, manage=True)
    service = get_container().funder_settings
    try:
        fields = read_form(request, context.current)
    except Invalid as expired:
        settings = service.read(context.funder_code)
        return _settings_page(context, settings, errors=expired.errors, status_code=403)
    wanted = SettingsChange(
        messages_enabled=fields.get("messages_enabled") == "oui",
        franceconnect_enabled=fields.get("franceconnect_enabled") == "oui",
        home_text=fields.get("home_text", "")[: MAX_HOME_TEXT * 2],
        version=_version(fields.get("version", "")),
    )
    try:
        service.change(context.funder_code, context.account.account_id, wanted, client_ip(request))
    except Invalid as refused:  # the form as sent, over the settings as stored now (its version)
        settings = service.read(context.funder_code)
        values = vars(wanted)
        return _settings_page(
            context, settings, values=values, errors=refused.errors, status_code=400
        )
    return redirect(f"{SETTINGS_PATH}?enregistre=oui")
