"""« Mes messages » and the organisations' space through the real Chalice routing, on moto:
visibility by funder setting, unread counts on both sides, mails, ownership, request budget."""

from __future__ import annotations

import json
import re

import pytest

from local.demo import READY
from tests.integration.conftest import mails_to
from tests.integration.test_accounts_web import NEW_PASSWORD
from tests.support.aws import count_dynamodb_requests
from tests.support.messages import (
    IDF_TRAINING,
    ORGANISATION_MAIL,
    answer,
    badge,
    claire,
    other_browser,
    set_messages,
    staff_log_in,
    start_thread,
)
from tests.support.web import Page, WebClient


@pytest.fixture
def camille(messages_on: WebClient) -> WebClient:
    """Camille signed in, messages enabled at region-idf, Claire's staff account ready."""
    return messages_on


def test_the_tab_and_every_route_exist_only_where_the_funder_enables_messages(
    camille: WebClient,
) -> None:
    thread_id = start_thread(camille)
    assert 'aria-current="page">Mes formations' in camille.get("/formations").body
    assert "Mes messages" in camille.get("/formations").text
    set_messages(False)
    assert "Mes messages" not in camille.get("/formations").text
    for path in ("/messages", "/messages/nouveau", f"/messages/fil?id={thread_id}"):
        page = camille.get(path)
        assert page.status == 404, path
        assert "Page non trouvée" in page.text
    form = camille.get("/formations")
    posted = camille.post(
        "/messages/nouveau",
        {"csrf": form.hidden("csrf"), "training": IDF_TRAINING, "subject": "x", "text": "y"},
    )
    assert posted.status == 404
    staff = claire(camille)
    assert "Attestation de présence" not in staff.get("/organisme/messages").text
    assert staff.get(f"/organisme/messages/fil?id={thread_id}").status == 404
    set_messages(True)
    assert "Attestation de présence" in camille.get("/messages").text


def test_a_trainee_writes_the_organisation_answers_and_each_sees_what_is_unread(
    camille: WebClient,
) -> None:
    text = "Bonjour,\nPourriez-vous m’envoyer mon attestation ?\n<script>alert(1)</script>"
    thread_id = start_thread(camille, text=text)
    sent = camille.get(f"/messages/fil?id={thread_id}")
    assert "Pas encore lu par l’organisme" in sent.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in sent.body and "<script>alert" not in sent.body
    assert "Bonjour,\nPourriez-vous" in sent.body  # line breaks kept, shown by pre-wrap
    ((subject, mail),) = mails_to(ORGANISATION_MAIL)
    assert subject == "Nouveau message d'un stagiaire"
    assert "attestation" not in mail.lower() and "MARTIN" not in mail and "Camille" not in mail
    assert "/organisme/" in mail

    staff = claire(camille)
    inbox = staff.get("/organisme/messages")
    assert "1 message non lu" in badge(inbox)
    assert "Attestation de présence" in inbox.text and "1 non lu" in inbox.text
    assert "Camille Louise MARTIN" in inbox.text
    thread = staff.get(f"/organisme/messages/fil?id={thread_id}")
    assert "Non lu" in thread.text and "Pourriez-vous" in thread.text
    assert "aucun message non lu" in badge(thread)
    assert "1 non lu" not in staff.get("/organisme/messages").text
    assert "Lu" in camille.get(f"/messages/fil?id={thread_id}").text

    replied = answer(staff, "/organisme/messages/fil", thread_id, "Elle est partie ce matin.")
    assert replied.location == f"/organisme/messages/fil?id={thread_id}#dernier-message"
    ((subject, mail),) = mails_to(READY.email)
    assert subject == "Vous avez un nouveau message"
    assert "partie ce matin" not in mail and "/region-idf/connexion" in mail

    page = camille.get("/formations")  # any page: the count is at the top right
    assert "Mes messages" in badge(page) and "1 message non lu" in badge(page)
    listing = camille.get("/messages")
    assert "1 non lu" in listing.text
    thread = camille.get(f"/messages/fil?id={thread_id}")
    body = thread.text
    assert body.index("Pourriez-vous") < body.index("Elle est partie ce matin.")  # newest last
    assert "Institut de formation numérique" in body and "Non lu" in body
    assert "message non lu" not in badge(thread)
    assert "Mes messages" not in badge(camille.get("/formations"))
    assert (
        "Pas encore lu par le stagiaire"
        not in staff.get(f"/organisme/messages/fil?id={thread_id}").text
    )


def test_a_conversation_can_be_continued_and_stays_newest_last(camille: WebClient) -> None:
    thread_id = start_thread(camille, text="Premier")
    assert answer(camille, "/messages/fil", thread_id, "Deuxième").status == 303
    staff = claire(camille)
    assert "2 messages non lus" in badge(staff.get("/organisme/messages"))
    text = staff.get(f"/organisme/messages/fil?id={thread_id}").text
    assert text.index("Premier") < text.index("Deuxième")
    assert len(mails_to(ORGANISATION_MAIL)) == 2


def test_what_is_written_is_checked_in_french(camille: WebClient) -> None:
    form = camille.get("/messages/nouveau")
    page = camille.post(
        "/messages/nouveau",
        {
            "csrf": form.hidden("csrf"),
            "training": "region-hdf~HDF-2026-000042",
            "subject": "a" * 151,
            "text": " ",
        },
    )
    assert page.status == 400
    assert "Choisissez la formation concernée" in page.text
    assert "L’objet doit faire 150 caractères au plus (il en fait 151)" in page.text
    assert "Saisissez votre message." in page.text
    thread_id = start_thread(camille)
    page = answer(camille, "/messages/fil", thread_id, "x" * 5001)
    assert page.status == 400 and "5 000 caractères au plus" in page.text
    expired = camille.post("/messages/fil", {"csrf": "faux", "id": thread_id, "text": "x"})
    assert expired.status == 403 and "Le formulaire a expiré" in expired.text


def test_nobody_reaches_a_conversation_that_is_not_theirs(camille: WebClient) -> None:
    thread_id = start_thread(camille)
    # Another trainee of the same organisation (Lucas, IDF-2026-000789).
    from tests.integration.test_accounts_web import complete_first_login, sign_up

    lucas = other_browser(camille)
    lucas.cookies.clear()
    sign_up(lucas)
    complete_first_login(lucas)
    assert lucas.get(f"/messages/fil?id={thread_id}").status == 404
    assert answer_blind(lucas, "/messages/fil", thread_id).status == 404
    assert "Attestation de présence" not in lucas.get("/messages").text
    # Staff of another organisation (Centre de formation sanitaire et social).
    from chalicelib import admin

    assert (
        admin.main(
            [
                "--stage",
                "test",
                "staff",
                "create",
                "--email",
                "a@cfss.example.fr",
                "--siret",
                "13476182522257",
                "--organisation-name",
                "CFSS",
            ]
        )
        == 0
    )
    other = WebClient(camille.client, source_ip="192.0.2.30")
    other_staff_first_login(other, "a@cfss.example.fr")
    assert other.get(f"/organisme/messages/fil?id={thread_id}").status == 404
    assert answer_blind(other, "/organisme/messages/fil", thread_id).status == 404
    assert "Attestation de présence" not in other.get("/organisme/messages").text
    # Each side stays out of the other's pages; identifiers are never trusted alone.
    assert camille.get("/organisme/messages").status == 404
    assert camille.get(f"/organisme/messages/fil?id={thread_id}").status == 404
    assert other.get("/formations").location == "/organisme/messages"
    assert other.get("/messages").location == "/organisme/messages"
    for wrong in ("organisation%2354756834567143", "x" * 32, ""):
        assert camille.get(f"/messages/fil?id={wrong}").status == 404


def answer_blind(web: WebClient, path: str, thread_id: str) -> Page:
    """A reply posted with the poster's own valid CSRF token, as a forged link would."""
    home = web.get("/organisme/messages" if path.startswith("/organisme") else "/messages")
    csrf = re.search(r'name="csrf" value="([^"]+)"', home.body)
    token = csrf.group(1) if csrf else ""
    return web.post(path, {"csrf": token, "id": thread_id, "text": "Intrusion"})


def other_staff_first_login(web: WebClient, email: str) -> None:
    """The invitation's temporary password, then the trainees' three first-login steps."""
    _subject, text = mails_to(email)[-1]
    match = re.search(r"Mot de passe provisoire : (\S+)", text)
    assert match, text
    page = staff_log_in(web, email, match.group(1))
    assert page.location == "/premiere-connexion/mot-de-passe"
    step = web.get(page.location)
    page = web.post(
        page.location,
        {
            "csrf": step.hidden("csrf"),
            "old_password": match.group(1),
            "new_password": NEW_PASSWORD,
            "confirmation": NEW_PASSWORD,
        },
    )
    assert page.location == "/premiere-connexion/question-secrete"
    step = web.get(page.location)
    secret = {"csrf": step.hidden("csrf"), "question": "Ville de naissance ?", "answer": "Lille"}
    assert web.post(page.location, secret).location == "/cgu"
    step = web.get("/cgu")
    page = web.post("/cgu", {"csrf": step.hidden("csrf"), "version": step.hidden("version")})
    assert page.location == "/organisme/messages"


def test_every_page_of_both_sides_costs_at_most_three_dynamodb_requests(camille: WebClient) -> None:
    thread_id = start_thread(camille)
    staff = claire(camille)
    answer(staff, "/organisme/messages/fil", thread_id, "Réponse")
    camille.get("/formations")  # warm: CGU version and funders, cached a minute and five
    staff.get("/organisme/messages")
    pages = [
        (camille, "/formations"),
        (camille, "/messages"),
        (camille, "/messages/nouveau"),
        (camille, f"/messages/fil?id={thread_id}"),  # unread: this one marks it read
        (camille, f"/messages/fil?id={thread_id}"),
        (staff, "/organisme/messages"),
        (staff, f"/organisme/messages/fil?id={thread_id}"),
    ]
    for web, path in pages:
        with count_dynamodb_requests() as requests:
            assert web.get(path).status == 200, path
        assert sum(requests.values()) <= 3, (path, requests)
        assert requests["Scan"] == 0


def test_my_data_lists_the_messages_without_their_texts(camille: WebClient) -> None:
    thread_id = start_thread(camille, text="Texte confidentiel")
    answer(claire(camille), "/organisme/messages/fil", thread_id, "Réponse confidentielle")
    export = json.loads(camille.get("/mes-donnees/telechargement").body)
    (thread,) = export["messages"]
    assert thread["objet"] == "Attestation de présence"
    assert [(m["sens"], m["lu_par_le_destinataire"]) for m in thread["messages"]] == [
        ("envoyé", True),
        ("reçu", False),
    ]
    assert "confidenti" not in json.dumps(export)


def test_operators_invite_staff_who_go_through_the_trainees_first_login_steps(
    camille: WebClient, capsys: pytest.CaptureFixture[str]
) -> None:
    from chalicelib import admin

    def staff(*arguments: str) -> int:
        return admin.main(["--stage", "test", "staff", *arguments])

    invitation = ["create", "--email", "Paul@IFN.example.fr", "--siret", "547 568 345 67143"]
    assert staff(*invitation, "--organisation-name", "Institut de formation numérique") == 0
    assert "Invitation envoyée" in capsys.readouterr().out
    ((subject, mail),) = mails_to("paul@ifn.example.fr")
    assert subject == "Votre accès à l'espace des organismes de formation"
    assert "Mot de passe provisoire" in mail and "/organisme/" in mail
    assert staff(*invitation, "--organisation-name", "IFN") == 2
    assert staff("create", "--email", "x@y.fr", "--siret", "123", "--organisation-name", "X") == 2
    errors = capsys.readouterr().err
    assert "déjà un compte" in errors and "14 chiffres" in errors
    assert staff("list", "--siret", "54756834567143") == 0
    listing = capsys.readouterr().out
    assert "p***l@ifn.example.fr" in listing and "c***d@ifn.example.fr" in listing
    assert "2 compte(s)" in listing

    paul = WebClient(camille.client, source_ip="192.0.2.40")
    wrong = staff_log_in(paul, "paul@ifn.example.fr", "pas le bon mot de passe")
    assert wrong.status == 401 and "Adresse mail ou mot de passe incorrect." in wrong.text
    other_staff_first_login(paul, "paul@ifn.example.fr")
    start_thread(camille)  # reaches Paul's open session at once
    assert "1 message non lu" in badge(paul.get("/organisme/messages"))
    assert paul.get("/organisme/").location == "/organisme/messages"
