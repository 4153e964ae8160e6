"""The French pages that end a FranceConnect round trip without a login: each says what happened
in plain words and offers the password login (and the sign-up form where it can help)."""

from __future__ import annotations

from dataclasses import dataclass

from chalice import Response

from chalicelib.services.franceconnect.login import LINK_EXPIRED
from chalicelib.services.funders.model import Funder
from chalicelib.web.rendering import html_page


@dataclass(frozen=True)
class Message:
    title: str
    text: str
    status: int = 200
    kind: str = "error"  # the DSFR alert: info, warning or error
    signup: bool = False  # also offer the sign-up form


MESSAGES: dict[str, Message] = {
    "cancelled": Message(
        "Connexion avec FranceConnect annulée",
        "Vous avez annulé la connexion avec FranceConnect : vous n’êtes pas connecté. Vous "
        "pouvez vous identifier avec votre adresse mail et votre mot de passe.",
        kind="info",
    ),
    "provider-error": Message(
        "La connexion avec FranceConnect n’a pas abouti",
        "FranceConnect n’a pas pu vous identifier. Réessayez dans quelques instants, ou "
        "identifiez-vous avec votre adresse mail et votre mot de passe.",
        status=502,
    ),
    "failed": Message(
        "La connexion avec FranceConnect n’a pas abouti",
        "Par sécurité, le portail n’a pas accepté la réponse de FranceConnect. Réessayez dans "
        "quelques instants, ou identifiez-vous avec votre adresse mail et votre mot de passe.",
        status=502,
    ),
    "invalid-state": Message(
        "Demande de connexion expirée",
        "Cette demande de connexion avec FranceConnect a expiré, a déjà servi, ou a été "
        "commencée dans un autre navigateur. Recommencez depuis la page de connexion de votre "
        "financeur.",
        status=400,
    ),
    "no-dossier": Message(
        "Aucun dossier à votre nom",
        "FranceConnect vous a bien identifié, mais ce portail n’a pas encore de dossier à votre "
        "nom, avec ce prénom et cette date de naissance. Votre financeur l’envoie après votre "
        "décision de prise en charge : si vous venez de la recevoir, réessayez dans quelques "
        "jours. En cas de question, rapprochez-vous de votre organisme de formation.",
        kind="warning",
        signup=True,
    ),
    "no-email": Message(
        "Adresse mail nécessaire",
        "FranceConnect ne nous a pas transmis d’adresse mail et votre dossier n’en comporte pas. "
        "Le portail en a besoin pour vous prévenir de vos paiements : créez votre compte avec le "
        "formulaire d’inscription, en indiquant votre numéro de dossier.",
        kind="warning",
        signup=True,
    ),
    "email-in-use": Message(
        "Adresse mail déjà utilisée",
        "L’adresse mail transmise par FranceConnect est déjà celle d’un autre compte du portail, "
        "à un autre nom. Identifiez-vous avec votre adresse mail et votre mot de passe, ou "
        "rapprochez-vous de votre organisme de formation.",
        status=409,
    ),
    "link-expired": Message("Association à FranceConnect expirée", LINK_EXPIRED, status=400),
    "unavailable": Message(
        "FranceConnect est momentanément indisponible",
        "Le portail ne parvient pas à joindre FranceConnect. Réessayez plus tard, ou "
        "identifiez-vous avec votre adresse mail et votre mot de passe.",
        status=503,
    ),
    "too-many": Message(
        "Trop de tentatives",
        "Trop de tentatives de connexion depuis votre connexion internet. Réessayez dans "
        "quelques minutes.",
        status=429,
    ),
    "logout-unconfirmed": Message(
        "Déconnexion de FranceConnect non confirmée",
        "Vous êtes déconnecté du portail, mais FranceConnect n’a pas confirmé la fin de votre "
        "session. Par précaution, fermez votre navigateur, surtout sur un ordinateur partagé.",
        status=400,
        kind="warning",
    ),
}


def message_page(message: Message, funder: Funder | None, csrf: str | None = None) -> Response:
    """`csrf` given: the page of a signed-in person (with the logout button)."""
    return html_page(
        "franceconnect_message.html",
        status_code=message.status,
        message=message,
        funder=funder,
        csrf=csrf,
    )
