"""« Rechercher un dossier » (services/funders/lookup.py): abuse cases first, then what it shows."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from chalicelib.services.accounts.identity import normalise_name
from chalicelib.services.accounts.model import Account
from chalicelib.services.errors import Forbidden, Invalid, RateLimited
from chalicelib.services.funder_files.records import DossierStatus, PaymentElement
from chalicelib.services.funders.lookup import (
    INCOMPLETE_SESSION,
    ONE_WAY,
    CallerKind,
    DossierLookup,
    DossierQuery,
    FunderCaller,
    TraineeConsultations,
    mask_email,
)
from chalicelib.services.funders.model import Funder
from chalicelib.services.security.throttling import RATE_LIMITS, RateLimiter
from chalicelib.services.trainings.dossiers import (
    Dossier,
    DossierVersion,
    activation_code_hash,
)
from chalicelib.services.trainings.payments import Payment, PaymentLine
from tests.support.fakes import (
    FakeClock,
    MemoryAccounts,
    MemoryAudit,
    MemoryCounters,
    MemoryDossiersOfAccount,
    MemoryFunders,
)
from tests.support.fakes import MemoryConsultationJournal as JournalFake

EMAIL = "camille.martin@example.fr"


def dossier(number: str = "D-1", funder: str = "region-idf", **changes: object) -> Dossier:
    base = Dossier(
        funder_code=funder,
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
        activation_code_hash=activation_code_hash(funder, number, "K7M2P9QX4TDV"),
    )
    return replace(base, **changes)


def payment(reference: str, dossier_number: str = "D-1", funder: str = "region-idf") -> Payment:
    return Payment(
        funder_code=funder,
        reference=reference,
        dossier_number=dossier_number,
        payment_date=date(2026, 3, 5),
        lines=(
            PaymentLine(
                period_start=date(2026, 2, 1),
                period_end=date(2026, 2, 28),
                element=PaymentElement.REMUNERATION,
                label="Rémunération",
                rate=None,
                days=None,
                divisor=None,
                amount=Decimal("310.39"),
            ),
        ),
        content_hash=reference,
    )


class LookupDossiersFake:
    """Dossiers by (funder, number); the name search answers only an exact normalised match."""

    def __init__(self, *dossiers: Dossier) -> None:
        self.items = {(d.funder_code, d.dossier_number): d for d in dossiers}
        self.versions: dict[tuple[str, str], list[DossierVersion]] = {}

    def get(self, funder_code: str, dossier_number: str) -> Dossier | None:
        return self.items.get((funder_code, dossier_number))

    def find_by_name_and_birth(
        self, funder_code: str, family_name: str, birth_date: date
    ) -> list[Dossier]:
        return [
            d
            for d in self.items.values()
            if d.funder_code == funder_code
            and normalise_name(d.family_name) == normalise_name(family_name)
            and d.birth_date == birth_date
        ]

    def history(self, funder_code: str, dossier_number: str) -> list[DossierVersion]:
        return self.versions.get((funder_code, dossier_number), [])


class PaymentNoticesFake:
    def __init__(self) -> None:
        self.items: list[tuple[Payment, bool]] = []

    def list_with_notices(
        self, funder_code: str, dossier_number: str
    ) -> list[tuple[Payment, bool, datetime | None]]:
        return [
            (p, notified, None)
            for p, notified in self.items
            if (p.funder_code, p.dossier_number) == (funder_code, dossier_number)
        ]


@dataclass
class World:
    lookup: DossierLookup
    dossiers: LookupDossiersFake
    payments: PaymentNoticesFake
    accounts: MemoryAccounts
    journal: JournalFake
    audit: MemoryAudit
    clock: FakeClock


@pytest.fixture
def world() -> World:
    clock = FakeClock(datetime(2026, 3, 10, 9, 30, tzinfo=UTC))
    dossiers = LookupDossiersFake(
        dossier("D-1", account_id="acc-1"),
        dossier("D-2", family_name="DURAND"),
        # Another funder, same number, same person: never reached from region-idf.
        dossier("D-9", funder="region-hdf"),
    )
    payments, journal, audit = PaymentNoticesFake(), JournalFake(), MemoryAudit()
    accounts = MemoryAccounts()
    accounts.add(
        Account(
            account_id="acc-1",
            email=EMAIL,
            family_name="MARTIN",
            given_names="Camille",
            birth_date=date(1990, 5, 14),
            created_at=clock(),
            password_hash="hash",
            secret_question="Ville de naissance ?",
            secret_answer_hash="hash",
        )
    )
    lookup = DossierLookup(
        dossiers,
        payments,
        accounts,
        accounts,
        journal,
        audit,
        RateLimiter(MemoryCounters(clock), clock),
        clock,
    )
    return World(lookup, dossiers, payments, accounts, journal, audit, clock)


def staff(funder: str = "region-idf", *, totp_done: bool = True, actor: str = "staff-1"):
    return FunderCaller(funder, CallerKind.STAFF, actor, "consultation", totp_done, "192.0.2.1")


# ---------------------------------------------------------------- abuse cases


def test_another_funders_dossier_is_as_introuvable_as_a_missing_one(world: World) -> None:
    assert world.lookup.by_number(staff(), "D-9") is None
    assert world.lookup.by_number(staff(), "D-404") is None
    hdf_birth = world.dossiers.items[("region-hdf", "D-9")].birth_date
    assert world.lookup.by_name_and_birth(staff(), "MARTIN", hdf_birth) != []  # its own D-1
    assert all(
        found.dossier.funder_code == "region-idf"
        for found in world.lookup.by_name_and_birth(staff(), "MARTIN", hdf_birth)
    )
    assert world.lookup.by_number(staff("region-hdf"), "D-1") is None
    assert world.journal.entries and all(
        entry.funder_code == "region-idf" for entry in world.journal.entries
    )


def test_the_name_search_needs_the_exact_name_and_birth_date(world: World) -> None:
    birth = date(1990, 5, 14)
    for partial in ("MART", "M", "*", "MARTIN%", ""):
        assert world.lookup.by_name_and_birth(staff(), partial, birth) == []
    assert world.lookup.by_name_and_birth(staff(), "MARTIN", date(1990, 5, 15)) == []
    # Case and accents do not count, as everywhere names are compared.
    (found,) = world.lookup.by_name_and_birth(staff(), "  martín ", birth)
    assert found.dossier.dossier_number == "D-1"


def test_the_name_search_is_throttled_per_caller(world: World) -> None:
    limit = RATE_LIMITS["funder-name-search"].requests
    for day in range(limit):
        world.lookup.by_name_and_birth(staff(), "MARTIN", date(1980, 1, 1 + day % 28))
    with pytest.raises(RateLimited) as refused:
        world.lookup.by_name_and_birth(staff(), "MARTIN", date(1990, 5, 14))
    assert "Trop de recherches" in refused.value.message
    # Another staff member is not held back by the first one's searches.
    assert world.lookup.by_name_and_birth(staff(actor="staff-2"), "MARTIN", date(1990, 5, 14))
    world.clock.advance(hours=1)
    assert world.lookup.by_name_and_birth(staff(), "MARTIN", date(1990, 5, 14))


def test_a_session_still_waiting_for_its_totp_code_is_refused(world: World) -> None:
    for attempt in (
        lambda: world.lookup.by_number(staff(totp_done=False), "D-1"),
        lambda: world.lookup.by_name_and_birth(staff(totp_done=False), "MARTIN", date(1990, 5, 14)),
    ):
        with pytest.raises(Forbidden) as refused:
            attempt()
        assert refused.value.message == INCOMPLETE_SESSION
    assert world.journal.entries == [] and world.audit.events == []


def test_a_search_asks_one_way_and_names_what_to_correct(world: World) -> None:
    birth = date(1990, 5, 14)
    for neither_or_both in (
        DossierQuery(),
        DossierQuery(dossier_number="D-1", family_name="MARTIN"),
        DossierQuery(dossier_number="D-1", birth_date_unreadable=True),
    ):
        with pytest.raises(Invalid) as refused:
            world.lookup.search(staff(), neither_or_both)
        assert (refused.value.code, refused.value.errors) == ("invalid_request", {"query": ONE_WAY})
    with pytest.raises(Invalid) as refused:
        world.lookup.search(staff(), DossierQuery(birth_date_unreadable=True))
    assert refused.value.errors == {
        "family_name": "Saisissez le nom de famille.",
        "birth_date": "Saisissez la date de naissance.",
    }
    with pytest.raises(Invalid) as refused:
        world.lookup.search(staff(), DossierQuery(family_name="M" * 101, birth_date=birth))
    assert list(refused.value.errors) == ["family_name"]
    assert world.journal.entries == []  # nothing looked up, nothing journaled
    (by_number,) = world.lookup.search(staff(), DossierQuery(dossier_number=" D-1 "))
    (by_name,) = world.lookup.search(staff(), DossierQuery(family_name="martin", birth_date=birth))
    assert by_number.dossier == by_name.dossier
    assert world.lookup.search(staff(), DossierQuery(dossier_number="D-9")) == []


# ---------------------------------------------------------------- what it shows


def test_a_look_up_shows_the_dossier_its_account_and_payments_and_is_journaled(
    world: World,
) -> None:
    world.payments.items = [(payment("P-1"), True), (payment("P-2"), False)]
    world.accounts.mark_bounced(EMAIL, datetime(2026, 3, 6, tzinfo=UTC))
    found = world.lookup.by_number(staff(), " D-1 ")
    assert found is not None
    assert found.received["family_name"] == "MARTIN"
    assert "activation_code_hash" not in found.received
    account = found.account
    assert (account.linked, account.activated, account.masked_email) == (
        True,
        True,
        "c***@example.fr",
    )
    assert account.mail_bounced_since == datetime(2026, 3, 6, tzinfo=UTC)
    assert [(p.payment.reference, p.notified) for p in found.payments] == [
        ("P-1", True),
        ("P-2", False),
    ]
    shown = repr(found.account)
    assert "hash" not in shown and "Ville" not in shown and EMAIL not in shown
    (entry,) = world.journal.entries
    assert (entry.dossier_number, entry.role, entry.at) == ("D-1", "consultation", world.clock())
    (event,) = world.audit.events
    assert (event.account_id, event.event, event.details) == (
        "staff-1",
        "funder-dossier-lookup",
        {"funder": "region-idf", "consultation": staff().reference},
    )


def test_an_account_not_activated_and_a_dossier_without_account(world: World) -> None:
    world.accounts.save(world.accounts.get("acc-1").updated(secret_answer_hash=None))  # type: ignore[union-attr]
    found = world.lookup.by_number(staff(), "D-1")
    assert found is not None and (found.account.linked, found.account.activated) == (True, False)
    alone = world.lookup.by_number(staff(), "D-2")
    assert alone is not None and alone.account.linked is False
    assert alone.account.masked_email is None


def test_the_trainee_sees_the_look_ups_of_her_dossier(world: World) -> None:
    world.lookup.by_number(staff(), "D-1")
    world.clock.advance(days=1)
    api = FunderCaller("region-idf", CallerKind.API, "key-1", "api", True)
    world.lookup.by_number(api, "D-1")
    world.lookup.by_number(staff(), "D-2")  # someone else's dossier
    consultations = TraineeConsultations(
        MemoryDossiersOfAccount(dossier("D-1", account_id="acc-1")),
        world.journal,
        MemoryFunders(Funder("region-idf", "Région Île-de-France")),
    )
    newest, oldest = consultations.of_account("acc-1")
    assert newest["par"] == "le système informatique du financeur"
    assert oldest["financeur"] == "Région Île-de-France"
    assert oldest["dossier"] == "D-1"
    assert oldest["date"] == "2026-03-10T09:30:00+00:00"
    assert oldest["par"].startswith("un agent du financeur (rôle « consultation », référence ")
    assert "staff-1" not in oldest["par"]


def test_mask_email() -> None:
    assert mask_email("camille.martin@example.fr") == "c***@example.fr"
    assert mask_email("broken") == "***"
