"""The accounts journeys for mobile apps under /api/v1 (guide steps 1 to 4 and 8), over the same
services as the HTML pages: this module only maps JSON onto them and their results onto JSON."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from chalice import Blueprint, Response

from chalicelib.api.auth import ANY_STEP, ApiSession, authenticate
from chalicelib.api.bodies import read_fields
from chalicelib.api.guards import known_funder
from chalicelib.api.responses import (
    JSON_CONTENT_TYPES,
    REALM,
    ApiError,
    api_view,
    json_response,
    seconds_until,
)
from chalicelib.container import get_container
from chalicelib.faces.requests import client_ip
from chalicelib.services.accounts.login import INVALID_CREDENTIALS, WRONG_PAIR
from chalicelib.services.accounts.model import Step
from chalicelib.services.accounts.sessions import IDLE_TIMEOUT, SignedIn
from chalicelib.services.accounts.signup import SignupForm
from chalicelib.services.errors import Invalid, Throttled
from chalicelib.services.formatting import format_date
from chalicelib.services.security.challenges import CHALLENGE_LIFETIME

blueprint = Blueprint(__name__)

OPENAPI_DOCUMENT = Path(__file__).with_name("openapi.json")
# Same words as the browser's confirmation page (signup_done.html), whatever the address.
SIGNUP_DONE = (
    "Votre demande d’inscription est enregistrée. Un courriel vient d’être envoyé à l’adresse "
    "indiquée. Il contient votre mot de passe provisoire, valable 72\u00a0heures, ou la marche "
    "à suivre si cette adresse est déjà connue du portail."
)
NO_TERMS = "Aucune version des conditions générales d’utilisation n’est publiée."
SIGNUP_TEXTS = (
    "family_name",
    "given_names",
    "birth_date",
    "dossier_number",
    "email",
    "email_confirmation",
    "captcha_id",
    "captcha_answer",
)


def _step_value(step: Step | None) -> str | None:
    return step.value if step is not None else None


# Captcha and sign-up -----------------------------------------------------------------------


@blueprint.route("/api/v1/captcha", methods=["POST"], content_types=JSON_CONTENT_TYPES)
@api_view
def issue_captcha() -> Response:
    container = get_container()
    captcha = container.issue_captcha(client_ip(blueprint.current_request))
    return json_response(
        {
            "captcha_id": captcha.captcha_id,
            "image_url": captcha.image_url,
            # A page of the portal that redirects to the WAV, made on demand
            # (docs/specs/architecture.md, D9).
            "audio_url": container.urls.path(captcha.audio_url),
            "expires_in": int(CHALLENGE_LIFETIME.total_seconds()),
        },
        201,
    )


@blueprint.route(
    "/api/v1/funders/{funder_code}/signup", methods=["POST"], content_types=JSON_CONTENT_TYPES
)
@api_view
def sign_up(funder_code: str) -> Response:
    funder = known_funder(funder_code)
    fields = read_fields(
        blueprint.current_request,
        texts=SIGNUP_TEXTS,
        flags=("no_dossier", "terms_accepted"),
        defaults={"no_dossier": False, "dossier_number": ""},
    )
    form = SignupForm(
        **{name: fields.text(name) for name in SIGNUP_TEXTS},
        no_dossier=fields.flag("no_dossier"),
        terms_accepted=fields.flag("terms_accepted"),
    )
    # Its refusals (`Invalid`, `RateLimited`) are answered by `api_view`.
    get_container().signup.sign_up(funder, form, client_ip(blueprint.current_request))
    # 202 and one sentence whatever happened to the address: the mail tells its owner the rest.
    return json_response({"message": SIGNUP_DONE}, 202)


# Sessions ------------------------------------------------------------------------------------


@blueprint.route("/api/v1/sessions", methods=["POST"], content_types=JSON_CONTENT_TYPES)
@api_view
def open_session() -> Response:
    fields = read_fields(blueprint.current_request, texts=("username", "password"))
    login = get_container().login
    try:
        signed_in = login.log_in(
            fields.text("username"), fields.text("password"), client_ip(blueprint.current_request)
        )
    except (Invalid, Throttled) as refused:
        raise _login_refused(refused) from None
    return json_response(
        {
            "token": signed_in.token,
            "token_type": "Bearer",
            "expires_in": int(IDLE_TIMEOUT.total_seconds()),
            "pending_step": _step_value(get_container().sessions.step_due(signed_in.session)),
        },
        201,
    )


def _login_refused(error: Invalid | Throttled) -> ApiError | Invalid:
    """A delay in force (429, with when to try again, and no field: the whole login waits) or a
    wrong pair (401, the Bearer challenge); any other refusal as every route answers it."""
    if isinstance(error, Throttled):
        retry = {"Retry-After": str(seconds_until(error.retry_after))}
        return ApiError(429, "too_many_attempts", error.message, headers=retry)
    if error.code == INVALID_CREDENTIALS:
        realm = {"WWW-Authenticate": REALM}
        return ApiError(401, INVALID_CREDENTIALS, WRONG_PAIR, headers=realm)
    return error


@blueprint.route("/api/v1/sessions/current", methods=["DELETE"], content_types=JSON_CONTENT_TYPES)
@api_view
def close_session() -> Response:
    current = authenticate(blueprint.current_request, ANY_STEP)
    get_container().login.log_out(
        current.token, current.session, client_ip(blueprint.current_request)
    )
    return json_response(None, 204)


# The account and its first-login steps ------------------------------------------------------


@blueprint.route("/api/v1/me", methods=["GET"], content_types=JSON_CONTENT_TYPES)
@api_view
def me() -> Response:
    current = authenticate(blueprint.current_request, ANY_STEP)
    account = get_container().account_settings.account(current.session.account_id)
    return json_response(
        {
            "email": account.email,
            "family_name": account.family_name,
            "given_names": account.given_names,
            "birth_date": format_date(account.birth_date) if account.birth_date else None,
            "pending_step": _step_value(current.pending_step),
        }
    )


def _step_answer(signed_in: SignedIn, current: ApiSession) -> Response:
    """A step done (its refusals are `Invalid`, answered by `api_view`)."""
    body: dict[str, Any] = {
        "pending_step": _step_value(get_container().sessions.step_due(signed_in.session))
    }
    if signed_in.token != current.token:  # the last step is a privilege change: a new token
        body["token"] = signed_in.token
    return json_response(body)


@blueprint.route(
    "/api/v1/me/first-login/password", methods=["POST"], content_types=JSON_CONTENT_TYPES
)
@api_view
def change_first_password() -> Response:
    current = authenticate(blueprint.current_request, Step.PASSWORD)
    fields = read_fields(
        blueprint.current_request, texts=("old_password", "new_password", "confirmation")
    )
    signed_in = get_container().login.change_first_password(
        current.token,
        current.session,
        fields.text("old_password"),
        fields.text("new_password"),
        fields.text("confirmation"),
        client_ip(blueprint.current_request),
    )
    return _step_answer(signed_in, current)


@blueprint.route(
    "/api/v1/me/first-login/secret-question", methods=["POST"], content_types=JSON_CONTENT_TYPES
)
@api_view
def set_secret_question() -> Response:
    current = authenticate(blueprint.current_request, Step.SECRET_QUESTION)
    fields = read_fields(blueprint.current_request, texts=("question", "answer"))
    signed_in = get_container().login.set_secret_question(
        current.token,
        current.session,
        fields.text("question"),
        fields.text("answer"),
        client_ip(blueprint.current_request),
    )
    return _step_answer(signed_in, current)


@blueprint.route("/api/v1/terms/current", methods=["GET"], content_types=JSON_CONTENT_TYPES)
@api_view
def current_terms() -> Response:
    terms = get_container().terms.repository.current()
    if terms is None:
        raise ApiError(404, "terms_not_found", NO_TERMS)
    return json_response(
        {
            "version": terms.version,
            "published_at": terms.published_at.isoformat(),
            "text": terms.text,
        }
    )


@blueprint.route("/api/v1/me/terms-acceptance", methods=["POST"], content_types=JSON_CONTENT_TYPES)
@api_view
def accept_terms() -> Response:
    current = authenticate(blueprint.current_request, Step.TERMS)
    fields = read_fields(blueprint.current_request, texts=("version",))
    signed_in = get_container().login.accept_terms(
        current.token, current.session, fields.text("version"), client_ip(blueprint.current_request)
    )
    return _step_answer(signed_in, current)


# The API's own description ------------------------------------------------------------------


@cache
def _openapi_document() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(OPENAPI_DOCUMENT.read_text(encoding="utf-8"))
    return document


@blueprint.route("/api/v1/openapi.json", methods=["GET"], content_types=JSON_CONTENT_TYPES)
@api_view
def openapi_document() -> Response:
    return json_response(_openapi_document())
