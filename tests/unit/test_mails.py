"""The mail catalog: French, short, signed, no amount, secrets only where they belong."""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from datetime import date

import pytest

from chalicelib.services.mail import mails
from chalicelib.services.mail.mails import SIGNATURE, OutgoingMail, mask_email
from tests.support.fakes import RecordingMailer

PORTAL = "https://portail-stagiaire.example.gouv.fr"
TEMPORARY_PASSWORD = "Tq7-Hx4-Rm9-Wd2"
CODE = "48213067"
SAMPLE = {
    "to": "camille.martin@example.fr",
    "role": "gestionnaire",
    "given_name": "Camille",
    "temporary_password": TEMPORARY_PASSWORD,
    "login_url": f"{PORTAL}/region-sud/connexion",
    "recovery_url": f"{PORTAL}/region-sud/mot-de-passe-oublie",
    "dossier_number": "DPC-2024-000123",
    "training_title": "Titre professionnel Cuisinier",
    "code": CODE,
    "minutes": 30,
    "confirm_url": f"{PORTAL}/mon-compte/adresse/confirmer?jeton=6f1c",
    "hours": 24,
    "new_address_masked": "c***n@exemple.org",
    "organisation_name": "Greta Provence",
    "staff_url": f"{PORTAL}/organisme",
    "funder_name": "Région Sud",
    "dossier_pending": False,
    "inactive": True,
    "closing_on": date(2029, 3, 14),
    "enrol_at_login": True,
}
CATALOG: dict[str, Callable[..., OutgoingMail]] = {
    name: function
    for name, function in inspect.getmembers(mails, inspect.isfunction)
    if name.endswith("_mail") and function.__module__ == mails.__name__
}
WITH_TEMPORARY_PASSWORD = {
    "temporary_password_mail",
    "recovery_temporary_password_mail",
    "staff_invitation_mail",
    "funder_staff_invitation_mail",
}
WITHOUT_GIVEN_NAME = {
    "address_already_registered_mail",
    "dossier_claim_code_mail",
    "dossier_already_linked_mail",
    "recovery_code_mail",
    "new_message_for_organisation_mail",
    "staff_invitation_mail",
    "funder_staff_invitation_mail",
}
AMOUNT = re.compile(r"€|\beuros?\b|\bmontant|\d+,\d{2}\b", re.IGNORECASE)


def render(name: str, **overrides: object) -> OutgoingMail:
    function = CATALOG[name]
    parameters = [p for p in inspect.signature(function).parameters if p != "portal_url"]
    values = {**SAMPLE, **overrides}
    return function(**{p: values[p] for p in parameters}, portal_url=PORTAL)


def all_mails() -> dict[str, OutgoingMail]:
    return {name: render(name) for name in CATALOG}


def test_the_catalog_holds_every_mail_of_the_product():
    assert set(CATALOG) == {
        "temporary_password_mail",
        "address_already_registered_mail",
        "dossier_already_linked_mail",
        "dossier_linked_mail",
        "new_payment_mail",
        "password_changed_mail",
        "secret_question_changed_mail",
        "recovery_code_mail",
        "recovery_temporary_password_mail",
        "email_change_confirmation_mail",
        "email_change_notice_mail",
        "email_changed_mail",
        "franceconnect_linked_mail",
        "franceconnect_unlinked_mail",
        "account_closed_mail",
        "inactivity_warning_mail",
        "dossier_withdrawn_mail",
        "new_message_for_trainee_mail",
        "new_message_for_organisation_mail",
        "staff_invitation_mail",
        "funder_staff_invitation_mail",
        "dossier_claim_code_mail",
        "dossier_claim_attempt_mail",
        "second_factor_reset_mail",
    }


@pytest.mark.parametrize("name", sorted(CATALOG))
def test_every_mail_is_polite_french_signed_and_says_it_is_automatic(name):
    mail = render(name)
    assert mail.to == SAMPLE["to"]
    assert mail.subject and "\n" not in mail.subject
    expected_greeting = "Bonjour," if name in WITHOUT_GIVEN_NAME else "Bonjour Camille,"
    assert mail.text.startswith(expected_greeting + "\n\n")
    assert f"{SIGNATURE}\n{PORTAL}\n" in mail.text
    assert mail.text.endswith(
        "Ce message est envoyé automatiquement, merci de ne pas y répondre.\n"
    )
    assert "é" in mail.text


@pytest.mark.parametrize("name", sorted(CATALOG))
def test_every_link_handed_in_is_in_the_mail(name):
    parameters = inspect.signature(CATALOG[name]).parameters
    mail = render(name)
    for parameter in parameters:
        if parameter.endswith("_url") and parameter != "portal_url":
            assert SAMPLE[parameter] in mail.text


@pytest.mark.parametrize("name", sorted(CATALOG))
def test_plain_text_is_tidy(name):
    text = render(name).text
    assert "\n\n\n" not in text
    assert not any(line != line.rstrip() for line in text.splitlines())
    assert "{{" not in text and "{%" not in text


@pytest.mark.parametrize("name", sorted(CATALOG))
def test_the_html_version_says_the_same_in_accessible_html(name):
    mail = render(name)
    assert mail.html is not None
    assert '<html lang="fr">' in mail.html
    assert f"<title>{mail.subject}</title>".replace("'", "&#39;") in mail.html
    assert "L&#39;équipe du Portail stagiaire" in mail.html
    assert f'<a href="{PORTAL}">{PORTAL}</a>' in mail.html


def test_the_temporary_password_is_only_in_the_two_temporary_password_mails_and_invitations():
    for name, mail in all_mails().items():
        carries_it = TEMPORARY_PASSWORD in mail.text
        assert carries_it == (name in WITH_TEMPORARY_PASSWORD), name
        assert TEMPORARY_PASSWORD not in mail.subject


def test_the_recovery_code_is_only_in_its_own_mail_and_never_in_a_subject():
    for name, mail in all_mails().items():
        carries_it = name in ("recovery_code_mail", "dossier_claim_code_mail")
        assert (CODE in mail.text) == carries_it, name
        assert CODE not in mail.subject


def test_the_dossier_claim_code_says_why_it_came_here_and_to_keep_it():
    text = render("dossier_claim_code_mail").text
    assert "DPC-2024-000123 (Région Sud)" in text and "valable 30 minutes" in text
    assert "ne donnez ce code à personne" in text


def test_the_owner_of_a_dossier_someone_tried_to_link_is_told_nothing_changed():
    mail = render("dossier_claim_attempt_mail")
    assert mail.subject == "Tentative de rattachement de votre dossier"
    assert "DPC-2024-000123" in mail.text and "reste rattaché à votre compte" in mail.text


def test_the_sign_up_mail_says_when_the_dossier_waits_for_its_proof():
    assert "pas encore rattaché" not in render("temporary_password_mail").text
    pending = render("temporary_password_mail", dossier_pending=True).text
    assert "« Ajouter un dossier »" in pending and "code d'activation" in pending


def test_no_mail_carries_an_amount():
    for name, mail in all_mails().items():
        assert not AMOUNT.search(mail.subject + mail.text), name


def test_sign_up_mail_explains_the_first_login():
    text = render("temporary_password_mail").text
    assert "Votre compte sur le Portail stagiaire est créé." in text
    assert f"Utilisateur : votre adresse mail, {SAMPLE['to']}" in text
    assert f"Mot de passe provisoire : {TEMPORARY_PASSWORD}" in text
    assert "72 heures" in text
    for step in ("nouveau mot de passe", "question secrète", "conditions d'utilisation"):
        assert step in text


def test_a_second_sign_up_with_a_known_address_points_to_login_and_recovery():
    text = render("address_already_registered_mail").text
    assert "Un compte existe déjà pour cette adresse" in text
    assert "« Mot de passe oublié »" in text
    assert "Si ce n'était pas vous, vous n'avez rien à faire" in text


def test_a_sign_up_naming_a_dossier_already_linked_names_the_dossier_and_the_ways_out():
    text = render("dossier_already_linked_mail").text
    assert "dossier n° DPC-2024-000123" in text
    assert "l'adresse mail utilisée lors de la première inscription" in text
    assert "« Mot de passe oublié »" in text
    assert "contactez votre organisme de formation" in text
    without_number = render("dossier_already_linked_mail", dossier_number="").text
    assert "avec un dossier. Ce dossier a déjà un compte" in without_number


def test_dossier_linked_mail_names_the_training():
    text = render("dossier_linked_mail").text
    assert "« Titre professionnel Cuisinier »" in text
    assert "rattaché à votre compte" in text


def test_new_payment_mail_says_a_payment_is_available_without_amount():
    mail = render("new_payment_mail")
    assert mail.subject == "Un nouveau paiement est disponible"
    assert "Un nouveau paiement est disponible" in mail.text
    assert "« Mes formations »" in mail.text


@pytest.mark.parametrize(
    "name",
    [
        "password_changed_mail",
        "secret_question_changed_mail",
        "email_change_notice_mail",
        "email_changed_mail",
        "franceconnect_linked_mail",
        "franceconnect_unlinked_mail",
        "second_factor_reset_mail",
    ],
)
def test_every_credential_change_says_what_to_do_if_it_was_not_you(name):
    text = render(name).text
    assert "Si ce n'est pas vous" in text
    assert "« Mot de passe oublié »" in text
    assert f"{PORTAL}/mentions-legales" in text


def test_recovery_code_mail_gives_the_code_its_lifetime_and_says_to_ignore_if_unasked():
    text = render("recovery_code_mail").text
    assert f"Votre code : {CODE}" in text
    assert "valable 30 minutes" in text
    assert "ne sert qu'une fois" in text
    assert "Si vous n'avez rien demandé, ignorez ce message" in text
    assert "valable 1 minute et" in render("recovery_code_mail", minutes=1).text


def test_address_change_mails():
    confirmation = render("email_change_confirmation_mail").text
    assert "dans les 24 heures" in confirmation
    notice = render("email_change_notice_mail").text
    assert "La nouvelle adresse, c***n@exemple.org, remplacera celle-ci" in notice
    changed = render("email_changed_mail").text
    assert "saisissez désormais la nouvelle adresse dans « Utilisateur »" in changed


def test_message_mails_carry_neither_text_nor_trainee_name():
    trainee = render("new_message_for_trainee_mail")
    assert "« Mes messages »" in trainee.text
    organisation = render("new_message_for_organisation_mail")
    assert "« Greta Provence »" in organisation.text
    assert "Camille" not in organisation.text
    assert SAMPLE["staff_url"] in organisation.text


def test_staff_invitation_names_the_organisation_and_gives_the_temporary_password():
    text = render("staff_invitation_mail").text
    assert "« Greta Provence »" in text
    assert f"Mot de passe provisoire : {TEMPORARY_PASSWORD}" in text
    assert "72 heures" in text


@pytest.mark.parametrize("given_name", ["Marie-Hélène", "N'Golo", "Anne Sophie", "Zoë"])
def test_real_given_names_are_greeted(given_name):
    assert render("new_payment_mail", given_name=given_name).text.startswith(
        f"Bonjour {given_name},\n"
    )


@pytest.mark.parametrize(
    "given_name",
    ["Camille, appelez le 0612345678", "Camille https://piege.example", "", "x" * 51],
)
def test_a_given_name_that_is_not_a_name_is_left_out_of_the_greeting(given_name):
    # A sign-up without a dossier lets anyone choose the name mailed to any address.
    mail = render("temporary_password_mail", given_name=given_name)
    assert mail.text.startswith("Bonjour,\n")
    assert "piege" not in mail.text and "0612345678" not in mail.text


def test_html_escapes_values_and_links_only_the_portal_addresses():
    mail = render(
        "dossier_linked_mail",
        training_title="Cuisine & <b>pâtisserie</b> https://ailleurs.example",
    )
    assert mail.html is not None
    assert "« Cuisine & <b>pâtisserie</b>" in mail.text
    assert "Cuisine &amp; &lt;b&gt;pâtisserie&lt;/b&gt;" in mail.html
    assert 'href="https://ailleurs.example' not in mail.html
    assert f'<a href="{SAMPLE["login_url"]}">' in mail.html


def test_html_turns_numbered_and_dashed_lines_into_lists():
    html = render("temporary_password_mail").html
    assert html is not None
    assert "<ul>\n<li>Utilisateur : votre adresse mail" in html
    assert "<ol>\n<li>de choisir votre nouveau mot de passe personnel ;</li>" in html


def test_the_links_are_those_of_the_portal_url_given_by_the_service():
    # The service passes its PortalUrls.base_url: the mails never read the settings themselves.
    mail = mails.email_changed_mail("camille.martin@example.fr", "Camille", portal_url=PORTAL + "/")
    assert f"{PORTAL}/mentions-legales" in mail.text
    assert f'href="{PORTAL}/mentions-legales"' in (mail.html or "")


@pytest.mark.parametrize(
    ("address", "masked"),
    [
        ("camille.martin@example.fr", "c***n@example.fr"),
        ("  Jo@example.fr ", "J***@example.fr"),
        ("a@example.fr", "a***@example.fr"),
        ("abc@sous.domaine.fr", "a***c@sous.domaine.fr"),
        ("pas-une-adresse", "***"),
        ("@example.fr", "***"),
    ],
)
def test_mask_email(address, masked):
    assert mask_email(address) == masked


def test_recording_mailer_keeps_what_it_is_asked_to_send():
    mailer = RecordingMailer()
    mail = render("new_payment_mail")
    mailer.send(mail)
    assert mailer.sent == [mail]
    assert mailer.sent_to(SAMPLE["to"]) == [mail]
    with pytest.raises(mails.MailNotSent):
        RecordingMailer(failing=True).send(mail)


@pytest.mark.parametrize("inactive", [True, False])
def test_the_closing_mail_says_why_the_account_closed(inactive: bool) -> None:
    text = render("account_closed_mail", inactive=inactive).text
    assert ("depuis trois ans" in text) is inactive
    assert ("Comme vous l'avez demandé" in text) is not inactive
    assert "restent chez votre financeur" in text


def test_the_inactivity_warning_gives_the_closing_day_in_french() -> None:
    assert "sera fermé le 14/03/2029" in render("inactivity_warning_mail").text
