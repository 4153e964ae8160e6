"""The training organisations' space (docs/specs/product.md, journey 7): their staff log in with the
same « Identification » and the same first-login steps as trainees, then read and answer the
conversations of their organisation (its SIRET), for the funders that enable messages."""

from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.container import get_container
from chalicelib.faces.requests import client_ip, rate_limit_key
from chalicelib.faces.texts import EXPIRED_FORM, TOO_MANY_ATTEMPTS
from chalicelib.services.accounts.model import AccountKind
from chalicelib.web.guards import signed_in
from chalicelib.web.http import (
    FORM_CONTENT_TYPES,
    STAFF_HOME_PATH,
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
    session_cookies,
)
from chalicelib.web.messages import inbox_page, reply, thread_page

blueprint = Blueprint(__name__)

STAFF_URLS = {"list_url": "/organisme/messages", "thread_url": "/organisme/messages/fil"}


def _login_page(
    values: dict[str, str], error: str | None = None, status_code: int = 200
) -> Response:
    return anonymous_form_page(
        blueprint.current_request,
        "organisation_home.html",
        status_code,
        values=values,
        error=error,
    )


@blueprint.route("/organisme", methods=["GET"])
def organisation_home() -> Response:
    current = current_session(blueprint.current_request)
    if current is not None and current.session.kind is AccountKind.STAFF:
        return redirect(STAFF_HOME_PATH)
    return _login_page({})


@blueprint.route("/organisme/connexion", methods=["POST"], content_types=FORM_CONTENT_TYPES)
def organisation_login() -> Response:
    """The same Login service as the funders' pages: same throttling, same single message."""
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


@blueprint.route("/organisme/messages", methods=["GET"])
def organisation_inbox() -> Response:
    return signed_in(
        blueprint.current_request,
        None,
        lambda current: inbox_page(current, "organisation_messages.html", STAFF_URLS),
        staff_space=True,
    )


@blueprint.route("/organisme/messages/fil", methods=["GET"])
def organisation_thread() -> Response:
    thread_id = (blueprint.current_request.query_params or {}).get("id", "")[:64]
    return signed_in(
        blueprint.current_request,
        None,
        lambda current: thread_page(current, "organisation_thread.html", STAFF_URLS, thread_id),
        staff_space=True,
    )


@blueprint.route("/organisme/messages/fil", methods=["POST"], content_types=FORM_CONTENT_TYPES)
def organisation_reply() -> Response:
    return signed_in(
        blueprint.current_request,
        None,
        lambda current: reply(current, "organisation_thread.html", STAFF_URLS),
        staff_space=True,
    )
