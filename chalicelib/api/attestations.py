"""« Mes attestations » under /api/v1, over the same service as chalicelib/web/attestations.py,
and the public verification of a code (no account, throttled per client address).

Periods: `period` is "last-3-months", "year" (with `year`), "month" (with `month`, "2018-03") or
"dates" (with `from` and `to`, ISO dates); `training` is "all" or a training's `key`.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from chalice import Blueprint, Response

from chalicelib.api.auth import authenticate
from chalicelib.api.bodies import read_fields, read_json_object
from chalicelib.api.responses import (
    FIELDS_TO_FIX,
    JSON_CONTENT_TYPES,
    ApiError,
    api_view,
    json_response,
)
from chalicelib.api.training_json import amount_json, link_json
from chalicelib.container import get_container
from chalicelib.faces.requests import client_ip
from chalicelib.services.errors import Invalid
from chalicelib.services.formatting import format_date, paris_date
from chalicelib.services.trainings.attestations import (
    ALL_TRAININGS,
    Attestation,
    Selection,
    Statement,
    Verification,
)

blueprint = Blueprint(__name__)

PERIODS = {"last-3-months": "3-derniers-mois", "year": "annee", "month": "mois", "dates": "dates"}
MONTH = re.compile(r"(\d{4})-(\d{2})", re.ASCII)
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)
MAX_LENGTH = 120
BAD_PERIOD = "Choisissez « last-3-months », « year », « month » ou « dates »."
BAD_MONTH = "Saisissez un mois au format AAAA-MM, par exemple 2018-03."
BAD_DATE = "Saisissez une date au format AAAA-MM-JJ, par exemple 2017-10-01."
TOO_LONG = f"Ce champ dépasse {MAX_LENGTH} caractères."


def _selection(values: dict[str, str]) -> Selection:
    """The API's names and ISO formats as the service's selection, or a 400."""
    errors: dict[str, str] = {}
    for name, value in values.items():
        if len(value) > MAX_LENGTH:
            errors[name] = TOO_LONG
    period = values.get("period", "")
    if period not in PERIODS:
        errors["period"] = BAD_PERIOD
    month = values.get("month", "")
    month_text = ""
    if period == "month":
        found = MONTH.fullmatch(month)
        if found is None:
            errors["month"] = BAD_MONTH
        else:
            month_text = f"{found.group(2)}/{found.group(1)}"
    dates: dict[str, str] = {}
    if period == "dates":
        for name in ("from", "to"):
            chosen = _iso_date(values.get(name, ""))
            if chosen is None:
                errors[name] = BAD_DATE
            else:
                dates[name] = format_date(chosen)
    if errors:
        raise ApiError(400, "validation_failed", FIELDS_TO_FIX, errors)
    return Selection(
        choice=PERIODS[period],
        year=values.get("year", ""),
        month=month_text,
        start=dates.get("from", ""),
        end=dates.get("to", ""),
        training=_training(values.get("training", "")),
    )


def _training(value: str) -> str:
    return ALL_TRAININGS if value in ("", "all") else value


def _iso_date(text: str) -> date | None:
    if not ISO_DATE.fullmatch(text):
        return None
    try:
        chosen = date.fromisoformat(text)
    except ValueError:
        return None
    return chosen if chosen.year >= 1000 else None


def statement_json(statement: Statement) -> dict[str, Any]:
    period = statement.period
    return {
        "period": {
            "start": period.start.isoformat(),
            "end": period.end.isoformat(),
            "text": period.label,
        },
        "trainee_name": statement.trainee_name,
        "funders": list(statement.funders),
        "trainings": list(statement.trainings),
        "months": [
            {
                "month": month.month.strftime("%Y-%m"),
                "text": month.label,
                "payments": [
                    {
                        "payment_date": line.payment_date.isoformat(),
                        "reference": line.reference,
                        "funder": line.funder,
                        "training": line.training,
                        "amount": amount_json(line.amount),
                    }
                    for line in month.lines
                ],
                "total": amount_json(month.total),
            }
            for month in statement.months
        ],
        "total": amount_json(statement.total),
    }


def attestation_json(attestation: Attestation, now_status: str) -> dict[str, Any]:
    return {
        "id": attestation.attestation_id,
        "code": attestation.code,
        "status": now_status,
        "issued_at": attestation.issued_at.isoformat(),
        "expires_at": attestation.expires_at.isoformat(),
        "withdrawn_at": attestation.withdrawn_at.isoformat() if attestation.withdrawn_at else None,
        "verification_count": attestation.verification_count,
        "last_verified_at": (
            attestation.last_verified_at.isoformat() if attestation.last_verified_at else None
        ),
        "statement": statement_json(attestation.statement),
    }


def verification_json(verification: Verification) -> dict[str, Any]:
    """What the PDF states, nothing more: no reference, no line, no birth date."""
    attestation = verification.attestation
    statement = attestation.statement
    period = statement.period
    return {
        "status": verification.status,
        "funders": list(statement.funders),
        "trainee_name": statement.trainee_name,
        "period": {
            "start": period.start.isoformat(),
            "end": period.end.isoformat(),
            "text": period.label,
        },
        "total": amount_json(statement.total),
        "issued_on": paris_date(attestation.issued_at).isoformat(),
        "expires_on": paris_date(attestation.expires_at).isoformat(),
        "withdrawn_on": paris_date(attestation.withdrawn_at).isoformat()
        if attestation.withdrawn_at
        else None,
    }


def _account_id() -> str:
    return authenticate(blueprint.current_request).session.account_id


def _query() -> dict[str, str]:
    query = blueprint.current_request.query_params or {}
    return {
        name: query.get(name, "") for name in ("period", "year", "month", "from", "to", "training")
    }


@blueprint.route("/api/v1/attestations/payments", methods=["GET"], content_types=JSON_CONTENT_TYPES)
@api_view
def attestation_payments() -> Response:
    account_id = _account_id()
    selection = _selection(_query())
    statement, errors = get_container().attestations.statement(account_id, selection)
    if statement is None:
        raise Invalid(errors)
    return json_response(statement_json(statement))


@blueprint.route("/api/v1/attestations", methods=["GET"], content_types=JSON_CONTENT_TYPES)
@api_view
def list_attestations() -> Response:
    account_id = _account_id()
    service = get_container().attestations
    now = service.clock()
    return json_response(
        {"attestations": [attestation_json(a, a.status(now)) for a in service.list(account_id)]}
    )


@blueprint.route("/api/v1/attestations", methods=["POST"], content_types=JSON_CONTENT_TYPES)
@api_view
def create_attestation() -> Response:
    account_id = _account_id()
    body = read_json_object(blueprint.current_request)
    values = {
        name: value
        for name in ("period", "year", "month", "from", "to", "training")
        if isinstance(value := body.get(name), str)
    }
    container = get_container()
    issued, errors = container.attestations.issue(account_id, _selection(values))
    if issued is None:
        raise Invalid(errors)
    url = container.document_delivery.link(account_id, issued.content)
    attestation = issued.attestation
    return json_response(
        {
            "attestation": attestation_json(attestation, "valid"),
            "pdf": link_json(url, issued.content.filename),
            "verification_url": container.attestations.verification_link(attestation.code),
        },
        201,
    )


@blueprint.route(
    "/api/v1/attestations/{attestation_id}/withdrawal",
    methods=["POST"],
    content_types=JSON_CONTENT_TYPES,
)
@api_view
def withdraw_attestation(attestation_id: str) -> Response:
    account_id = _account_id()
    get_container().attestations.withdraw(
        account_id, attestation_id, client_ip(blueprint.current_request)
    )
    return json_response(None, 204)


@blueprint.route("/api/v1/verifications", methods=["POST"], content_types=JSON_CONTENT_TYPES)
@api_view
def verify_attestation() -> Response:
    """Public: no account. The code travels in the body, out of URLs and their logs."""
    request = blueprint.current_request
    fields = read_fields(request, texts=("code",))
    verification = get_container().attestations.verify(
        fields.text("code")[:MAX_LENGTH], client_ip(request)
    )
    return json_response(verification_json(verification))
