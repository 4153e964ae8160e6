"""« Mes messages » in Chromium: Camille writes to her training organisation; a staff member,
invited with the operators' command line, goes through the first-login steps and answers; Camille
sees the count at the top right and reads the answer. axe-core on every page of both sides."""

from __future__ import annotations

import re
import uuid

import pytest

from local.demo import READY, READY_STAFF
from tests.e2e.conftest import PROJECT_DIR
from tests.support.browser import assert_accessible
from tests.support.journeys import (
    choose_first_password,
    create_secret_question,
    invite_with_admin,
    log_in,
    log_out,
)

pytestmark = pytest.mark.e2e

STAFF_PASSWORD = "Organisme-Formation-2026"


def invite_staff(stack, email: str) -> str:
    """`staff create`: a member of the demo organisation."""
    organisation = (
        "--siret",
        READY_STAFF.siret,
        "--organisation-name",
        READY_STAFF.organisation_name,
    )
    return invite_with_admin(stack, PROJECT_DIR, email, "create", *organisation)


def second_window(page, stack):
    """Another browser of the same size, as the `page` fixture makes it: the staff member's,
    while Camille stays signed in (the stack takes 30 logins per 15 minutes from one address, and
    every journey shares them)."""
    options: dict[str, object] = {"base_url": stack.url, "locale": "fr-FR", "bypass_csp": True}
    options["viewport"] = page.viewport_size
    if page.viewport_size["width"] < 500:
        options.update(is_mobile=True, has_touch=True)
    return page.context.browser.new_context(**options)


def test_a_trainee_writes_the_organisation_answers_and_the_trainee_reads_it(page, stack) -> None:
    subject = f"Attestation de présence {uuid.uuid4().hex[:6]}"
    answer = "Bonjour, votre attestation part aujourd’hui.\nBonne formation !"
    mails_before = len(stack.mails_to(READY.email))

    # Camille writes, from the « Mes messages » tab of « Mes formations ».
    log_in(page, "/region-idf/", READY.email, READY.password)
    page.wait_for_url("**/formations")
    page.get_by_role("navigation", name="Rubriques du portail").get_by_role(
        "link", name="Mes messages"
    ).click()
    page.wait_for_url("**/messages")
    assert_accessible(page)
    page.get_by_role("link", name="Nouveau message").click()
    page.wait_for_url("**/messages/nouveau")
    assert_accessible(page)
    page.get_by_role("button", name="Envoyer").click()  # empty: the errors say what to fill
    page.wait_for_load_state()
    assert "Saisissez l’objet de votre message." in page.locator("#erreurs").inner_text()
    assert_accessible(page)
    page.get_by_label("Objet").fill(subject)
    page.get_by_label("Message").fill("Bonjour,\nPourriez-vous m’envoyer mon attestation ?")
    page.get_by_role("button", name="Envoyer").click()
    page.wait_for_url("**/messages/fil?id=*")
    # Badges are in capitals on screen (DSFR): their text is read from the DOM.
    assert "Pas encore lu par l’organisme" in page.locator("#dernier-message").text_content()
    assert_accessible(page)

    # A new staff member of her organisation, invited by an operator, answers.
    email = f"equipe-{uuid.uuid4().hex[:8]}@ifn.example.fr"
    temporary = invite_staff(stack, email)
    context = second_window(page, stack)
    try:
        staff = context.new_page()
        answer_as_staff(staff, email, temporary, subject, answer)
    finally:
        context.close()
    mails = stack.wait_for_mail(READY.email, count=mails_before + 1)
    assert "Vous avez un nouveau message" in mails[-1] and "attestation" not in mails[-1]

    # Camille, still signed in, sees the count at the top right of her next page, then the
    # answer, newest last.
    page.goto("/formations")
    header = page.locator(".fr-header__tools")
    link = header.get_by_role("link", name=re.compile(r"^Mes messages \(\d+ messages? non lus?\)$"))
    assert link.count() == 1, header.first.aria_snapshot()
    assert_accessible(page)
    link.click()
    page.wait_for_url("**/messages")
    assert_accessible(page)
    page.get_by_role("link", name=subject).click()
    page.wait_for_url("**/messages/fil?id=*")
    messages = page.locator(".portail-message")
    assert "Pourriez-vous" in messages.nth(0).inner_text()
    assert "Bonne formation !" in messages.nth(1).inner_text()
    assert "Non lu" in messages.nth(1).text_content()
    assert_accessible(page)
    log_out(page)


def answer_as_staff(page, email: str, temporary: str, subject: str, answer: str) -> None:
    """The invitation's password, the trainees' first-login steps, then the answer."""
    log_in(page, "/organisme/", email, temporary)
    page.wait_for_url("**/premiere-connexion/mot-de-passe")
    assert_accessible(page)
    choose_first_password(page, temporary, STAFF_PASSWORD)
    create_secret_question(page, "Ville de naissance ?", "Lille")
    page.wait_for_url("**/cgu")
    page.get_by_role("button", name="Accepter").click()
    page.wait_for_url("**/organisme/messages")
    assert_accessible(page)
    page.get_by_role("link", name=subject).click()
    page.wait_for_url("**/organisme/messages/fil?id=*")
    assert "Non lu" in page.locator("#dernier-message").text_content()
    assert_accessible(page)
    page.get_by_label("Votre réponse").fill(answer)
    page.get_by_role("button", name="Envoyer").click()
    page.wait_for_url("**/organisme/messages/fil?id=*")
    assert "votre attestation part aujourd’hui" in page.locator("#dernier-message").inner_text()
    assert_accessible(page)
    log_out(page)
