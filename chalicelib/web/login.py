"""Identification, first-login steps, CGU and logout (guide, steps 2 to 5 and 8)."""

from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.container import get_container
from chalicelib.faces.requests import client_ip, rate_limit_key
from chalicelib.faces.texts import EXPIRED_FORM, TOO_MANY_ATTEMPTS
from chalicelib.services.accounts.login import StepResult
from chalicelib.services.accounts.model import Step
from chalicelib.services.accounts.passwords import PASSWORD_RULE_TEXT
from chalicelib.services.accounts.sessions import LoginMethod
from chalicelib.services.funders.model import Funder
from chalicelib.web.franceconnect import provider_logout
from chalicelib.web.guards import signed_in
from chalicelib.web.http import (
    FORM_CONTENT_TYPES,
    HOME_PATH,
    STEP_PATHS,
    BadForm,
    CurrentSession,
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
from chalicelib.web.pages import with_funder
from chalicelib.web.rendering import html_page

blueprint = Blueprint(__name__)

STEP_LABELS = {
    "old_password": "Ancien mot de passe",
    "new_password": "Nouveau mot de passe",
    "confirmation": "Confirmation du nouveau mot de passe",
    "question": "Question secrète",
    "answer": "Réponse secrète",
    "form": "Formulaire",
}


def login_page(
    funder: Funder, values: dict[str, str], error: str | None = None, status_code: int = 200
) -> Response:
    return anonymous_form_page(
        blueprint.current_request,
        "funder_home.html",
        status_code,
        funder=funder,
        values=values,
        error=error,
        notice=None,
    )


@blueprint.route("/{funder_code}", methods=["GET"])
def funder_home(funder_code: str) -> Response:
    return with_funder(funder_code, "", lambda funder: login_page(funder, {}))


@blueprint.route("/{funder_code}/connexion", methods=["GET"])
def login_form(funder_code: str) -> Response:
    return with_funder(funder_code, "", lambda funder: redirect(f"/{funder.code}/"))


@blueprint.route("/{funder_code}/connexion", methods=["POST"], content_types=FORM_CONTENT_TYPES)
def login_submit(funder_code: str) -> Response:
    return with_funder(funder_code, "", _log_in)


def _log_in(funder: Funder) -> Response:
    request = blueprint.current_request
    try:
        fields = form_data(request)
    except BadForm:
        return login_page(funder, {}, EXPIRED_FORM, status_code=400)
    values = {"username": fields.get("username", "")[:254]}
    if not pre_session_csrf_ok(request, fields):
        return login_page(funder, values, EXPIRED_FORM, status_code=403)
    container = get_container()
    if not container.rate_limiter.allow("login", rate_limit_key(request)):
        return login_page(funder, values, TOO_MANY_ATTEMPTS, status_code=429)
    result = container.login.log_in(
        fields.get("username", ""), fields.get("password", ""), client_ip(request)
    )
    if result.token is None or result.session is None:
        return login_page(funder, values, result.error, status_code=401)
    step = result.session.pending_step
    return redirect(
        STEP_PATHS[step] if step else home_path(result.session),
        cookies=[*session_cookies(result.token), expired_cookie(csrf_cookie_name())],
    )


# Signed-in pages ---------------------------------------------------------------------------


def _step_page(template: str, current: CurrentSession, **context: object) -> Response:
    return html_page(
        template,
        csrf=current.session.csrf_token,
        labels=STEP_LABELS,
        password_rule=PASSWORD_RULE_TEXT,
        **{"errors": {}, "values": {}, **context},
    )


def _after_step(
    result: StepResult, current: CurrentSession, template: str, **context: object
) -> Response:
    if not result.ok or result.token is None or result.session is None:
        return _step_page(template, current, errors=result.errors, **context)
    step = result.session.pending_step
    cookies = session_cookies(result.token) if result.token != current.token else None
    return redirect(STEP_PATHS[step] if step else home_path(result.session), cookies=cookies)


def _posted(current: CurrentSession, template: str) -> dict[str, str] | Response:
    request = blueprint.current_request
    try:
        fields = form_data(request)
    except BadForm:
        return _step_page(template, current, errors={"form": EXPIRED_FORM})
    if not session_csrf_ok(current, fields):
        return _step_page(template, current, errors={"form": EXPIRED_FORM})
    return fields


@blueprint.route("/premiere-connexion/mot-de-passe", methods=["GET"])
def first_password_form() -> Response:
    return signed_in(
        blueprint.current_request,
        Step.PASSWORD,
        lambda current: _step_page("first_password.html", current),
    )


@blueprint.route(
    "/premiere-connexion/mot-de-passe", methods=["POST"], content_types=FORM_CONTENT_TYPES
)
def first_password_submit() -> Response:
    def submit(current: CurrentSession) -> Response:
        fields = _posted(current, "first_password.html")
        if isinstance(fields, Response):
            return fields
        result = get_container().login.change_first_password(
            current.token,
            current.session,
            fields.get("old_password", ""),
            fields.get("new_password", ""),
            fields.get("confirmation", ""),
            client_ip(blueprint.current_request),
        )
        return _after_step(result, current, "first_password.html")

    return signed_in(blueprint.current_request, Step.PASSWORD, submit)


@blueprint.route("/premiere-connexion/question-secrete", methods=["GET"])
def secret_question_form() -> Response:
    return signed_in(
        blueprint.current_request,
        Step.SECRET_QUESTION,
        lambda current: _step_page("secret_question.html", current),
    )


@blueprint.route(
    "/premiere-connexion/question-secrete", methods=["POST"], content_types=FORM_CONTENT_TYPES
)
def secret_question_submit() -> Response:
    def submit(current: CurrentSession) -> Response:
        fields = _posted(current, "secret_question.html")
        if isinstance(fields, Response):
            return fields
        result = get_container().login.set_secret_question(
            current.token,
            current.session,
            fields.get("question", ""),
            fields.get("answer", ""),
            client_ip(blueprint.current_request),
        )
        values = {"question": fields.get("question", "")[:200]}
        return _after_step(result, current, "secret_question.html", values=values)

    return signed_in(blueprint.current_request, Step.SECRET_QUESTION, submit)


def terms_blocks(text: str) -> list[dict[str, object]]:
    """CGU text: paragraphs separated by blank lines; a paragraph starting with '#' is a title."""
    blocks: list[dict[str, object]] = []
    for paragraph in text.replace("\r\n", "\n").split("\n\n"):
        paragraph = " ".join(paragraph.split())
        if paragraph:
            heading = paragraph.startswith("#")
            blocks.append(
                {"heading": heading, "text": paragraph.lstrip("# ") if heading else paragraph}
            )
    return blocks


def _terms_page(current: CurrentSession | None, error: str | None = None) -> Response:
    terms = get_container().terms.repository.current()
    must_accept = current is not None and current.session.pending_step in (Step.TERMS, None)
    return html_page(
        "terms.html",
        terms=terms,
        blocks=terms_blocks(terms.text) if terms else [],
        signed_in=current is not None,
        must_accept=must_accept and current is not None and _needs_terms(current),
        first_login=current is not None and current.session.pending_step == Step.TERMS,
        csrf=current.session.csrf_token if current else "",
        error=error,
    )


def _needs_terms(current: CurrentSession) -> bool:
    return get_container().login.pending_step(current.session) == Step.TERMS


@blueprint.route("/cgu", methods=["GET"])
def terms_page() -> Response:
    current = current_session(blueprint.current_request)
    if current is not None:
        pending = get_container().login.pending_step(current.session)
        if pending not in (Step.TERMS, None):
            return redirect(STEP_PATHS[pending])
    return _terms_page(current)


@blueprint.route("/cgu", methods=["POST"], content_types=FORM_CONTENT_TYPES)
def terms_accept() -> Response:
    def accept(current: CurrentSession) -> Response:
        try:
            fields = form_data(blueprint.current_request)
        except BadForm:
            return _terms_page(current, EXPIRED_FORM)
        if not session_csrf_ok(current, fields):
            return _terms_page(current, EXPIRED_FORM)
        result = get_container().login.accept_terms(
            current.token,
            current.session,
            fields.get("version", ""),
            client_ip(blueprint.current_request),
        )
        if not result.ok:
            return _terms_page(current, result.errors.get("terms"))
        return _after_step(result, current, "terms.html")

    return signed_in(blueprint.current_request, Step.TERMS, accept)


@blueprint.route("/deconnexion", methods=["POST"], content_types=FORM_CONTENT_TYPES)
def log_out() -> Response:
    request = blueprint.current_request
    current = current_session(request)
    cookies = [expired_cookie(session_cookie_name())]
    if current is None:
        return redirect("/?message=deconnecte", cookies=cookies)
    try:
        fields = form_data(request)
    except BadForm:
        fields = {}
    if not session_csrf_ok(current, fields):
        return redirect(HOME_PATH)
    get_container().login.log_out(current.token, current.session, client_ip(request))
    if current.session.method == LoginMethod.FRANCECONNECT:
        # Through the provider's session/end, which comes back to /franceconnect/deconnecte.
        ending = provider_logout(current.session, cookies)
        if ending is not None:
            return ending
    return redirect("/?message=deconnecte", cookies=cookies)
