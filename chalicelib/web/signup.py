"""S'inscrire (guide, step 1) and the captcha it shows."""

from __future__ import annotations

from chalice import Blueprint, Response
from markupsafe import Markup

from chalicelib.container import IssuedCaptcha, get_container
from chalicelib.faces.requests import client_ip
from chalicelib.services.accounts.signup import SignupForm
from chalicelib.services.errors import Invalid, RateLimited
from chalicelib.services.funders.model import Funder
from chalicelib.web.forms import check_pre_session_csrf, posted_fields, refusal
from chalicelib.web.guards import web_view
from chalicelib.web.http import FORM_CONTENT_TYPES, anonymous_form_page, redirect
from chalicelib.web.pages import funder_of
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
TERMS_LABEL = Markup(
    'J’accepte les <a href="/cgu" target="_blank" rel="noopener" '
    'title="conditions d’utilisation - nouvelle fenêtre">conditions d’utilisation</a>'
)
FLAGS = ("no_dossier", "terms_accepted")  # checkboxes: "oui" when ticked


def _signup_page(
    funder: Funder,
    values: dict[str, str],
    errors: dict[str, str],
    status_code: int = 200,
) -> Response:
    request = blueprint.current_request
    captcha: IssuedCaptcha | None = None
    try:
        captcha = get_container().issue_captcha(client_ip(request))
    except RateLimited as refused:  # no new image for this address for a while: the form says why
        more, status_code = refusal(refused, "captcha_answer")
        errors = {**errors, **more}
    return anonymous_form_page(
        request,
        "signup.html",
        status_code,
        funder=funder,
        values=values,
        errors=errors,
        labels=LABELS,
        captcha=captcha,
        terms_label=TERMS_LABEL,
    )


@blueprint.route("/{funder_code}/inscription", methods=["GET"])
@web_view
def signup_form(funder_code: str) -> Response:
    return _signup_page(funder_of(funder_code, "inscription"), {}, {})


@blueprint.route("/{funder_code}/inscription", methods=["POST"], content_types=FORM_CONTENT_TYPES)
@web_view
def signup_submit(funder_code: str) -> Response:
    funder = funder_of(funder_code, "inscription")
    request = blueprint.current_request
    values: dict[str, str] = {}
    try:
        fields = posted_fields(request)
        # Typed values are shown again; a used code never is.
        values = {key: fields[key] for key in LABELS if key in fields and key != "captcha_answer"}
        check_pre_session_csrf(request, fields)
    except Invalid as refused:
        return _signup_page(funder, values, *refusal(refused))
    if fields.get("action") == "refresh":
        return _signup_page(funder, values, {})
    try:
        get_container().signup.sign_up(funder, _form(fields), client_ip(request))
    except RateLimited as refused:
        return _signup_page(funder, values, *refusal(refused))
    except Invalid as refused:  # the typed texts and the boxes as ticked, to correct
        return _signup_page(funder, _kept(fields, values), *refusal(refused))
    return redirect(f"/{funder.code}/inscription/confirmation")


def _form(fields: dict[str, str]) -> SignupForm:
    texts = ("family_name", "given_names", "birth_date", "dossier_number", "email")
    return SignupForm(
        **{name: fields.get(name, "") for name in texts},
        email_confirmation=fields.get("email_confirmation", ""),
        captcha_id=fields.get("captcha_id", ""),
        captcha_answer=fields.get("captcha_answer", ""),
        no_dossier=fields.get("no_dossier") == "oui",
        terms_accepted=fields.get("terms_accepted") == "oui",
    )


def _kept(fields: dict[str, str], values: dict[str, str]) -> dict[str, str]:
    """The form shown again after the service's refusal: the typed texts, the boxes as ticked."""
    return {**values, **{flag: "oui" if fields.get(flag) == "oui" else "" for flag in FLAGS}}


@blueprint.route("/code-de-securite/{captcha_id}/{token}", methods=["GET"])
def captcha_audio(captcha_id: str, token: str) -> Response:
    """« Écouter le code »: a plain link, no JavaScript; the sound is made now and handed out by
    a 5-minute presigned link to the documents bucket, as PDFs are
    (docs/specs/architecture.md, D9)."""
    captchas = get_container().captchas
    try:
        link = captchas.audio_link(captcha_id, token, client_ip(blueprint.current_request))
    except RateLimited as refused:
        return request_error_page(429, refused.message)
    if link is None:
        return not_found_page(AUDIO_GONE)
    return redirect(link)


@blueprint.route("/{funder_code}/inscription/confirmation", methods=["GET"])
@web_view
def signup_done(funder_code: str) -> Response:
    funder = funder_of(funder_code, "inscription/confirmation")
    return html_page("signup_done.html", funder=funder)
