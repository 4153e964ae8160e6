"""What a signed-in page checks before it runs: a live session, at the right first-login step, of
the right kind of account. Its own module, so that every area (login, FranceConnect, « Mon
compte »...) imports it without importing another area."""

from __future__ import annotations

from collections.abc import Callable

from chalice import Response
from chalice.app import Request

from chalicelib.container import get_container
from chalicelib.services.accounts.model import AccountKind, Step
from chalicelib.web.http import (
    STEP_PATHS,
    CurrentSession,
    current_session,
    expired_cookie,
    home_path,
    redirect,
    session_cookie_name,
)
from chalicelib.web.rendering import not_found_page


def signed_in(
    request: Request,
    step: Step | None,
    page: Callable[[CurrentSession], Response],
    staff_space: bool | None = False,
) -> Response:
    """Runs `page` for a live session that is at `step` (None: the first-login steps are done);
    otherwise leads the person where they must go. Trainees' pages (`staff_space` False) and the
    organisations' space (True) each refuse the other kind of account; None serves both."""
    current = current_session(request)
    if current is None:
        return redirect(
            "/?message=connexion-requise", cookies=[expired_cookie(session_cookie_name())]
        )
    pending = get_container().login.pending_step(current.session)
    if pending != step:
        return redirect(STEP_PATHS[pending] if pending else home_path(current.session))
    if (
        step is None
        and current.session.kind is AccountKind.FUNDER_STAFF
        and staff_space is not None
    ):
        # Funder staff have their own space (web/funder_guard.py), neither the trainees' pages
        # nor the organisations'.
        return not_found_page() if staff_space else redirect(home_path(current.session))
    is_staff = current.session.kind is AccountKind.STAFF
    if step is None and staff_space is not None and is_staff != staff_space:
        return not_found_page() if staff_space else redirect(home_path(current.session))
    return page(current)
