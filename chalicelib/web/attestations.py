"""« Mes attestations » (a section of Mes formations) and the public page `/verifier`.

Creating an attestation is a POST with the session's CSRF token: it stores a record (its code
counts from then on), then the browser is sent to the PDF's short presigned link, as for the
payment notices. `/verifier` needs no account; it is throttled per client address and shows
what the PDF states, nothing more.
"""

from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.container import get_container
from chalicelib.faces.requests import client_ip
from chalicelib.services.errors import Invalid, NotFound, RateLimited
from chalicelib.services.trainings.attestations import (
    ALL_TRAININGS,
    Selection,
    funders_text,
)
from chalicelib.web.guards import read_form, signed_in_session, web_view
from chalicelib.web.http import FORM_CONTENT_TYPES, CurrentSession, redirect
from chalicelib.web.rendering import html_page

blueprint = Blueprint(__name__)

PATH = "/formations/attestations"
LABELS = {
    "periode": "Période",
    "annee": "Année",
    "mois": "Mois",
    "du": "Du",
    "au": "Au",
    "formation": "Formation",
    "form": "Formulaire",
    "code": "Code de vérification",
}
FIELDS = ("periode", "annee", "mois", "du", "au", "formation")
# The service names the selection's inputs; this form's fields are French. The one table.
SELECTION_FIELDS = {
    "period": "periode",
    "year": "annee",
    "month": "mois",
    "period_start": "du",
    "period_end": "au",
    "training": "formation",
}


def selection_of(values: dict[str, str]) -> Selection:
    """The form's fields (the page's query or the POST's body) as the service's selection."""
    choice = values.get("periode", "")[:20] or "3-derniers-mois"
    year = values.get("annee", "")[:10]
    if choice.startswith("annee-"):  # the ready-made « Récapitulatif de l'année AAAA »
        choice, year = "annee", choice.removeprefix("annee-")
    return Selection(
        choice=choice,
        year=year,
        month=values.get("mois", "")[:10],
        start=values.get("du", "")[:10],
        end=values.get("au", "")[:10],
        training=values.get("formation", "")[:120] or ALL_TRAININGS,
    )


def _page(current: CurrentSession, values: dict[str, str], errors: dict[str, str]) -> Response:
    container = get_container()
    account_id = current.session.account_id
    attestations = container.attestations
    statement, statement_errors = (
        (None, {}) if errors else attestations.statement(account_id, selection_of(values))
    )
    return html_page(
        "attestations.html",
        status_code=400 if errors or statement_errors else 200,
        csrf=current.session.csrf_token,
        trainings=attestations.choices(account_id),
        statement=statement,
        issued=attestations.list(account_id),
        now=attestations.clock(),
        values={name: values.get(name, "") for name in FIELDS},
        errors={**errors, **_form_errors(statement_errors)},
        labels=LABELS,
        ready_made=[
            (label, f"annee-{s.year}" if s.year else s.choice)
            for label, s in attestations.ready_made_choices()
        ],
        all_trainings=ALL_TRAININGS,
        funders_text=funders_text,
    )


def _form_errors(errors: dict[str, str]) -> dict[str, str]:
    return {SELECTION_FIELDS.get(key, key): message for key, message in errors.items()}


def _query() -> dict[str, str]:
    return dict(blueprint.current_request.query_params or {})


@blueprint.route(PATH, methods=["GET"])
@web_view
def attestations_page() -> Response:
    return _page(signed_in_session(blueprint.current_request), _query(), {})


@blueprint.route(PATH, methods=["POST"], content_types=FORM_CONTENT_TYPES)
@web_view
def issue_attestation() -> Response:
    current = signed_in_session(blueprint.current_request)
    values: dict[str, str] = {}
    try:
        fields = read_form(blueprint.current_request, current)
    except Invalid as error:  # the form expired: shown again as it was sent
        return _page(current, values, error.errors)
    values = {name: fields.get(name, "") for name in FIELDS}
    container = get_container()
    issued, errors = container.attestations.issue(current.session.account_id, selection_of(values))
    if issued is None:
        return _page(current, values, _form_errors(errors))
    return redirect(container.document_delivery.link(current.session.account_id, issued.content))


@blueprint.route(f"{PATH}/pdf", methods=["GET"])
@web_view
def attestation_pdf() -> Response:
    account_id = signed_in_session(blueprint.current_request).session.account_id
    container = get_container()
    content = container.attestations.document(account_id, _query().get("attestation", ""))
    return redirect(container.document_delivery.link(account_id, content))


@blueprint.route(f"{PATH}/retirer", methods=["POST"], content_types=FORM_CONTENT_TYPES)
@web_view
def withdraw_attestation() -> Response:
    request = blueprint.current_request
    current = signed_in_session(request)
    try:
        fields = read_form(request, current)
    except Invalid as error:
        return _page(current, {}, error.errors)
    get_container().attestations.withdraw(
        current.session.account_id, fields.get("attestation", ""), client_ip(request)
    )
    return redirect(f"{PATH}?retiree=1")


def _verify_page(code: str, status_code: int = 200, **context: object) -> Response:
    return html_page(
        "verify.html",
        status_code=status_code,
        code=code,
        labels=LABELS,
        **{"errors": {}, "verification": None, **context},
    )


@blueprint.route("/verifier", methods=["GET"])
def verify_page() -> Response:
    request = blueprint.current_request
    typed = _query().get("code", "")[:64]
    if not typed:
        return _verify_page("")
    try:
        verification = get_container().attestations.verify(typed, client_ip(request))
    except (RateLimited, NotFound) as refused:
        status = 429 if isinstance(refused, RateLimited) else 404
        return _verify_page(typed, status, errors={"code": refused.message})
    return _verify_page(
        verification.attestation.code, verification=verification, funders_text=funders_text
    )
