"""The guard of every page of the funders' space (`/financeur/…`).

A page runs only for a funder staff session whose login is complete (first-login steps and the
TOTP code done); it gets a FunderStaffContext whose `funder_code` comes from the account, never
from the request, so that a funder's staff only ever reaches its own funder's data.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from chalice import Response
from chalice.app import Request

from chalicelib.container import get_container
from chalicelib.services.accounts.model import Account, AccountKind, StaffRole
from chalicelib.services.funders.model import Funder
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
class FunderStaffContext:
    current: CurrentSession
    account: Account
    funder: Funder

    @property
    def funder_code(self) -> str:
        return self.funder.code

    @property
    def role(self) -> StaffRole:
        return self.account.staff_role or StaffRole.VIEWER

    @property
    def can_manage(self) -> bool:
        return self.role is StaffRole.MANAGER

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


def forbidden_page(context: FunderStaffContext) -> Response:
    return html_page(
        "funder_forbidden.html", status_code=403, **context.layout(active=""), error_code=403
    )


def funder_page(
    request: Request, page: Callable[[FunderStaffContext], Response], *, manage: bool = False
) -> Response:
    """Runs `page` for a complete funder staff session; `manage=True` answers 403 to the
    « consultation » role. Not signed in: the space's login page; a step pending: that step;
    another kind of account: « page non trouvée », as the organisations' space does."""
    current = current_session(request)
    if current is None:
        return redirect(
            f"{FUNDER_HOME_PATH}?message=connexion-requise",
            cookies=[expired_cookie(session_cookie_name())],
        )
    pending = get_container().login.pending_step(current.session)
    if pending is not None:
        return redirect(STEP_PATHS[pending])
    if current.session.kind is not AccountKind.FUNDER_STAFF:
        return not_found_page()
    container = get_container()
    account = container.accounts.get(current.session.account_id)
    if account is None or account.funder_code is None:
        return not_found_page()
    funder = container.funders.get(account.funder_code)
    if funder is None:
        return not_found_page()
    context = FunderStaffContext(current=current, account=account, funder=funder)
    if manage and not context.can_manage:
        return forbidden_page(context)
    return page(context)
