"""« Mon compte » (guide: « Accès aux informations de son compte »): what the portal holds about
the person, and one form per change. Each form asks again for a secret, so a session left open
on a shared computer is not enough to take the account over."""

from __future__ import annotations

from collections.abc import Callable
from typing import cast

from chalice import Blueprint, Response

from chalicelib.container import get_container
from chalicelib.faces.requests import client_ip
from chalicelib.faces.texts import EXPIRED_FORM
from chalicelib.services.accounts.model import Account
from chalicelib.services.accounts.my_account import Credential, SettingsResult
from chalicelib.services.accounts.passwords import PASSWORD_RULE_TEXT
from chalicelib.services.accounts.phones import format_french_phone
from chalicelib.web.franceconnect import NOTICES as FRANCECONNECT_NOTICES
from chalicelib.web.guards import signed_in
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
    session_csrf_ok,
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


def _context(current: CurrentSession) -> dict[str, object]:
    account = get_container().account_settings.account(current.session.account_id)
    return {
        "csrf": current.session.csrf_token,
        "account": account,
        "phone": format_french_phone(account.phone) if account.phone else "",
        "labels": LABELS,
        "password_rule": PASSWORD_RULE_TEXT,
        "errors": {},
        "values": {},
    }


@blueprint.route("/compte", methods=["GET"])
def account_page() -> Response:
    def page(current: CurrentSession) -> Response:
        message = (blueprint.current_request.query_params or {}).get("message", "")
        context = _context(current)
        # SES's bounces and complaints on the address: told here, with the way to change it.
        account = cast(Account, context["account"])
        mail_notice = get_container().mail_delivery.notice_for(account.email)
        return html_page(
            "account.html", notice=NOTICES.get(message), mail_notice=mail_notice, **context
        )

    return signed_in(blueprint.current_request, None, page)


def _form(slug: str, current: CurrentSession, **context: object) -> Response:
    return html_page(FORM_TEMPLATES[slug], **{**_context(current), **context})


def _handle(
    slug: str, change: Callable[[CurrentSession, dict[str, str]], SettingsResult]
) -> Callable[[CurrentSession], Response]:
    """The POST of one form: CSRF, the change, then back to « Mon compte » or the errors."""

    def submit(current: CurrentSession) -> Response:
        try:
            fields = form_data(blueprint.current_request)
        except BadForm:
            return _form(slug, current, errors={"form": EXPIRED_FORM})
        if not session_csrf_ok(current, fields):
            return _form(slug, current, errors={"form": EXPIRED_FORM})
        result = change(current, fields)
        if not result.ok:
            # Only what is not a secret comes back into the form.
            kept = {name: fields.get(name, "")[:254] for name in ("phone", "question", "new_email")}
            return _form(slug, current, errors=result.errors, values=kept)
        return redirect(f"{ACCOUNT_PATH}?message={slug}")

    return submit


def _show(slug: str) -> Response:
    return signed_in(blueprint.current_request, None, lambda current: _form(slug, current))


def _ip() -> str | None:
    return client_ip(blueprint.current_request)


def _proof(current: CurrentSession, fields: dict[str, str]) -> str:
    """The password field, or the current secret answer for an account without a password."""
    settings = get_container().account_settings
    kind = settings.credential_for(settings.account(current.session.account_id))
    return fields.get("password" if kind is Credential.PASSWORD else "answer", "")


@blueprint.route("/compte/telephone", methods=["GET"])
def phone_form() -> Response:
    return _show("telephone")


@blueprint.route("/compte/telephone", methods=["POST"], content_types=FORM_CONTENT_TYPES)
def phone_submit() -> Response:
    def change(current: CurrentSession, fields: dict[str, str]) -> SettingsResult:
        return get_container().account_settings.set_phone(
            current.session.account_id, fields.get("phone", ""), _ip()
        )

    return signed_in(blueprint.current_request, None, _handle("telephone", change))


@blueprint.route("/compte/mot-de-passe", methods=["GET"])
def password_form() -> Response:
    return _show("mot-de-passe")


@blueprint.route("/compte/mot-de-passe", methods=["POST"], content_types=FORM_CONTENT_TYPES)
def password_submit() -> Response:
    def change(current: CurrentSession, fields: dict[str, str]) -> SettingsResult:
        return get_container().account_settings.change_password(
            current.session.account_id,
            current.token,
            fields.get("password", ""),
            fields.get("answer", ""),
            fields.get("new_password", ""),
            fields.get("confirmation", ""),
            _ip(),
        )

    return signed_in(blueprint.current_request, None, _handle("mot-de-passe", change))


@blueprint.route("/compte/question-secrete", methods=["GET"])
def secret_question_form() -> Response:
    return _show("question-secrete")


@blueprint.route("/compte/question-secrete", methods=["POST"], content_types=FORM_CONTENT_TYPES)
def secret_question_submit() -> Response:
    def change(current: CurrentSession, fields: dict[str, str]) -> SettingsResult:
        return get_container().account_settings.change_secret_question(
            current.session.account_id,
            _proof(current, fields),
            fields.get("question", ""),
            fields.get("new_answer", ""),
            _ip(),
        )

    return signed_in(blueprint.current_request, None, _handle("question-secrete", change))


@blueprint.route("/compte/adresse-mail", methods=["GET"])
def email_form() -> Response:
    return _show("adresse-mail")


@blueprint.route("/compte/adresse-mail", methods=["POST"], content_types=FORM_CONTENT_TYPES)
def email_submit() -> Response:
    def change(current: CurrentSession, fields: dict[str, str]) -> SettingsResult:
        return get_container().account_settings.request_email_change(
            current.session.account_id,
            fields.get("new_email", ""),
            fields.get("email_confirmation", ""),
            _proof(current, fields),
            _ip(),
        )

    return signed_in(blueprint.current_request, None, _handle("adresse-mail", change))


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
    result = get_container().account_settings.confirm_email_change(
        token, client_ip(request), keep_token=read_cookie(request, session_cookie_name())
    )
    if not result.ok:
        return _confirmation_page(token, result.errors)
    return _confirmation_page("", done=True)


# « Fermer mon compte » --------------------------------------------------------------------------


@blueprint.route("/compte/fermeture", methods=["GET"])
def close_form() -> Response:
    return _show("fermeture")


@blueprint.route("/compte/fermeture", methods=["POST"], content_types=FORM_CONTENT_TYPES)
def close_submit() -> Response:
    def submit(current: CurrentSession) -> Response:
        try:
            fields = form_data(blueprint.current_request)
        except BadForm:
            return _form("fermeture", current, errors={"form": EXPIRED_FORM})
        if not session_csrf_ok(current, fields):
            return _form("fermeture", current, errors={"form": EXPIRED_FORM})
        errors: dict[str, str] = {}
        if fields.get("closing") != "oui":
            errors["closing"] = CLOSING_UNCONFIRMED
        secret = _proof(current, fields)
        if not errors:
            result = get_container().account_closure.close_by_owner(
                current.session.account_id, secret, _ip()
            )
            if result.ok or not result.errors:  # closed, or gone meanwhile: the session is over
                return redirect(
                    "/?message=compte-ferme", cookies=[expired_cookie(session_cookie_name())]
                )
            errors = result.errors
        return _form("fermeture", current, errors=errors)

    return signed_in(blueprint.current_request, None, submit)
