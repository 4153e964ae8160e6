"""The TOTP pages: the code asked at each login of an enrolled account, the enrolment (last
first-login step of funder staff), and the organisation staff's own choice to turn it on."""

from __future__ import annotations

from chalice import Blueprint, Response
from markupsafe import Markup

from chalicelib.container import get_container
from chalicelib.faces.requests import client_ip, rate_limit_key
from chalicelib.faces.texts import EXPIRED_FORM, TOO_MANY_ATTEMPTS
from chalicelib.services.accounts.model import Account, Step
from chalicelib.services.accounts.totp import AlreadyEnrolled, Enrolment, TotpResult
from chalicelib.web.guards import signed_in
from chalicelib.web.http import (
    FORM_CONTENT_TYPES,
    STEP_PATHS,
    BadForm,
    CurrentSession,
    form_data,
    home_path,
    redirect,
    session_cookies,
    session_csrf_ok,
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


def _fields(current: CurrentSession) -> dict[str, str] | None:
    try:
        fields = form_data(blueprint.current_request)
    except BadForm:
        return None
    return fields if session_csrf_ok(current, fields) else None


def _rate_limited() -> bool:
    request = blueprint.current_request
    return not get_container().rate_limiter.allow("login", rate_limit_key(request))


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
def code_form() -> Response:
    return signed_in(blueprint.current_request, Step.TOTP, lambda current: _code_page(current, {}))


@blueprint.route("/double-authentification", methods=["POST"], content_types=FORM_CONTENT_TYPES)
def code_submit() -> Response:
    def submit(current: CurrentSession) -> Response:
        fields = _fields(current)
        if fields is None:
            return _code_page(current, {"form": EXPIRED_FORM}, 403)
        if _rate_limited():
            return _code_page(current, {"code": TOO_MANY_ATTEMPTS}, 429)
        result = get_container().totp.verify_login(
            current.token,
            current.session,
            fields.get("code", "")[:20],
            client_ip(blueprint.current_request),
        )
        if not result.ok or result.token is None or result.session is None:
            return _code_page(current, {"code": result.error or EXPIRED_FORM}, 401)
        step = result.session.pending_step
        cookies = session_cookies(result.token) if result.token != current.token else None
        return redirect(STEP_PATHS[step] if step else home_path(result.session), cookies=cookies)

    return signed_in(blueprint.current_request, Step.TOTP, submit)


# Enrolment, the last first-login step of funder staff ----------------------------------------

ENROL_PATH = STEP_PATHS[Step.TOTP_ENROL]


def _account(current: CurrentSession) -> Account:
    account = get_container().accounts.get(current.session.account_id)
    if account is None:
        raise LookupError("session without account")
    return account


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


def _codes_page(result: TotpResult, next_url: str, cookies: list[str] | None) -> Response:
    """Shown once, in the answer to the confirmation: the codes are nowhere else in clear."""
    response = html_page(
        "totp_recovery_codes.html", recovery_codes=result.recovery_codes, next_url=next_url
    )
    response.headers["Cache-Control"] = "no-store"
    if cookies:
        response.headers["Set-Cookie"] = cookies  # type: ignore[assignment]
    return response


@blueprint.route(ENROL_PATH, methods=["GET"])
def enrol_form() -> Response:
    def show(current: CurrentSession) -> Response:
        enrolment = get_container().totp.begin_enrolment(_account(current))
        response = _enrol_page(current, enrolment, {})
        response.headers["Cache-Control"] = "no-store"
        return response

    return signed_in(blueprint.current_request, Step.TOTP_ENROL, show)


@blueprint.route(ENROL_PATH, methods=["POST"], content_types=FORM_CONTENT_TYPES)
def enrol_submit() -> Response:
    def submit(current: CurrentSession) -> Response:
        totp = get_container().totp
        fields = _fields(current)
        if fields is None or _rate_limited():
            return redirect(ENROL_PATH)
        result = totp.confirm_enrolment_step(
            current.token,
            current.session,
            fields.get("code", "")[:20],
            client_ip(blueprint.current_request),
        )
        if not result.ok or result.token is None or result.session is None:
            enrolment = totp.pending_enrolment(_account(current))
            if enrolment is None:
                return redirect(ENROL_PATH)
            return _enrol_page(current, enrolment, {"code": result.error or EXPIRED_FORM}, 400)
        step = result.session.pending_step
        cookies = session_cookies(result.token) if result.token != current.token else None
        return _codes_page(result, STEP_PATHS[step] if step else home_path(result.session), cookies)

    return signed_in(blueprint.current_request, Step.TOTP_ENROL, submit)


# Organisation staff: an option of their space --------------------------------------------------


def _organisation_page(
    current: CurrentSession,
    *,
    enrolment: Enrolment | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    totp = get_container().totp
    account = _account(current)
    context: dict[str, object] = {"labels": LABELS}
    if enrolment is not None:
        context = enrolment_context(enrolment, account, ORGANISATION_PATH)
    return html_page(
        "organisation_totp.html",
        status_code=status_code,
        csrf=current.session.csrf_token,
        enabled=account.totp_enabled,
        codes_left=totp.recovery_codes_left(account.account_id) if account.totp_enabled else 0,
        enrolment=enrolment,
        errors=errors or {},
        **context,
    )


@blueprint.route(ORGANISATION_PATH, methods=["GET"])
def organisation_totp() -> Response:
    return signed_in(
        blueprint.current_request, None, lambda current: _organisation_page(current), True
    )


@blueprint.route(ORGANISATION_PATH, methods=["POST"], content_types=FORM_CONTENT_TYPES)
def organisation_totp_submit() -> Response:
    def submit(current: CurrentSession) -> Response:
        totp = get_container().totp
        fields = _fields(current)
        if fields is None:
            return _organisation_page(current, errors={"form": EXPIRED_FORM}, status_code=403)
        account = _account(current)
        if account.totp_enabled:
            return redirect(ORGANISATION_PATH)
        if fields.get("action") != "confirmer":
            try:
                enrolment = totp.begin_enrolment(account)
            except AlreadyEnrolled:
                return redirect(ORGANISATION_PATH)
            response = _organisation_page(current, enrolment=enrolment)
            response.headers["Cache-Control"] = "no-store"
            return response
        if _rate_limited():
            return redirect(ORGANISATION_PATH)
        result = totp.confirm_enrolment(
            account, fields.get("code", "")[:20], client_ip(blueprint.current_request)
        )
        if not result.ok:
            enrolment = totp.pending_enrolment(account)
            if enrolment is None:
                return redirect(ORGANISATION_PATH)
            return _organisation_page(
                current, enrolment=enrolment, errors={"code": result.error or ""}, status_code=400
            )
        return _codes_page(result, ORGANISATION_PATH, None)

    return signed_in(blueprint.current_request, None, submit, True)
