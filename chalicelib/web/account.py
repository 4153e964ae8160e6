"""« Mon compte » (guide: « Accès aux informations de son compte »): what the portal holds about
the person, and one form per change. Each form asks again for a secret, so a session left open
on a shared computer is not enough to take the account over.

Each POST reads the form into one use case of `services/accounts/my_account.py` (or
`retention.py` for « Fermer mon compte »); its refusals (`Invalid`, `Throttled`) come back under
the form's fields (`page_errors`), and success goes back to « Mon compte » with a notice.
"""

from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.container import get_container
from chalicelib.faces.requests import client_ip
from chalicelib.faces.texts import EXPIRED_FORM
from chalicelib.services.accounts.model import Account
from chalicelib.services.accounts.my_account import AccountSettings
from chalicelib.services.accounts.passwords import PASSWORD_RULE_TEXT
from chalicelib.services.accounts.phones import format_french_phone
from chalicelib.services.accounts.proofs import Proof
from chalicelib.services.errors import Invalid, Throttled
from chalicelib.web.franceconnect import NOTICES as FRANCECONNECT_NOTICES
from chalicelib.web.guards import page_errors, read_form, signed_in_session, web_view
from chalicelib.web.http import (
    FORM_CONTENT_TYPES,
    BadForm,
    CurrentSession,
    anonymous_form_page,
    expired_cookie,
    form_data,
    pre_session_csrf_ok,
    read_cookie,
    redirect,
    session_cookie_name,
)
from chalicelib.web.rendering import html_page

blueprint = Blueprint(__name__)

ACCOUNT_PATH = "/compte"
LABELS = {
    "phone": "Numéro de téléphone",
    "answer": "Réponse à votre question secrète",
    "password": "Mot de passe actuel",
    "new_password": "Nouveau mot de passe",
    "confirmation": "Confirmation du nouveau mot de passe",
    "question": "Nouvelle question secrète",
    "new_answer": "Réponse à la nouvelle question",
    "new_email": "Nouvelle adresse mail",
    "email_confirmation": "Confirmation de la nouvelle adresse mail",
    "closing": "Confirmation de la fermeture",
    "form": "Formulaire",
}
# After a change, /compte?message=<key> says what happened.
NOTICES = {
    "telephone": "Votre numéro de téléphone est enregistré.",
    "mot-de-passe": (
        "Votre mot de passe est modifié. Vos autres sessions ont été fermées et un courriel vous "
        "le confirme."
    ),
    "question-secrete": "Votre question secrète est modifiée. Un courriel vous le confirme.",
    "adresse-mail": (
        "Un lien de confirmation, valable 24 heures, vient d’être envoyé à votre nouvelle adresse "
        "mail. Votre adresse actuelle, prévenue de la demande, reste celle du compte tant que ce "
        "lien n’a pas été ouvert."
    ),
    **FRANCECONNECT_NOTICES,
}
FORM_TEMPLATES = {
    "telephone": "account_phone.html",
    "mot-de-passe": "account_password.html",
    "question-secrete": "account_secret_question.html",
    "adresse-mail": "account_email.html",
    "fermeture": "account_close.html",
}
CLOSING_UNCONFIRMED = "Cochez la case pour confirmer que vous voulez fermer votre compte."


def _settings() -> AccountSettings:
    return get_container().account_settings


def _ip() -> str | None:
    return client_ip(blueprint.current_request)


def _context(current: CurrentSession, account: Account | None = None) -> dict[str, object]:
    account = account or _settings().account(current.session.account_id)
    return {
        "csrf": current.session.csrf_token,
        "account": account,
        "phone": format_french_phone(account.phone) if account.phone else "",
        "labels": LABELS,
        "password_rule": PASSWORD_RULE_TEXT,
        "errors": {},
        "values": {},
    }


def _form(slug: str, current: CurrentSession, **context: object) -> Response:
    return html_page(FORM_TEMPLATES[slug], **{**_context(current), **context})


def _refused(
    slug: str, current: CurrentSession, refused: Invalid | Throttled, fields: dict[str, str]
) -> Response:
    """The form again, with the refusal under its fields; only what is not a secret comes back
    into it."""
    kept = {name: fields.get(name, "")[:254] for name in ("phone", "question", "new_email")}
    return _form(slug, current, errors=page_errors(refused), values=kept)


def _done(slug: str) -> Response:
    return redirect(f"{ACCOUNT_PATH}?message={slug}")


def _proof(fields: dict[str, str]) -> Proof:
    # Both fields as typed: the service knows which one proves this account.
    return Proof(password=fields.get("password", ""), secret_answer=fields.get("answer", ""))


@blueprint.route("/compte", methods=["GET"])
@web_view
def account_page() -> Response:
    current = signed_in_session(blueprint.current_request)
    message = (blueprint.current_request.query_params or {}).get("message", "")
    # SES's bounces and complaints on the address: told here, with the way to change it.
    overview = _settings().overview(current.session.account_id)
    return html_page(
        "account.html",
        notice=NOTICES.get(message),
        mail_notice=overview.mail_notice,
        **_context(current, overview.account),
    )


@blueprint.route("/compte/telephone", methods=["GET"])
@web_view
def phone_form() -> Response:
    return _form("telephone", signed_in_session(blueprint.current_request))


@blueprint.route("/compte/telephone", methods=["POST"], content_types=FORM_CONTENT_TYPES)
@web_view
def phone_submit() -> Response:
    current = signed_in_session(blueprint.current_request)
    fields: dict[str, str] = {}
    try:
        fields = read_form(blueprint.current_request, current)
        _settings().set_phone(current.session.account_id, fields.get("phone", ""), _ip())
    except (Invalid, Throttled) as refused:
        return _refused("telephone", current, refused, fields)
    return _done("telephone")


@blueprint.route("/compte/mot-de-passe", methods=["GET"])
@web_view
def password_form() -> Response:
    return _form("mot-de-passe", signed_in_session(blueprint.current_request))


@blueprint.route("/compte/mot-de-passe", methods=["POST"], content_types=FORM_CONTENT_TYPES)
@web_view
def password_submit() -> Response:
    current = signed_in_session(blueprint.current_request)
    fields: dict[str, str] = {}
    try:
        fields = read_form(blueprint.current_request, current)
        _settings().change_password(
            current.session.account_id,
            current.token,
            _proof(fields),
            fields.get("new_password", ""),
            fields.get("confirmation", ""),
            _ip(),
        )
    except (Invalid, Throttled) as refused:
        return _refused("mot-de-passe", current, refused, fields)
    return _done("mot-de-passe")


@blueprint.route("/compte/question-secrete", methods=["GET"])
@web_view
def secret_question_form() -> Response:
    return _form("question-secrete", signed_in_session(blueprint.current_request))


@blueprint.route("/compte/question-secrete", methods=["POST"], content_types=FORM_CONTENT_TYPES)
@web_view
def secret_question_submit() -> Response:
    current = signed_in_session(blueprint.current_request)
    fields: dict[str, str] = {}
    try:
        fields = read_form(blueprint.current_request, current)
        _settings().change_secret_question(
            current.session.account_id,
            _proof(fields),
            fields.get("question", ""),
            fields.get("new_answer", ""),
            _ip(),
        )
    except (Invalid, Throttled) as refused:
        return _refused("question-secrete", current, refused, fields)
    return _done("question-secrete")


@blueprint.route("/compte/adresse-mail", methods=["GET"])
@web_view
def email_form() -> Response:
    return _form("adresse-mail", signed_in_session(blueprint.current_request))


@blueprint.route("/compte/adresse-mail", methods=["POST"], content_types=FORM_CONTENT_TYPES)
@web_view
def email_submit() -> Response:
    current = signed_in_session(blueprint.current_request)
    fields: dict[str, str] = {}
    try:
        fields = read_form(blueprint.current_request, current)
        _settings().request_email_change(
            current.session.account_id,
            fields.get("new_email", ""),
            fields.get("email_confirmation", ""),
            _proof(fields),
            _ip(),
        )
    except (Invalid, Throttled) as refused:
        return _refused("adresse-mail", current, refused, fields)
    return _done("adresse-mail")


# The link of the confirmation mail: no login needed (the link proves the new mail box), and a
# button rather than a change on GET, which mail scanners open before the person does.


def _confirmation_page(
    token: str, errors: dict[str, str] | None = None, done: bool = False, status_code: int = 200
) -> Response:
    return anonymous_form_page(
        blueprint.current_request,
        "account_email_confirmation.html",
        status_code,
        token=token,
        errors=errors or {},
        done=done,
    )


@blueprint.route("/compte/adresse-mail/confirmation", methods=["GET"])
def email_confirmation_form() -> Response:
    token = (blueprint.current_request.query_params or {}).get("jeton", "")
    return _confirmation_page(token[:200])


@blueprint.route(
    "/compte/adresse-mail/confirmation", methods=["POST"], content_types=FORM_CONTENT_TYPES
)
def email_confirmation_submit() -> Response:
    request = blueprint.current_request
    try:
        fields = form_data(request)
    except BadForm:
        return _confirmation_page("", {"form": EXPIRED_FORM}, status_code=400)
    token = fields.get("token", "")[:200]
    if not pre_session_csrf_ok(request, fields):
        return _confirmation_page(token, {"form": EXPIRED_FORM}, status_code=403)
    # The browser that opens the link keeps its own session; every other one ends.
    keep = read_cookie(request, session_cookie_name())
    try:
        _settings().confirm_email_change(token, client_ip(request), keep_token=keep)
    except Invalid as refused:
        return _confirmation_page(token, refused.errors)
    return _confirmation_page("", done=True)


# « Fermer mon compte » --------------------------------------------------------------------------


@blueprint.route("/compte/fermeture", methods=["GET"])
@web_view
def close_form() -> Response:
    return _form("fermeture", signed_in_session(blueprint.current_request))


@blueprint.route("/compte/fermeture", methods=["POST"], content_types=FORM_CONTENT_TYPES)
@web_view
def close_submit() -> Response:
    current = signed_in_session(blueprint.current_request)
    fields: dict[str, str] = {}
    try:
        fields = read_form(blueprint.current_request, current)
        if fields.get("closing") != "oui":  # the box of the form: nothing is asked before it
            raise Invalid({"closing": CLOSING_UNCONFIRMED})
        closure = get_container().account_closure
        closure.close_by_owner(current.session.account_id, _proof(fields), _ip())
    except (Invalid, Throttled) as refused:
        return _refused("fermeture", current, refused, fields)
    # Closed, or gone meanwhile: either way the session is over.
    return redirect("/?message=compte-ferme", cookies=[expired_cookie(session_cookie_name())])
