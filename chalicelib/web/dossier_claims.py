"""« Ajouter un dossier », under « Mes formations »: the number, then the code that proves it.

A refusal shows « Mes formations » again with the form kept (`trainings_page`)."""

from __future__ import annotations

from urllib.parse import urlencode

from chalice import Blueprint, Response

from chalicelib.container import get_container
from chalicelib.faces.requests import client_ip
from chalicelib.services.errors import Expired, Invalid, Throttled
from chalicelib.services.trainings.dossier_claims import PENDING, ClaimResult, WrongCode
from chalicelib.web.guards import page_errors, read_form, signed_in_session, web_view
from chalicelib.web.http import FORM_CONTENT_TYPES, CurrentSession, redirect
from chalicelib.web.rendering import html_page
from chalicelib.web.trainings import LABELS, trainings_page

blueprint = Blueprint(__name__)


def _claimtrainings_page(
    current: CurrentSession, claim_id: str, errors: dict[str, str]
) -> Response:
    return html_page(
        "dossier_claim.html",
        csrf=current.session.csrf_token,
        claim_id=claim_id,
        pending=PENDING,
        errors=errors,
        labels=LABELS,
    )


def _claim_answer(current: CurrentSession, result: ClaimResult) -> Response:
    """Linked: the training's page; otherwise the page that asks for the code."""
    if result.linked is not None:
        dossier = result.linked
        key = f"{dossier.funder_code}~{dossier.dossier_number}"
        return redirect("/formations?" + urlencode({"formation": key}))
    assert result.claim_id is not None
    return _claimtrainings_page(current, result.claim_id, {})


@blueprint.route(
    "/formations/ajouter-un-dossier", methods=["POST"], content_types=FORM_CONTENT_TYPES
)
@web_view
def add_dossier() -> Response:
    current = signed_in_session(blueprint.current_request)
    typed: dict[str, str] = {}
    try:
        fields = read_form(blueprint.current_request, current)
        typed = {
            "financeur": fields.get("financeur", ""),
            "numero_dossier": fields.get("numero_dossier", "").strip()[:50],
        }
        claims = get_container().dossier_claims
        ip = client_ip(blueprint.current_request)
        result = claims.request(current.session.account_id, *typed.values(), ip)
    except (Invalid, Throttled) as error:
        return trainings_page(current, add_errors=page_errors(error), add_values=typed)
    return _claim_answer(current, result)


@blueprint.route(
    "/formations/ajouter-un-dossier/code", methods=["POST"], content_types=FORM_CONTENT_TYPES
)
@web_view
def confirm_dossier() -> Response:
    current = signed_in_session(blueprint.current_request)
    claim_id = ""
    try:
        fields = read_form(blueprint.current_request, current)
        claim_id = fields.get("demande", "")[:100]
        claims = get_container().dossier_claims
        ip = client_ip(blueprint.current_request)
        result = claims.confirm(current.session.account_id, claim_id, fields.get("code", ""), ip)
    except (WrongCode, Throttled) as refused:
        # The claim is still open (a wrong code, too many tries): ask for its code again.
        if claim_id and (not isinstance(refused, WrongCode) or refused.claim_id):
            return _claimtrainings_page(current, claim_id, page_errors(refused))
        return trainings_page(current, add_errors=page_errors(refused))
    except Expired as expired:  # start « Ajouter un dossier » again, number first
        return trainings_page(current, add_errors={"numero_dossier": expired.errors["code"]})
    except Invalid as error:  # the form itself (expired)
        return trainings_page(current, add_errors=page_errors(error))
    return _claim_answer(current, result)
