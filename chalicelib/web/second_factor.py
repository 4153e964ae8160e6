"""The TOTP pages: the code asked at each login of an enrolled account, the enrolment (last
first-login step of funder staff), and the organisation staff's own choice to turn it on."""

from __future__ import annotations

from chalice import Blueprint, Response
from markupsafe import Markup

from chalicelib.container import get_container
from chalicelib.faces.requests import client_ip
from chalicelib.services.accounts.model import Account, Step
from chalicelib.services.accounts.totp import AlreadyEnrolled, Enrolment
from chalicelib.services.errors import Invalid, RateLimited, Throttled
from chalicelib.web.forms import refusal
from chalicelib.web.guards import next_path, onward, read_form, signed_in_session, web_view
from chalicelib.web.http import (
    FORM_CONTENT_TYPES,
    STEP_PATHS,
    CurrentSession,
    redirect,
    session_cookies,
)
from chalicelib.web.rendering import html_page

blueprint = Blueprint(__name__)

LABELS = {"code": "Code de sécurité", "form": "Formulaire"}
ORGANISATION_PATH = "/organisme/double-authentification"


def qr_svg(text: str) -> Markup:
    """The QR code as inline SVG: one path, 4 modules of quiet zone, drawn from the modules of
    the attestation's QR code (no new dependency). Decorative for screen readers: the figure's
    caption and the secret as text say what it holds."""
    modules = get_container().qr_modules(text)
    size = len(modules) + 8
    path = "".join(
        f"M{x + 4} {y + 4}h1v1h-1z"
        for y, row in enumerate(modules)
        for x, dark in enumerate(row)
        if dark
    )
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {size} {size}" width="240" '
        f'height="240" role="img" aria-label="Code QR" shape-rendering="crispEdges">'
        f'<rect width="{size}" height="{size}" fill="#fff"/>'
        f'<path d="{path}" fill="#000"/></svg>'
    )


def enrolment_context(enrolment: Enrolment, account: Account, action: str) -> dict[str, object]:
    return {
        "qr_svg": qr_svg(enrolment.uri),
        "grouped_secret": enrolment.grouped_secret,
        "email": account.email,
        "action": action,
        "labels": LABELS,
    }


def _code(fields: dict[str, str]) -> str:
    return fields.get("code", "")[:20]


def _no_store(response: Response) -> Response:
    """A page with a secret (a QR code, recovery codes) stays out of every cache."""
    response.headers["Cache-Control"] = "no-store"
    return response


# The code at each login ---------------------------------------------------------------------


def _code_page(current: CurrentSession, errors: dict[str, str], status_code: int = 200) -> Response:
    return html_page(
        "totp_code.html",
        status_code=status_code,
        csrf=current.session.csrf_token,
        labels=LABELS,
        errors=errors,
    )


@blueprint.route("/double-authentification", methods=["GET"])
@web_view
def code_form() -> Response:
    return _code_page(signed_in_session(blueprint.current_request, Step.TOTP), {})


@blueprint.route("/double-authentification", methods=["POST"], content_types=FORM_CONTENT_TYPES)
@web_view
def code_submit() -> Response:
    request = blueprint.current_request
    current = signed_in_session(request, Step.TOTP)
    try:
        fields = read_form(request, current)
    except Invalid as refused:
        return _code_page(current, refused.errors, 403)
    try:
        signed_in = get_container().totp.verify_login(
            current.token, current.session, _code(fields), client_ip(request)
        )
    except RateLimited as refused:
        return _code_page(current, *refusal(refused, "code"))
    except (Invalid, Throttled) as refused:  # a wrong or used code, a delay in force
        return _code_page(current, refused.errors, 401)
    return onward(current, signed_in.token, signed_in.session)


# Enrolment, the last first-login step of funder staff ----------------------------------------

ENROL_PATH = STEP_PATHS[Step.TOTP_ENROL]


def _account(current: CurrentSession) -> Account:
    return get_container().totp.status(current.session.account_id).account


def _enrol_page(
    current: CurrentSession,
    enrolment: Enrolment,
    errors: dict[str, str],
    status_code: int = 200,
) -> Response:
    return html_page(
        "totp_enrol.html",
        status_code=status_code,
        csrf=current.session.csrf_token,
        errors=errors,
        **enrolment_context(enrolment, _account(current), ENROL_PATH),
    )


def _codes_page(recovery_codes: list[str], next_url: str, cookies: list[str] | None) -> Response:
    """Shown once, in the answer to the confirmation: the codes are nowhere else in clear."""
    response = html_page(
        "totp_recovery_codes.html", recovery_codes=recovery_codes, next_url=next_url
    )
    if cookies:
        response.headers["Set-Cookie"] = cookies  # type: ignore[assignment]
    return _no_store(response)


@blueprint.route(ENROL_PATH, methods=["GET"])
@web_view
def enrol_form() -> Response:
    current = signed_in_session(blueprint.current_request, Step.TOTP_ENROL)
    enrolment = get_container().totp.begin_enrolment(_account(current))
    return _no_store(_enrol_page(current, enrolment, {}))


@blueprint.route(ENROL_PATH, methods=["POST"], content_types=FORM_CONTENT_TYPES)
@web_view
def enrol_submit() -> Response:
    request = blueprint.current_request
    current = signed_in_session(request, Step.TOTP_ENROL)
    totp = get_container().totp
    try:
        fields = read_form(request, current)
    except Invalid:  # a new QR code, as if the page were opened again
        return redirect(ENROL_PATH)
    try:
        enrolled = totp.confirm_enrolment_step(
            current.token, current.session, _code(fields), client_ip(request)
        )
    except RateLimited:  # a new QR code, as if the page were opened again
        return redirect(ENROL_PATH)
    except (Invalid, Throttled) as refused:  # the same QR code, while it is still the one
        enrolment = totp.pending_enrolment(_account(current))
        if enrolment is None:
            return redirect(ENROL_PATH)
        return _enrol_page(current, enrolment, refused.errors, 400)
    signed_in = enrolled.signed_in
    cookies = session_cookies(signed_in.token) if signed_in.token != current.token else None
    return _codes_page(enrolled.recovery_codes, next_path(signed_in.session), cookies)


# Organisation staff: an option of their space --------------------------------------------------


def _organisation_page(
    current: CurrentSession,
    *,
    enrolment: Enrolment | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    status = get_container().totp.status(current.session.account_id)
    context: dict[str, object] = {"labels": LABELS}
    if enrolment is not None:
        context = enrolment_context(enrolment, status.account, ORGANISATION_PATH)
    return html_page(
        "organisation_totp.html",
        status_code=status_code,
        csrf=current.session.csrf_token,
        enabled=status.account.totp_enabled,
        codes_left=status.codes_left,
        enrolment=enrolment,
        errors=errors or {},
        **context,
    )


@blueprint.route(ORGANISATION_PATH, methods=["GET"])
@web_view
def organisation_totp() -> Response:
    return _organisation_page(signed_in_session(blueprint.current_request, staff_space=True))


@blueprint.route(ORGANISATION_PATH, methods=["POST"], content_types=FORM_CONTENT_TYPES)
@web_view
def organisation_totp_submit() -> Response:
    request = blueprint.current_request
    current = signed_in_session(request, staff_space=True)
    try:
        fields = read_form(request, current)
    except Invalid as refused:
        return _organisation_page(current, errors=refused.errors, status_code=403)
    account = _account(current)
    if account.totp_enabled:
        return redirect(ORGANISATION_PATH)
    if fields.get("action") != "confirmer":
        return _organisation_enrolment(current, account)
    return _organisation_confirm(current, account, _code(fields))


def _organisation_confirm(current: CurrentSession, account: Account, code: str) -> Response:
    """The recovery codes once the code is right; otherwise the same QR code and the error."""
    totp = get_container().totp
    try:
        codes = totp.confirm_enrolment(account, code, client_ip(blueprint.current_request))
    except RateLimited:
        return redirect(ORGANISATION_PATH)
    except (Invalid, Throttled) as refused:
        enrolment = totp.pending_enrolment(account)
        if enrolment is None:
            return redirect(ORGANISATION_PATH)
        return _organisation_page(
            current, enrolment=enrolment, errors=refused.errors, status_code=400
        )
    return _codes_page(codes, ORGANISATION_PATH, None)


def _organisation_enrolment(current: CurrentSession, account: Account) -> Response:
    """A new secret to scan (replacing one not confirmed), unless the factor is already on."""
    try:
        enrolment = get_container().totp.begin_enrolment(account)
    except AlreadyEnrolled:
        return redirect(ORGANISATION_PATH)
    return _no_store(_organisation_page(current, enrolment=enrolment))
