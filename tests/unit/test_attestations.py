"""« Mes attestations » with in-memory repositories: periods and their edges, totals to the cent,
several trainings and funders, ownership, codes, validity, withdrawal and verification counts."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from chalicelib.services.accounts.model import PortalUrls
from chalicelib.services.errors import NotFound, RateLimited
from chalicelib.services.funder_files.model import PaymentElement
from chalicelib.services.funders.model import Funder
from chalicelib.services.security.throttling import RateLimiter
from chalicelib.services.trainings.attestations import (
    CODE_ALPHABET,
    NOT_YOURS,
    TOO_MANY_VERIFICATIONS,
    UNKNOWN_CODE,
    AttestationPeriod,
    Attestations,
    Selection,
    code_hash,
    normalise_code,
    period_of,
)
from chalicelib.services.trainings.my_trainings import Trainings
from chalicelib.services.trainings.payments import Payment
from tests.support.fakes import (
    FakeClock,
    MemoryAttestations,
    MemoryAudit,
    MemoryCounters,
    MemoryFunders,
    MemoryPayments,
    MemoryTrainingDossiers,
)
from tests.unit.test_documents import guide_dossier, line
from tests.unit.test_trainings import hdf_dossier, lucas_dossier

CAMILLE = "account-camille"
LUCAS = "account-lucas"
IDF = Funder("region-idf", "Région Île-de-France")
HDF = Funder("region-hdf", "Région Hauts-de-France")


IP = "192.0.2.7"


def paid(
    reference: str, on: date, amount: str, funder: str = "region-idf", dossier: str = ""
) -> Payment:
    number = dossier or ("IDF-2017-000123" if funder == "region-idf" else "HDF-2026-000042")
    element = line(
        on.replace(day=1), on.replace(day=1), PaymentElement.REMUNERATION, "Rémunération", amount
    )
    return Payment(funder, reference, number, on, (element,), "hash")


def service(
    *payments: Payment, clock: FakeClock | None = None
) -> tuple[Attestations, MemoryAttestations, FakeClock]:
    clock = clock or FakeClock(datetime(2026, 12, 6, 10, 0, tzinfo=UTC))
    dossiers = MemoryTrainingDossiers(
        guide_dossier(account_id=CAMILLE),
        hdf_dossier(account_id=CAMILLE),
        lucas_dossier(account_id=LUCAS),
    )
    repository = MemoryAttestations()
    trainings = Trainings(
        dossiers, MemoryPayments(), MemoryFunders(IDF, HDF), clock, PortalUrls("https://x")
    )
    attestations = Attestations(
        trainings,
        MemoryPayments(*payments),
        repository,
        clock,
        "https://portail.test/verifier",
        MemoryAudit(),
        RateLimiter(MemoryCounters(clock), clock),
    )
    return attestations, repository, clock


def test_a_payment_on_the_first_or_the_last_day_is_in_the_day_after_or_before_is_out() -> None:
    attestations, _, _ = service(
        paid("P-BEFORE", date(2017, 12, 31), "1.00"),
        paid("P-FIRST", date(2018, 1, 1), "10.00"),
        paid("P-LAST", date(2018, 12, 31), "20.00"),
        paid("P-AFTER", date(2019, 1, 1), "300.00"),
    )
    statement, errors = attestations.statement(CAMILLE, Selection("annee", year="2018"))
    assert errors == {}
    assert statement is not None
    assert [line.reference for line in statement.lines] == ["P-FIRST", "P-LAST"]
    assert statement.total == Decimal("30.00")


def test_free_dates_include_both_ends() -> None:
    attestations, _, _ = service(
        paid("P-1", date(2018, 3, 4), "1.00"),
        paid("P-2", date(2018, 3, 5), "2.00"),
        paid("P-3", date(2018, 3, 20), "4.00"),
        paid("P-4", date(2018, 3, 21), "8.00"),
    )
    statement, _ = attestations.statement(
        CAMILLE, Selection("dates", start="05/03/2018", end="20/03/2018")
    )
    assert statement is not None
    assert [line.reference for line in statement.lines] == ["P-2", "P-3"]


def test_payments_are_grouped_by_month_of_payment_with_exact_totals() -> None:
    attestations, _, _ = service(
        paid("P-1", date(2018, 1, 15), "310.39"),
        paid("P-2", date(2018, 1, 31), "0.01"),
        paid("P-3", date(2018, 3, 20), "144.85"),
    )
    statement, _ = attestations.statement(CAMILLE, Selection("annee", year="2018"))
    assert statement is not None
    months = statement.months
    assert [(m.label, m.total) for m in months] == [
        ("janvier 2018", Decimal("310.40")),
        ("mars 2018", Decimal("144.85")),
    ]
    assert statement.total == Decimal("455.25")


def test_a_year_without_payments_gives_an_attestation_that_says_so() -> None:
    attestations, repository, _ = service(paid("P-1", date(2018, 1, 15), "310.39"))
    issued, errors = attestations.issue(CAMILLE, Selection("annee", year="2021"))
    assert errors == {}
    assert issued is not None
    assert issued.attestation.statement.lines == ()
    assert issued.content.tables == ()
    assert "Aucun paiement" in issued.content.closing[0]
    assert "0,00 €" in issued.content.closing[0]
    assert len(repository.items) == 1


def test_several_trainings_and_funders_in_one_attestation() -> None:
    attestations, _, _ = service(
        paid("IDF-1", date(2026, 9, 15), "300.00"),
        paid("HDF-1", date(2026, 10, 5), "652.02", funder="region-hdf"),
        paid("HDF-2", date(2026, 11, 5), "652.02", funder="region-hdf"),
        # Lucas's payment, in the same funder and period: never in Camille's attestation.
        paid("IDF-L", date(2026, 10, 15), "999.00", dossier="IDF-2026-000789"),
    )
    issued, _ = attestations.issue(CAMILLE, Selection("3-derniers-mois"))
    assert issued is not None
    statement = issued.attestation.statement
    assert statement.period == AttestationPeriod(
        date(2026, 9, 1), date(2026, 11, 30), "Du 01/09/2026 au 30/11/2026"
    )
    assert [line.reference for line in statement.lines] == ["IDF-1", "HDF-1", "HDF-2"]
    assert set(statement.funders) == {"Région Île-de-France", "Région Hauts-de-France"}
    assert len(statement.trainings) == 2
    assert statement.total == Decimal("1604.04")
    (table,) = issued.content.tables
    assert table.header == ("Date de mise en paiement", "Référence", "Financeur", "Montant")
    assert table.totals is not None and table.totals[-1] == "1\u202f604,04"
    assert "Région Hauts-de-France" in issued.content.issuer


def test_one_training_only_and_someone_else_s_training_is_refused() -> None:
    attestations, _, _ = service(
        paid("IDF-1", date(2026, 9, 15), "300.00"),
        paid("HDF-1", date(2026, 10, 5), "652.02", funder="region-hdf"),
    )
    statement, _ = attestations.statement(
        CAMILLE, Selection("3-derniers-mois", training="region-hdf~HDF-2026-000042")
    )
    assert statement is not None
    assert [line.reference for line in statement.lines] == ["HDF-1"]
    assert statement.funders == ("Région Hauts-de-France",)
    _, errors = attestations.statement(
        CAMILLE, Selection("3-derniers-mois", training="region-idf~IDF-2026-000789")
    )
    assert errors == {"training": "Choisissez une de vos formations dans la liste."}


@pytest.mark.parametrize(
    ("selection", "field"),
    [
        (Selection("annee", year="18"), "year"),
        (Selection("mois", month="13/2018"), "month"),
        (Selection("dates", start="32/01/2018", end="01/02/2018"), "period_start"),
        (Selection("dates", start="02/02/2018", end="01/02/2018"), "period_end"),
        (Selection("n-importe-quoi"), "period"),
    ],
)
def test_a_wrong_period_gets_a_french_message(selection: Selection, field: str) -> None:
    period, errors = period_of(selection, date(2026, 12, 6))
    assert period is None
    assert list(errors) == [field]


def test_a_month_and_the_last_three_months() -> None:
    assert period_of(Selection("mois", month="02/2024"), date(2026, 1, 1))[0] == (
        AttestationPeriod(date(2024, 2, 1), date(2024, 2, 29), "février 2024")
    )
    quarter = AttestationPeriod.last_three_months(date(2026, 1, 31))
    assert (quarter.start, quarter.end) == (date(2025, 10, 1), date(2025, 12, 31))


def test_just_after_midnight_in_paris_the_attestation_is_of_the_paris_day() -> None:
    """23:30 UTC on 31/12/2026 is 00:30 on 01/01/2027 in Paris: the trainee's today, the
    quarter before it, the new year among the choices, and the dates the document shows."""
    attestations, _, _ = service(clock=FakeClock(datetime(2026, 12, 31, 23, 30, tzinfo=UTC)))
    assert attestations.ready_made_choices()[1][0] == "Récapitulatif de l’année 2027"
    assert attestations.statement(CAMILLE, Selection("annee", year="2027"))[1] == {}
    issued, errors = attestations.issue(CAMILLE, Selection("3-derniers-mois"))
    assert errors == {} and issued is not None
    period = issued.attestation.statement.period
    assert (period.start, period.end) == (date(2026, 10, 1), date(2026, 12, 31))
    assert "Délivrée le 01/01/2027" in issued.content.subtitle
    assert "délivrée le 01/01/2027" in issued.content.notes[1]
    assert "valable jusqu’au 01/07/2027" in issued.content.notes[1]


def test_the_code_is_80_random_bits_in_groups_and_stored_hashed() -> None:
    attestations, repository, _ = service()
    codes = set()
    for _ in range(20):
        issued, _ = attestations.issue(CAMILLE, Selection("annee", year="2018"))
        assert issued is not None
        code = issued.attestation.code
        assert re.fullmatch(r"[A-Z2-9]{4}(-[A-Z2-9]{4}){3}", code)
        assert code_hash(code) in repository.by_hash
        assert code not in repository.by_hash
        codes.add(code)
    assert len(codes) == 20
    assert len(CODE_ALPHABET) == 32  # 16 symbols × 5 bits = 80 bits
    assert normalise_code(" abcd efgh-jkmn pqrs ") == "ABCD-EFGH-JKMN-PQRS"
    assert normalise_code("ABCD-EFGH-JKMN-PQR0") is None  # 0 is not in the alphabet


def test_verification_counts_and_says_valid_then_expired_after_six_months() -> None:
    attestations, _, clock = service(paid("P-1", date(2018, 3, 20), "144.85"))
    issued, _ = attestations.issue(CAMILLE, Selection("annee", year="2018"))
    assert issued is not None
    assert issued.attestation.expires_at == datetime(2027, 6, 6, 10, 0, tzinfo=UTC)
    first = attestations.verify(issued.attestation.code.lower(), IP)
    assert first.status == "valid"
    assert first.attestation.verification_count == 1
    clock.set(datetime(2027, 6, 6, 9, 59, tzinfo=UTC))
    assert attestations.verify(issued.attestation.code, IP).status == "valid"
    clock.advance(minutes=1)
    expired = attestations.verify(issued.attestation.code, IP)
    assert expired.status == "expired"
    assert expired.attestation.verification_count == 3
    assert expired.attestation.last_verified_at == clock()
    for unknown in ("AAAA-AAAA-AAAA-AAAA", "pas un code"):
        with pytest.raises(NotFound) as raised:
            attestations.verify(unknown, IP)
        assert raised.value.message == UNKNOWN_CODE


def test_verifications_are_counted_per_address_before_the_code_is_looked_at() -> None:
    attestations, _, _ = service()
    for _ in range(20):  # RATE_LIMITS["verification"]: 20 in ten minutes
        with pytest.raises(NotFound):
            attestations.verify("AAAA-AAAA-AAAA-AAAA", IP)
    with pytest.raises(RateLimited) as raised:
        attestations.verify("AAAA-AAAA-AAAA-AAAA", IP)
    assert raised.value.message == TOO_MANY_VERIFICATIONS
    with pytest.raises(NotFound):  # another address has its own count
        attestations.verify("AAAA-AAAA-AAAA-AAAA", "198.51.100.9")


def test_only_the_owner_withdraws_and_a_withdrawn_attestation_says_so() -> None:
    attestations, _, clock = service(paid("P-1", date(2018, 3, 20), "144.85"))
    issued, _ = attestations.issue(CAMILLE, Selection("annee", year="2018"))
    assert issued is not None
    attestation_id = issued.attestation.attestation_id
    for refused in (
        lambda: attestations.withdraw(LUCAS, attestation_id, IP),
        lambda: attestations.document(LUCAS, attestation_id),
    ):
        with pytest.raises(NotFound) as raised:
            refused()
        assert raised.value.message == NOT_YOURS
    assert attestations.verify(issued.attestation.code, IP).status == "valid"
    clock.advance(hours=1)
    attestations.withdraw(CAMILLE, attestation_id, IP)
    attestations.withdraw(CAMILLE, attestation_id, IP)  # twice is once
    audit = attestations.audit
    assert isinstance(audit, MemoryAudit)
    assert audit.names(CAMILLE) == ["attestation-withdrawn"] * 2 and audit.names(LUCAS) == []
    (listed,) = attestations.list(CAMILLE)
    assert listed.withdrawn_at == clock()
    assert attestations.list(LUCAS) == []
    with pytest.raises(NotFound):
        attestations.document(CAMILLE, attestation_id)
    assert attestations.verify(issued.attestation.code, IP).status == "withdrawn"


def test_the_pdf_content_carries_the_monthly_and_overall_totals_and_the_verification() -> None:
    attestations, _, _ = service(
        paid("P-1", date(2018, 1, 15), "310.39"),
        paid("P-2", date(2018, 3, 20), "144.85"),
    )
    # All trainings chosen: only the one that paid in 2018 is named, with its dossier's name.
    issued, _ = attestations.issue(CAMILLE, Selection("annee", year="2018"))
    assert issued is not None
    assert issued.attestation.statement.funders == ("Région Île-de-France",)
    assert issued.attestation.statement.trainee_name == "Camille Louise MARTIN"
    content = issued.content
    (table,) = content.tables
    assert table.rows == (
        ("15/01/2018", "P-1", "310,39"),
        ("Total janvier 2018", "", "310,39"),
        ("20/03/2018", "P-2", "144,85"),
        ("Total mars 2018", "", "144,85"),
    )
    assert table.totals == ("TOTAL DE LA PÉRIODE", "", "455,24")
    code = issued.attestation.code
    assert content.verification_code == code
    assert content.verification_url == f"https://portail.test/verifier?code={code}"
    assert content.subtitle == ("Période : Année 2018", "Délivrée le 06/12/2026")
    assert timedelta(0) < issued.attestation.expires_at - issued.attestation.issued_at
