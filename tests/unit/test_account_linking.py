"""Linking a funder's dossier to an account created with « Je ne possède pas encore de dossier »."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from chalicelib.services.accounts.model import Account, PortalUrls
from chalicelib.services.funder_files.model import DossierStatus
from chalicelib.services.trainings.account_linking import AccountLinker
from chalicelib.services.trainings.dossiers import Dossier
from tests.support.fakes import MemoryAccounts, MemoryAudit, RecordingMailer

START = datetime(2026, 1, 15, 9, 0, tzinfo=UTC)
EMAIL = "camille.martin@example.fr"
BASE_URL = "https://portail.example.gouv.fr"


def awaiting_account(account_id: str = "acc-1", email: str = EMAIL, **changes: object) -> Account:
    account = Account(
        account_id=account_id,
        email=email,
        family_name="Martin",
        given_names="Camille",
        birth_date=date(1990, 5, 14),
        created_at=START,
        password_hash="test$v1$salt$digest",
        awaiting_dossier=True,
    )
    return account.updated(**changes)


def dossier(number: str = "D-1", **changes: object) -> Dossier:
    base = Dossier(
        funder_code="region",
        dossier_number=number,
        family_name="MARTIN",
        given_names="Camille Louise",
        birth_date=date(1990, 5, 14),
        email=EMAIL,
        training_code="DEV",
        training_title="Développeur web",
        start_date=date(2026, 2, 2),
        end_date=date(2026, 9, 30),
        organisation_siret="54756834567143",
        organisation_name="IFN",
        organisation_email=None,
        monthly_rate=Decimal("310.39"),
        decision_date=date(2026, 1, 5),
        status=DossierStatus.IN_PROGRESS,
    )
    return replace(base, **changes)


@dataclass
class World:
    linker: AccountLinker
    accounts: MemoryAccounts
    mailer: RecordingMailer
    audit: MemoryAudit


@pytest.fixture
def world() -> World:
    accounts = MemoryAccounts()
    mailer = RecordingMailer()
    audit = MemoryAudit()
    linker = AccountLinker(accounts, mailer, audit, PortalUrls(BASE_URL))
    return World(linker, accounts, mailer, audit)


# attach ------------------------------------------------------------------------------------


def test_a_dossier_matching_an_awaiting_account_by_identity_and_mail_is_linked(world):
    account = world.accounts.add(awaiting_account())

    dossiers, links = world.linker.attach([dossier()])

    assert [d.account_id for d in dossiers] == ["acc-1"]
    assert links == [(account, dossiers[0])]


@pytest.mark.parametrize(
    "changes",
    [
        {"family_name": "martin", "given_names": "CAMILLE"},
        {"given_names": "Camille Louise Marie"},
        {"family_name": "Martín", "given_names": "Camille-Louise"},
        {"email": "  Camille.MARTIN@Example.fr "},
    ],
)
def test_identity_and_mail_compare_like_at_sign_up(world, changes):
    world.accounts.add(awaiting_account())

    dossiers, links = world.linker.attach([dossier(**changes)])

    assert dossiers[0].account_id == "acc-1"
    assert len(links) == 1


@pytest.mark.parametrize(
    "changes",
    [
        {"birth_date": date(1990, 5, 15)},
        {"family_name": "MARTINEZ"},
        {"given_names": "Louise Camille"},
        {"email": "autre@example.fr"},
        {"email": None},
        {"email": ""},
    ],
)
def test_a_dossier_is_not_linked_unless_identity_and_mail_both_match(world, changes):
    world.accounts.add(awaiting_account())

    dossiers, links = world.linker.attach([dossier(**changes)])

    assert dossiers[0].account_id is None
    assert links == []


def test_an_account_that_awaits_no_dossier_is_not_linked(world):
    world.accounts.add(awaiting_account(awaiting_dossier=False))

    dossiers, links = world.linker.attach([dossier()])

    assert dossiers[0].account_id is None
    assert links == []


def test_a_dossier_already_linked_keeps_its_account(world):
    world.accounts.add(awaiting_account())

    dossiers, links = world.linker.attach([dossier(account_id="acc-other")])

    assert dossiers[0].account_id == "acc-other"
    assert links == []


def test_an_account_without_a_birth_date_is_not_linked(world):
    world.accounts.add(awaiting_account(birth_date=None))

    dossiers, links = world.linker.attach([dossier()])

    assert dossiers[0].account_id is None
    assert links == []


def test_only_one_dossier_links_to_an_awaiting_account(world):
    world.accounts.add(awaiting_account())

    dossiers, links = world.linker.attach([dossier("D-1"), dossier("D-2"), dossier("D-3")])

    assert [d.account_id for d in dossiers] == ["acc-1", None, None]
    assert [d.dossier_number for _, d in links] == ["D-1"]


def test_a_non_matching_dossier_does_not_use_up_the_account(world):
    world.accounts.add(awaiting_account())

    dossiers, links = world.linker.attach(
        [dossier("D-1", birth_date=date(1991, 1, 1)), dossier("D-2")]
    )

    assert [d.account_id for d in dossiers] == [None, "acc-1"]
    assert [d.dossier_number for _, d in links] == ["D-2"]


def test_several_awaiting_accounts_are_linked_in_one_batch(world):
    world.accounts.add(awaiting_account())
    world.accounts.add(
        awaiting_account(
            "acc-2", "dominique.durand@example.fr", family_name="Durand", given_names="Dominique"
        )
    )
    other = dossier(
        "D-2",
        family_name="DURAND",
        given_names="Dominique",
        email="dominique.durand@example.fr",
    )

    dossiers, links = world.linker.attach([dossier("D-1"), other, dossier("D-3", email=None)])

    assert [d.account_id for d in dossiers] == ["acc-1", "acc-2", None]
    assert len(links) == 2
    assert world.accounts.calls["find_awaiting_by_emails"] == 1, "one batched read"


def test_the_dossiers_keep_their_order_and_content(world):
    world.accounts.add(awaiting_account())
    batch = [dossier("D-0", email=None), dossier("D-1"), dossier("D-2", email="x@example.fr")]

    dossiers, _ = world.linker.attach(batch)

    assert [d.dossier_number for d in dossiers] == ["D-0", "D-1", "D-2"]
    assert dossiers[1] == batch[1].with_account("acc-1")
    assert dossiers[0] == batch[0] and dossiers[2] == batch[2]


def test_without_candidates_the_accounts_are_not_read(world):
    dossiers, links = world.linker.attach([dossier(email=None), dossier(account_id="acc-9")])

    assert links == []
    assert len(dossiers) == 2
    assert world.accounts.calls["find_awaiting_by_emails"] == 0


def test_attach_changes_nothing_until_confirmed(world):
    world.accounts.add(awaiting_account())

    world.linker.attach([dossier()])

    assert world.accounts.items["acc-1"].awaiting_dossier is True
    assert world.accounts.calls["save"] == 0
    assert world.mailer.sent == []
    assert world.audit.events == []


# confirm -----------------------------------------------------------------------------------


def test_confirm_stops_the_wait_audits_and_mails_the_owner(world):
    world.accounts.add(awaiting_account())
    _, links = world.linker.attach([dossier()])

    world.linker.confirm(links)

    assert world.accounts.items["acc-1"].awaiting_dossier is False
    (event,) = world.audit.events
    assert (event.account_id, event.event, event.client_ip) == ("acc-1", "dossier-linked", None)
    assert event.details == {"funder": "region", "dossier": "D-1"}
    (mail,) = world.mailer.sent
    assert mail.to == EMAIL
    assert mail.subject == "Votre dossier est rattaché à votre compte"
    assert "« Développeur web »" in mail.text
    assert f"{BASE_URL}/region/" in mail.text
    assert "Camille" in mail.text


def test_after_confirm_a_later_dossier_does_not_link_to_the_same_account(world):
    world.accounts.add(awaiting_account())
    _, links = world.linker.attach([dossier("D-1")])
    world.linker.confirm(links)

    dossiers, later = world.linker.attach([dossier("D-2")])

    assert dossiers[0].account_id is None
    assert later == []


def test_confirm_with_no_links_does_nothing(world):
    world.linker.confirm([])

    assert world.accounts.calls["save"] == 0
    assert world.mailer.sent == []
    assert world.audit.events == []
