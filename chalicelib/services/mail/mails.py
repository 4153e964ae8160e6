"""The mails of the portal: one function per mail, each building an `OutgoingMail` from templates.

Plain Python: a `Mailer` (the SES adapter, or a fake in tests) sends what these functions build.
Rules (docs/specs/security.md, docs/specs/product.md): French, short, no amount and no message text;
only the two temporary-password mails, the recovery code and the staff invitation carry a secret.
The plain text is the reference; the HTML version is derived from it, so both always say the same
thing. Every function takes the keyword `portal_url` (the service's `PortalUrls.base_url`): the
links of the mail, and the only addresses its HTML version makes clickable.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from jinja2 import Environment

TEMPLATES_DIR = Path(__file__).parent / "templates"
SIGNATURE = "L'équipe du Portail stagiaire"

# A greeting name is printed only when it looks like one: a sign-up "without a dossier" lets a
# stranger choose the name mailed to any address, which must not carry a link or a phone number.
_GREETING_NAME = re.compile(r"[^\W\d_]+(?:[ '’-][^\W\d_]+)*")
_GREETING_NAME_MAX = 50
_URL = re.compile(r"https?://[^\s<>\"]+")
_ORDERED_ITEM = re.compile(r"\d+\. ")


class MailCategory(StrEnum):
    """What an address that complained (« indésirable ») still receives: security mails only.
    An address that bounced receives neither (chalicelib/services/mail/delivery.py)."""

    SECURITY = "security"  # secrets, credential changes, attempts on the account
    NOTIFICATION = "notification"  # news the person can also read in the portal


# Every template says which it is: `_compose` refuses one that is not listed here.
CATEGORIES = {
    "address_already_registered": MailCategory.SECURITY,
    "dossier_already_linked": MailCategory.SECURITY,
    "dossier_claim_attempt": MailCategory.SECURITY,
    "dossier_claim_code": MailCategory.SECURITY,
    "email_change_confirmation": MailCategory.SECURITY,
    "email_change_notice": MailCategory.SECURITY,
    "email_changed": MailCategory.SECURITY,
    "franceconnect_linked": MailCategory.SECURITY,
    "franceconnect_unlinked": MailCategory.SECURITY,
    "password_changed": MailCategory.SECURITY,
    "recovery_code": MailCategory.SECURITY,
    "recovery_temporary_password": MailCategory.SECURITY,
    "secret_question_changed": MailCategory.SECURITY,
    "second_factor_reset": MailCategory.SECURITY,
    "staff_invitation": MailCategory.SECURITY,
    "funder_staff_invitation": MailCategory.SECURITY,
    "temporary_password": MailCategory.SECURITY,
    "dossier_linked": MailCategory.NOTIFICATION,
    "new_message_for_organisation": MailCategory.NOTIFICATION,
    "new_message_for_trainee": MailCategory.NOTIFICATION,
    "new_payment": MailCategory.NOTIFICATION,
    # Retention: closing an account (or announcing it) is a change of the account itself.
    "account_closed": MailCategory.SECURITY,
    "inactivity_warning": MailCategory.SECURITY,
    "dossier_withdrawn": MailCategory.NOTIFICATION,
}


@dataclass(frozen=True)
class OutgoingMail:
    to: str
    subject: str
    text: str
    html: str | None = None
    category: MailCategory = MailCategory.NOTIFICATION
    # SES message tags (name, value): SES gives them back in the bounce and complaint events of
    # this mail (`mail.tags`), which is how a bounce finds the payment it was about.
    tags: tuple[tuple[str, str], ...] = ()


class Mailer(Protocol):
    def send(self, mail: OutgoingMail) -> None: ...


class MailNotSent(RuntimeError):
    """Raised by a mailer when the mail service refuses or fails, so services need not know SES."""


class MailThrottled(MailNotSent):
    """The mail service refused for now (sending rate or daily quota): the same mail goes through
    later. A queue's handler lets it raise, so that the message goes back to its queue."""


def temporary_password_mail(
    to: str,
    given_name: str,
    temporary_password: str,
    login_url: str,
    dossier_pending: bool = False,
    *,
    portal_url: str,
) -> OutgoingMail:
    """Sign-up succeeded: the only mail of the sign-up journey that carries a secret.
    `dossier_pending`: the dossier named at sign-up waits for its proof (dossier_claims.py)."""
    subject = "Votre inscription au Portail stagiaire"
    context = {
        "temporary_password": temporary_password,
        "login_url": login_url,
        "dossier_pending": dossier_pending,
    }
    return _compose("temporary_password", subject, to, portal_url, given_name, **context)


def address_already_registered_mail(
    to: str, login_url: str, recovery_url: str, *, portal_url: str
) -> OutgoingMail:
    """A sign-up named an address that has an account: its owner is told, not the screen."""
    subject = "Demande d'inscription au Portail stagiaire"
    context = {"login_url": login_url, "recovery_url": recovery_url}
    return _compose("address_already_registered", subject, to, portal_url, None, **context)


def dossier_already_linked_mail(
    to: str, dossier_number: str, recovery_url: str, *, portal_url: str
) -> OutgoingMail:
    subject = "Votre demande d'inscription au Portail stagiaire"
    context = {"dossier_number": dossier_number, "recovery_url": recovery_url}
    return _compose("dossier_already_linked", subject, to, portal_url, None, **context)


def dossier_linked_mail(
    to: str, given_name: str, training_title: str, login_url: str, *, portal_url: str
) -> OutgoingMail:
    subject = "Votre dossier est rattaché à votre compte"
    context = {"training_title": training_title, "login_url": login_url}
    return _compose("dossier_linked", subject, to, portal_url, given_name, **context)


def dossier_claim_code_mail(
    to: str,
    code: str,
    minutes: int,
    dossier_number: str,
    funder_name: str,
    *,
    portal_url: str,
) -> OutgoingMail:
    """« Ajouter un dossier » by an account whose address is not the funder's courriel for the
    dossier: the code goes to that courriel, the one proof a stranger cannot read."""
    subject = "Votre code pour ajouter un dossier"
    context = {
        "code": code,
        "minutes": minutes,
        "dossier_number": dossier_number,
        "funder_name": funder_name,
    }
    return _compose("dossier_claim_code", subject, to, portal_url, None, **context)


def dossier_claim_attempt_mail(
    to: str,
    given_name: str,
    dossier_number: str,
    funder_name: str,
    login_url: str,
    *,
    portal_url: str,
) -> OutgoingMail:
    """Someone tried to link the owner's dossier: nothing about that someone is written here."""
    subject = "Tentative de rattachement de votre dossier"
    context = {"dossier_number": dossier_number, "funder_name": funder_name, "login_url": login_url}
    return _compose("dossier_claim_attempt", subject, to, portal_url, given_name, **context)


def new_payment_mail(to: str, given_name: str, login_url: str, *, portal_url: str) -> OutgoingMail:
    """Never the amount: a mail box is less protected than the portal."""
    subject = "Un nouveau paiement est disponible"
    return _compose("new_payment", subject, to, portal_url, given_name, login_url=login_url)


def password_changed_mail(
    to: str, given_name: str, recovery_url: str | None, *, portal_url: str
) -> OutgoingMail:
    subject = "Votre mot de passe a été modifié"
    return _compose(
        "password_changed", subject, to, portal_url, given_name, recovery_url=recovery_url
    )


def secret_question_changed_mail(
    to: str, given_name: str, recovery_url: str, *, portal_url: str
) -> OutgoingMail:
    subject = "Votre question secrète a été modifiée"
    context = {"recovery_url": recovery_url}
    return _compose("secret_question_changed", subject, to, portal_url, given_name, **context)


def second_factor_reset_mail(
    to: str,
    given_name: str,
    enrol_at_login: bool,
    login_url: str,
    recovery_url: str | None,
    *,
    portal_url: str,
) -> OutgoingMail:
    """An operator reset the staff member's second factor (`staff reset-totp`): funder staff
    enrol a new one at their next login (`enrol_at_login`), organisation staff may."""
    subject = "Votre double authentification a été réinitialisée"
    context = {
        "enrol_at_login": enrol_at_login,
        "login_url": login_url,
        "recovery_url": recovery_url,
    }
    return _compose("second_factor_reset", subject, to, portal_url, given_name, **context)


def recovery_code_mail(to: str, code: str, minutes: int, *, portal_url: str) -> OutgoingMail:
    """The code stays out of the subject, which phones show on a locked screen."""
    subject = "Votre code pour choisir un nouveau mot de passe"
    return _compose("recovery_code", subject, to, portal_url, None, code=code, minutes=minutes)


def recovery_temporary_password_mail(
    to: str,
    given_name: str,
    temporary_password: str,
    login_url: str,
    *,
    portal_url: str,
) -> OutgoingMail:
    """« Mot de passe oublié » for an account that never completed its first login."""
    subject = "Votre nouveau mot de passe provisoire"
    context = {"temporary_password": temporary_password, "login_url": login_url}
    return _compose("recovery_temporary_password", subject, to, portal_url, given_name, **context)


def email_change_confirmation_mail(
    to: str, given_name: str, confirm_url: str, hours: int, *, portal_url: str
) -> OutgoingMail:
    """Sent to the new address, which becomes the account's only once the link is opened."""
    subject = "Confirmez votre nouvelle adresse mail"
    context = {"confirm_url": confirm_url, "hours": hours}
    return _compose("email_change_confirmation", subject, to, portal_url, given_name, **context)


def email_change_notice_mail(
    to: str, given_name: str, new_address_masked: str, *, portal_url: str
) -> OutgoingMail:
    """Sent to the old address; the new one arrives masked (see `mask_email`)."""
    subject = "Changement de votre adresse mail demandé"
    context = {"new_address_masked": new_address_masked}
    return _compose("email_change_notice", subject, to, portal_url, given_name, **context)


def email_changed_mail(to: str, given_name: str, *, portal_url: str) -> OutgoingMail:
    subject = "Votre adresse mail a été modifiée"
    return _compose("email_changed", subject, to, portal_url, given_name)


def franceconnect_linked_mail(to: str, given_name: str, *, portal_url: str) -> OutgoingMail:
    subject = "FranceConnect est relié à votre compte"
    return _compose("franceconnect_linked", subject, to, portal_url, given_name)


def franceconnect_unlinked_mail(to: str, given_name: str, *, portal_url: str) -> OutgoingMail:
    subject = "FranceConnect n'est plus relié à votre compte"
    return _compose("franceconnect_unlinked", subject, to, portal_url, given_name)


def account_closed_mail(
    to: str, given_name: str, inactive: bool, *, portal_url: str
) -> OutgoingMail:
    """The last mail to the address: the account is gone when it leaves."""
    subject = "Votre compte du Portail stagiaire est fermé"
    return _compose("account_closed", subject, to, portal_url, given_name, inactive=inactive)


def inactivity_warning_mail(
    to: str, given_name: str, closing_on: date, login_url: str, *, portal_url: str
) -> OutgoingMail:
    subject = "Votre compte du Portail stagiaire va être fermé"
    context = {"closing_on": closing_on.strftime("%d/%m/%Y"), "login_url": login_url}
    return _compose("inactivity_warning", subject, to, portal_url, given_name, **context)


def dossier_withdrawn_mail(
    to: str, given_name: str, training_title: str, login_url: str, *, portal_url: str
) -> OutgoingMail:
    subject = "Un dossier a été retiré de votre compte"
    context = {"training_title": training_title, "login_url": login_url}
    return _compose("dossier_withdrawn", subject, to, portal_url, given_name, **context)


def new_message_for_trainee_mail(
    to: str, given_name: str, login_url: str, *, portal_url: str
) -> OutgoingMail:
    """Never the message's text: it stays behind the login."""
    subject = "Vous avez un nouveau message"
    return _compose(
        "new_message_for_trainee", subject, to, portal_url, given_name, login_url=login_url
    )


def new_message_for_organisation_mail(
    to: str, organisation_name: str, staff_url: str, *, portal_url: str
) -> OutgoingMail:
    """Neither the text nor the trainee's name: staff read both in their space."""
    subject = "Nouveau message d'un stagiaire"
    context = {"organisation_name": organisation_name, "staff_url": staff_url}
    return _compose("new_message_for_organisation", subject, to, portal_url, None, **context)


def staff_invitation_mail(
    to: str,
    organisation_name: str,
    temporary_password: str,
    login_url: str,
    *,
    portal_url: str,
) -> OutgoingMail:
    subject = "Votre accès à l'espace des organismes de formation"
    context = {
        "organisation_name": organisation_name,
        "temporary_password": temporary_password,
        "login_url": login_url,
    }
    return _compose("staff_invitation", subject, to, portal_url, None, **context)


def funder_staff_invitation_mail(
    to: str,
    funder_name: str,
    role: str,
    temporary_password: str,
    login_url: str,
    *,
    portal_url: str,
) -> OutgoingMail:
    subject = "Votre accès à l'espace des financeurs"
    context = {
        "funder_name": funder_name,
        "role": role,
        "temporary_password": temporary_password,
        "login_url": login_url,
    }
    return _compose("funder_staff_invitation", subject, to, portal_url, None, **context)


def mask_email(address: str) -> str:
    """ "camille.martin@example.fr" → "c***n@example.fr": enough for its owner to recognise it."""
    local, at, domain = address.strip().rpartition("@")
    if not (at and local and domain):
        return "***"
    if len(local) <= 2:
        # Showing first and last characters would show all of it.
        return f"{local[0]}***@{domain}"
    return f"{local[0]}***{local[-1]}@{domain}"


@cache
def environment() -> Environment:
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    return Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        # Plain text is not escaped (an "&" must stay an "&"); the HTML layout is.
        autoescape=select_autoescape(enabled_extensions=("html",), default=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _compose(
    template: str,
    subject: str,
    to: str,
    portal_url: str,
    given_name: str | None,
    **context: Any,
) -> OutgoingMail:
    base_url = portal_url.rstrip("/")
    context.setdefault("recovery_url", None)
    rendered = (
        environment()
        .get_template(f"{template}.txt")
        .render(to=to, portal_url=base_url, given_name=_greeting_name(given_name), **context)
    )
    text = _tidy(rendered)
    return OutgoingMail(
        to=to,
        subject=subject,
        text=text,
        html=_html_version(subject, text, base_url),
        category=CATEGORIES[template],
    )


def _greeting_name(given_name: str | None) -> str | None:
    name = " ".join((given_name or "").split())
    if len(name) <= _GREETING_NAME_MAX and _GREETING_NAME.fullmatch(name):
        return name
    return None


def _tidy(rendered: str) -> str:
    """Template whitespace aside: no trailing spaces, one blank line between paragraphs."""
    lines = [line.rstrip() for line in rendered.strip().splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)) + "\n"


def _html_version(subject: str, text: str, portal_url: str) -> str:
    """Paragraphs, lists and links of the plain text; only the portal's own addresses are links."""
    blocks: list[dict[str, Any]] = []
    for paragraph in text.strip().split("\n\n"):
        previous_kind = None
        for line in paragraph.split("\n"):
            kind, content = _line_kind(line)
            html_line = _linked(content, portal_url)
            if kind == previous_kind:
                blocks[-1]["lines"].append(html_line)
            else:
                blocks.append({"kind": kind, "lines": [html_line]})
            previous_kind = kind
    return environment().get_template("_layout.html").render(subject=subject, blocks=blocks)


def _line_kind(line: str) -> tuple[str, str]:
    if line.startswith("- "):
        return "ul", line[2:]
    ordered = _ORDERED_ITEM.match(line)
    if ordered:
        return "ol", line[ordered.end() :]
    return "p", line


def _linked(line: str, portal_url: str) -> Any:
    from markupsafe import Markup, escape

    parts: list[Any] = []
    position = 0
    for match in _URL.finditer(line):
        url = match.group().rstrip(".,;)")
        parts.append(escape(line[position : match.start()]))
        if url == portal_url or url.startswith(portal_url + "/"):
            parts.append(Markup('<a href="{0}">{0}</a>').format(url))
        else:
            parts.append(escape(url))
        position = match.start() + len(url)
    parts.append(escape(line[position:]))
    return Markup("").join(parts)
