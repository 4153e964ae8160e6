"""Retention with in-memory fakes and a controlled clock: « Fermer mon compte », the inactive
accounts' warning then closure (and the login that keeps an account), a funder's withdrawal."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta

import pytest

from chalicelib.services.accounts.login import Login
from chalicelib.services.accounts.model import Account, AccountKind, PortalUrls
from chalicelib.services.accounts.my_account import WRONG_ANSWER, WRONG_PASSWORD
from chalicelib.services.accounts.proofs import Proof
from chalicelib.services.accounts.retention import (
    INACTIVITY_NOTICE,
    INACTIVITY_PERIOD,
    AccountClosure,
    CloseOutcome,
    DossierWithdrawal,
    InactivityJob,
    inactivity_due,
)
from chalicelib.services.errors import Invalid
from chalicelib.services.funders.model import Funder
from chalicelib.services.trainings.dossiers import Dossier
from tests.support.builder import build
from tests.support.fakes import (
    FakeClock,
    MemoryAudit,
    MemoryCounters,
    MemoryDocuments,
    MemoryDossiersOfAccount,
    MemoryErasure,
    MemorySessions,
    MemorySettingsAccounts,
    PlainTestHasher,
    RecordingMailer,
)
from tests.unit.test_account_settings import dossier

START = datetime(2026, 1, 15, 9, 0, tzinfo=UTC)
EMAIL = "camille.martin@example.fr"
PASSWORD = "Pluie-Soleil-Nuage-42"
IP = "192.0.2.1"
HASHER = PlainTestHasher()


@dataclass
class World:
    clock: FakeClock
    accounts: MemorySettingsAccounts
    store: MemoryErasure
    sessions: MemorySessions
    counters: MemoryCounters
    documents: MemoryDocuments
    mailer: RecordingMailer
    audit: MemoryAudit
    closure: AccountClosure
    job: InactivityJob
    login: Login
    withdrawal: DossierWithdrawal

    def account(self) -> Account | None:
        return self.accounts.items.get("acc-1")


def make_world(password: bool = True) -> World:
    clock = FakeClock(START)
    accounts = MemorySettingsAccounts()
    accounts.add(
        Account(
            account_id="acc-1",
            email=EMAIL,
            family_name="Martin",
            given_names="Camille",
            birth_date=date(1990, 5, 14),
            created_at=START,
            password_hash=HASHER.hash(PASSWORD) if password else None,
            franceconnect_sub=None if password else "sub-1",
            secret_question="Ville de naissance ?",
            secret_answer_hash=HASHER.hash("lille"),
            terms_version="v1",
            inactivity_due=inactivity_due(START.date()),
        )
    )
    built = build(
        clock=clock,
        accounts=accounts,
        dossiers=MemoryDossiersOfAccount(dossier("acc-1")),
        erasure_store=MemoryErasure(accounts, [dossier("acc-1")]),
        documents_files=MemoryDocuments({"acc-1"}),
        hasher=HASHER,
        urls=PortalUrls("https://portail.example"),
    )
    built.terms.publish("v1", "CGU")
    ports = built.ports
    return World(
        clock,
        accounts,
        ports.erasure_store,
        ports.session_store,
        ports.counters,
        ports.documents_files,
        ports.mailer,
        ports.audit,
        built.account_closure,
        built.inactivity_job(),
        built.login,
        built.dossier_withdrawal,
    )


@pytest.fixture
def world() -> World:
    return make_world()


def assert_nothing_personal_in_the_trail(world: World) -> None:
    for event in world.audit.events:
        text = repr(event).lower()
        assert "martin" not in text and "camille" not in text and "idf-1" not in text


# « Fermer mon compte » ---------------------------------------------------------------------


def test_a_wrong_password_closes_nothing_and_counts_as_a_failure(world: World) -> None:
    with pytest.raises(Invalid) as refused:
        world.closure.close_by_owner("acc-1", Proof(password="pas le bon"), IP)
    assert refused.value.errors == {"password": WRONG_PASSWORD}
    assert world.account() is not None
    assert world.store.dossiers[0].account_id == "acc-1"
    assert "reauthentication-failure" in world.audit.names("acc-1")


def test_the_owner_closes_the_account_and_everything_of_it_goes(world: World) -> None:
    assert world.login.log_in(EMAIL, PASSWORD, IP).token is not None
    with pytest.raises(Invalid):  # a failure counter keyed by the address
        world.login.log_in(EMAIL, "faux", IP)
    assert world.sessions.for_account("acc-1") and world.counters.items

    result = world.closure.close_by_owner("acc-1", Proof(PASSWORD), IP)

    assert result.ok
    assert world.account() is None and EMAIL not in world.accounts.claims
    assert world.sessions.for_account("acc-1") == []
    # The address's own count of logins (`rate#login#<ip>#<window>`) is the address's, not the
    # account's: it goes with its window. Every counter of the account is gone.
    assert [key for key in world.counters.items if not key.startswith("rate#")] == []
    assert [d.account_id for d in world.store.dossiers] == [None]  # kept, claimable again
    assert world.store.detached == ["acc-1"] and world.store.acceptances_deleted == ["acc-1"]
    assert world.documents.owners == set()
    [closed] = [e for e in world.audit.events if e.event == "account-closed"]
    assert closed.details == {"by": "owner"}
    assert_nothing_personal_in_the_trail(world)
    [mail] = [m for m in world.mailer.sent_to(EMAIL) if "fermé" in m.subject]
    assert "Comme vous l'avez demandé" in mail.text


def test_an_account_without_password_closes_with_its_secret_answer() -> None:
    world = make_world(password=False)
    with pytest.raises(Invalid) as refused:
        world.closure.close_by_owner("acc-1", Proof(secret_answer="Paris"), IP)
    assert refused.value.errors == {"secret_answer": WRONG_ANSWER}
    assert world.closure.close_by_owner("acc-1", Proof("ignoré", "Lille"), IP).ok
    assert world.account() is None


def test_closing_twice_finds_nothing_the_second_time(world: World) -> None:
    assert world.closure.close_by_owner("acc-1", Proof(PASSWORD), IP).ok
    assert world.closure.close_by_owner("acc-1", Proof(PASSWORD), IP).outcome is CloseOutcome.GONE


# Inactive accounts -------------------------------------------------------------------------


def test_an_inactive_account_is_warned_then_closed_thirty_days_later(world: World) -> None:
    world.clock.set(START + INACTIVITY_PERIOD - timedelta(days=1))
    assert world.job.run().warned == 0

    world.clock.set(START + INACTIVITY_PERIOD)
    run = world.job.run()
    assert (run.warned, run.closed) == (1, 0)
    [warning] = [m for m in world.mailer.sent_to(EMAIL) if "va être fermé" in m.subject]
    closing_on = (START + INACTIVITY_PERIOD + INACTIVITY_NOTICE).strftime("%d/%m/%Y")
    assert f"sera fermé le {closing_on}" in warning.text
    assert world.job.run().warned == 0  # the same day again: one warning only

    world.clock.advance(days=29)
    assert world.job.run().closed == 0
    world.clock.advance(days=1)
    assert world.job.run().closed == 1
    assert world.account() is None
    closed = [e for e in world.audit.events if e.event == "account-closed"]
    assert [e.details for e in closed] == [{"by": "inactivity"}]
    assert "depuis trois ans" in world.mailer.sent_to(EMAIL)[-1].text


def test_a_login_after_the_warning_keeps_the_account(world: World) -> None:
    world.clock.set(START + INACTIVITY_PERIOD)
    assert world.job.run().warned == 1
    world.clock.advance(days=10)
    assert world.login.log_in(EMAIL, PASSWORD, IP).token is not None

    world.clock.advance(days=20)
    run = world.job.run()
    assert run.closed == 0
    account = world.account()
    assert account is not None and not account.inactivity_warned
    assert account.inactivity_due == inactivity_due((START + INACTIVITY_PERIOD).date()) + (
        timedelta(days=10)
    )


def test_a_day_without_a_run_is_caught_up(world: World) -> None:
    world.clock.set(START + INACTIVITY_PERIOD + timedelta(days=3))
    assert world.job.run().warned == 1


def test_a_login_between_reading_and_closing_wins(world: World) -> None:
    world.clock.set(START + INACTIVITY_PERIOD)
    world.job.run()
    warned = world.account()
    assert warned is not None
    world.login.log_in(EMAIL, PASSWORD, IP)  # after the job read the account
    assert world.closure.close_inactive(warned).outcome is CloseOutcome.GONE
    assert world.account() is not None


# A funder withdraws a dossier ----------------------------------------------------------------


def test_a_withdrawn_dossier_goes_and_its_account_is_told(world: World) -> None:
    world.withdrawal.withdraw(world.store.dossiers[0])
    assert world.store.deleted_dossiers == ["IDF-1"] and world.store.dossiers == []
    assert world.account() is not None  # keeps its other trainings
    assert world.documents.owners == set()
    [mail] = world.mailer.sent_to(EMAIL)
    assert "Développeur" in mail.text and "Vos autres formations" in mail.text
    assert [e.details for e in world.audit.events] == [{"funder": "region-idf"}]


def test_a_withdrawn_dossier_of_no_account_mails_nobody(world: World) -> None:
    unlinked = dossier("acc-1").with_account(None)
    world.store.dossiers = [unlinked]
    world.withdrawal.withdraw(unlinked)
    assert world.mailer.sent == [] and world.audit.events == []


def test_a_dossier_linked_after_the_file_read_it_is_withdrawn_and_its_owner_told(
    world: World,
) -> None:
    # The file's run read it unlinked; the store holds it linked when it deletes it.
    world.withdrawal.withdraw(dossier("acc-1").with_account(None))
    assert world.store.dossiers == []
    [mail] = world.mailer.sent_to(EMAIL)
    assert mail.subject == "Un dossier a été retiré de votre compte"
    assert [e.details for e in world.audit.events] == [{"funder": "region-idf"}]


# Dossiers past their funder's retention period -------------------------------------------------


@dataclass
class MemoryFunders:
    funders: dict[str, Funder]
    marks: dict[str, str] = field(default_factory=dict)

    def list(self) -> list[Funder]:
        return list(self.funders.values())

    def purged_through(self, code: str) -> str | None:
        return self.marks.get(code)

    def mark_purged_through(self, code: str, month: str, previous: str | None) -> bool:
        if self.marks.get(code) != previous:
            return False
        self.marks[code] = month
        return True


def ended(number: str, end: date, account_id: str | None = None) -> Dossier:
    return replace(dossier("acc-1"), dossier_number=number, end_date=end, account_id=account_id)


def test_dossiers_go_in_the_month_after_their_funders_period_and_a_shorter_one_catches_up(
    world: World,
) -> None:
    world.store.dossiers = [
        ended("OLD", date(2019, 3, 31), "acc-1"),
        ended("DUE", date(2021, 6, 30)),
        ended("NEXT", date(2021, 7, 1)),
        ended("RECENT", date(2023, 2, 28)),
    ]
    funders = MemoryFunders({"region-idf": Funder("region-idf", "Région", retention_years=5)})
    clock = FakeClock(datetime(2026, 7, 15, tzinfo=UTC))
    purge = build(
        clock=clock,
        funders=funders,
        erasure_store=world.store,
        documents_files=world.documents,
        audit=world.audit,
    ).retention_purge()

    assert purge.run() == 2
    assert world.store.deleted_dossiers == ["OLD", "DUE"]
    assert world.documents.owners == set()  # the linked account's PDFs
    assert [e.details for e in world.audit.events] == [{"funder": "region-idf"}]
    assert_nothing_personal_in_the_trail(world)
    assert funders.marks == {"region-idf": "2021-06"}

    world.store.months_read.clear()
    assert purge.run() == 0 and world.store.months_read == []  # nothing new the same month
    clock.set(datetime(2026, 8, 1, tzinfo=UTC))
    assert purge.run() == 1 and world.store.months_read == ["2021-07"]

    funders.funders["region-idf"] = Funder("region-idf", "Région", retention_years=3)
    assert purge.run() == 1
    assert world.store.deleted_dossiers[-1] == "RECENT"
    assert funders.marks == {"region-idf": "2023-07"}


def test_a_staff_account_is_never_put_on_the_inactivity_path(world: World) -> None:
    staff = Account(
        account_id="staff-1",
        email="claire.durand@ifn.example.fr",
        family_name="Durand",
        given_names="Claire",
        birth_date=None,
        created_at=START,
        kind=AccountKind.STAFF,
        password_hash=HASHER.hash(PASSWORD),
        secret_question="Ville ?",
        secret_answer_hash=HASHER.hash("lille"),
        terms_version="v1",
    )
    world.accounts.add(staff)
    assert world.login.log_in(staff.email, PASSWORD, IP).token is not None
    assert world.accounts.items["staff-1"].inactivity_due is None
    world.accounts.items["staff-1"] = staff.updated(inactivity_due=START.date())
    world.clock.set(START)
    assert world.job.run().warned == 0
    assert world.closure.close_by_owner("staff-1", Proof(PASSWORD), IP).outcome is CloseOutcome.GONE
