"""« Mes formations » (guide, step 7): trainings, payments, documents, and « Mes données ».

Each route reads the request into the service's input, calls one use case of
`services/trainings/` (or `services/accounts/personal_data.py`) and renders; refusals are the
services' errors (`chalicelib/services/errors.py`), answered by `web_view` or shown under the
form's fields (`page_errors`).
"""

from __future__ import annotations

import json
from datetime import date, datetime
from urllib.parse import urlencode

from chalice import Blueprint, Response

from chalicelib.container import get_container
from chalicelib.faces.requests import client_ip
from chalicelib.services.errors import Invalid, NotFound
from chalicelib.services.formatting import format_date_time
from chalicelib.services.funder_files.values import parse_date
from chalicelib.services.trainings.my_trainings import (
    DOCUMENT_NOT_YOURS,
    DocumentKind,
    History,
    Training,
)
from chalicelib.web.guards import page_errors, signed_in_session, web_view
from chalicelib.web.http import CurrentSession, redirect
from chalicelib.web.rendering import html_page

blueprint = Blueprint(__name__)

BAD_DATE = "Saisissez une date au format JJ/MM/AAAA, par exemple 01/10/2017."
DOCUMENT_TYPES = {"decision": DocumentKind.DECISION, "fin-de-stage": DocumentKind.END_OF_TRAINING}
LABELS = {
    "du": "Du",
    "au": "Au",
    "financeur": "Financeur",
    "numero_dossier": "N° de dossier",
    "code": "Code reçu par courriel ou code d’activation",
    "form": "Formulaire",
}


def _query() -> dict[str, str]:
    return dict(blueprint.current_request.query_params or {})


def _history(
    trainings: list[Training], query: dict[str, str]
) -> tuple[History | None, dict[str, str]]:
    """The chosen training over the period typed in « Du » and « Au » (JJ/MM/AAAA); on a wrong
    period, the training's payments unfiltered, with the errors."""
    period: dict[str, date | None] = {}
    errors: dict[str, str] = {}
    for name in ("du", "au"):
        text = query.get(name, "").strip()
        try:
            period[name] = parse_date(text) if text else None
        except ValueError:
            errors[name] = BAD_DATE
    selected = query.get("formation")
    service = get_container().trainings
    if not errors:
        try:
            return service.history(trainings, selected, period["du"], period["au"]), {}
        except Invalid as error:
            errors = page_errors(error)
    return service.history(trainings, selected), errors


def trainings_page(
    current: CurrentSession,
    added: str | None = None,
    add_errors: dict[str, str] | None = None,
    add_values: dict[str, str] | None = None,
) -> Response:
    container = get_container()
    query = _query()
    trainings = container.trainings.of_account(current.session.account_id)
    history, errors = _history(trainings, query)
    return html_page(
        "trainings.html",
        csrf=current.session.csrf_token,
        trainings=trainings,
        history=history,
        errors={**errors, **(add_errors or {})},
        values={**query, **(add_values or {})},
        labels=LABELS,
        funders=sorted(container.trainings.funders().values(), key=lambda f: f.name),
        added=added,
        query_for=lambda **params: urlencode(params),
    )


@blueprint.route("/formations", methods=["GET"])
@web_view
def trainings() -> Response:
    return trainings_page(signed_in_session(blueprint.current_request))


# Payments and documents ----------------------------------------------------------------------


@blueprint.route("/formations/paiement", methods=["GET"])
@web_view
def payment_detail() -> Response:
    current = signed_in_session(blueprint.current_request)
    query = _query()
    notice = get_container().trainings.payment(
        current.session.account_id, query.get("financeur", ""), query.get("reference", "")
    )
    payment, dossier, content = notice.payment, notice.dossier, notice.content
    return html_page(
        "payment_detail.html",
        csrf=current.session.csrf_token,
        payment=payment,
        dossier=dossier,
        table=content.tables[0],
        net=content.closing[0] if content.closing else "",
        pdf_query=urlencode({"financeur": payment.funder_code, "reference": payment.reference}),
        back_query=urlencode({"formation": f"{dossier.funder_code}~{dossier.dossier_number}"}),
    )


@blueprint.route("/formations/paiement/pdf", methods=["GET"])
@web_view
def payment_pdf() -> Response:
    account_id = signed_in_session(blueprint.current_request).session.account_id
    query = _query()
    container = get_container()
    notice = container.trainings.payment(
        account_id, query.get("financeur", ""), query.get("reference", "")
    )
    return redirect(container.document_delivery.link(account_id, notice.content))


@blueprint.route("/formations/document", methods=["GET"])
@web_view
def training_document() -> Response:
    account_id = signed_in_session(blueprint.current_request).session.account_id
    query = _query()
    kind = DOCUMENT_TYPES.get(query.get("type", ""))
    if kind is None:
        raise NotFound(DOCUMENT_NOT_YOURS)
    container = get_container()
    content = container.trainings.document(
        account_id, query.get("financeur", ""), query.get("dossier", ""), kind
    )
    return redirect(container.document_delivery.link(account_id, content))


# « Mes données » ------------------------------------------------------------------------------


@blueprint.route("/mes-donnees", methods=["GET"])
@web_view
def my_data_page() -> Response:
    current = signed_in_session(blueprint.current_request)
    consultations = get_container().trainee_consultations.of_account(current.session.account_id)
    return html_page(
        "my_data.html",
        csrf=current.session.csrf_token,
        consultations=[
            {**entry, "date": format_date_time(datetime.fromisoformat(entry["date"]))}
            for entry in consultations
        ],
    )


@blueprint.route("/mes-donnees/telechargement", methods=["GET"])
@web_view
def my_data_download() -> Response:
    request = blueprint.current_request
    account_id = signed_in_session(request).session.account_id
    export = get_container().personal_data.export(account_id, client_ip(request))
    return Response(
        body=json.dumps(export, ensure_ascii=False, indent=2),
        status_code=200,
        headers={
            "Content-Type": "application/json; charset=utf-8",
            "Content-Disposition": 'attachment; filename="mes-donnees-portail-stagiaire.json"',
        },
    )
