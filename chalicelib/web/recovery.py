"""« Mot de passe oublié » (guide, step 3): address and operation, code, secret answer and new
password. Between the steps, the browser keeps only a random id in an HttpOnly cookie: the
ticket of the code, then the reset step once the code was right."""

from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.container import get_container
from chalicelib.faces.requests import client_ip
from chalicelib.services.accounts.passwords import PASSWORD_RULE_TEXT
from chalicelib.services.accounts.recovery import CODE_LIFETIME
from chalicelib.services.errors import Expired, Invalid, RateLimited, Throttled
from chalicelib.services.funders.model import Funder
from chalicelib.web.forms import read_public_form, refusal
from chalicelib.web.guards import Stop, page_errors, web_view
from chalicelib.web.http import (
    FORM_CONTENT_TYPES,
    cookie,
    expired_cookie,
    pre_session_csrf,
    read_cookie,
    redirect,
)
from chalicelib.web.pages import funder_of
from chalicelib.web.rendering import html_page

blueprint = Blueprint(__name__)

START = "mot-de-passe-oublie"
CODE_STEP = f"{START}/code"
RESET_STEP = f"{START}/nouveau-mot-de-passe"
DONE = f"{START}/termine"
RESET_ROUTE = "/{funder_code}/mot-de-passe-oublie/nouveau-mot-de-passe"
LABELS = {
    "email": "Utilisateur",
    "arithmetic_answer": "Résultat de l’opération",
    "code": "Code reçu par courriel",
    "answer": "Réponse à votre question secrète",
    "new_password": "Nouveau mot de passe",
    "confirmation": "Confirmation du nouveau mot de passe",
    "form": "Formulaire",
}
STEP_SECONDS = int(CODE_LIFETIME.total_seconds())


def _cookie_name(step: str) -> str:
    # The __Host- prefix needs `Secure`, which the local stage on plain http cannot set.
    secure = get_container().settings.secure_cookies
    return f"__Host-recovery-{step}" if secure else f"recovery-{step}"


def _page(
    template: str,
    funder: Funder,
    status_code: int = 200,
    cookies: list[str] | None = None,
    **context: object,
) -> Response:
    csrf, csrf_cookies = pre_session_csrf(blueprint.current_request)
    response = html_page(
        template,
        status_code=status_code,
        funder=funder,
        csrf=csrf,
        labels=LABELS,
        password_rule=PASSWORD_RULE_TEXT,
        **{"errors": {}, "values": {}, **context},
    )
    all_cookies = [*csrf_cookies, *(cookies or [])]
    if all_cookies:
        response.headers["Set-Cookie"] = all_cookies  # type: ignore[assignment]
    return response


def _step_ticket(funder: Funder, step: str) -> str:
    """The id the browser keeps for this step; without it, back to the first step (raised)."""
    ticket = read_cookie(blueprint.current_request, _cookie_name(step))
    if not ticket:
        raise Stop(redirect(f"/{funder.code}/{START}"))
    return ticket


def _on_to(funder: Funder, path: str, kept: tuple[str, str], dropped: str) -> Response:
    """To the next step, the browser now keeping `kept` (step, id) and forgetting `dropped`."""
    step, ticket = kept
    cookies = [
        cookie(_cookie_name(step), ticket, max_age=STEP_SECONDS),
        expired_cookie(_cookie_name(dropped)),
    ]
    return redirect(f"/{funder.code}/{path}", cookies=cookies)


# 1. Address and operation --------------------------------------------------------------------


def _request_page(funder: Funder, status_code: int = 200, **context: object) -> Response:
    arithmetic = get_container().recovery.new_arithmetic()
    return _page(
        "recovery_request.html",
        funder,
        status_code,
        arithmetic_id=arithmetic.challenge_id,
        question=arithmetic.question,
        **context,
    )


@blueprint.route("/{funder_code}/mot-de-passe-oublie", methods=["GET"])
@web_view
def recovery_form(funder_code: str) -> Response:
    return _request_page(funder_of(funder_code, START))


@blueprint.route(
    "/{funder_code}/mot-de-passe-oublie", methods=["POST"], content_types=FORM_CONTENT_TYPES
)
@web_view
def recovery_submit(funder_code: str) -> Response:
    funder = funder_of(funder_code, START)
    request = blueprint.current_request
    values: dict[str, str] = {}
    try:
        fields = read_public_form(request)
        values = {"email": fields.get("email", "")[:254]}
        operation = fields.get("arithmetic_id", ""), fields.get("arithmetic_answer", "")
        opened = get_container().recovery.request(
            funder.code, fields.get("email", ""), *operation, client_ip(request)
        )
    except (Invalid, RateLimited) as refused:
        errors, status = refusal(refused)
        return _request_page(funder, status, values=values, errors=errors)
    # Same answer for every address: only the random ticket in the cookie differs.
    return _on_to(funder, CODE_STEP, ("code", opened.ticket), "reset")


# 2. The code -----------------------------------------------------------------------------------


@blueprint.route("/{funder_code}/mot-de-passe-oublie/code", methods=["GET"])
@web_view
def code_form(funder_code: str) -> Response:
    return _code_page(funder_of(funder_code, CODE_STEP))


def _code_page(funder: Funder, status_code: int = 200, **context: object) -> Response:
    _step_ticket(funder, "code")
    return _page("recovery_code.html", funder, status_code, **context)


@blueprint.route(
    "/{funder_code}/mot-de-passe-oublie/code", methods=["POST"], content_types=FORM_CONTENT_TYPES
)
@web_view
def code_submit(funder_code: str) -> Response:
    funder = funder_of(funder_code, CODE_STEP)
    try:
        fields = read_public_form(blueprint.current_request)
    except Invalid as refused:
        errors, status = refusal(refused)
        return _code_page(funder, status, errors=errors)
    ticket = _step_ticket(funder, "code")
    try:
        reset = get_container().recovery.check_code(ticket, fields.get("code", ""))
    except Invalid as refused:
        return _code_page(funder, errors=page_errors(refused))
    return _on_to(funder, RESET_STEP, ("reset", reset.ticket), "code")


# 3. Secret answer and new password ---------------------------------------------------------------


@blueprint.route(RESET_ROUTE, methods=["GET"])
@web_view
def reset_form(funder_code: str) -> Response:
    return _reset_page(funder_of(funder_code, RESET_STEP))


def _reset_page(
    funder: Funder, errors: dict[str, str] | None = None, status_code: int = 200
) -> Response:
    """The reset form with its secret question, or the way back when the step is over."""
    reset_id = read_cookie(blueprint.current_request, _cookie_name("reset")) or ""
    try:
        step = get_container().recovery.reset_step(reset_id)
    except Expired as gone:
        return _expired_page(funder, page_errors(gone))
    return _page(
        "recovery_reset.html",
        funder,
        status_code,
        errors=errors or {},
        question=step.secret_question or "",
    )


def _expired_page(funder: Funder, errors: dict[str, str]) -> Response:
    """The step is over: back to the code's page, which says to start again."""
    return _page(
        "recovery_code.html",
        funder,
        errors=errors,
        expired=True,
        cookies=[expired_cookie(_cookie_name("reset"))],
    )


@blueprint.route(RESET_ROUTE, methods=["POST"], content_types=FORM_CONTENT_TYPES)
@web_view
def reset_submit(funder_code: str) -> Response:
    funder = funder_of(funder_code, RESET_STEP)
    request = blueprint.current_request
    try:
        fields = read_public_form(request)
    except Invalid as refused:
        errors, status = refusal(refused)
        return _reset_page(funder, errors=errors, status_code=status)
    try:
        get_container().recovery.reset_password(
            read_cookie(request, _cookie_name("reset")) or "",
            fields.get("answer", ""),
            fields.get("new_password", ""),
            fields.get("confirmation", ""),
            client_ip(request),
        )
    except Expired as gone:  # its last try spent included: the wrong answer is told with it
        return _expired_page(funder, page_errors(gone))
    except (Invalid, Throttled) as refused:
        return _reset_page(funder, page_errors(refused))
    return redirect(f"/{funder.code}/{DONE}", cookies=[expired_cookie(_cookie_name("reset"))])


@blueprint.route("/{funder_code}/mot-de-passe-oublie/termine", methods=["GET"])
@web_view
def recovery_done(funder_code: str) -> Response:
    return html_page("recovery_done.html", funder=funder_of(funder_code, DONE))
