"""S'inscrire (guide, step 1) and the captcha it shows."""

from __future__ import annotations

from dataclasses import asdict

from chalice import Blueprint, Response

from chalicelib.container import IssuedCaptcha, get_container
from chalicelib.faces.requests import client_ip, rate_limit_key
from chalicelib.faces.texts import EXPIRED_FORM, TOO_MANY_REQUESTS
from chalicelib.services.accounts.signup import SignupForm
from chalicelib.services.funders.model import Funder
from chalicelib.web.http import (
    FORM_CONTENT_TYPES,
    BadForm,
    anonymous_form_page,
    form_data,
    pre_session_csrf_ok,
    redirect,
)
from chalicelib.web.pages import with_funder
from chalicelib.web.rendering import html_page, not_found_page, request_error_page

blueprint = Blueprint(__name__)

LABELS = {
    "family_name": "Nom",
    "given_names": "Prénom",
    "birth_date": "Date de naissance",
    "no_dossier": "Je ne possède pas encore de dossier",
    "dossier_number": "N° de dossier",
    "email": "Adresse mail",
    "email_confirmation": "Confirmation",
    "captcha_answer": "Recopiez le code",
    "terms_accepted": "Conditions d’utilisation",
    "form": "Formulaire",
}
AUDIO_GONE = (
    "Ce code de sécurité n’est plus valable. Revenez au formulaire d’inscription et choisissez "
    "« Afficher un autre code » pour en écouter un nouveau."
)
AUDIO_TOO_MANY = "Trop de demandes depuis votre connexion. Réessayez dans dix minutes."
TERMS_LABEL_HTML = (
    'J’accepte les <a href="/cgu" target="_blank" rel="noopener" '
    'title="conditions d’utilisation - nouvelle fenêtre">conditions d’utilisation</a>'
)


def _signup_page(
    funder: Funder,
    values: dict[str, str],
    errors: dict[str, str],
    status_code: int = 200,
) -> Response:
    request = blueprint.current_request
    container = get_container()
    captcha: IssuedCaptcha | None = None
    if container.rate_limiter.allow("captcha", rate_limit_key(request)):
        captcha = container.issue_captcha()
    else:  # no new image for this address for a while: the form says why
        errors = {**errors, "captcha_answer": TOO_MANY_REQUESTS}
        status_code = 429
    return anonymous_form_page(
        request,
        "signup.html",
        status_code,
        funder=funder,
        values=values,
        errors=errors,
        labels=LABELS,
        captcha=captcha,
        terms_label=_markup(TERMS_LABEL_HTML),
    )


def _markup(html: str) -> object:
    from markupsafe import Markup

    return Markup(html)


@blueprint.route("/{funder_code}/inscription", methods=["GET"])
def signup_form(funder_code: str) -> Response:
    return with_funder(funder_code, "inscription", lambda funder: _signup_page(funder, {}, {}))


@blueprint.route("/{funder_code}/inscription", methods=["POST"], content_types=FORM_CONTENT_TYPES)
def signup_submit(funder_code: str) -> Response:
    return with_funder(funder_code, "inscription", _submit)


def _submit(funder: Funder) -> Response:
    request = blueprint.current_request
    try:
        fields = form_data(request)
    except BadForm:
        return _signup_page(funder, {}, {"form": EXPIRED_FORM}, status_code=400)
    values = {key: value for key, value in fields.items() if key in LABELS}
    values.pop("captcha_answer", None)  # a used code is never shown again
    if not pre_session_csrf_ok(request, fields):
        return _signup_page(funder, values, {"form": EXPIRED_FORM}, status_code=403)
    if fields.get("action") == "refresh":
        return _signup_page(funder, values, {})
    container = get_container()
    ip = rate_limit_key(request)
    if not container.rate_limiter.allow("signup", ip):
        return _signup_page(funder, values, {"form": TOO_MANY_REQUESTS}, status_code=429)
    form = SignupForm(
        family_name=fields.get("family_name", ""),
        given_names=fields.get("given_names", ""),
        birth_date=fields.get("birth_date", ""),
        no_dossier=fields.get("no_dossier") == "oui",
        dossier_number=fields.get("dossier_number", ""),
        email=fields.get("email", ""),
        email_confirmation=fields.get("email_confirmation", ""),
        captcha_id=fields.get("captcha_id", ""),
        captcha_answer=fields.get("captcha_answer", ""),
        terms_accepted=fields.get("terms_accepted") == "oui",
    )
    result = container.signup.sign_up(funder, form, client_ip(request))
    if not result.ok:
        kept = {key: str(value) for key, value in asdict(form).items() if key in values}
        kept["no_dossier"] = "oui" if form.no_dossier else ""
        kept["terms_accepted"] = "oui" if form.terms_accepted else ""
        return _signup_page(funder, kept, result.errors)
    return redirect(f"/{funder.code}/inscription/confirmation")


@blueprint.route("/code-de-securite/{captcha_id}/{token}", methods=["GET"])
def captcha_audio(captcha_id: str, token: str) -> Response:
    """« Écouter le code »: a plain link, no JavaScript; the sound is made now and handed out by
    a 5-minute presigned link to the documents bucket, as PDFs are
    (docs/specs/architecture.md, D9)."""
    container = get_container()
    address = client_ip(blueprint.current_request) or "inconnue"
    if not container.rate_limiter.allow("captcha_audio", address):
        return request_error_page(429, AUDIO_TOO_MANY)
    link = container.captchas.audio_link(captcha_id, token)
    if link is None:
        return not_found_page(AUDIO_GONE)
    return redirect(link)


@blueprint.route("/{funder_code}/inscription/confirmation", methods=["GET"])
def signup_done(funder_code: str) -> Response:
    return with_funder(
        funder_code,
        "inscription/confirmation",
        lambda funder: html_page("signup_done.html", funder=funder),
    )
