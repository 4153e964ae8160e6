"""« Mes attestations » (a section of Mes formations) and the public page `/verifier`.

Creating an attestation is a POST with the session's CSRF token: it stores a record (its code
counts from then on), then the browser is sent to the PDF's short presigned link, as for the
payment notices. `/verifier` needs no account; it is throttled per client address and shows
what the PDF states, nothing more.
"""

from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.container import get_container
from chalicelib.faces.requests import client_ip, rate_limit_key
from chalicelib.faces.texts import (
    ATTESTATION_NOT_YOURS,
    EXPIRED_FORM,
    TOO_MANY_CHECKS,
    UNKNOWN_ATTESTATION_CODE,
)
from chalicelib.services.trainings.attestations import (
    ALL_TRAININGS,
    Selection,
    funders_text,
    normalise_code,
    ready_made_choices,
)
from chalicelib.web.guards import signed_in
from chalicelib.web.http import (
    FORM_CONTENT_TYPES,
    BadForm,
    CurrentSession,
    form_data,
    redirect,
    session_csrf_ok,
)
from chalicelib.web.rendering import html_page, not_found_page

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
    today = container.attestations.clock()
    return html_page(
        "attestations.html",
        status_code=400 if errors or statement_errors else 200,
        csrf=current.session.csrf_token,
        trainings=attestations.choices(account_id),
        statement=statement,
        issued=attestations.list(account_id),
        now=today,
        values={name: values.get(name, "") for name in FIELDS},
        errors={**errors, **statement_errors},
        labels=LABELS,
        ready_made=[
            (label, f"annee-{s.year}" if s.year else s.choice)
            for label, s in ready_made_choices(today.date())
        ],
        all_trainings=ALL_TRAININGS,
        funders_text=funders_text,
    )


def _query() -> dict[str, str]:
    return dict(blueprint.current_request.query_params or {})


@blueprint.route(PATH, methods=["GET"])
def attestations_page() -> Response:
    return signed_in(blueprint.current_request, None, lambda current: _page(current, _query(), {}))


def _fields() -> dict[str, str]:
    try:
        return form_data(blueprint.current_request)
    except BadForm:
        return {}


@blueprint.route(PATH, methods=["POST"], content_types=FORM_CONTENT_TYPES)
def issue_attestation() -> Response:
    def issue(current: CurrentSession) -> Response:
        fields = _fields()
        values = {name: fields.get(name, "") for name in FIELDS}
        if not session_csrf_ok(current, fields):
            return _page(current, values, {"form": EXPIRED_FORM})
        container = get_container()
        issued, errors = container.attestations.issue(
            current.session.account_id, selection_of(values)
        )
        if issued is None:
            return _page(current, values, errors)
        return redirect(
            container.document_delivery.link(current.session.account_id, issued.content)
        )

    return signed_in(blueprint.current_request, None, issue)


@blueprint.route(f"{PATH}/pdf", methods=["GET"])
def attestation_pdf() -> Response:
    def download(current: CurrentSession) -> Response:
        container = get_container()
        content = container.attestations.document(
            current.session.account_id, _query().get("attestation", "")[:100]
        )
        if content is None:
            return not_found_page(ATTESTATION_NOT_YOURS)
        return redirect(container.document_delivery.link(current.session.account_id, content))

    return signed_in(blueprint.current_request, None, download)


@blueprint.route(f"{PATH}/retirer", methods=["POST"], content_types=FORM_CONTENT_TYPES)
def withdraw_attestation() -> Response:
    def withdraw(current: CurrentSession) -> Response:
        fields = _fields()
        if not session_csrf_ok(current, fields):
            return _page(current, {}, {"form": EXPIRED_FORM})
        container = get_container()
        attestation_id = fields.get("attestation", "")[:100]
        if not container.attestations.withdraw(current.session.account_id, attestation_id):
            return not_found_page(ATTESTATION_NOT_YOURS)
        container.audit.record(
            current.session.account_id,
            "attestation-withdrawn",
            client_ip(blueprint.current_request),
            {"attestation": attestation_id},
        )
        return redirect(f"{PATH}?retiree=1")

    return signed_in(blueprint.current_request, None, withdraw)


@blueprint.route("/verifier", methods=["GET"])
def verify_page() -> Response:
    request = blueprint.current_request
    typed = _query().get("code", "")[:64]
    if not typed:
        return html_page("verify.html", code="", errors={}, labels=LABELS, verification=None)
    container = get_container()
    if not container.rate_limiter.allow("verification", rate_limit_key(request)):
        return html_page(
            "verify.html",
            status_code=429,
            code=typed,
            errors={"code": TOO_MANY_CHECKS},
            labels=LABELS,
            verification=None,
        )
    verification = container.attestations.verify(typed) if normalise_code(typed) else None
    if verification is None:
        return html_page(
            "verify.html",
            status_code=404,
            code=typed,
            errors={"code": UNKNOWN_ATTESTATION_CODE},
            labels=LABELS,
            verification=None,
        )
    return html_page(
        "verify.html",
        code=verification.attestation.code,
        errors={},
        labels=LABELS,
        verification=verification,
        funders_text=funders_text,
    )
