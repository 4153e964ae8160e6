"""« Mes formations » for mobile apps under /api/v1 (guide step 7), over the same services as the
pages of chalicelib/web/trainings.py: this module reads the query, asks the services through the
owner, and maps their results onto JSON (shapes in chalicelib/api/training_json.py).

Dossier numbers and payment references may contain "/": they travel as query parameters, never
in the path. Another trainee's dossier, payment or document answers 404 exactly like a missing one.
"""

from __future__ import annotations

import re
from datetime import date
from urllib.parse import urlencode

from chalice import Blueprint, Response

from chalicelib.api.auth import authenticate
from chalicelib.api.bodies import MISSING, WRONG_FIELDS, invalid_request, read_fields
from chalicelib.api.responses import JSON_CONTENT_TYPES, ApiError, api_view, json_response
from chalicelib.api.training_json import history_json, link_json, payment_json, training_json
from chalicelib.container import get_container
from chalicelib.faces.requests import client_ip
from chalicelib.services.trainings.dossier_claims import CLAIM_LIFETIME, PENDING, ClaimResult
from chalicelib.services.trainings.my_trainings import DOSSIER_NOT_YOURS, DocumentKind, Training

blueprint = Blueprint(__name__)

# Longer values are no dossier number nor reference of ours, and DynamoDB refuses long keys.
MAX_PARAMETER_LENGTH = 100
MAX_DOSSIER_NUMBER_LENGTH = 50  # as the browser's form
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)
DOCUMENT_TYPES = {kind.value: kind for kind in DocumentKind}

BAD_PARAMETERS = "La requête est mal formée : vérifiez les paramètres indiqués."
REPEATED = "Ce paramètre ne doit figurer qu’une fois."
TOO_LONG = f"Ce paramètre dépasse {MAX_PARAMETER_LENGTH} caractères."
NUMBER_TOO_LONG = f"Ce champ dépasse {MAX_DOSSIER_NUMBER_LENGTH} caractères."
CLAIM_SECONDS = int(CLAIM_LIFETIME.total_seconds())
TOO_LONG_FIELD = f"Ce champ dépasse {MAX_PARAMETER_LENGTH} caractères."
BAD_DATE = "Saisissez une date au format AAAA-MM-JJ, par exemple 2017-10-01."
BAD_TYPE = "Choisissez « decision » ou « end-of-training »."


def _account_id() -> str:
    """The caller's account, once the first-login steps are done (403 step_required before)."""
    return authenticate(blueprint.current_request).session.account_id


def _not_found(message: str) -> ApiError:
    return ApiError(404, "not_found", message)


def _parameters(required: tuple[str, ...], optional: tuple[str, ...] = ()) -> dict[str, str]:
    """The query's parameters, each at most once and short; an empty one counts as absent.
    Unknown parameters are ignored, as unknown body fields are."""
    query = blueprint.current_request.query_params
    values: dict[str, str] = {}
    errors: dict[str, str] = {}
    for name in (*required, *optional):
        given = query.getlist(name) if query is not None and name in query else []
        if len(given) > 1:
            errors[name] = REPEATED
        elif given and len(given[0]) > MAX_PARAMETER_LENGTH:
            errors[name] = TOO_LONG
        elif given and given[0]:
            values[name] = given[0]
        elif name in required:
            errors[name] = MISSING
    if errors:
        raise invalid_request(BAD_PARAMETERS, errors)
    return values


def _iso_date(text: str) -> date | None:
    # date.fromisoformat alone would also take "20171016" or "2017-W42-1".
    if not ISO_DATE.fullmatch(text):
        return None
    try:
        chosen = date.fromisoformat(text)
    except ValueError:  # 2017-02-30
        return None
    # Published behaviour (tests/integration/test_api_trainings.py): no year below 1000.
    return chosen if chosen.year >= 1000 else None


def _period(query: dict[str, str]) -> tuple[date | None, date | None]:
    """The query's ISO dates `from` and `to` (None when absent: the training's span)."""
    chosen: dict[str, date | None] = {}
    errors: dict[str, str] = {}
    for name in ("from", "to"):
        chosen[name] = _iso_date(query[name]) if name in query else None
        if name in query and chosen[name] is None:
            errors[name] = BAD_DATE
    if errors:
        raise invalid_request(BAD_PARAMETERS, errors)
    return chosen["from"], chosen["to"]


# Trainings and their payments -----------------------------------------------------------------


@blueprint.route("/api/v1/trainings", methods=["GET"], content_types=JSON_CONTENT_TYPES)
@api_view
def list_trainings() -> Response:
    trainings = get_container().trainings.of_account(_account_id())
    return json_response({"trainings": [training_json(training) for training in trainings]})


@blueprint.route("/api/v1/payments", methods=["GET"], content_types=JSON_CONTENT_TYPES)
@api_view
def list_payments() -> Response:
    account_id = _account_id()
    query = _parameters(("funder", "dossier"), ("from", "to"))
    start, end = _period(query)
    history = get_container().trainings.dossier_history(
        account_id, query["funder"], query["dossier"], start, end
    )
    return json_response(history_json(history))


@blueprint.route("/api/v1/payment", methods=["GET"], content_types=JSON_CONTENT_TYPES)
@api_view
def payment_detail() -> Response:
    account_id = _account_id()
    query = _parameters(("funder", "reference"))
    notice = get_container().trainings.payment(account_id, query["funder"], query["reference"])
    return json_response(payment_json(notice))


# Documents: short links to PDFs, issued after the ownership check -------------------------------


@blueprint.route("/api/v1/payment/pdf", methods=["GET"], content_types=JSON_CONTENT_TYPES)
@api_view
def payment_pdf() -> Response:
    account_id = _account_id()
    query = _parameters(("funder", "reference"))
    container = get_container()
    notice = container.trainings.payment(account_id, query["funder"], query["reference"])
    url = container.document_delivery.link(account_id, notice.content)
    return json_response(link_json(url, notice.content.filename))


@blueprint.route("/api/v1/documents", methods=["GET"], content_types=JSON_CONTENT_TYPES)
@api_view
def training_document() -> Response:
    account_id = _account_id()
    query = _parameters(("funder", "dossier", "type"))
    if query["type"] not in DOCUMENT_TYPES:
        raise invalid_request(BAD_PARAMETERS, {"type": BAD_TYPE})
    container = get_container()
    content = container.trainings.document(
        account_id, query["funder"], query["dossier"], DOCUMENT_TYPES[query["type"]]
    )
    url = container.document_delivery.link(account_id, content)
    return json_response(link_json(url, content.filename))


# « Ajouter un dossier » and « Mes données » ---------------------------------------------------


def _claim_answer(account_id: str, result: ClaimResult) -> Response:
    """201 with the training once linked; 202 with the claim awaiting its code (one answer for
    every number that did not link at once). Refusals are the services' errors (`api_view`)."""
    container = get_container()
    if result.linked is None:
        assert result.claim_id is not None
        body = {"claim_id": result.claim_id, "expires_in": CLAIM_SECONDS, "message": PENDING}
        return json_response(body, 202)
    funder_code, number = result.linked.funder_code, result.linked.dossier_number
    # Read back by its key (consistent), not through the account's index (eventually consistent).
    dossier = container.trainings.owned_dossier(account_id, funder_code, number)
    if dossier is None:  # unlinked in between by an operator: nothing to show
        raise ApiError(404, "not_found", DOSSIER_NOT_YOURS)
    training = Training(dossier, container.trainings.funders()[funder_code])
    location = "/api/v1/payments?" + urlencode({"funder": funder_code, "dossier": number})
    return json_response(training_json(training), 201, {"Location": location})


@blueprint.route("/api/v1/trainings", methods=["POST"], content_types=JSON_CONTENT_TYPES)
@api_view
def add_training() -> Response:
    request = blueprint.current_request
    account_id = _account_id()
    fields = read_fields(request, texts=("funder", "dossier_number"))
    funder_code, number = fields.text("funder"), fields.text("dossier_number").strip()
    if len(number) > MAX_DOSSIER_NUMBER_LENGTH:
        raise invalid_request(WRONG_FIELDS, {"dossier_number": NUMBER_TOO_LONG})
    result = get_container().dossier_claims.request(
        account_id, funder_code, number, client_ip(request)
    )
    return _claim_answer(account_id, result)


@blueprint.route(
    "/api/v1/trainings/confirmation", methods=["POST"], content_types=JSON_CONTENT_TYPES
)
@api_view
def confirm_training() -> Response:
    request = blueprint.current_request
    account_id = _account_id()
    fields = read_fields(request, texts=("claim_id", "code"))
    claim_id, code = fields.text("claim_id"), fields.text("code")
    too_long = {
        name: TOO_LONG_FIELD
        for name, value in (("claim_id", claim_id), ("code", code))
        if len(value) > MAX_PARAMETER_LENGTH
    }
    if too_long:
        raise invalid_request(WRONG_FIELDS, too_long)
    result = get_container().dossier_claims.confirm(account_id, claim_id, code, client_ip(request))
    return _claim_answer(account_id, result)


@blueprint.route("/api/v1/me/data", methods=["GET"], content_types=JSON_CONTENT_TYPES)
@api_view
def my_data() -> Response:
    export = get_container().personal_data.export(
        _account_id(), client_ip(blueprint.current_request)
    )
    return json_response(export)
