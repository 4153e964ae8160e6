"""« Mes messages » and staff accounts with in-memory fakes: who sees what, unread counts on both
sides and on the sessions, mails without texts, limits."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from functools import partial

import pytest

from chalicelib.services.accounts.model import Account, AccountKind, PortalUrls
from chalicelib.services.accounts.sessions import Session
from chalicelib.services.accounts.staff import InvalidStaff, StaffInvitations, StaffRequest
from chalicelib.services.errors import Invalid, NotFound
from chalicelib.services.funder_files.model import DossierStatus
from chalicelib.services.funders.model import Funder
from chalicelib.services.messages.my_messages import TRAINING_LEFT
from chalicelib.services.messages.threads import (
    MAX_MESSAGES_PER_THREAD,
    NO_MESSAGES,
    THREAD_NOT_FOUND,
    clean_subject,
    clean_text,
)
from chalicelib.services.messages.unread import UnreadSnapshot
from chalicelib.services.trainings.dossiers import Dossier
from tests.support.builder import build
from tests.support.fakes import (
    CountingHasher,
    FakeClock,
    MemoryAccounts,
    MemoryAudit,
    MemoryFunders,
    MemoryMessageDossiers,
    MemoryMessages,
    MemoryUnreadSessions,
    RecordingMailer,
)

IFN = "54756834567143"
CFSS = "13476182522257"
TRAINING = "region-idf~IDF-1"
URLS = PortalUrls("https://portail.example.gouv.fr")


def dossier(number: str, account_id: str | None, siret: str = IFN, funder: str = "region-idf"):
    return Dossier(
        funder_code=funder,
        dossier_number=number,
        family_name="MARTIN",
        given_names="Camille",
        birth_date=date(1990, 5, 14),
        email=None,
        training_code="DEV",
        training_title="Développeur web",
        start_date=date(2026, 9, 1),
        end_date=date(2027, 6, 30),
        organisation_siret=siret,
        organisation_name="Institut" if siret == IFN else "Centre",
        organisation_email="contact@ifn.example.fr" if siret == IFN else None,
        monthly_rate=Decimal("310.39"),
        decision_date=date(2026, 8, 1),
        status=DossierStatus.IN_PROGRESS,
        account_id=account_id,
    )


class World:
    def __init__(self) -> None:
        self.clock = FakeClock()
        self.sessions_store = MemoryUnreadSessions()
        self.repository = MemoryMessages(self.sessions_store)
        self.accounts = MemoryAccounts()
        self.mailer = RecordingMailer()
        self.dossiers = MemoryMessageDossiers(
            dossier("IDF-1", "camille"),
            dossier("HDF-1", "camille", funder="region-hdf"),
            dossier("IDF-2", "lucas"),
            dossier("IDF-3", "ines", siret=CFSS),
        )
        built = build(
            clock=self.clock,
            session_store=self.sessions_store,
            message_store=self.repository,
            accounts=self.accounts,
            mailer=self.mailer,
            dossiers=self.dossiers,
            funders=MemoryFunders(
                Funder("region-idf", "Région Île-de-France", messages_enabled=True),
                Funder("region-hdf", "Région Hauts-de-France"),
            ),
            urls=URLS,
        )
        self.messages = built.messages
        self.sessions = built.sessions
        self.unread = built.unread_counts
        # The funders as the services hold them (five minutes in memory, as « Mes formations »):
        # a change here is what the pages see once that cache has expired.
        self.funders = built.trainings.funders()
        for account_id in ("camille", "lucas", "ines"):
            self.accounts.add(self.person(account_id))

    def person(self, account_id: str, **changes: object) -> Account:
        return Account(
            account_id=account_id,
            email=f"{account_id}@example.fr",
            family_name="MARTIN",
            given_names=account_id.capitalize(),
            birth_date=date(1990, 5, 14),
            created_at=self.clock(),
            password_hash="x",
            secret_answer_hash="x",
        ).updated(**changes)

    def staff(self, account_id: str, siret: str = IFN) -> Account:
        account = self.person(
            account_id, kind=AccountKind.STAFF, birth_date=None, organisation_siret=siret
        )
        self.accounts.add(account)
        self.repository.add_staff_member(siret, account_id, account.email, self.clock())
        return account

    def log_in(self, account: Account | str) -> Session:
        if isinstance(account, str):
            account = self.accounts.items[account]
        return self.sessions.open(account, "password", None)[1]

    def fresh(self, session: Session) -> Session:
        """The session as the next page reads it."""
        return self.sessions_store.items[session.token_hash]


@pytest.fixture
def world() -> World:
    return World()


def not_found(call: Callable[[], object]) -> str:
    """The message of the `NotFound` that `call` raises."""
    with pytest.raises(NotFound) as refused:
        call()
    return refused.value.message


def refusal(call: Callable[[], object]) -> dict[str, str]:
    with pytest.raises(Invalid) as refused:
        call()
    return refused.value.errors


def test_a_trainee_starts_a_conversation_that_the_organisation_sees_unread(world: World) -> None:
    claire = world.log_in(world.staff("claire"))
    camille = world.log_in("camille")
    result = world.messages.start(camille, TRAINING, "  Attestation \n", "Salut\r\nMerci")
    assert result.notified
    thread, messages = world.repository.thread_with_messages(result.thread_id) or (None, [])
    assert thread is not None and thread.subject == "Attestation"
    assert messages[0].text == "Salut\nMerci"
    assert world.unread.total(world.fresh(claire).unread) == 1  # pushed to her open session
    assert world.unread.total(world.fresh(camille).unread) == 0
    (mail,) = world.mailer.sent
    assert mail.to == "contact@ifn.example.fr" and "/organisme/" in mail.text
    assert "Salut" not in mail.text and "Camille" not in mail.text and "MARTIN" not in mail.text


def test_reading_marks_read_on_the_thread_the_counter_and_the_reading_session(
    world: World,
) -> None:
    world.staff("claire")
    camille = world.log_in("camille")
    thread_id = world.messages.start(camille, TRAINING, "Objet", "Question").thread_id
    claire = world.log_in("claire")  # logs in afterwards: the count is taken at login
    assert world.unread.total(claire.unread) == 1
    view = world.messages.read(claire, thread_id)
    assert len(view.new_keys) == 1
    assert world.unread.total(view.session.unread) == 0
    assert world.unread.total(world.fresh(claire).unread) == 0
    assert world.repository.owner_state(f"organisation#{IFN}").snapshot.counts == {"region-idf": 0}
    again = world.messages.read(world.fresh(claire), thread_id)
    assert not again.new_keys
    assert world.repository.calls["mark_read"] == 1  # nothing left to mark


def test_the_organisation_answers_and_the_trainee_is_told_without_the_text(world: World) -> None:
    world.staff("claire")
    camille = world.log_in("camille")
    thread_id = world.messages.start(camille, TRAINING, "Objet", "Question").thread_id
    claire = world.log_in("claire")
    world.clock.advance(minutes=5)
    assert world.messages.reply(claire, thread_id, "Réponse secrète").thread_id == thread_id
    mail = world.mailer.sent_to("camille@example.fr")[0]
    assert "Réponse secrète" not in mail.text and "/region-idf/connexion" in mail.text
    camille = world.fresh(camille)
    assert world.unread.total(camille.unread) == 1
    view = world.messages.read(camille, thread_id)
    assert [m.text for m in view.messages] == ["Question", "Réponse secrète"]  # newest last
    assert view.new_keys == {view.messages[1].key}
    claire_view = world.messages.read(world.fresh(claire), thread_id)
    assert not claire_view.unread_by_other_keys  # Camille read it


def test_threads_are_seen_only_by_their_trainee_and_their_organisation(world: World) -> None:
    world.staff("claire")
    world.staff("other", siret=CFSS)
    thread_id = world.messages.start(world.log_in("camille"), TRAINING, "O", "T").thread_id
    for intruder in ("lucas", "other"):
        session = world.log_in(intruder)
        read, reply = world.messages.read, world.messages.reply
        assert not_found(partial(read, session, thread_id)) == THREAD_NOT_FOUND
        assert not_found(partial(reply, session, thread_id, "x")) == THREAD_NOT_FOUND
    assert world.messages.inbox(world.log_in("lucas")).threads == []
    assert world.messages.inbox(world.log_in("other")).threads == []
    camille = world.log_in("camille")
    assert not_found(lambda: world.messages.read(camille, "organisation#" + IFN))


def test_a_funder_without_messages_hides_its_threads_and_their_count(world: World) -> None:
    world.staff("claire")
    thread_id = world.messages.start(world.log_in("camille"), TRAINING, "O", "T").thread_id
    claire = world.log_in("claire")
    world.funders["region-idf"] = replace(world.funders["region-idf"], messages_enabled=False)
    assert world.unread.total(claire.unread) == 0
    assert not_found(lambda: world.messages.read(claire, thread_id)) == THREAD_NOT_FOUND
    assert world.messages.inbox(claire).threads == []
    camille = world.log_in("camille")
    # No training left with messages: « Mes messages » is not there (404).
    assert not_found(lambda: world.messages.inbox(camille)) == NO_MESSAGES
    assert not_found(lambda: world.messages.start(camille, TRAINING, "O", "T")) == NO_MESSAGES
    assert not_found(lambda: world.messages.writable_trainings(camille)) == NO_MESSAGES
    assert world.messages.trainings("camille") == []


def test_what_is_written_is_checked(world: World) -> None:
    camille = world.log_in("camille")
    errors = refusal(lambda: world.messages.start(camille, "region-hdf~HDF-1", "a" * 151, " \n "))
    assert set(errors) == {"training", "subject", "text"}
    assert "150 caractères au plus (il en fait 151)" in errors["subject"]
    long = refusal(lambda: world.messages.start(camille, TRAINING, "Objet", "x" * 5001))
    assert long["text"].startswith("Votre message doit faire 5\u202f000 caractères au plus")
    assert world.messages.start(camille, TRAINING, "a" * 150, "x" * 5000).thread_id
    assert clean_subject("Un\tobjet\x00 ") == "Un objet"
    assert clean_text("a\x07b  \r\nc\n\n") == "ab\nc"


def test_a_dossier_that_left_before_the_write_starts_no_thread_and_says_so(
    world: World,
) -> None:
    """Read as hers, withdrawn before the thread is written: the store's check refuses the whole
    write, and she reads why under the training's field; nobody is told of a message."""
    camille = world.log_in("camille")
    funder_code, number = TRAINING.split("~")
    world.repository.dossiers_left.add((funder_code, number))
    errors = refusal(lambda: world.messages.start(camille, TRAINING, "Objet", "Texte"))
    assert errors == {"training": TRAINING_LEFT}
    assert world.repository.threads == {} and world.mailer.sent == []


def test_a_thread_holds_a_bounded_number_of_messages(world: World) -> None:
    camille = world.log_in("camille")
    thread_id = world.messages.start(camille, TRAINING, "O", "1").thread_id
    for number in range(2, MAX_MESSAGES_PER_THREAD + 1):
        assert world.messages.reply(camille, thread_id, str(number)).thread_id == thread_id
    full = refusal(lambda: world.messages.reply(camille, thread_id, "de trop"))
    assert "commencez-en une nouvelle" in full["text"]


def test_no_organisation_address_or_a_failing_mail_keeps_the_message(world: World) -> None:
    world.dossiers.items[("region-idf", "IDF-3")] = dossier("IDF-3", "ines", siret=CFSS)
    result = world.messages.start(world.log_in("ines"), "region-idf~IDF-3", "O", "T")
    assert not result.notified and world.mailer.sent == []
    world.mailer.failing = True
    failed = world.messages.start(world.log_in("camille"), TRAINING, "O", "T")
    assert not failed.notified
    assert world.repository.thread_with_messages(failed.thread_id) is not None


def test_a_session_never_takes_an_older_snapshot(world: World) -> None:
    camille = world.log_in("camille")
    newer = UnreadSnapshot(camille.unread.owner, {"region-idf": 2}, 5)
    older = UnreadSnapshot(camille.unread.owner, {"region-idf": 1}, 4)
    assert world.sessions_store.publish_unread("camille", newer) == 1
    assert world.sessions_store.publish_unread("camille", older) == 0
    assert world.fresh(camille).unread == newer
    other_owner = UnreadSnapshot("trainee#lucas", {"region-idf": 9}, 99)
    assert world.sessions_store.publish_unread("camille", other_owner) == 0


def test_my_data_lists_subjects_dates_directions_and_read_states_never_texts(
    world: World,
) -> None:
    world.staff("claire")
    camille = world.log_in("camille")
    thread_id = world.messages.start(camille, TRAINING, "Objet", "Texte A").thread_id
    claire = world.log_in("claire")
    world.messages.read(claire, thread_id)  # as her page does before she answers
    world.messages.reply(world.fresh(claire), thread_id, "Texte B")
    (thread,) = world.messages.export("camille")
    assert thread["objet"] == "Objet" and thread["organisme"] == "Institut"
    assert [(m["sens"], m["lu_par_le_destinataire"]) for m in thread["messages"]] == [
        ("envoyé", True),
        ("reçu", False),
    ]
    assert "Texte" not in repr(thread)


def test_operators_create_staff_accounts_with_an_invitation(world: World) -> None:
    hasher, audit = CountingHasher(), MemoryAudit()

    def create(**changes: str) -> Account:
        request = StaffRequest("Claire@IFN.example.fr", "547 568 345 67143", "  IFN  ")
        invitations = StaffInvitations(
            world.accounts,
            world.repository,
            MemoryFunders(),
            hasher,
            world.mailer,
            audit,
            URLS,
            world.clock,
        )
        return invitations.organisation(replace(request, **changes))

    account = create()
    assert account.kind is AccountKind.STAFF and account.organisation_siret == IFN
    assert account.email == "claire@ifn.example.fr" and account.password_hash is None
    assert account.temporary_password_expires_at == world.clock() + timedelta(hours=72)
    (mail,) = world.mailer.sent_to("claire@ifn.example.fr")
    assert hasher.hashed_secrets[0] in mail.text and "/organisme/" in mail.text
    assert world.repository.owner_state(f"organisation#{IFN}").staff_account_ids == [
        account.account_id
    ]
    assert audit.names() == ["staff-created"]
    for changes, reason in (
        ({}, "déjà un compte"),
        ({"email": "pas-une-adresse"}, "adresse mail"),
        ({"email": "b@ifn.example.fr", "siret": "1234"}, "14 chiffres"),
        ({"email": "b@ifn.example.fr", "organisation_name": " "}, "nom de l'organisme"),
    ):
        with pytest.raises(InvalidStaff, match=reason):
            create(**changes)
