"""The guard of every page of the funders' space (`/financeur/…`), in the raising style of
web/guards.py:

    @blueprint.route("/financeur/…")
    @web_view
    def route() -> Response:
        context = funder_staff(blueprint.current_request)   # or a redirect / 404 / 403, raised
        ...

A page runs only for a funder staff session whose login is complete (first-login steps and the
TOTP code done); its FunderStaffContext's `funder_code` comes from the account
(services/funders/staff.py), never from the request, so that a funder's staff only ever reaches
its own funder's data.
"""

from __future__ import annotations

from dataclasses import dataclass

from chalice.app import Request

from chalicelib.container import get_container
from chalicelib.services.accounts.model import AccountKind, StaffRole
from chalicelib.services.funders.staff import FunderStaffMember
from chalicelib.web.guards import Stop
from chalicelib.web.http import (
    FUNDER_HOME_PATH,
    STEP_PATHS,
    CurrentSession,
    current_session,
    expired_cookie,
    redirect,
    session_cookie_name,
)
from chalicelib.web.rendering import html_page, not_found_page

NAVIGATION = (
    ("/financeur/tableau-de-bord", "Tableau de bord"),
    ("/financeur/fichiers", "Fichiers"),
    ("/financeur/dossiers", "Rechercher un dossier"),
    ("/financeur/parametres", "Paramètres"),
)
ROLE_LABELS = {StaffRole.MANAGER: "Gestionnaire", StaffRole.VIEWER: "Consultation"}


@dataclass(frozen=True)
class FunderStaffContext(FunderStaffMember):
    """The member (its account, funder, role) and the session of the page's request."""

    current: CurrentSession

    @property
    def csrf_token(self) -> str:
        return self.current.session.csrf_token

    def layout(self, active: str) -> dict[str, object]:
        """What funder_base.html needs: pass it to html_page with the page's own values."""
        return {
            "csrf": self.csrf_token,
            "funder_name": self.funder.name,
            "staff_name": " ".join(
                part for part in (self.account.given_names, self.account.family_name) if part
            )
            or self.account.email,
            "role_label": ROLE_LABELS[self.role],
            "can_manage": self.can_manage,
            "navigation": NAVIGATION,
            "active": active,
        }


def funder_staff(request: Request, *, manage: bool = False) -> FunderStaffContext:
    """The complete funder staff session of the request; otherwise raises `Stop`: not signed
    in, the space's login page; a step pending, that step; another kind of account (or one gone),
    « page non trouvée », as the organisations' space does; `manage=True` and the « consultation »
    role, 403."""
    current = current_session(request)
    if current is None:
        raise Stop(
            redirect(
                f"{FUNDER_HOME_PATH}?message=connexion-requise",
                cookies=[expired_cookie(session_cookie_name())],
            )
        )
    container = get_container()
    pending = container.sessions.step_due(current.session)
    if pending is not None:
        raise Stop(redirect(STEP_PATHS[pending]))
    if current.session.kind is not AccountKind.FUNDER_STAFF:
        raise Stop(not_found_page())
    member = container.funder_staff.member(current.session.account_id)
    context = FunderStaffContext(member.account, member.funder, current)
    if manage and not context.can_manage:
        raise Stop(
            html_page(
                "funder_forbidden.html",
                status_code=403,
                **context.layout(active=""),
                error_code=403,
            )
        )
    return context
