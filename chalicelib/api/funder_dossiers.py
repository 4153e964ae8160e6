"""`GET /api/v1/funder/dossiers`: a funder's system looks up one of its dossiers, by number
(`numero`) or by exact family name and birth date (`nom` and `date_naissance`, AAAA-MM-JJ).

The funder is the API key's (chalicelib/api/funder_auth.py), never a parameter: another funder's
dossier answers 404 « not_found » exactly like a missing one. Each dossier returned is journaled
for its trainee (services/funders/lookup.py).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from chalice import Blueprint, Response

from chalicelib.api.funder_auth import authenticate_funder
from chalicelib.api.responses import FIELDS_TO_FIX, ApiError, api_view, json_response
from chalicelib.api.training_json import amount_json
from chalicelib.container import get_container
from chalicelib.faces.requests import client_ip
from chalicelib.services.errors import Invalid
from chalicelib.services.funders.lookup import (
    MAX_NAME_LENGTH,
    NOT_FOUND,
    DossierFile,
    DossierQuery,
)

blueprint = Blueprint(__name__)

PATH = "/api/v1/funder/dossiers"
BAD_DATE = "Saisissez la date de naissance au format AAAA-MM-JJ, par exemple 1990-05-14."
ONE_WAY = "Indiquez soit « numero », soit « nom » et « date_naissance »."
# The service names the inputs of the look-up; the API's parameters are these.
API_PARAMETERS = {"family_name": "nom", "birth_date": "date_naissance"}


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def dossier_file_json(found: DossierFile) -> dict[str, Any]:
    account = found.account
    return {
        "number": found.dossier.dossier_number,
        "received": found.received,
        "history": [
            {
                "recorded_at": version.recorded_at.isoformat(),
                "file": version.source_file,
                "line": version.line,
                "created": version.created,
                "received": version.values,
                "changes": {
                    name: {"old": old, "new": new} for name, (old, new) in version.changes.items()
                },
            }
            for version in found.history
        ],
        "account": {
            "linked": account.linked,
            "activated": account.activated,
            "masked_email": account.masked_email,
            "mail_bounced_since": _iso(account.mail_bounced_since),
            "notifications_stopped_since": _iso(account.mail_complained_since),
        },
        "payments": [
            {
                "reference": state.payment.reference,
                "payment_date": state.payment.payment_date.isoformat(),
                "amount": amount_json(state.payment.total),
                "notified_by_mail": state.notified,
                "mail_bounced_at": _iso(state.bounced_at),
            }
            for state in found.payments
        ],
    }


def _query() -> DossierQuery:
    """The query's parameters as the service's query (dates AAAA-MM-JJ)."""
    raw = blueprint.current_request.query_params or {}
    number, name, birth = (
        str(raw.get(key, "")).strip() for key in ("numero", "nom", "date_naissance")
    )
    try:
        birth_date = date.fromisoformat(birth) if len(birth) == 10 else None
    except ValueError:
        birth_date = None
    return DossierQuery(
        dossier_number=number[:MAX_NAME_LENGTH],
        family_name=name,
        birth_date=birth_date,
        birth_date_unreadable=birth_date is None and bool(birth),
    )


def _refused(refused: Invalid, query: DossierQuery) -> ApiError:
    if "query" in refused.errors:
        return ApiError(400, "invalid_request", ONE_WAY)
    fields = {API_PARAMETERS.get(key, key): message for key, message in refused.errors.items()}
    if "birth_date" in refused.errors and query.birth_date_unreadable:
        fields["date_naissance"] = BAD_DATE  # the format, which the service does not know
    return ApiError(400, "validation_failed", FIELDS_TO_FIX, fields)


@blueprint.route(PATH, methods=["GET"])
@api_view
def lookup_dossiers() -> Response:
    request = blueprint.current_request
    caller = authenticate_funder(request).caller(client_ip(request))
    query = _query()
    try:
        files = get_container().dossier_lookup.search(caller, query)
    except Invalid as refused:
        raise _refused(refused, query) from None
    if query.dossier_number and not files:
        raise ApiError(404, "not_found", NOT_FOUND)
    return json_response({"dossiers": [dossier_file_json(found) for found in files]})
