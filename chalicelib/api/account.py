"""« Mot de passe oublié » and « Mon compte » for mobile apps under /api/v1, over the same
services as the HTML pages (chalicelib/web/recovery.py, chalicelib/web/account.py)."""

from __future__ import annotations

from collections.abc import Mapping

from chalice import Blueprint, Response

# The helpers of the accounts API read the request through the app, whichever blueprint routes it.
from chalicelib.api.auth import authenticate, bearer_token, not_authenticated
from chalicelib.api.bodies import Fields, read_fields
from chalicelib.api.guards import known_funder
from chalicelib.api.responses import (
    FIELDS_TO_FIX,
    JSON_CONTENT_TYPES,
    ApiError,
    api_view,
    json_response,
    seconds_until,
)
from chalicelib.container import get_container
from chalicelib.faces.requests import client_ip
from chalicelib.services.accounts.my_account import AccountSettings
from chalicelib.services.accounts.proofs import Proof
from chalicelib.services.accounts.recovery import CODE_LIFETIME
from chalicelib.services.errors import Expired, Invalid
from chalicelib.services.formatting import format_date, format_date_time
from chalicelib.services.mail.delivery import DeliveryNotice
from chalicelib.services.security.challenges import CHALLENGE_LIFETIME

blueprint = Blueprint(__name__)

# The same sentence whatever the address: the mail tells its owner the rest.
RECOVERY_SENT = (
    "Si un compte correspond à cette adresse, un courriel vient de lui être envoyé. Il contient "
    "un code à 8 chiffres, valable 30 minutes ; si ce compte n’a encore jamais servi, il "
    "contient à la place un nouveau mot de passe provisoire."
)
PASSWORD_RESET = "Votre mot de passe est modifié. Toutes les sessions du compte sont fermées."
PASSWORD_CHANGED = "Votre mot de passe est modifié. Vos autres sessions sont fermées."
QUESTION_CHANGED = "Votre question secrète est modifiée."
EMAIL_LINK_SENT = (
    "Un lien de confirmation, valable 24 heures, vient d’être envoyé à la nouvelle adresse mail. "
    "L’adresse actuelle, prévenue, reste celle du compte tant que ce lien n’a pas été ouvert."
)
EMAIL_CHANGED = "L’adresse mail du compte est modifiée."
RECOVERY_EXPIRED_CODE = "recovery_expired"


def _ip() -> str | None:
    return client_ip(blueprint.current_request)


def _refused(errors: Mapping[str, str], renamed: Mapping[str, str]) -> ApiError:
    fields = {renamed.get(name, name): message for name, message in errors.items()}
    return ApiError(400, "validation_failed", FIELDS_TO_FIX, fields)


# « Mot de passe oublié » -------------------------------------------------------------------


@blueprint.route("/api/v1/recovery/challenge", methods=["POST"], content_types=JSON_CONTENT_TYPES)
@api_view
def issue_arithmetic() -> Response:
    arithmetic = get_container().recovery.issue_arithmetic(_ip())
    return json_response(
        {
            "challenge_id": arithmetic.challenge_id,
            "question": arithmetic.question,
            "expires_in": int(CHALLENGE_LIFETIME.total_seconds()),
        },
        201,
    )


@blueprint.route(
    "/api/v1/funders/{funder_code}/recovery", methods=["POST"], content_types=JSON_CONTENT_TYPES
)
@api_view
def request_recovery(funder_code: str) -> Response:
    funder = known_funder(funder_code)
    fields = read_fields(blueprint.current_request, texts=("email", "challenge_id", "answer"))
    try:
        opened = get_container().recovery.request(
            funder.code,
            fields.text("email"),
            fields.text("challenge_id"),
            fields.text("answer"),
            _ip(),
        )
    except Invalid as refused:  # the operation's result is this body's `answer`
        raise _refused(refused.errors, {"arithmetic_answer": "answer"}) from None
    return json_response(
        {
            "message": RECOVERY_SENT,
            "recovery_id": opened.ticket,
            "expires_in": int(CODE_LIFETIME.total_seconds()),
        },
        202,
    )


@blueprint.route("/api/v1/recovery/code", methods=["POST"], content_types=JSON_CONTENT_TYPES)
@api_view
def check_recovery_code() -> Response:
    fields = read_fields(blueprint.current_request, texts=("recovery_id", "code"))
    # A wrong code (`Invalid` under `code`) is answered by `api_view`.
    reset = get_container().recovery.check_code(fields.text("recovery_id"), fields.text("code"))
    return json_response(
        {
            "reset_id": reset.ticket,
            "secret_question": reset.secret_question,
            "expires_in": seconds_until(reset.expires_at),
        }
    )


@blueprint.route("/api/v1/recovery/password", methods=["POST"], content_types=JSON_CONTENT_TYPES)
@api_view
def reset_password() -> Response:
    fields = read_fields(
        blueprint.current_request,
        texts=("reset_id", "secret_answer", "new_password", "confirmation"),
    )
    try:  # its other refusals (`Invalid`, `Throttled`) are answered by `api_view`
        get_container().recovery.reset_password(
            fields.text("reset_id"),
            fields.text("secret_answer"),
            fields.text("new_password"),
            fields.text("confirmation"),
            _ip(),
        )
    except Expired as gone:  # the step is over: start again (410)
        raise ApiError(410, RECOVERY_EXPIRED_CODE, gone.errors["form"]) from None
    return json_response({"message": PASSWORD_RESET})


# « Mon compte » ----------------------------------------------------------------------------
# Each route reads the body into one use case of services/accounts/my_account.py; its refusals
# (`Invalid`, `Throttled`) are answered by `api_view`, under the API's field names.

# An account without a password (FranceConnect only) proves itself with its secret answer.
PROOF_DEFAULTS = {"password": "", "secret_answer": ""}


def _settings() -> AccountSettings:
    return get_container().account_settings


def _proved(*texts: str) -> Fields:
    """The body's `texts`, and the proof (the password or the secret answer, either optional)."""
    names = (*texts, "password", "secret_answer")
    return read_fields(blueprint.current_request, texts=names, defaults=PROOF_DEFAULTS)


def _proof(fields: Fields) -> Proof:
    return Proof(fields.text("password"), fields.text("secret_answer"))


@blueprint.route("/api/v1/me/account", methods=["GET"], content_types=JSON_CONTENT_TYPES)
@api_view
def my_account() -> Response:
    current = authenticate(blueprint.current_request)
    overview = _settings().overview(current.session.account_id)
    account = overview.account
    return json_response(
        {
            "email": account.email,
            "family_name": account.family_name,
            "given_names": account.given_names,
            "birth_date": format_date(account.birth_date) if account.birth_date else None,
            "phone": account.phone,
            "secret_question": account.secret_question,
            "has_password": account.password_hash is not None,
            "email_delivery": _email_delivery(overview.mail_notice),
        }
    )


def _email_delivery(notice: DeliveryNotice | None) -> dict[str, str | None]:
    """SES's feedback on the address: whether the portal still writes to it, and why not."""
    if notice is None:
        return {"status": "ok", "since": None, "title": None, "message": None}
    return {
        "status": notice.kind.value,
        "since": format_date_time(notice.since),
        "title": notice.title,
        "message": notice.text,
    }


@blueprint.route("/api/v1/me/phone", methods=["PUT"], content_types=JSON_CONTENT_TYPES)
@api_view
def set_phone() -> Response:
    current = authenticate(blueprint.current_request)
    fields = read_fields(blueprint.current_request, texts=("phone",), defaults={"phone": ""})
    phone = _settings().set_phone(current.session.account_id, fields.text("phone"), _ip())
    return json_response({"phone": phone})


@blueprint.route("/api/v1/me/password", methods=["POST"], content_types=JSON_CONTENT_TYPES)
@api_view
def change_password() -> Response:
    current = authenticate(blueprint.current_request)
    # "password" may be left out only by an account without one (FranceConnect only).
    fields = read_fields(
        blueprint.current_request,
        texts=("password", "secret_answer", "new_password", "confirmation"),
        defaults={"password": ""},
    )
    _settings().change_password(
        current.session.account_id,
        current.token,
        _proof(fields),
        fields.text("new_password"),
        fields.text("confirmation"),
        _ip(),
    )
    return json_response({"message": PASSWORD_CHANGED})


@blueprint.route("/api/v1/me/secret-question", methods=["POST"], content_types=JSON_CONTENT_TYPES)
@api_view
def change_secret_question() -> Response:
    current = authenticate(blueprint.current_request)
    fields = _proved("question", "answer")
    question, answer = fields.text("question"), fields.text("answer")
    _settings().change_secret_question(
        current.session.account_id, _proof(fields), question, answer, _ip()
    )
    return json_response({"message": QUESTION_CHANGED})


@blueprint.route("/api/v1/me/email-change", methods=["POST"], content_types=JSON_CONTENT_TYPES)
@api_view
def request_email_change() -> Response:
    current = authenticate(blueprint.current_request)
    fields = _proved("new_email", "email_confirmation")
    new_email, confirmation = fields.text("new_email"), fields.text("email_confirmation")
    _settings().request_email_change(
        current.session.account_id, new_email, confirmation, _proof(fields), _ip()
    )
    return json_response({"message": EMAIL_LINK_SENT}, 202)


@blueprint.route(
    "/api/v1/email-change/confirmation", methods=["POST"], content_types=JSON_CONTENT_TYPES
)
@api_view
def confirm_email_change() -> Response:
    fields = read_fields(blueprint.current_request, texts=("token",))
    # The app that opens the link keeps its own session; every other one ends.
    keep = bearer_token(blueprint.current_request)
    try:
        _settings().confirm_email_change(fields.text("token"), _ip(), keep_token=keep)
    except Invalid as refused:  # one sentence for the whole request: the link is the input
        raise ApiError(400, "email_change_refused", refused.errors["token"]) from None
    return json_response({"message": EMAIL_CHANGED})


ACCOUNT_CLOSED = (
    "Votre compte est fermé. Vos dossiers et vos paiements restent chez votre financeur ; un "
    "courriel vous le confirme."
)


@blueprint.route("/api/v1/me/close", methods=["POST"], content_types=JSON_CONTENT_TYPES)
@api_view
def close_account() -> Response:
    """« Fermer mon compte »: the same proof as a change of address, then nothing is left."""
    current = authenticate(blueprint.current_request)
    fields = _proved()
    closure = get_container().account_closure
    if not closure.close_by_owner(current.session.account_id, _proof(fields), _ip()).ok:
        raise not_authenticated(token_sent=True)  # gone meanwhile: the token is worth nothing
    return json_response({"message": ACCOUNT_CLOSED})
