"""The « Mes formations » service with in-memory repositories: which training and period are shown,
which payments fall in it, ownership, and the funders' cache."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime

import pytest

from chalicelib.services.accounts.model import Account, PortalUrls
from chalicelib.services.errors import Invalid, NotFound
from chalicelib.services.funder_files.model import DossierStatus, PaymentElement
from chalicelib.services.funders.model import Funder
from chalicelib.services.trainings import my_trainings as trainings_module
from chalicelib.services.trainings.dossiers import Dossier
from chalicelib.services.trainings.my_trainings import (
    DOCUMENT_NOT_YOURS,
    DOSSIER_NOT_YOURS,
    END_BEFORE_START,
    FUNDER_CACHE_SECONDS,
    NOT_YET,
    PAYMENT_NOT_YOURS,
    DocumentKind,
    Period,
    Trainings,
)
from chalicelib.services.trainings.payments import Payment
from tests.support.builder import build
from tests.support.fakes import FakeClock, MemoryFunders, MemoryPayments, MemoryTrainingDossiers
from tests.unit.test_documents import (
    absence_payment,
    december_payment,
    guide_dossier,
    guide_payment,
    line,
    payment,
)

CAMILLE = "account-camille"
LUCAS = "account-lucas"
IDF = Funder("region-idf", "Région Île-de-France")
HDF = Funder("region-hdf", "Région Hauts-de-France")


def hdf_dossier(**changes: object) -> Dossier:
    """Camille's newer training, still going on in the clock's time."""
    changes = {
        "funder_code": "region-hdf",
        "dossier_number": "HDF-2026-000042",
        "given_names": "Camille",
        "training_title": "Comptable assistant",
        "start_date": date(2026, 9, 1),
        "end_date": date(2027, 6, 30),
        "status": DossierStatus.IN_PROGRESS,
        **changes,
    }
    return guide_dossier(**changes)


def lucas_dossier(**changes: object) -> Dossier:
    changes = {
        "dossier_number": "IDF-2026-000789",
        "family_name": "PETIT",
        "given_names": "Lucas",
        "birth_date": date(1998, 2, 3),
        "start_date": date(2026, 9, 7),
        "end_date": date(2027, 7, 3),
        "status": DossierStatus.IN_PROGRESS,
        "account_id": LUCAS,
        **changes,
    }
    return guide_dossier(**changes)


def account(**changes: object) -> Account:
    camille = Account(
        account_id=CAMILLE,
        email="camille.martin@example.fr",
        family_name="MARTIN",
        given_names="Camille Louise",
        birth_date=date(1990, 5, 14),
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
    )
    return dataclasses.replace(camille, **changes)  # type: ignore[arg-type]


class World:
    def __init__(self) -> None:
        self.dossiers = MemoryTrainingDossiers(
            guide_dossier(account_id=CAMILLE), hdf_dossier(account_id=CAMILLE), lucas_dossier()
        )
        # Added oldest payment last: the service orders them itself.
        self.payments = MemoryPayments(guide_payment(), december_payment(), absence_payment())
        self.funders = MemoryFunders(IDF, HDF)
        self.clock = FakeClock(datetime(2026, 11, 27, 9, 0, tzinfo=UTC))
        self.service = build(
            clock=self.clock, dossiers=self.dossiers, payments=self.payments, funders=self.funders
        ).trainings


@pytest.fixture
def world() -> World:
    return World()


def numbers(dossiers: list[Dossier]) -> list[str]:
    return [dossier.dossier_number for dossier in dossiers]


def references(payments: list[Payment]) -> list[str]:
    return [payment.reference for payment in payments]


# Which training, which period, which payments -----------------------------------------------


def test_the_account_s_trainings_newest_first_with_their_funders(world: World) -> None:
    trainings = world.service.of_account(CAMILLE)
    assert numbers([t.dossier for t in trainings]) == ["HDF-2026-000042", "IDF-2017-000123"]
    assert [t.funder for t in trainings] == [HDF, IDF]
    assert trainings[0].key == "region-hdf~HDF-2026-000042"
    assert world.service.of_account("account-nobody") == []
    del world.funders.items["region-hdf"]
    other = Trainings(
        world.dossiers,
        world.payments,
        world.funders,
        world.clock,
        PortalUrls("https://portail.example.gouv.fr"),
    )
    assert other.of_account(CAMILLE)[0].funder == Funder("region-hdf", "region-hdf")


def test_the_newest_training_is_shown_unless_another_is_chosen(world: World) -> None:
    trainings = world.service.of_account(CAMILLE)
    for selected in (None, "", "region-idf~N-EXISTE-PAS", "region-idf~IDF-2026-000789"):
        history = world.service.history(trainings, selected)
        assert history is not None
        assert history.training.dossier.dossier_number == "HDF-2026-000042", selected
    chosen = world.service.history(trainings, "region-idf~IDF-2017-000123")
    assert chosen is not None and chosen.training.dossier.dossier_number == "IDF-2017-000123"
    assert world.service.history([], None) is None


def test_by_default_the_period_is_the_training_s_span_and_payments_come_newest_first(
    world: World,
) -> None:
    history = world.service.history(world.service.of_account(CAMILLE), "region-idf~IDF-2017-000123")
    assert history is not None
    assert history.period == Period(date(2017, 10, 16), date(2018, 6, 29))
    assert references(history.payments) == ["IDF-P-2018-0003", "IDF-P-2018-0002", "IDF-P-2017-0001"]
    assert history.end_of_training_available is True
    newest = world.service.history(world.service.of_account(CAMILLE), None)
    assert newest is not None and newest.end_of_training_available is False


def test_by_default_no_payment_of_the_training_is_left_out(world: World) -> None:
    """Lines may pay days outside the dossier's dates (leave not taken, paid after the end; dates
    corrected by the funder since): the default period widens to show every payment."""
    leave = line(
        date(2018, 7, 2), date(2018, 7, 6), PaymentElement.PAID_LEAVE, "Congés payés", "51.73"
    )
    world.payments.add(payment("IDF-P-2018-0009", date(2018, 7, 20), leave))
    trainings = world.service.of_account(CAMILLE)
    history = world.service.history(trainings, "region-idf~IDF-2017-000123")
    assert history is not None
    assert references(history.payments)[0] == "IDF-P-2018-0009"
    assert history.period == Period(date(2017, 10, 16), date(2018, 7, 6))
    chosen = world.service.history(trainings, "region-idf~IDF-2017-000123", None, date(2018, 6, 29))
    assert chosen is not None and "IDF-P-2018-0009" not in references(chosen.payments)


def test_the_period_filters_on_what_payments_cover_not_when_they_are_paid(world: World) -> None:
    trainings = world.service.of_account(CAMILLE)
    key = "region-idf~IDF-2017-000123"

    def shown(start: date | None, end: date | None) -> list[str]:
        history = world.service.history(trainings, key, start, end)
        assert history is not None
        return references(history.payments)

    # Paid on 20/03/2018, it covers October 2017.
    assert shown(date(2017, 10, 1), date(2017, 10, 31)) == ["IDF-P-2018-0003"]
    assert shown(date(2018, 3, 1), date(2018, 3, 31)) == []
    # Bounds are inclusive: one day in common is enough.
    assert shown(date(2017, 10, 31), date(2017, 11, 1)) == ["IDF-P-2018-0003", "IDF-P-2017-0001"]
    assert shown(date(2017, 12, 1), None) == ["IDF-P-2018-0002"]  # the end defaults to the span's
    history = world.service.history(trainings, key, None, date(2017, 11, 30))
    assert history is not None
    assert history.period == Period(date(2017, 10, 16), date(2017, 11, 30))


def test_a_period_that_ends_before_it_starts_is_invalid_under_its_end(world: World) -> None:
    trainings = world.service.of_account(CAMILLE)
    with pytest.raises(Invalid) as raised:
        world.service.history(
            trainings, "region-idf~IDF-2017-000123", date(2017, 11, 30), date(2017, 11, 1)
        )
    assert raised.value.errors == {"period_end": END_BEFORE_START}


def test_one_dossier_s_history_is_the_account_s_or_not_found(world: World) -> None:
    history = world.service.dossier_history(
        CAMILLE, "region-idf", "IDF-2017-000123", date(2017, 10, 1), date(2017, 10, 31)
    )
    assert references(history.payments) == ["IDF-P-2018-0003"]
    # Even Camille's newest training is not offered instead of a number that is not hers.
    for account_id, number in ((LUCAS, "IDF-2017-000123"), (CAMILLE, "IDF-2026-000789")):
        with pytest.raises(NotFound) as raised:
            world.service.dossier_history(account_id, "region-idf", number)
        assert raised.value.message == DOSSIER_NOT_YOURS


# Ownership -----------------------------------------------------------------------------------


def test_another_account_s_dossier_payment_or_document_is_none_like_a_missing_one(
    world: World,
) -> None:
    service = world.service
    idf = ("region-idf", "IDF-2017-000123")
    assert service.owned_dossier(CAMILLE, *idf) == guide_dossier(account_id=CAMILLE)
    for account_id, funder, number in (
        (LUCAS, *idf),
        (CAMILLE, "region-idf", "IDF-2026-000789"),
        (CAMILLE, "region-hdf", "IDF-2017-000123"),  # the right number at another funder
        (CAMILLE, "region-idf", "N-EXISTE-PAS"),
    ):
        assert service.owned_dossier(account_id, funder, number) is None
        assert service.funding_decision(account_id, funder, number, "https://x/") is None
        assert service.end_of_training(account_id, funder, number) is None
    owned = service.owned_payment(CAMILLE, "region-idf", "IDF-P-2018-0003")
    assert owned is not None and owned[1].dossier_number == "IDF-2017-000123"
    for account_id, funder, reference in (
        (LUCAS, "region-idf", "IDF-P-2018-0003"),
        (CAMILLE, "region-hdf", "IDF-P-2018-0003"),
        (CAMILLE, "region-idf", "N-EXISTE-PAS"),
    ):
        assert service.owned_payment(account_id, funder, reference) is None
        assert service.payment_notice(account_id, funder, reference) is None


def test_empty_identifiers_are_not_looked_up(world: World) -> None:
    for funder, number in (("", "IDF-2017-000123"), ("region-idf", ""), ("", "")):
        assert world.service.owned_dossier(CAMILLE, funder, number) is None
        assert world.service.owned_payment(CAMILLE, funder, number) is None
    assert world.dossiers.calls["get"] == world.payments.calls["get"] == 0


def test_a_payment_of_someone_else_s_dossier_is_not_shown_even_through_one_s_own_funder(
    world: World,
) -> None:
    lucas_payment = dataclasses.replace(
        guide_payment(), reference="IDF-P-LUCAS-1", dossier_number="IDF-2026-000789"
    )
    world.payments.add(lucas_payment)
    assert world.service.payment_notice(CAMILLE, "region-idf", "IDF-P-LUCAS-1") is None
    notice = world.service.payment_notice(LUCAS, "region-idf", "IDF-P-LUCAS-1")
    assert notice is not None and notice.dossier.account_id == LUCAS


def test_the_notice_and_documents_of_one_s_own_training(world: World) -> None:
    notice = world.service.payment_notice(CAMILLE, "region-idf", "IDF-P-2018-0003")
    assert notice is not None
    assert notice.content.tables[0].rows == (
        ("Du 16/10/2017 au 31/10/2017", "Rémunération : 310,39 x 14 / 30", "", "144,85"),
    )
    assert notice.content.issuer == "Région Île-de-France"
    decision = world.service.funding_decision(
        CAMILLE, "region-idf", "IDF-2017-000123", "https://portail/region-idf/"
    )
    assert decision is not None and decision.title == "Décision de prise en charge"
    end = world.service.end_of_training(CAMILLE, "region-idf", "IDF-2017-000123")
    assert end is not None and "744,94" in repr(end)
    # Still going on: the statement waits for its end, or for the funder's final status.
    assert world.service.end_of_training(CAMILLE, "region-hdf", "HDF-2026-000042") is None
    world.clock.set(datetime(2027, 7, 1, tzinfo=UTC))
    assert world.service.end_of_training(CAMILLE, "region-hdf", "HDF-2026-000042") is not None


def test_the_faces_get_a_document_or_one_refusal_whoever_owns_it(world: World) -> None:
    service = world.service
    decision = service.document(CAMILLE, "region-idf", "IDF-2017-000123", DocumentKind.DECISION)
    # The décision names the funder's own entry address of the portal.
    assert "https://portail.example.gouv.fr/region-idf/" in repr(decision)
    end = service.document(CAMILLE, "region-idf", "IDF-2017-000123", DocumentKind.END_OF_TRAINING)
    assert end.filename == "edition-de-fin-de-stage-IDF-2017-000123.pdf"
    for account_id, number in ((LUCAS, "IDF-2017-000123"), (CAMILLE, "N-EXISTE-PAS")):
        for kind in DocumentKind:
            with pytest.raises(NotFound) as raised:
                service.document(account_id, "region-idf", number, kind)
            assert (raised.value.code, raised.value.message) == ("not_found", DOCUMENT_NOT_YOURS)
    # One's own training still going on: saying so reveals nothing.
    with pytest.raises(NotFound) as raised:
        service.document(CAMILLE, "region-hdf", "HDF-2026-000042", DocumentKind.END_OF_TRAINING)
    assert (raised.value.code, raised.value.message) == ("document_not_available", NOT_YET)
    assert service.payment(CAMILLE, "region-idf", "IDF-P-2018-0003").payment.reference == (
        "IDF-P-2018-0003"
    )
    with pytest.raises(NotFound) as raised:
        service.payment(LUCAS, "region-idf", "IDF-P-2018-0003")
    assert raised.value.message == PAYMENT_NOT_YOURS


# « Ajouter un dossier » (tests/unit/test_dossier_claims.py) ----------------------------------


def new_dossier(**changes: object) -> Dossier:
    """A dossier of Camille's not yet linked, written by the funder its own way."""
    changes = {
        "funder_code": "region-hdf",
        "dossier_number": "HDF-2026-000099",
        "family_name": "Martin",
        "given_names": "CAMILLE Louise Anne",
        "account_id": None,
        **changes,
    }
    return hdf_dossier(**changes)


# The funders' cache --------------------------------------------------------------------------


def test_funders_are_read_once_per_five_minutes(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = [1000.0]
    monkeypatch.setattr(trainings_module.time, "monotonic", lambda: now[0])
    service = Trainings(
        world.dossiers,
        world.payments,
        world.funders,
        world.clock,
        PortalUrls("https://portail.example.gouv.fr"),
    )
    service.of_account(CAMILLE)
    service.history(service.of_account(CAMILLE), None)
    service.payment_notice(CAMILLE, "region-idf", "IDF-P-2018-0003")
    assert world.funders.calls["list"] == 1
    world.funders.save(Funder("france-travail", "France Travail"))
    now[0] += FUNDER_CACHE_SECONDS
    assert "france-travail" not in service.funders()
    assert world.funders.calls["list"] == 1
    now[0] += 1
    assert service.funders()["france-travail"].name == "France Travail"
    assert world.funders.calls["list"] == 2
