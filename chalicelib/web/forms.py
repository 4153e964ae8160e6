"""The forms of the pages without a session (login, sign-up, « Mot de passe oublié »,
FranceConnect's link), read as `read_form` reads a signed-in page's: raising `Invalid` under
`form`, with a code that tells the status of the page shown again; and the one way a form page
shows a refusal (`refusal`), the rate limits the services count included."""

from __future__ import annotations

from chalice.app import Request

from chalicelib.faces.texts import EXPIRED_FORM
from chalicelib.services.accounts.login import INVALID_CREDENTIALS
from chalicelib.services.errors import Invalid, RateLimited, Throttled
from chalicelib.web.guards import page_errors
from chalicelib.web.http import BadForm, form_data, pre_session_csrf_ok

# The codes of a form refused before any service saw it, and the status of its page again.
UNREADABLE_FORM = "unreadable_form"
EXPIRED_PRE_SESSION_FORM = "expired_form"
FORM_STATUS = {UNREADABLE_FORM: 400, EXPIRED_PRE_SESSION_FORM: 403}
# A login refused: a wrong pair and a delay in force answer alike (401), the client address's
# allowance spent 429.
LOGIN_REFUSED = 401


def posted_fields(request: Request) -> dict[str, str]:
    """The posted fields of a page without a session; raises `Invalid` under `form` when the
    body cannot be read (check its CSRF token with `check_pre_session_csrf`)."""
    try:
        return form_data(request)
    except BadForm:
        raise Invalid({"form": EXPIRED_FORM}, UNREADABLE_FORM) from None


def check_pre_session_csrf(request: Request, fields: dict[str, str]) -> None:
    """Raises `Invalid` under `form` unless the fields carry this browser's pre-session token."""
    if not pre_session_csrf_ok(request, fields):
        raise Invalid({"form": EXPIRED_FORM}, EXPIRED_PRE_SESSION_FORM)


def read_public_form(request: Request) -> dict[str, str]:
    """`read_form` for the pages without a session (login, sign-up, « Mot de passe oublié »)."""
    fields = posted_fields(request)
    check_pre_session_csrf(request, fields)
    return fields


def refusal(error: Invalid | RateLimited, field: str = "form") -> tuple[dict[str, str], int]:
    """A form's refusal as its errors and the status of the page shown again: a rate limit's
    message under `field` (429), a form refused before the service (400, 403), else 200."""
    if isinstance(error, RateLimited):
        return {field: error.message}, 429
    return page_errors(error), FORM_STATUS.get(error.code, 200)


def login_refusal(error: Invalid | RateLimited | Throttled) -> tuple[str, int]:
    """A login form's one message and the status of its page shown again: a form refused
    before the service (400, 403), a wrong pair or a delay in force (401), a rate limit (429)."""
    if isinstance(error, Throttled):
        return error.message, LOGIN_REFUSED
    errors, status = refusal(error)
    if isinstance(error, Invalid) and error.code == INVALID_CREDENTIALS:
        status = LOGIN_REFUSED
    return next(iter(errors.values())), status
