"""« S’identifier avec FranceConnect »: the start, the callback and its French pages, the one
password login that links an existing account, the provider's logout, and the unlink of « Mon
compte ». The OIDC client is imported only when one of these routes needs it
(docs/specs/architecture.md, D8)."""

from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.container import get_container
from chalicelib.faces.requests import client_ip
from chalicelib.observability import logger
from chalicelib.services.accounts.sessions import Session
from chalicelib.services.errors import Invalid, RateLimited, Throttled
from chalicelib.services.franceconnect.identity import CallbackResult, FranceConnectError, Outcome
from chalicelib.services.funders.model import Funder
from chalicelib.settings import FRANCECONNECT_CALLBACK_PATH, FRANCECONNECT_LOGOUT_RETURN_PATH
from chalicelib.web.forms import check_pre_session_csrf, posted_fields, refusal
from chalicelib.web.franceconnect_pages import MESSAGES, Message, message_page
from chalicelib.web.guards import read_form, signed_in_session, web_view
from chalicelib.web.http import (
    FORM_CONTENT_TYPES,
    HOME_PATH,
    STEP_PATHS,
    anonymous_form_page,
    cookie,
    csrf_cookie_name,
    expired_cookie,
    read_cookie,
    redirect,
    session_cookies,
)
from chalicelib.web.pages import funder_of
from chalicelib.web.rendering import not_found_page

blueprint = Blueprint(__name__)

FLOW_LIFETIME_SECONDS = 600  # the challenges' 10 minutes
UNLINKED_NOTICE = "franceconnect-dissocie"
# For « Mon compte »: /compte?message=franceconnect-dissocie after the link is removed.
NOTICES = {
    UNLINKED_NOTICE: (
        "FranceConnect n’est plus relié à votre compte. Un courriel vous le confirme. "
        "Connectez-vous désormais avec votre adresse mail et votre mot de passe."
    )
}


def flow_cookie_name() -> str:
    return "__Host-franceconnect" if get_container().settings.secure_cookies else "franceconnect"


def _flow_cookie(value: str) -> str:
    """Binds a FranceConnect round trip to this browser: the secret its challenge answers to."""
    return cookie(flow_cookie_name(), value, max_age=FLOW_LIFETIME_SECONDS)


def _flow_secret() -> str | None:
    return read_cookie(blueprint.current_request, flow_cookie_name())


def _ip() -> str | None:
    return client_ip(blueprint.current_request)


def _after_login(token: str, session: Session) -> Response:
    step = session.pending_step
    return redirect(
        STEP_PATHS[step] if step else HOME_PATH,
        cookies=[
            *session_cookies(token),
            expired_cookie(csrf_cookie_name()),
            expired_cookie(flow_cookie_name()),
        ],
    )


# Start and callback -------------------------------------------------------------------------


@blueprint.route("/{funder_code}/franceconnect", methods=["GET"])
@web_view
def start(funder_code: str) -> Response:
    funder = funder_of(funder_code, "franceconnect")
    if not funder.franceconnect_enabled:
        return not_found_page()
    try:
        redirection = get_container().franceconnect_login.start(funder.code, _ip())
    except RateLimited:
        return message_page(MESSAGES["too-many"], funder)
    except FranceConnectError as failure:
        logger.warning("FranceConnect unavailable", extra={"reason": str(failure)})
        redirection = None
    if redirection is None:
        return message_page(MESSAGES["unavailable"], funder)
    return redirect(redirection.url, cookies=[_flow_cookie(redirection.browser_secret)])


@blueprint.route(FRANCECONNECT_CALLBACK_PATH, methods=["GET"])
def callback() -> Response:
    params = blueprint.current_request.query_params or {}
    container = get_container()
    result = container.franceconnect_login.finish(
        state=params.get("state", ""),
        code=params.get("code", ""),
        error=params.get("error", ""),
        browser_secret=_flow_secret(),
        client_ip=_ip(),
    )
    _log_unfinished(result)
    if result.outcome is Outcome.SIGNED_IN and result.token and result.session:
        return _after_login(result.token, result.session)
    funder = container.funders.get(result.funder_code) if result.funder_code else None
    if result.outcome is Outcome.LINK_REQUIRED and result.link and funder:
        secret = f"{result.link.link_id}.{result.link.browser_secret}"
        return redirect(f"/{funder.code}/franceconnect/associer", cookies=[_flow_cookie(secret)])
    # A link whose funder has just gone is as good as failed.
    response = message_page(MESSAGES.get(result.outcome.value, MESSAGES["failed"]), funder)
    response.headers["Set-Cookie"] = expired_cookie(flow_cookie_name())
    return response


def _log_unfinished(result: CallbackResult) -> None:
    if result.reason:  # no token nor personal data in it
        # A token that does not verify is worth a look; a cancel is not.
        log = logger.warning if result.outcome is Outcome.FAILED else logger.info
        log(
            "FranceConnect login not completed",
            extra={"outcome": result.outcome.value, "reason": result.reason},
        )


# Linking an existing account: one password login ----------------------------------------------


def _pending_link_id() -> tuple[str, str | None]:
    link_id, _, secret = (_flow_secret() or "").partition(".")
    return link_id, secret or None


def _link_page(
    funder: Funder, values: dict[str, str], error: str | None = None, status_code: int = 200
) -> Response:
    link_id, secret = _pending_link_id()
    pending = get_container().franceconnect_login.pending_link(link_id, secret)
    if pending is None or pending.funder_code != funder.code:
        return message_page(MESSAGES["link-expired"], funder)
    return anonymous_form_page(
        blueprint.current_request,
        "franceconnect_link.html",
        status_code,
        funder=funder,
        identity=pending.identity,
        holds_dossier=bool(pending.candidates),
        values=values,
        error=error,
    )


@blueprint.route("/{funder_code}/franceconnect/associer", methods=["GET"])
@web_view
def link_form(funder_code: str) -> Response:
    return _link_page(funder_of(funder_code, "franceconnect/associer"), {})


@blueprint.route(
    "/{funder_code}/franceconnect/associer", methods=["POST"], content_types=FORM_CONTENT_TYPES
)
@web_view
def link_submit(funder_code: str) -> Response:
    funder = funder_of(funder_code, "franceconnect/associer")
    request = blueprint.current_request
    values: dict[str, str] = {}
    try:
        fields = posted_fields(request)
        values = {"username": fields.get("username", "")[:254]}
        check_pre_session_csrf(request, fields)
    except Invalid as refused:
        errors, status = refusal(refused)
        return _link_page(funder, values, errors["form"], status)
    link_id, secret = _pending_link_id()
    try:
        signed_in = get_container().franceconnect_login.confirm_link(
            link_id, secret, fields.get("username", ""), fields.get("password", ""), _ip()
        )
    except RateLimited as refused:
        errors, status = refusal(refused)
        return _link_page(funder, values, errors["form"], status)
    except (Invalid, Throttled) as refused:  # every refusal of the link answers as a wrong pair
        return _link_page(funder, values, next(iter(refused.errors.values())), status_code=401)
    return _after_login(signed_in.token, signed_in.session)


# Logout through the provider ------------------------------------------------------------------


def provider_logout(session: Session, cookies: list[str]) -> Response | None:
    """For a FranceConnect session already closed here: the redirect to the provider's
    session/end. None when there is nothing to end there (or the provider cannot be reached)."""
    try:
        redirection = get_container().franceconnect_login.end_session(session)
    except FranceConnectError as failure:
        logger.warning("FranceConnect logout unavailable", extra={"reason": str(failure)})
        return None
    if redirection is None:
        return None
    return redirect(redirection.url, cookies=[*cookies, _flow_cookie(redirection.browser_secret)])


@blueprint.route(FRANCECONNECT_LOGOUT_RETURN_PATH, methods=["GET"])
def logout_return() -> Response:
    state = (blueprint.current_request.query_params or {}).get("state", "")
    confirmed = get_container().franceconnect_login.logout_returned(state, _flow_secret())
    cookies = [expired_cookie(flow_cookie_name())]
    if confirmed:
        return redirect("/?message=deconnecte", cookies=cookies)
    response = message_page(MESSAGES["logout-unconfirmed"], None)
    response.headers["Set-Cookie"] = cookies  # type: ignore[assignment]
    return response


# « Mon compte » -------------------------------------------------------------------------------


@blueprint.route(
    "/compte/franceconnect/dissocier", methods=["POST"], content_types=FORM_CONTENT_TYPES
)
@web_view
def unlink() -> Response:
    current = signed_in_session(blueprint.current_request)
    try:
        read_form(blueprint.current_request, current)
    except Invalid:
        return redirect("/compte")
    refusal_text = get_container().franceconnect_login.unlink(current.session.account_id, _ip())
    if refusal_text is not None:
        refused = Message("FranceConnect reste relié à votre compte", refusal_text, status=409)
        return message_page(refused, None, csrf=current.session.csrf_token)
    return redirect(f"/compte?message={UNLINKED_NOTICE}")
