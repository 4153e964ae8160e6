"""What a signed-in page checks before it runs, and how a page's route reads top to bottom:
guards that raise, and one wrapper that turns what they raise into the page or redirect (as
`authenticate()` and `@api_view` do for the API).

    @blueprint.route("/formations/…")
    @web_view
    def route() -> Response:
        current = signed_in_session(blueprint.current_request)   # or a redirect, raised
        fields = read_form(blueprint.current_request, current)   # or Invalid({"form": …}), raised
        result = get_container().some_service.use_case(…)        # or a domain error, raised
        return html_page(…)

`web_view` answers the domain errors that look the same on every page (`NotFound`: the 404 page
with its message; `SignedOut`: back to the login); a form page catches `Invalid`/`Throttled`
itself, to show the form again with `page_errors(error)` under its fields. Its own module, so
that every area (login, FranceConnect, « Mon compte »...) imports it without importing another.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from chalice import Response
from chalice.app import Request

from chalicelib.container import get_container
from chalicelib.faces.texts import EXPIRED_FORM
from chalicelib.services.accounts.model import AccountKind, Step
from chalicelib.services.accounts.sessions import Session
from chalicelib.services.errors import Forbidden, Invalid, NotFound, SignedOut, Throttled
from chalicelib.web.http import (
    STEP_PATHS,
    BadForm,
    CurrentSession,
    current_session,
    expired_cookie,
    form_data,
    home_path,
    redirect,
    session_cookie_name,
    session_cookies,
    session_csrf_ok,
)
from chalicelib.web.rendering import not_found_page, request_error_page

# The services name the inputs of a use case; the forms' fields are French. The one table.
PAGE_FIELDS = {
    "period_start": "du",
    "period_end": "au",
    "funder_code": "financeur",
    "dossier_number": "numero_dossier",
    "secret_answer": "answer",
    "new_secret_answer": "new_answer",
}


class Stop(Exception):
    """Raised by a guard: `response` is the whole answer (a redirect, a page)."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code)
        self.response = response


def web_view(view: Callable[..., Response]) -> Callable[..., Response]:
    """Lets a page's route (and the guards and services it calls) stop by raising."""

    @wraps(view)
    def wrapper(**path_parameters: str) -> Response:
        try:
            return view(**path_parameters)
        except Stop as stop:
            return stop.response
        except NotFound as error:
            return not_found_page(error.message)
        except Forbidden as error:
            return request_error_page(403, error.message)
        except SignedOut:  # the account is gone: so is what the session stood for
            return redirect(
                "/?message=connexion-requise", cookies=[expired_cookie(session_cookie_name())]
            )

    return wrapper


def signed_in_session(
    request: Request, step: Step | None = None, staff_space: bool | None = False
) -> CurrentSession:
    """The live session, if it is at `step` (None: the first-login steps are done); otherwise
    raises `Stop` with the way to where the person must go. Trainees' pages (`staff_space`
    False) and the organisations' space (True) each refuse the other kind of account; None
    serves both."""
    current = current_session(request)
    if current is None:
        raise Stop(
            redirect("/?message=connexion-requise", cookies=[expired_cookie(session_cookie_name())])
        )
    pending = get_container().sessions.step_due(current.session)
    if pending != step:
        raise Stop(redirect(STEP_PATHS[pending] if pending else home_path(current.session)))
    if (
        step is None
        and current.session.kind is AccountKind.FUNDER_STAFF
        and staff_space is not None
    ):
        # Funder staff have their own space (web/funder_guard.py), neither the trainees' pages
        # nor the organisations'.
        raise Stop(not_found_page() if staff_space else redirect(home_path(current.session)))
    is_staff = current.session.kind is AccountKind.STAFF
    if step is None and staff_space is not None and is_staff != staff_space:
        raise Stop(not_found_page() if staff_space else redirect(home_path(current.session)))
    return current


def next_path(session: Session) -> str:
    """The first-login step still to do, or the session's home."""
    step = session.pending_step
    return STEP_PATHS[step] if step else home_path(session)


def onward(current: CurrentSession | None, token: str, session: Session) -> Response:
    """After a login or a first-login step: on to `next_path`, with the session's cookie when
    the token is not `current`'s (a new session, or a privilege change)."""
    renewed = current is None or token != current.token
    return redirect(next_path(session), cookies=session_cookies(token) if renewed else None)


def read_form(request: Request, current: CurrentSession) -> dict[str, str]:
    """The posted fields, once the session's CSRF token is among them; raises `Invalid` under
    `form` otherwise (an unreadable body counts as an expired form: nothing in it is trusted)."""
    try:
        fields = form_data(request)
    except BadForm:
        fields = {}
    if not session_csrf_ok(current, fields):
        raise Invalid({"form": EXPIRED_FORM})
    return fields


def page_errors(error: Invalid | Throttled) -> dict[str, str]:
    """A refusal's messages under the form's field names."""
    return {PAGE_FIELDS.get(key, key): message for key, message in error.errors.items()}
