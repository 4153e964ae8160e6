"""The training organisations' space (docs/specs/product.md, journey 7): their staff log in with the
same « Identification » as the funders' staff (web/staff_login.py) and the same first-login steps
as trainees, then read and answer the conversations of their organisation (its SIRET), for the
funders that enable messages."""

from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.services.accounts.model import AccountKind
from chalicelib.web.guards import signed_in_session, web_view
from chalicelib.web.http import (
    FORM_CONTENT_TYPES,
    STAFF_HOME_PATH,
    anonymous_form_page,
    current_session,
    redirect,
)
from chalicelib.web.messages import inbox_page, reply, thread_page
from chalicelib.web.staff_login import staff_login

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
    return staff_login(blueprint.current_request, _login_page)


@blueprint.route("/organisme/messages", methods=["GET"])
@web_view
def organisation_inbox() -> Response:
    current = signed_in_session(blueprint.current_request, staff_space=True)
    return inbox_page(current, "organisation_messages.html", STAFF_URLS)


@blueprint.route("/organisme/messages/fil", methods=["GET"])
@web_view
def organisation_thread() -> Response:
    request = blueprint.current_request
    current = signed_in_session(request, staff_space=True)
    thread_id = (request.query_params or {}).get("id", "")[:64]
    return thread_page(current, "organisation_thread.html", STAFF_URLS, thread_id)


@blueprint.route("/organisme/messages/fil", methods=["POST"], content_types=FORM_CONTENT_TYPES)
@web_view
def organisation_reply() -> Response:
    current = signed_in_session(blueprint.current_request, staff_space=True)
    return reply(current, "organisation_thread.html", STAFF_URLS)
