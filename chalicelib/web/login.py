"""Identification, first-login steps, CGU and logout (guide, steps 2 to 5 and 8)."""

from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.container import get_container
from chalicelib.faces.requests import client_ip
from chalicelib.services.accounts.model import Step
from chalicelib.services.accounts.passwords import PASSWORD_RULE_TEXT
from chalicelib.services.accounts.sessions import LoginMethod, SignedIn
from chalicelib.services.errors import Invalid, RateLimited, Throttled
from chalicelib.services.funders.model import Funder
from chalicelib.web.forms import check_pre_session_csrf, login_refusal, posted_fields
from chalicelib.web.franceconnect import provider_logout
from chalicelib.web.guards import next_path, onward, read_form, signed_in_session, web_view
from chalicelib.web.http import (
    FORM_CONTENT_TYPES,
    HOME_PATH,
    STEP_PATHS,
    CurrentSession,
    anonymous_form_page,
    csrf_cookie_name,
    current_session,
    expired_cookie,
    redirect,
    session_cookie_name,
    session_cookies,
)
from chalicelib.web.pages import funder_of
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
@web_view
def funder_home(funder_code: str) -> Response:
    return login_page(funder_of(funder_code, ""), {})


@blueprint.route("/{funder_code}/connexion", methods=["GET"])
@web_view
def login_form(funder_code: str) -> Response:
    return redirect(f"/{funder_of(funder_code, '').code}/")


@blueprint.route("/{funder_code}/connexion", methods=["POST"], content_types=FORM_CONTENT_TYPES)
@web_view
def login_submit(funder_code: str) -> Response:
    funder = funder_of(funder_code, "")
    request = blueprint.current_request
    values: dict[str, str] = {}
    try:
        fields = posted_fields(request)
        values = {"username": fields.get("username", "")[:254]}
        check_pre_session_csrf(request, fields)
        signed_in = get_container().login.log_in(
            fields.get("username", ""), fields.get("password", ""), client_ip(request)
        )
    except (Invalid, RateLimited, Throttled) as refused:
        message, status = login_refusal(refused)
        return login_page(funder, values, message, status)
    cookies = [*session_cookies(signed_in.token), expired_cookie(csrf_cookie_name())]
    return redirect(next_path(signed_in.session), cookies=cookies)


# Signed-in pages ---------------------------------------------------------------------------


def _step_page(template: str, current: CurrentSession, **context: object) -> Response:
    return html_page(
        template,
        csrf=current.session.csrf_token,
        labels=STEP_LABELS,
        password_rule=PASSWORD_RULE_TEXT,
        **{"errors": {}, "values": {}, **context},
    )


def _after_step(current: CurrentSession, signed_in: SignedIn) -> Response:
    return onward(current, signed_in.token, signed_in.session)


@blueprint.route("/premiere-connexion/mot-de-passe", methods=["GET"])
@web_view
def first_password_form() -> Response:
    current = signed_in_session(blueprint.current_request, Step.PASSWORD)
    return _step_page("first_password.html", current)


@blueprint.route(
    "/premiere-connexion/mot-de-passe", methods=["POST"], content_types=FORM_CONTENT_TYPES
)
@web_view
def first_password_submit() -> Response:
    request = blueprint.current_request
    current = signed_in_session(request, Step.PASSWORD)
    try:
        fields = read_form(request, current)
        signed_in = get_container().login.change_first_password(
            current.token,
            current.session,
            fields.get("old_password", ""),
            fields.get("new_password", ""),
            fields.get("confirmation", ""),
            client_ip(request),
        )
    except Invalid as refused:
        return _step_page("first_password.html", current, errors=refused.errors)
    return _after_step(current, signed_in)


@blueprint.route("/premiere-connexion/question-secrete", methods=["GET"])
@web_view
def secret_question_form() -> Response:
    current = signed_in_session(blueprint.current_request, Step.SECRET_QUESTION)
    return _step_page("secret_question.html", current)


@blueprint.route(
    "/premiere-connexion/question-secrete", methods=["POST"], content_types=FORM_CONTENT_TYPES
)
@web_view
def secret_question_submit() -> Response:
    request = blueprint.current_request
    current = signed_in_session(request, Step.SECRET_QUESTION)
    try:
        fields = read_form(request, current)
    except Invalid as refused:
        return _step_page("secret_question.html", current, errors=refused.errors)
    question, answer = fields.get("question", ""), fields.get("answer", "")
    try:
        signed_in = get_container().login.set_secret_question(
            current.token, current.session, question, answer, client_ip(request)
        )
    except Invalid as refused:
        values = {"question": question[:200]}
        return _step_page("secret_question.html", current, errors=refused.errors, values=values)
    return _after_step(current, signed_in)


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
    return get_container().sessions.step_due(current.session) == Step.TERMS


@blueprint.route("/cgu", methods=["GET"])
def terms_page() -> Response:
    current = current_session(blueprint.current_request)
    if current is not None:
        pending = get_container().sessions.step_due(current.session)
        if pending not in (Step.TERMS, None):
            return redirect(STEP_PATHS[pending])
    return _terms_page(current)


@blueprint.route("/cgu", methods=["POST"], content_types=FORM_CONTENT_TYPES)
@web_view
def terms_accept() -> Response:
    request = blueprint.current_request
    current = signed_in_session(request, Step.TERMS)
    try:
        fields = read_form(request, current)
        signed_in = get_container().login.accept_terms(
            current.token, current.session, fields.get("version", ""), client_ip(request)
        )
    except Invalid as refused:  # an expired form, or a newer version published meanwhile
        return _terms_page(current, refused.errors.get("form") or refused.errors.get("version"))
    return _after_step(current, signed_in)


@blueprint.route("/deconnexion", methods=["POST"], content_types=FORM_CONTENT_TYPES)
def log_out() -> Response:
    request = blueprint.current_request
    current = current_session(request)
    cookies = [expired_cookie(session_cookie_name())]
    if current is None:
        return redirect("/?message=deconnecte", cookies=cookies)
    try:
        read_form(request, current)
    except Invalid:  # not a logout this browser asked for
        return redirect(HOME_PATH)
    get_container().login.log_out(current.token, current.session, client_ip(request))
    if current.session.method == LoginMethod.FRANCECONNECT:
        # Through the provider's session/end, which comes back to /franceconnect/deconnecte.
        ending = provider_logout(current.session, cookies)
        if ending is not None:
            return ending
    return redirect("/?message=deconnecte", cookies=cookies)
