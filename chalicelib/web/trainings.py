"""« Mes formations » (guide, step 7): trainings, payments, documents, and « Mes données »."""

from __future__ import annotations

import json
from datetime import datetime
from urllib.parse import urlencode

from chalice import Blueprint, Response

from chalicelib.container import get_container
from chalicelib.faces.requests import client_ip
from chalicelib.faces.texts import DOCUMENT_NOT_YOURS
from chalicelib.services.accounts.model import Account
from chalicelib.services.formatting import format_date_time
from chalicelib.services.trainings.documents import DocumentContent
from chalicelib.services.trainings.dossier_claims import PENDING, ClaimResult
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


def _page(current: CurrentSession, added: str | None = None, **form: object) -> Response:
    container = get_container()
    query = _query()
    trainings = container.trainings.of_account(current.session.account_id)
    history, errors = container.trainings.history(
        trainings, query.get("formation"), query.get("du", ""), query.get("au", "")
    )
    return html_page(
        "trainings.html",
        csrf=current.session.csrf_token,
        trainings=trainings,
        history=history,
        errors={**errors, **form.get("add_errors", {})},  # type: ignore[dict-item]
        values={**query, **form.get("add_values", {})},  # type: ignore[dict-item]
        labels=LABELS,
        funders=sorted(container.trainings.funders().values(), key=lambda f: f.name),
        added=added,
        query_for=lambda **params: urlencode(params),
    )


@blueprint.route("/formations", methods=["GET"])
def trainings() -> Response:
    return signed_in(blueprint.current_request, None, _page)


def _claim_page(
    current: CurrentSession, claim_id: str, errors: dict[str, str] | None = None
) -> Response:
    return html_page(
        "dossier_claim.html",
        csrf=current.session.csrf_token,
        claim_id=claim_id,
        pending=PENDING,
        errors=errors or {},
        labels=LABELS,
    )


def _claim_answer(
    current: CurrentSession, result: ClaimResult, typed: dict[str, str] | None = None
) -> Response:
    """One answer per outcome of a claim: linked, a code to type, or the form with its error."""
    if result.linked is not None:
        dossier = result.linked
        key = f"{dossier.funder_code}~{dossier.dossier_number}"
        return redirect("/formations?" + urlencode({"formation": key}))
    if result.claim_id is not None:
        return _claim_page(current, result.claim_id, result.errors)
    return _page(current, add_errors=result.errors, add_values=typed or {})


def _account_for(current: CurrentSession) -> Account | None:
    return get_container().accounts.get(current.session.account_id)


@blueprint.route(
    "/formations/ajouter-un-dossier", methods=["POST"], content_types=FORM_CONTENT_TYPES
)
def add_dossier() -> Response:
    def add(current: CurrentSession) -> Response:
        try:
            fields = form_data(blueprint.current_request)
        except BadForm:
            fields = {}
        if not session_csrf_ok(current, fields):
            return _page(current, add_errors={"form": "Le formulaire a expiré. Recommencez."})
        account = _account_for(current)
        if account is None:
            return redirect("/?message=connexion-requise")
        funder_code = fields.get("financeur", "")
        number = fields.get("numero_dossier", "").strip()[:50]
        result = get_container().dossier_claims.request(
            account, funder_code, number, client_ip(blueprint.current_request)
        )
        return _claim_answer(current, result, {"financeur": funder_code, "numero_dossier": number})

    return signed_in(blueprint.current_request, None, add)


@blueprint.route(
    "/formations/ajouter-un-dossier/code", methods=["POST"], content_types=FORM_CONTENT_TYPES
)
def confirm_dossier() -> Response:
    def confirm(current: CurrentSession) -> Response:
        try:
            fields = form_data(blueprint.current_request)
        except BadForm:
            fields = {}
        if not session_csrf_ok(current, fields):
            return _page(current, add_errors={"form": "Le formulaire a expiré. Recommencez."})
        account = _account_for(current)
        if account is None:
            return redirect("/?message=connexion-requise")
        result = get_container().dossier_claims.confirm(
            account,
            fields.get("demande", "")[:100],
            fields.get("code", ""),
            client_ip(blueprint.current_request),
        )
        if result.expired:
            return _page(current, add_errors={"numero_dossier": result.errors["code"]})
        return _claim_answer(current, result)

    return signed_in(blueprint.current_request, None, confirm)


@blueprint.route("/formations/paiement", methods=["GET"])
def payment_detail() -> Response:
    def page(current: CurrentSession) -> Response:
        query = _query()
        notice = get_container().trainings.payment_notice(
            current.session.account_id, query.get("financeur", ""), query.get("reference", "")
        )
        if notice is None:
            return not_found_page(DOCUMENT_NOT_YOURS)
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

    return signed_in(blueprint.current_request, None, page)


def _download(current: CurrentSession, content: DocumentContent | None) -> Response:
    if content is None:
        return not_found_page(DOCUMENT_NOT_YOURS)
    url = get_container().document_delivery.link(current.session.account_id, content)
    return redirect(url)


@blueprint.route("/formations/paiement/pdf", methods=["GET"])
def payment_pdf() -> Response:
    def download(current: CurrentSession) -> Response:
        query = _query()
        notice = get_container().trainings.payment_notice(
            current.session.account_id, query.get("financeur", ""), query.get("reference", "")
        )
        return _download(current, notice.content if notice else None)

    return signed_in(blueprint.current_request, None, download)


@blueprint.route("/formations/document", methods=["GET"])
def training_document() -> Response:
    def download(current: CurrentSession) -> Response:
        query = _query()
        container = get_container()
        funder_code, number = query.get("financeur", ""), query.get("dossier", "")
        kind = query.get("type", "")
        content: DocumentContent | None = None
        if kind == "decision":
            content = container.trainings.funding_decision(
                current.session.account_id,
                funder_code,
                number,
                container.urls.funder_home(funder_code),
            )
        elif kind == "fin-de-stage":
            content = container.trainings.end_of_training(
                current.session.account_id, funder_code, number
            )
        return _download(current, content)

    return signed_in(blueprint.current_request, None, download)


@blueprint.route("/mes-donnees", methods=["GET"])
def my_data_page() -> Response:
    return signed_in(
        blueprint.current_request,
        None,
        lambda current: html_page(
            "my_data.html",
            csrf=current.session.csrf_token,
            consultations=[
                {**entry, "date": format_date_time(datetime.fromisoformat(entry["date"]))}
                for entry in get_container().trainee_consultations.of_account(
                    current.session.account_id
                )
            ],
        ),
    )


@blueprint.route("/mes-donnees/telechargement", methods=["GET"])
def my_data_download() -> Response:
    def download(current: CurrentSession) -> Response:
        container = get_container()
        export = container.personal_data.export(
            current.session.account_id, client_ip(blueprint.current_request)
        )
        return Response(
            body=json.dumps(export, ensure_ascii=False, indent=2),
            status_code=200,
            headers={
                "Content-Type": "application/json; charset=utf-8",
                "Content-Disposition": 'attachment; filename="mes-donnees-portail-stagiaire.json"',
            },
        )

    return signed_in(blueprint.current_request, None, download)
