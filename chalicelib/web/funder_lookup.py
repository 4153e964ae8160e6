"""« Rechercher un dossier » of the funders' space (`/financeur/dossiers`), over
services/funders/lookup.py.

The search is a POST form (with the session's CSRF token): a family name and a birth date are
personal data, and a GET would put them in the address bar, the browser history and the access
logs. The funder is the staff account's (web/funder_guard.py), never a form field.
"""

from __future__ import annotations

from datetime import date, datetime

from chalice import Blueprint, Response

from chalicelib.container import get_container
from chalicelib.faces.requests import client_ip
from chalicelib.services.errors import Invalid, RateLimited
from chalicelib.services.formatting import format_date, format_date_time, format_euros
from chalicelib.services.funders.lookup import (
    MAX_NAME_LENGTH,
    NOT_FOUND,
    DossierFile,
    DossierQuery,
)
from chalicelib.web.funder_guard import FunderStaffContext, funder_staff
from chalicelib.web.guards import read_form, web_view
from chalicelib.web.http import FORM_CONTENT_TYPES
from chalicelib.web.rendering import html_page

blueprint = Blueprint(__name__)

PATH = "/financeur/dossiers"
BAD_DATE = "Saisissez la date de naissance au format JJ/MM/AAAA, par exemple 14/05/1990."
# The service names the inputs of the look-up; the form's fields are French. A birth date the
# service found missing or unreadable gets the form's format, which the service does not know.
PAGE_FIELDS = {"query": "numero", "family_name": "nom", "birth_date": "date_naissance"}
PAGE_MESSAGES = {"birth_date": BAD_DATE}
LABELS = {
    "numero": "Numéro de dossier",
    "nom": "Nom de famille",
    "date_naissance": "Date de naissance",
    "form": "Formulaire",
}
# The dossier's fields as the funder's file names them (docs/specs/funder-files.md), in order.
FIELD_LABELS = {
    "dossier_number": "Numéro de dossier",
    "family_name": "Nom",
    "given_names": "Prénoms",
    "birth_date": "Date de naissance",
    "email": "Courriel",
    "training_code": "Code formation",
    "training_title": "Intitulé de la formation",
    "start_date": "Début",
    "end_date": "Fin",
    "organisation_siret": "SIRET de l’organisme",
    "organisation_name": "Organisme",
    "organisation_email": "Courriel de l’organisme",
    "monthly_rate": "Taux mensuel",
    "decision_date": "Date de décision",
    "status": "Statut",
    "funder_code": "Financeur",
}


def _french_value(name: str, value: str) -> str:
    """ISO dates of the stored text as the funder's file wrote them (JJ/MM/AAAA)."""
    if name.endswith("_date") and len(value) == 10:
        try:
            return format_date(date.fromisoformat(value))
        except ValueError:
            return value
    return value


def _view(found: DossierFile) -> dict[str, object]:
    account = found.account
    return {
        "number": found.dossier.dossier_number,
        "received": [
            (FIELD_LABELS.get(name, name), _french_value(name, value))
            for name, value in found.received.items()
            if name in FIELD_LABELS
        ],
        "history": [
            {
                "when": format_date_time(version.recorded_at),
                "file": version.source_file.rpartition("/")[2],
                "line": version.line,
                "created": version.created,
                "changes": [
                    (
                        FIELD_LABELS.get(name, name),
                        _french_value(name, old),
                        _french_value(name, new),
                    )
                    for name, (old, new) in version.changes.items()
                    if name in FIELD_LABELS
                ],
            }
            for version in found.history
        ],
        "account": {
            "linked": account.linked,
            "activated": account.activated,
            "masked_email": account.masked_email,
            "bounced": _when(account.mail_bounced_since),
            "complained": _when(account.mail_complained_since),
        },
        "payments": [
            {
                "reference": state.payment.reference,
                "date": format_date(state.payment.payment_date),
                "amount": format_euros(state.payment.total),
                "notified": state.notified,
                "bounced": _when(state.bounced_at),
            }
            for state in found.payments
        ],
    }


def _when(value: datetime | None) -> str | None:
    return format_date_time(value) if value is not None else None


def _page(
    context: FunderStaffContext,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    results: list[DossierFile] | None = None,
    searched: bool = False,
    status_code: int = 200,
) -> Response:
    return html_page(
        "funder_lookup.html",
        status_code=status_code,
        **context.layout(active=PATH),
        values=values or {},
        errors=errors or {},
        labels=LABELS,
        results=[_view(found) for found in results or []],
        searched=searched,
        not_found=NOT_FOUND,
        max_name=MAX_NAME_LENGTH,
    )


def _birth_date(text: str) -> date | None:
    day, _, rest = text.partition("/")
    month, _, year = rest.partition("/")
    if not (len(day) == 2 and len(month) == 2 and len(year) == 4):
        return None
    try:
        return date(int(year), int(month), int(day))
    except ValueError:
        return None


def _query(values: dict[str, str]) -> DossierQuery:
    """The form as the service's query: a number, when typed, is the way chosen."""
    if values["numero"]:
        return DossierQuery(dossier_number=values["numero"])
    birth = _birth_date(values["date_naissance"])
    return DossierQuery(
        family_name=values["nom"],
        birth_date=birth,
        birth_date_unreadable=birth is None and bool(values["date_naissance"]),
    )


@blueprint.route(PATH, methods=["GET"])
@web_view
def funder_lookup_form() -> Response:
    return _page(funder_staff(blueprint.current_request))


@blueprint.route(PATH, methods=["POST"], content_types=FORM_CONTENT_TYPES)
@web_view
def funder_lookup_search() -> Response:
    request = blueprint.current_request
    context = funder_staff(request)
    values: dict[str, str] = {}
    try:
        fields = read_form(request, context.current)
        values = {
            name: fields.get(name, "").strip()[: MAX_NAME_LENGTH + 1]
            for name in ("numero", "nom", "date_naissance")
        }
        caller = context.caller(client_ip(request))
        results = get_container().dossier_lookup.search(caller, _query(values))
    except Invalid as refused:
        errors = {
            PAGE_FIELDS.get(key, key): PAGE_MESSAGES.get(key, message)
            for key, message in refused.errors.items()
        }
        status = 403 if "form" in errors else 400  # an expired form, as on every page
        return _page(context, values=values, errors=errors, status_code=status)
    except RateLimited as refused:
        return _page(context, values=values, errors={"form": refused.message}, status_code=429)
    return _page(context, values=values, results=results, searched=True)
