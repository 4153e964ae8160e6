"""A mail address that bounces, end to end on the local stack: the trainee signs up with SES's
mailbox simulator address, the outbox plays SES's bounce through the topic, the queue and the
handler, « Mon compte » says « Votre adresse mail ne reçoit pas nos courriels », the portal stops
writing there, and a new address confirmed by its link brings the mails back."""

from __future__ import annotations

import re
import time

import pytest

from tests.e2e.test_recovery_journey import FIRST_PASSWORD, sign_up_and_finish_first_login
from tests.support.browser import assert_accessible
from tests.support.journeys import main_text, wait_for_mail_with, window

pytestmark = pytest.mark.e2e

NOTICE = "Votre adresse mail ne reçoit pas nos courriels"
PEOPLE = {
    "desktop": {
        "funder": "region-hdf",
        "Nom": "FONTAINE",
        "Prénom": "Léa",
        "Date de naissance": "08/04/1997",
        "email": "bounce+lea@simulator.amazonses.com",
        "new_email": "lea.fontaine@example.fr",
    },
    "phone": {
        "funder": "region-hdf",
        "Nom": "PERRIN",
        "Prénom": "Théo",
        "Date de naissance": "19/12/2000",
        "email": "bounce+theo@simulator.amazonses.com",
        "new_email": "theo.perrin@example.fr",
    },
}


def change_secret_question(page, question: str) -> None:
    page.goto("/compte/question-secrete")
    page.get_by_label("Mot de passe actuel").fill(FIRST_PASSWORD)
    page.get_by_label("Nouvelle question secrète").fill(question)
    page.get_by_label("Réponse à la nouvelle question").fill("Réponse")
    page.get_by_role("button", name="Envoyer").click()
    page.wait_for_url("**/compte?message=question-secrete")


def wait_for_notice(page, timeout: float = 30.0) -> str:
    """The bounce travels outbox → SNS → SQS → handler in the background: reload until then."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        page.goto("/compte")
        text = main_text(page)
        if NOTICE in text:
            return text
        time.sleep(0.5)
    raise AssertionError(f"« {NOTICE} » n'est pas apparu dans « Mon compte »")


def test_an_address_that_bounces_is_shown_and_spared_until_it_changes(page, stack) -> None:
    person = PEOPLE[window(page)]
    sign_up_and_finish_first_login(page, stack, person, no_dossier=True)

    text = wait_for_notice(page)
    assert "Indiquez une adresse mail qui fonctionne" in text
    assert_accessible(page)
    mails_before = len(stack.mails_to(person["email"]))

    # A credential change mails its notice at once; the bounced address does not get it.
    change_secret_question(page, "Ma première école ?")

    page.goto("/compte")
    page.get_by_role("link", name="Changer d’adresse mail").click()
    page.wait_for_url("**/compte/adresse-mail")
    page.get_by_label(re.compile("^Nouvelle adresse mail")).fill(person["new_email"])
    page.get_by_label(re.compile("^Confirmation de la nouvelle")).fill(person["new_email"])
    page.get_by_label("Mot de passe actuel").fill(FIRST_PASSWORD)
    page.get_by_role("button", name="Envoyer le lien de confirmation").click()
    page.wait_for_url("**/compte?message=adresse-mail")
    link = wait_for_mail_with(stack, person["new_email"], r"(http\S+/confirmation\?jeton=\S+)")
    # The outbox writes mails in order: had the notices gone out, they would be there by now.
    assert len(stack.mails_to(person["email"])) == mails_before

    page.goto(link.group(1))
    page.get_by_role("button", name="Confirmer ma nouvelle adresse mail").click()
    page.wait_for_load_state()
    assert "Votre adresse mail est modifiée" in main_text(page)
    page.goto("/compte")
    text = main_text(page)
    assert person["new_email"] in text and NOTICE not in text

    change_secret_question(page, "Mon plat préféré ?")
    wait_for_mail_with(stack, person["new_email"], r"Votre question secrète a été modifiée")
