"""« Identification » of the two staff spaces, the organisations' (`/organisme/`) and the
funders' (`/financeur/`): one login for both, over the Login service of every login page (same
throttling, same single message, same first-login steps). Each space only says which page shows
the form again (its template includes `_staff_login_form.html`)."""

from __future__ import annotations

from collections.abc import Callable

from chalice import Response
from chalice.app import Request

from chalicelib.container import get_container
from chalicelib.faces.requests import client_ip
from chalicelib.faces.texts import EXPIRED_FORM
from chalicelib.services.errors import Invalid, RateLimited, Throttled
from chalicelib.web.forms import login_refusal
from chalicelib.web.http import (
    STEP_PATHS,
    BadForm,
    csrf_cookie_name,
    expired_cookie,
    form_data,
    home_path,
    pre_session_csrf_ok,
    redirect,
    session_cookies,
)

# The space's login page again: the values typed, the one error message, the status.
LoginPage = Callable[[dict[str, str], str | None, int], Response]


def staff_login(request: Request, login_page: LoginPage) -> Response:
    """Opens the session and leads to its next step (or its space's home), or shows the form
    again with why not."""
    try:
        fields = form_data(request)
    except BadForm:
        return login_page({}, EXPIRED_FORM, 400)
    values = {"username": fields.get("username", "")[:254]}
    if not pre_session_csrf_ok(request, fields):
        return login_page(values, EXPIRED_FORM, 403)
    try:  # Login.log_in counts the address's allowance of identifications itself
        signed_in = get_container().login.log_in(
            fields.get("username", ""), fields.get("password", ""), client_ip(request)
        )
    except (Invalid, RateLimited, Throttled) as refused:
        message, status = login_refusal(refused)
        return login_page(values, message, status)
    step = signed_in.session.pending_step
    return redirect(
        STEP_PATHS[step] if step else home_path(signed_in.session),
        cookies=[*session_cookies(signed_in.token), expired_cookie(csrf_cookie_name())],
    )
