"""The funders' space (`/financeur/`): its login page, home, logout and « Paramètres ». Staff log
in with the same « Identification » as everyone (same password rules, throttling, sessions and
first-login steps), then the TOTP code (web/second_factor.py); every page goes through
`funder_page` (web/funder_guard.py)."""

from __future__ import annotations

from decimal import Decimal

from chalice import Blueprint, Response

from chalicelib.container import get_container
from chalicelib.faces.requests import client_ip, rate_limit_key
from chalicelib.faces.texts import EXPIRED_FORM, TOO_MANY_ATTEMPTS
from chalicelib.services.accounts.model import AccountKind
from chalicelib.services.formatting import format_number
from chalicelib.services.funders.settings import (
    MAX_HOME_TEXT,
    SettingsChange,
    SpaceSettings,
)
from chalicelib.web.funder_guard import FunderStaffContext, funder_page
from chalicelib.web.http import (
    FORM_CONTENT_TYPES,
    FUNDER_HOME_PATH,
    STEP_PATHS,
    BadForm,
    anonymous_form_page,
    csrf_cookie_name,
    current_session,
    expired_cookie,
    form_data,
    home_path,
    pre_session_csrf_ok,
    redirect,
    session_cookie_name,
    session_cookies,
    session_csrf_ok,
)
from chalicelib.web.rendering import html_page

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


def _home(context: FunderStaffContext) -> Response:
    return html_page("funder_space_home.html", **context.layout(active=FUNDER_HOME_PATH))


@blueprint.route("/financeur", methods=["GET"])
def funder_space_home() -> Response:
    request = blueprint.current_request
    current = current_session(request)
    if current is not None and current.session.kind is AccountKind.FUNDER_STAFF:
        return funder_page(request, _home)
    return _login_page({})


@blueprint.route("/financeur/connexion", methods=["GET"])
def funder_space_login_form() -> Response:
    return redirect(FUNDER_HOME_PATH)


@blueprint.route("/financeur/connexion", methods=["POST"], content_types=FORM_CONTENT_TYPES)
def funder_space_login() -> Response:
    """The same Login service as every other login page: same throttling, same single message."""
    request = blueprint.current_request
    try:
        fields = form_data(request)
    except BadForm:
        return _login_page({}, EXPIRED_FORM, status_code=400)
    values = {"username": fields.get("username", "")[:254]}
    if not pre_session_csrf_ok(request, fields):
        return _login_page(values, EXPIRED_FORM, status_code=403)
    container = get_container()
    if not container.rate_limiter.allow("login", rate_limit_key(request)):
        return _login_page(values, TOO_MANY_ATTEMPTS, status_code=429)
    result = container.login.log_in(
        fields.get("username", ""), fields.get("password", ""), client_ip(request)
    )
    if result.token is None or result.session is None:
        return _login_page(values, result.error, status_code=401)
    step = result.session.pending_step
    return redirect(
        STEP_PATHS[step] if step else home_path(result.session),
        cookies=[*session_cookies(result.token), expired_cookie(csrf_cookie_name())],
    )


@blueprint.route("/financeur/deconnexion", methods=["POST"], content_types=FORM_CONTENT_TYPES)
def funder_space_logout() -> Response:
    request = blueprint.current_request
    current = current_session(request)
    cookies = [expired_cookie(session_cookie_name())]
    done = f"{FUNDER_HOME_PATH}?message=deconnecte"
    if current is None:
        return redirect(done, cookies=cookies)
    try:
        fields = form_data(request)
    except BadForm:
        fields = {}
    if not session_csrf_ok(current, fields):
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
def funder_settings() -> Response:
    def show(context: FunderStaffContext) -> Response:
        saved = (blueprint.current_request.query_params or {}).get("enregistre") == "oui"
        settings = get_container().funder_settings.read(context.funder_code)
        return _settings_page(context, settings, saved=saved)

    return funder_page(blueprint.current_request, show)


@blueprint.route(SETTINGS_PATH, methods=["POST"], content_types=FORM_CONTENT_TYPES)
def funder_settings_submit() -> Response:
    def submit(context: FunderStaffContext) -> Response:
        service = get_container().funder_settings
        settings = service.read(context.funder_code)
        request = blueprint.current_request
        try:
            fields = form_data(request)
        except BadForm:
            return _settings_page(context, settings, errors={"form": EXPIRED_FORM}, status_code=400)
        if not session_csrf_ok(context.current, fields):
            return _settings_page(context, settings, errors={"form": EXPIRED_FORM}, status_code=403)
        wanted = SettingsChange(
            messages_enabled=fields.get("messages_enabled") == "oui",
            franceconnect_enabled=fields.get("franceconnect_enabled") == "oui",
            home_text=fields.get("home_text", "")[: MAX_HOME_TEXT * 2],
        )
        result = service.change(
            context.funder_code, context.account.account_id, wanted, client_ip(request)
        )
        if not result.ok:
            values = {
                "messages_enabled": wanted.messages_enabled,
                "franceconnect_enabled": wanted.franceconnect_enabled,
                "home_text": wanted.home_text,
            }
            return _settings_page(
                context, settings, values=values, errors=result.errors, status_code=400
            )
        return redirect(f"{SETTINGS_PATH}?enregistre=oui")

    return funder_page(blueprint.current_request, submit, manage=True)
