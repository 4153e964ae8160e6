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
from chalicelib.services.funders.lookup import (
    MAX_NAME_LENGTH,
    NOT_FOUND,
    CallerKind,
    DossierFile,
    FunderCaller,
    LookupRefused,
)

blueprint = Blueprint(__name__)

PATH = "/api/v1/funder/dossiers"
BAD_DATE = "Saisissez la date de naissance au format AAAA-MM-JJ, par exemple 1990-05-14."
ONE_WAY = "Indiquez soit « numero », soit « nom » et « date_naissance »."
MISSING = "Ce paramètre est obligatoire."
TOO_LONG = f"Ce paramètre dépasse {MAX_NAME_LENGTH} caractères."


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
            }
            for state in found.payments
        ],
    }


def _parameters() -> dict[str, str]:
    raw = blueprint.current_request.query_params or {}
    return {name: str(value).strip() for name, value in raw.items()}


@blueprint.route(PATH, methods=["GET"])
@api_view
def lookup_dossiers() -> Response:
    request = blueprint.current_request
    client = authenticate_funder(request)
    caller = FunderCaller(
        funder_code=client.funder_code,
        kind=CallerKind.API,
        actor_id=client.key_id,
        role="api",
        second_factor_done=True,  # a machine credential has no second step
        client_ip=client_ip(request),
    )
    parameters = _parameters()
    number, name, birth = (
        parameters.get("numero", ""),
        parameters.get("nom", ""),
        parameters.get("date_naissance", ""),
    )
    lookup = get_container().dossier_lookup
    try:
        if number and not (name or birth):
            found = lookup.by_number(caller, number[:MAX_NAME_LENGTH])
            if found is None:
                raise ApiError(404, "not_found", NOT_FOUND)
            return json_response({"dossiers": [dossier_file_json(found)]})
        if number or not (name or birth):
            raise ApiError(400, "invalid_request", ONE_WAY)
        fields: dict[str, str] = {}
        if not name:
            fields["nom"] = MISSING
        elif len(name) > MAX_NAME_LENGTH:
            fields["nom"] = TOO_LONG
        birth_date: date | None = None
        try:
            birth_date = date.fromisoformat(birth) if len(birth) == 10 else None
        except ValueError:
            birth_date = None
        if birth_date is None:
            fields["date_naissance"] = MISSING if not birth else BAD_DATE
        if fields or birth_date is None:
            raise ApiError(400, "validation_failed", FIELDS_TO_FIX, fields)
        files = lookup.by_name_and_birth(caller, name, birth_date)
    except LookupRefused as refused:
        code = "rate_limited" if refused.status == 429 else "forbidden"
        raise ApiError(refused.status, code, refused.message) from None
    return json_response({"dossiers": [dossier_file_json(found) for found in files]})
